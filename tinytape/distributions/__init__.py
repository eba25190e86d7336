"""Probability distributions shaped as ``torch.distributions``: parameters broadcast into a
batch shape, ``sample``/``rsample`` drawn from tinytape's PyTorch-identical random stream
(so a seeded program prints PyTorch's samples), and ``log_prob``, ``entropy``, ``cdf``, ...
composed from recorded ops, so gradients flow into the parameters (through ``rsample``
too) and ``tinytape.compile`` replays the scoring."""
from . import constraints, transforms
from .constraint_registry import biject_to, transform_to
from .circular import VonMises
from .continuous import Cauchy, Exponential, Laplace, Normal, Uniform
from .counts import Binomial, Multinomial
from .discrete import Bernoulli, Categorical, Geometric, OneHotCategorical, OneHotCategoricalStraightThrough, Poisson
from .distribution import Distribution, ExponentialFamily
from .extra import ContinuousBernoulli, FisherSnedecor, Kumaraswamy, LogisticNormal, LowRankMultivariateNormal
from .gamma import Beta, Chi2, Dirichlet, Gamma, StudentT
from .generalized_pareto import GeneralizedPareto
from .kl import kl_divergence, register_kl
from .lkj import LKJCholesky
from . import kl_more  # noqa: E402,F401  (registers more pairs)
from .mixture import MixtureSameFamily
from .more import (Gumbel, HalfCauchy, InverseGamma, NegativeBinomial, Pareto, RelaxedBernoulli,
                   RelaxedOneHotCategorical, Weibull)
from .multivariate import Independent, MultivariateNormal
from .transformed import HalfNormal, LogNormal, TransformedDistribution
from .wishart import Wishart
from .transforms import (AbsTransform, AffineTransform, CatTransform, ComposeTransform, CorrCholeskyTransform,
                         CumulativeDistributionTransform, ExpTransform, IndependentTransform, LowerCholeskyTransform,
                         PositiveDefiniteTransform, PowerTransform, ReshapeTransform, SigmoidTransform,
                         SoftmaxTransform, SoftplusTransform, StackTransform, StickBreakingTransform, TanhTransform,
                         Transform, identity_transform)

__all__ = ["AbsTransform", "AffineTransform", "Bernoulli", "Beta", "Binomial", "CatTransform", "Categorical",
           "Cauchy", "Chi2", "ComposeTransform", "ContinuousBernoulli", "CorrCholeskyTransform",
           "CumulativeDistributionTransform", "Dirichlet", "Distribution", "ExpTransform", "Exponential",
           "ExponentialFamily", "FisherSnedecor", "Gamma", "GeneralizedPareto", "Geometric", "Gumbel",
           "HalfCauchy", "HalfNormal", "Independent", "IndependentTransform", "InverseGamma", "Kumaraswamy",
           "LKJCholesky", "Laplace", "LogNormal", "LogisticNormal", "LowRankMultivariateNormal",
           "LowerCholeskyTransform", "MixtureSameFamily", "Multinomial", "MultivariateNormal",
           "NegativeBinomial", "Normal", "OneHotCategorical", "OneHotCategoricalStraightThrough", "Pareto",
           "Poisson", "PositiveDefiniteTransform", "PowerTransform", "RelaxedBernoulli",
           "RelaxedOneHotCategorical", "ReshapeTransform", "SigmoidTransform", "SoftmaxTransform",
           "SoftplusTransform", "StackTransform", "StickBreakingTransform", "StudentT", "TanhTransform",
           "Transform", "TransformedDistribution", "Uniform", "VonMises", "Weibull", "Wishart", "biject_to",
           "identity_transform", "kl_divergence", "register_kl", "transform_to"]

from . import _aliases  # noqa: E402

_aliases.register(globals())  # torch.distributions.normal, .categorical, ...: PyTorch's module paths

# The package lists what PyTorch's does (``dir(torch.distributions)``): the modules the classes are
# written in stay importable (``sys.modules``) but leave its namespace (the two relaxed
# distributions PyTorch keeps in their modules only are reached there: ``relaxed_categorical``...).
for _name in ("circular", "continuous", "corr_cholesky", "counts", "discrete", "extra", "kl_more", "lkj", "mixture", "more", "multivariate",
              "transform_base", "transformed", "transforms_more", "_aliases"):
    globals().pop(_name)
del _name
