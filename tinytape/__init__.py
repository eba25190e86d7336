"""tinytape: reverse-mode automatic differentiation on an explicit Wengert-list tape,
with Numba kernels and PyTorch's autograd API (``import tinytape as torch``)."""
from ._version import torch_version as __version__  # "2.14.1+tinytape.0.1.0"
from ._dtype import bool_ as bool  # noqa: A001  (PyTorch's name)
from ._dtype import (bfloat16, complex64, complex128, device, dtype, float16, float32, float64, int8, int16, int32, int64,
                     layout, strided, uint8, uint16, uint32, uint64)
from ._dtype import sparse_coo  # noqa: F401  (sparse gradients)
from ._tensor import Size, Tensor
from ._methods import attach_core as _attach_core

_attach_core()  # noqa: E305  (operators and methods, before any module computes with tensors)
from . import autograd
from .autograd import enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad, set_grad_enabled
from ._creation import (
    Generator, arange, as_tensor, asarray, default_generator, empty, empty_like, eye, from_numpy, full,
    full_like, get_rng_state, initial_seed, linspace, logspace, manual_seed, normal, ones, ones_like, rand, rand_like,
    randint, randint_like,
    randn, randn_like, randperm, seed, set_rng_state, tensor, zeros, zeros_like,
)
from .ops.elementwise import (
    abs, add, clamp, cos, div, eq, equal, exp, ge, gt, le, log, lt, maximum, minimum, mul, ne,
    neg, pow, relu, sigmoid, sign, sin, sqrt, sub, tanh, where,
)
from .ops.reduction import all, any, argmax, argmin, max, mean, min, norm, sum
from .ops.extremes import amax, amin, aminmax
from .ops.linalg import bmm, dot, matmul, mm, mv
from .ops.shape import (
    clone, expand, flatten, permute, reshape, squeeze, t, transpose, unsqueeze,
)
from . import cuda, nn, optim
from ._legacy import (BFloat16Tensor, BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, HalfTensor,
                      IntTensor, LongTensor, ShortTensor)
from ._explain import explain
from ._printing import set_printoptions
from . import _tensor_str  # noqa: F401  (torch._tensor_str.PRINT_OPTS)
from . import fft, linalg, special
from .serialization import load, save
from .compiler import compile  # noqa: A001  (torch.compile's name)
from . import utils  # noqa: E402  (torch.utils.data)
from . import environment as _environment  # noqa: E402

globals().update(_environment.FUNCTIONS)  # torch.backends, torch.use_deterministic_algorithms, ...
from .nn.distance import cosine_similarity, pairwise_distance  # noqa: E402,F401  (torch.* too)
from . import _nn_aliases  # noqa: E402

globals().update({k: v for k, v in _nn_aliases.FUNCTIONS.items() if k not in globals()})
from ._methods import attach as _attach  # noqa: E402

_attach(_nn_aliases.METHODS)

float = float32  # noqa: A001
double = float64
long = int64
half = float16
int = int32  # noqa: A001
short = int16
cfloat = complex64
cdouble = complex128
clip = clamp


def softmax(input, dim, dtype=None):
    return nn.functional.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, dtype=None):
    return nn.functional.log_softmax(input, dim, dtype=dtype)


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return input.dtype.is_floating_point


def dropout(input, p, train):
    return nn.functional.dropout(input, p, train)


from ._dtype import get_default_device, get_default_dtype, set_default_dtype  # noqa: E402


def numel(t):
    return t.numel()


def stack(tensors, dim=0):
    from .ops.shape import stack as _stack
    return _stack(tensors, dim)


def cat(tensors, dim=0):
    from .ops.shape import cat as _cat
    return _cat(tensors, dim)


from ._methods import attach_all as _attach_all  # noqa: E402

_attach_all(globals())
# ``tinytape.autograd.functional`` (jacobian, hessian...) is built on the ops layer above autograd
from .autograd import functional as _autograd_functional  # noqa: E402,F401

from .ops.from_table import EXPORTS as _ELEMENTWISE  # noqa: E402  (the op table's functions)
from .ops.composite import TORCH_FUNCTIONS as _COMPOSITE  # noqa: E402

globals().update({k: v for k, v in _ELEMENTWISE.items() if k not in globals()})

globals().update({k: v for k, v in _COMPOSITE.items() if k not in globals()})  # own definitions win

from .ops.householder import geqrf, householder_product as orgqr  # noqa: E402

linalg.householder_product = orgqr

from .ops.out import wrap_namespace as _wrap_out  # noqa: E402

from . import _signature_table  # noqa: E402

_wrap_out(globals(), _signature_table.TORCH)  # out= on the functions that take it in PyTorch
_wrap_out(vars(linalg), _signature_table.LINALG)

from ._methods import accept_numpy_names as _accept_numpy_names  # noqa: E402

_accept_numpy_names(globals())  # axis=/keepdims= where PyTorch's parser takes them

from ._methods import attach_inplace_forms as _attach_inplace_forms  # noqa: E402

_attach_inplace_forms()  # abs_, sqrt_, cumsum_, ... as the out-of-place methods written in place

from .ops.elementwise_more import attach_torch_inplace as _attach_torch_inplace  # noqa: E402

_attach_torch_inplace(globals())  # torch.sin_(t), torch.exp_(t), ...: the in-place methods as functions

from ._signatures import bind_all as _bind_all  # noqa: E402

_bind_all(globals())  # PyTorch's keyword names (input=, other=, dims=, ...) and its refusals

from .ops.unsigned_gate import install as _install_unsigned_gate  # noqa: E402

_install_unsigned_gate(globals())  # uint16/32/64: PyTorch's refusals of the ops it does not compute on them

from . import distributions  # noqa: E402  (torch.distributions, built on everything above)
from . import func, testing  # noqa: E402  (torch.func: transforms over the tape; torch.testing)
from . import amp  # noqa: E402  (torch.amp)
from .amp import autocast, get_autocast_dtype, is_autocast_enabled  # noqa: E402,F401
cuda.amp, _cpu_amp = amp.device_namespaces()  # torch.cuda.amp, torch.cpu.amp: deprecated spellings
cpu = __import__("types").SimpleNamespace(amp=_cpu_amp)
from .func import vmap  # noqa: E402
