"""PyTorch's module paths for the distributions (``from torch.distributions.normal import
Normal``): each a module object, registered in ``sys.modules``, holding the names PyTorch's
module of that name exports."""
import sys
import types

from . import more

MODULES = {
    "bernoulli": ["Bernoulli"], "beta": ["Beta"], "binomial": ["Binomial"], "categorical": ["Categorical"],
    "cauchy": ["Cauchy"], "chi2": ["Chi2"], "continuous_bernoulli": ["ContinuousBernoulli"],
    "fishersnedecor": ["FisherSnedecor"], "kumaraswamy": ["Kumaraswamy"], "logistic_normal": ["LogisticNormal"],
    "lowrank_multivariate_normal": ["LowRankMultivariateNormal"], "dirichlet": ["Dirichlet"],
    "exp_family": ["ExponentialFamily"],
    "exponential": ["Exponential"], "geometric": ["Geometric"], "gumbel": ["Gumbel"], "half_cauchy": ["HalfCauchy"],
    "half_normal": ["HalfNormal"], "independent": ["Independent"], "inverse_gamma": ["InverseGamma"],
    "laplace": ["Laplace"], "log_normal": ["LogNormal"], "mixture_same_family": ["MixtureSameFamily"],
    "multinomial": ["Multinomial"], "multivariate_normal": ["MultivariateNormal"],
    "negative_binomial": ["NegativeBinomial"], "normal": ["Normal"], "one_hot_categorical": [
        "OneHotCategorical", "OneHotCategoricalStraightThrough"], "pareto": ["Pareto"], "poisson": ["Poisson"],
    "relaxed_bernoulli": ["LogitRelaxedBernoulli", "RelaxedBernoulli"],
    "relaxed_categorical": ["ExpRelaxedCategorical", "RelaxedOneHotCategorical"], "studentT": ["StudentT"],
    "transformed_distribution": ["TransformedDistribution"], "uniform": ["Uniform"], "von_mises": ["VonMises"],
    "weibull": ["Weibull"], "lkj_cholesky": ["LKJCholesky"], "generalized_pareto": ["GeneralizedPareto"],
    "wishart": ["Wishart"],
}


def register(package):
    """Add the alias modules under ``package`` (the distributions package's namespace)."""
    name = package["__name__"]
    for module_name, exported in MODULES.items():
        full = f"{name}.{module_name}"
        if full in sys.modules:
            continue
        module = types.ModuleType(full, f"PyTorch's torch.distributions.{module_name}: {', '.join(exported)}.")
        for attr in exported:  # (the relaxed distributions PyTorch's package does not list: from their module)
            setattr(module, attr, package[attr] if attr in package else getattr(more, attr))
        module.__all__ = list(exported)
        sys.modules[full] = module
        package.setdefault(module_name, module)
