"""``tinytape.cuda``: what PyTorch's ``torch.cuda`` offers that this build supports."""
from ._legacy import CUDA_TYPES


def is_available():
    """Whether tensors can live on a CUDA device in this build."""
    from ._dtype import device
    from .backend import for_device
    try:
        for_device(device("cuda"))
    except RuntimeError:
        return False
    return True


def is_bf16_supported():
    """bfloat16 tensors work on every CUDA device here (kernels compute in float32)."""
    return is_available()


def device_count():
    return 1 if is_available() else 0


def manual_seed(seed):
    """PyTorch seeds its CUDA generators here (ignored without CUDA); tinytape's CUDA tensors
    draw from the CPU stream, which this leaves alone, as PyTorch's does."""
    int(seed)


def manual_seed_all(seed):
    manual_seed(seed)


def empty_cache():
    """Nothing is cached between allocations here."""


def current_device():
    if not is_available():
        raise RuntimeError("Found no NVIDIA driver on your system.")
    return 0


FloatTensor = CUDA_TYPES["FloatTensor"]
DoubleTensor = CUDA_TYPES["DoubleTensor"]
LongTensor = CUDA_TYPES["LongTensor"]
BoolTensor = CUDA_TYPES["BoolTensor"]
BFloat16Tensor = CUDA_TYPES["BFloat16Tensor"]
