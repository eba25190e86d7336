"""PyTorch's ``torch.utils``: the data-loading part, ``utils.data``."""
from . import data  # noqa: F401
