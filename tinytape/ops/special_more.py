"""The rest of ``torch.special``: the Bessel functions J0/J1/Y0/Y1, the modified ones of the second kind, Airy's
Ai, the spherical Bessel j0 and the orthogonal polynomials (Chebyshev T/U/V/W and their
shifted forms, Hermite H/He, Laguerre L, Legendre P).  PyTorch differentiates none of
them, so neither does tinytape: the values come from scipy.special in float64 on the host,
rounded to the dtype, with no history."""
import numpy as np
import scipy.special as sc

from .. import _creation, _dtype
from .._tensor import Tensor
from . import special_math as sm


def _values(like, values, dtype):
    return _creation.tensor(np.asarray(values, np.float64).astype(dtype.np), dtype=dtype, device=like.device)


def _unary(compute):
    def fn(input, *, out=None):
        x = sm._float_input(input, fn.__name__)
        with np.errstate(all="ignore"):
            result = _values(x, compute(sm._host(x).astype(np.float64)), x.dtype)
        return sm._out(result, out)
    return fn


def _spherical_j0(x):
    return np.where(x == 0, 1.0, np.sin(x) / np.where(x == 0, 1.0, x))


bessel_j0, bessel_j1, bessel_y0, bessel_y1 = _unary(sc.j0), _unary(sc.j1), _unary(sc.y0), _unary(sc.y1)
modified_bessel_k0 = _unary(sc.k0)
modified_bessel_k1 = _unary(sc.k1)
scaled_modified_bessel_k0 = _unary(sc.k0e)
scaled_modified_bessel_k1 = _unary(sc.k1e)
airy_ai = _unary(lambda x: sc.airy(x)[0])
spherical_bessel_j0 = _unary(_spherical_j0)
for _fn, _name in ((modified_bessel_k0, "modified_bessel_k0"), (modified_bessel_k1, "modified_bessel_k1"),
                   (scaled_modified_bessel_k0, "scaled_modified_bessel_k0"),
                   (scaled_modified_bessel_k1, "scaled_modified_bessel_k1"), (airy_ai, "airy_ai"),
                   (spherical_bessel_j0, "spherical_bessel_j0"), (bessel_j0, "bessel_j0"), (bessel_j1, "bessel_j1"),
                   (bessel_y0, "bessel_y0"), (bessel_y1, "bessel_y1")):
    _fn.__name__ = _name


def _chebyshev_vw(sign):
    def compute(n, x):
        previous = np.where(n >= 1, sc.eval_chebyu(np.maximum(n - 1, 0), x), 0.0)
        return np.where(n == 0, 1.0, sc.eval_chebyu(n, x) + sign * previous)
    return compute


def _shifted(compute):
    return lambda n, x: compute(n, 2 * x - 1)


def _polynomial(name, compute):
    def fn(input, n, *, out=None):
        if not isinstance(input, Tensor) and not isinstance(n, Tensor):
            raise TypeError(f"{name}(): expected a tensor for input or n")
        like = input if isinstance(input, Tensor) else n
        xs = sm._host(input).astype(np.float64) if isinstance(input, Tensor) else np.float64(input)
        ns = sm._host(n) if isinstance(n, Tensor) else np.asarray(n)
        ns = np.trunc(np.asarray(ns, np.float64)).astype(np.int64)
        dtype = input.dtype if isinstance(input, Tensor) else n.dtype  # a number is weakly typed
        if isinstance(input, Tensor) and isinstance(n, Tensor):
            dtype = _dtype.promote(input.dtype, n.dtype)
        if not dtype.is_floating_point:
            dtype = _dtype.get_default_dtype()
        with np.errstate(all="ignore"):
            values = np.where(ns < 0, 0.0, compute(np.maximum(ns, 0), xs))
        return sm._out(_values(like, values, dtype), out)
    fn.__name__ = name
    return fn


_POLYNOMIALS = {
    "chebyshev_polynomial_t": sc.eval_chebyt, "chebyshev_polynomial_u": sc.eval_chebyu,
    "chebyshev_polynomial_v": _chebyshev_vw(-1), "chebyshev_polynomial_w": _chebyshev_vw(1),
    "hermite_polynomial_h": sc.eval_hermite, "hermite_polynomial_he": sc.eval_hermitenorm,
    "laguerre_polynomial_l": sc.eval_laguerre, "legendre_polynomial_p": sc.eval_legendre,
}
for _kind in "tuvw":
    _POLYNOMIALS[f"shifted_chebyshev_polynomial_{_kind}"] = _shifted(_POLYNOMIALS[f"chebyshev_polynomial_{_kind}"])
POLYNOMIALS = {name: _polynomial(name, compute) for name, compute in _POLYNOMIALS.items()}
