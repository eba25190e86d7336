"""Neural-network building blocks with PyTorch's interface: ``Module``, ``Parameter``,
layers, containers, losses, ``init``, ``utils`` and ``functional``."""
from . import functional, init  # noqa: F401
from .parameter import Parameter
from .module import Module
from .container import ModuleDict, ModuleList, Sequential
from .layers import Dropout, Flatten, Identity, Linear, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from . import utils  # noqa: F401

__all__ = ["Parameter", "Module", "Sequential", "ModuleList", "ModuleDict", "Identity", "Linear", "ReLU", "Tanh",
           "Sigmoid", "Softmax", "LogSoftmax", "Flatten", "Dropout", "L1Loss", "MSELoss", "BCELoss",
           "BCEWithLogitsLoss", "NLLLoss", "CrossEntropyLoss", "functional", "init", "utils"]
