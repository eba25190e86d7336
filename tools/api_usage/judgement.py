"""What the scan cannot decide by itself: which names are differentiable, and which lie
outside an autodiff library's scope.  Keys are ``kind:name`` as in the ranked list."""

# Left out of the ranked target: an autodiff library has no business providing them.
OUT_OF_SCOPE = {
    "device management": {
        "torch:set_default_device", "torch:autocast", "torch:use_deterministic_algorithms",
        "torch:set_float32_matmul_precision", "torch:set_num_threads", "torch:get_num_threads",
        "tensor_method:pin_memory", "tensor_method:get_device", "tensor_method:record_stream",
        "tensor_method:share_memory_",
    },
    "sparse and complex storage": {
        "torch:sparse_coo_tensor", "torch:spmm", "tensor_method:to_sparse", "torch:view_as_complex",
        "torch:view_as_real", "torch:polar",
    },
    "profiling": {"autograd:profiler"},
}
OUT_OF_SCOPE_REASONS = [
    "not counted at all (submodules, not names): torch.cuda, torch.backends, torch.jit, torch.distributed,",
    "  torch.utils (data loading), torch.hub, torch.onnx, torch.multiprocessing, torch.profiler, torchvision;",
    "  torch.nn modules and torch.optim are tracked by their own tests, not this list.",
] + [f"out ({why}): {', '.join(sorted(names))}" for why, names in OUT_OF_SCOPE.items()]

# Float ops PyTorch differentiates (d output / d float input exists and is not identically zero).
DIFFERENTIABLE = {
    # torch.<name>
    *(f"torch:{n}" for n in (
        "abs", "acos", "add", "arccos", "arcsin", "arctan", "asin", "bmm", "cat", "clamp", "clip",
        "clone", "cos", "cosh", "cross", "cumsum", "det", "diag", "dot", "einsum", "exp", "flatten",
        "inverse", "log", "log1p", "log2", "logsumexp", "matmul", "max", "maximum", "mean", "min", "mm",
        "mul", "multiply", "mv", "neg", "norm", "outer", "pow", "prod", "relu", "reshape", "roll",
        "rsqrt", "sigmoid", "sin", "sinh", "softmax", "sort", "split", "sqrt", "square", "squeeze",
        "stack", "std", "std_mean", "sum", "svd", "tan", "tanh", "topk", "trace", "tril", "triu",
        "unsqueeze", "where", "repeat_interleave", "meshgrid",
    )),
    # torch.nn.functional.<name>
    *(f"functional:{n}" for n in (
        "softmax", "log_softmax", "relu", "cross_entropy", "nll_loss", "binary_cross_entropy",
        "binary_cross_entropy_with_logits", "max_pool2d", "avg_pool2d", "conv2d", "mse_loss", "sigmoid",
        "tanh", "elu", "silu", "dropout", "layer_norm", "normalize", "smooth_l1_loss", "interpolate",
        "scaled_dot_product_attention", "linear", "leaky_relu", "gelu", "softplus",
    )),
    "linalg:norm", "linalg:eig", "linalg:vector_norm", "linalg:inv", "linalg:det",
    # <tensor>.<name>(...)
    *(f"tensor_method:{n}" for n in (
        "abs", "add", "add_", "addcdiv_", "addcmul_", "bmm", "clamp", "clamp_", "clip",
        "clone", "contiguous", "copy_", "cos", "cpu", "cuda", "cumsum", "div", "div_", "dot", "double",
        "exp", "exp_", "expand", "expand_as", "flatten", "float", "half", "log", "log10", "masked_fill",
        "matmul", "max", "mean", "min", "mm", "mul", "mul_", "norm", "permute", "pow", "prod", "ravel",
        "relu", "repeat", "repeat_interleave", "reshape", "scatter", "select", "sigmoid", "sin", "sort",
        "split", "sqrt", "squeeze", "std", "sub", "sub_", "sum", "swapaxes", "t", "tanh", "to", "topk",
        "trace", "transpose", "type", "type_as", "unsqueeze", "var", "view", "view_as",
    )),
    "tensor_attr:T", "tensor_attr:mT", "tensor_attr:H", "tensor_attr:mH",
}


def out_of_scope(kind, name):
    key = f"{kind}:{name}"
    for why, names in OUT_OF_SCOPE.items():
        if key in names:
            return f"out ({why})"
    return None


def differentiable(kind, name):
    return "yes" if f"{kind}:{name}" in DIFFERENTIABLE else "no"
