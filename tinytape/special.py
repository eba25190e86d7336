"""``tinytape.special``: PyTorch's ``torch.special`` names, most of them the functions that
``tinytape`` has under another name (``expit`` is ``sigmoid``, ``gammaln`` is ``lgamma``,
``psi`` is ``digamma``), the others from ``ops.special_math`` (differentiable) and
``ops.special_more`` (the ones PyTorch does not differentiate)."""
from .ops import special_math as _sm
from .ops.special_math import (digamma, entr, erfc, erfcx, erfinv,  # noqa: F401
                               exp2, gammainc, gammaincc, i0, i0e, i1, i1e, log_ndtr, logit,
                               ndtr, ndtri, polygamma, sinc, xlog1py, zeta)

from .ops.special_more import (airy_ai, bessel_j0, bessel_j1, bessel_y0, bessel_y1,  # noqa: E402,F401
                               modified_bessel_k0, modified_bessel_k1,
                               scaled_modified_bessel_k0, scaled_modified_bessel_k1, spherical_bessel_j0)
from .ops.special_more import POLYNOMIALS as _POLYNOMIALS  # noqa: E402

globals().update(_POLYNOMIALS)  # chebyshev_polynomial_t, hermite_polynomial_h, ...

psi = digamma
gammaln = _sm.lgamma
multigammaln = _sm.mvlgamma
modified_bessel_i0 = i0
modified_bessel_i1 = i1


def _top(name):
    def fn(*args, **kwargs):
        import tinytape
        return getattr(tinytape, name)(*args, **kwargs)
    fn.__name__ = name
    return fn


expit = _top("sigmoid")
erf = _top("erf")
expm1 = _top("expm1")
log1p = _top("log1p")
xlogy = _top("xlogy")
logsumexp = _top("logsumexp")


def round(input, *, decimals=0):  # noqa: A001  (PyTorch's name)
    """PyTorch's ``special.round`` calls the ``decimals`` overload (RoundBackward1)."""
    import tinytape
    return tinytape.round(input, decimals=decimals)

__all__ = sorted(_POLYNOMIALS) + [
    "airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "digamma", "entr", "erf", "erfc", "erfcx",
    "erfinv", "exp2", "expit", "expm1", "gammainc", "gammaincc", "gammaln", "i0", "i0e", "i1", "i1e", "log1p",
    "log_ndtr", "log_softmax", "logit", "logsumexp", "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0",
    "modified_bessel_k1", "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round", "scaled_modified_bessel_k0",
    "scaled_modified_bessel_k1", "sinc", "softmax", "spherical_bessel_j0", "xlog1py", "xlogy", "zeta"]


def softmax(input, dim, *, dtype=None):
    return input.softmax(dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    return input.log_softmax(dim, dtype=dtype)
