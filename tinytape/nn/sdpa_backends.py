"""``nn.attention.SDPBackend`` and ``sdpa_kernel``: the choice of implementation behind
``scaled_dot_product_attention``.  There is one implementation here (the math one, composed
from recorded ops), so choosing a backend changes nothing the results show; the names, the
context manager and its checks are PyTorch's."""
import contextlib
import enum


class SDPBackend(enum.Enum):
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


_chosen = [list(SDPBackend)[1:]]  # the backends allowed now (innermost sdpa_kernel)


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    """Within it, ``scaled_dot_product_attention`` may use only ``backends`` (one or a list)."""
    if isinstance(backends, SDPBackend):
        backends = [backends]
    if not isinstance(backends, (list, tuple, set)) or not all(isinstance(b, SDPBackend) for b in backends):
        raise AssertionError("Backend must be an instance of SDPBackend or a list of SDPBackend instances")
    _chosen.append(list(backends))
    try:
        yield {}
    finally:
        _chosen.pop()
