"""Optimizers and learning-rate schedules with PyTorch's interface: ``step()``,
``zero_grad(set_to_none=True)``, parameter groups, ``state_dict()``/``load_state_dict()``."""
from . import lr_scheduler
from .adafactor import Adafactor
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adam_variants import Adamax, NAdam, RAdam
from .adaptive import ASGD, Adadelta, Rprop
from .lbfgs import LBFGS
from .muon import Muon
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD
from .sparse_adam import SparseAdam
from . import swa_utils  # noqa: E402  (after the optimizers: it builds on lr_scheduler and nn)

__all__ = ["Optimizer", "Adafactor", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "RAdam", "NAdam", "Adamax",
           "Adadelta", "ASGD", "Rprop", "LBFGS", "Muon", "SparseAdam", "lr_scheduler", "swa_utils"]
