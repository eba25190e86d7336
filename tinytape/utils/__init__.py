"""PyTorch's ``torch.utils``: ``utils.data`` (data loading) and ``utils.checkpoint``."""
from . import checkpoint, data  # noqa: F401
