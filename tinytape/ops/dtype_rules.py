"""The dtypes an op refuses, as PyTorch's kernels refuse them: one table, one check.

PyTorch dispatches each kernel over a set of dtypes and refuses the others, most often with
``NotImplementedError: "abs_cpu" not implemented for 'Bool'`` (the kernel's name and the
dtype's), some with a sentence of their own.  ``check(op, dtype)`` raises what PyTorch raises
for ``op`` given a tensor (after promotion, for binary ops) of ``dtype``; the ops call it
first thing.  ``square`` of a bool tensor is not refused but computed in int64 (``PROMOTED``).
The limited unsigned dtypes (uint16, uint32, uint64) are refused as ``unsigned_support``'s
table says, by the ops' public names (``add``, ``__lt__``, ``Tensor.where``).
"""
from .. import _dtype
from . import unsigned_support

BOOL = frozenset({"bool"})
INTEGRAL = frozenset({"bool", "uint8", "int8", "int16", "int32", "int64"})


def _kernel(name):
    return f'"{name}" not implemented for \'{{dtype}}\''


# op -> (refused dtypes, exception, message with {dtype} in PyTorch's spelling: Bool, Long, ...)
REFUSED = {
    "abs": (BOOL, NotImplementedError, _kernel("abs_cpu")),
    "floor": (BOOL, NotImplementedError, _kernel("floor_vml_cpu")),
    "ceil": (BOOL, NotImplementedError, _kernel("ceil_vml_cpu")),
    "round": (BOOL, NotImplementedError, _kernel("round_vml_cpu")),
    "trunc": (BOOL, NotImplementedError, _kernel("trunc_vml_cpu")),
    "fix": (BOOL, NotImplementedError, _kernel("trunc_vml_cpu")),
    "relu": (BOOL, NotImplementedError, "Boolean inputs not supported for relu"),
    "hardtanh": (BOOL, NotImplementedError, "Bool inputs not supported for hardtanh"),
    "positive": (BOOL, NotImplementedError, "The `+` operator, on a bool tensor is not supported."),
    "argmax": (BOOL, RuntimeError, "argmax(): does not support bool input"),
    "argmin": (BOOL, RuntimeError, "argmin(): does not support bool input"),
    "topk": (BOOL, RuntimeError, "topk does not support bool dtypes on CPU"),
    "median": (BOOL, NotImplementedError, _kernel("median_cpu")),
    "nanmedian": (BOOL, NotImplementedError, _kernel("median_cpu")),
    "kthvalue": (BOOL, NotImplementedError, _kernel("kthvalue_cpu")),
    "trace": (BOOL, NotImplementedError, _kernel("trace")),
    "mm": (BOOL, NotImplementedError, _kernel("addmm_impl_cpu_")),
    "matmul": (BOOL, NotImplementedError, _kernel("addmm_impl_cpu_")),
    "bmm": (BOOL, NotImplementedError, _kernel("bmm")),
    "dot": (BOOL, NotImplementedError, _kernel("dot")),
    "mv": (BOOL, NotImplementedError, _kernel("addmv_impl_cpu")),
    "cross": (BOOL, NotImplementedError, _kernel("cross")),
    "bincount": (BOOL, NotImplementedError, _kernel("bincount_cpu")),
    "histc": (BOOL, NotImplementedError, _kernel("linspace_cpu")),  # its bins' edges are made first
    "floor_divide": (BOOL, NotImplementedError, _kernel("div_floor_cpu")),
    "remainder": (BOOL, NotImplementedError, _kernel("remainder_cpu")),
    "fmod": (BOOL, NotImplementedError, _kernel("fmod_cpu")),
    "pow": (BOOL, NotImplementedError, _kernel("pow")),
    "gelu": (INTEGRAL, NotImplementedError, _kernel("GeluKernelImpl")),
    "silu": (INTEGRAL, NotImplementedError, _kernel("silu_cpu")),
    "elu": (INTEGRAL, NotImplementedError, _kernel("elu_cpu")),
    "selu": (INTEGRAL, NotImplementedError, _kernel("elu_cpu")),
    "leaky_relu": (INTEGRAL, NotImplementedError, _kernel("leaky_relu_cpu")),
    "softplus": (INTEGRAL, NotImplementedError, _kernel("softplus_cpu")),
    "logsigmoid": (INTEGRAL, NotImplementedError, _kernel("log_sigmoid_cpu")),
    "layer_norm": (INTEGRAL, NotImplementedError, _kernel("LayerNormKernelImpl")),
    "std_mean": (INTEGRAL, RuntimeError, "std_mean only support floating point and complex dtypes"),
    "var_mean": (INTEGRAL, RuntimeError, "var_mean only support floating point and complex dtypes"),
    "dropout": (INTEGRAL, RuntimeError, "result type Float can't be cast to the desired output type {dtype}"),
}

# op -> (exception, message) for a complex tensor, PyTorch's words
_CLAMP = (NotImplementedError, "clamp is not supported for complex types")
COMPLEX_REFUSED = {
    "relu": _CLAMP, "clamp": _CLAMP, "hardtanh": _CLAMP, "relu6": _CLAMP,
    "sign": (NotImplementedError, "Unlike NumPy, torch.sign is not intended to support complex numbers. Please use "
                                  "torch.sgn instead."),
    "floor": (NotImplementedError, "floor is not supported for complex inputs"),
    "ceil": (NotImplementedError, "ceil is not supported for complex inputs"),
    "trunc": (NotImplementedError, "trunc is not supported for complex inputs"),
    "fix": (NotImplementedError, "trunc is not supported for complex inputs"),
    "maximum": (RuntimeError, "maximum not implemented for complex tensors."),
    "minimum": (RuntimeError, "minimum not implemented for complex tensors."),
    "max": (NotImplementedError, _kernel("max_all")), "min": (NotImplementedError, _kernel("min_all")),
    "max_dim": (RuntimeError, "max(): does not support complex input"),
    "min_dim": (RuntimeError, "min(): does not support complex input"),
    "argmax": (RuntimeError, "argmax(): does not support complex input"),
    "argmin": (RuntimeError, "argmin(): does not support complex input"),
    "sort": (RuntimeError, " Sort does not support complex dtypes on CPU"),
    **{name: (NotImplementedError, _kernel(kernel)) for name, kernel in (
        ("round", "round_vml_cpu"), ("erf", "erf_vml_cpu"), ("lt", "lt_cpu"), ("le", "le_cpu"), ("gt", "gt_cpu"),
        ("ge", "ge_cpu"), ("atan2", "atan2_cpu"), ("remainder", "remainder_cpu"), ("floor_divide", "div_floor_cpu"),
        ("gelu", "GeluKernelImpl"), ("softplus", "softplus_cpu"), ("elu", "elu_cpu"), ("selu", "elu_cpu"),
        ("leaky_relu", "leaky_relu_cpu"), ("logsigmoid", "log_sigmoid_cpu"), ("mse_loss", "mse_cpu"),
        ("softmax", "softmax_lastdim_kernel_impl"), ("log_softmax", "log_softmax_lastdim_kernel_impl"))},
}

PROMOTED = {("square", "bool"): "int64"}  # bool ** 2 is int64 in PyTorch


def _unsigned_refusals():
    """Each name the table refuses on the limited dtypes -> (error, message)."""
    refused = {}
    for kernel, names in unsigned_support.NOT_IMPLEMENTED.items():
        for name in names.split():
            refused[name] = (NotImplementedError, _kernel(kernel))
    for error, message, names in unsigned_support.REFUSED:
        for name in names.split():
            refused[name] = (error, message)
    return refused


UNSIGNED_REFUSED = _unsigned_refusals()
LIMITED_CHARS = "HILQ"  # numpy's characters of uint16, uint32, uint64 (uint64 is L or Q): one string test
_C_TYPES = {"uint16": "short unsigned int", "uint32": "unsigned int", "uint64": "long unsigned int"}


def check_unsigned(op, dtype):
    """Raise PyTorch's error where it refuses ``op`` (a public name) on limited unsigned ``dtype``."""
    rule = UNSIGNED_REFUSED.get(op)
    if rule is not None and dtype in _dtype.LIMITED_UNSIGNED:
        raise rule[0](rule[1].format(dtype=_dtype.scalar_type_name(dtype), c_type=_C_TYPES[dtype.name]))


def check(op, dtype):
    """Raise what PyTorch raises for ``op`` on a tensor of ``dtype`` (a dtype or a tensor)."""
    dtype = getattr(dtype, "dtype", dtype)
    if dtype in _dtype.LIMITED_UNSIGNED:
        check_unsigned(op, dtype)
    if dtype.is_complex and op in COMPLEX_REFUSED:
        error, message = COMPLEX_REFUSED[op]
        raise error(message.format(dtype=_dtype.scalar_type_name(dtype)))
    rule = REFUSED.get(op)
    if rule is not None and dtype.name in rule[0]:
        raise rule[1](rule[2].format(dtype=_dtype.scalar_type_name(dtype)))
