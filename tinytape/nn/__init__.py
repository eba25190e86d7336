"""Neural-network functions (``tinytape.nn.functional``)."""
from . import functional  # noqa: F401
