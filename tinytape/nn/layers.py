"""The names this module held before the layers were filed by family (``linear.py``,
``activation.py``, ``dropout.py``, ``reshaping.py``, ``distance.py``), still importable from here."""
from ..ops.nn_ops import dropout
from .activation import (CELU, ELU, GELU, SELU, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU, LogSigmoid, LogSoftmax,
                         Mish, ReLU, ReLU6, Sigmoid, SiLU, Softmax, Softplus, Softsign, Tanh, Tanhshrink, Threshold)
from .distance import CosineSimilarity, PairwiseDistance
from .dropout import Dropout
from .linear import Identity, Linear, linear
from .reshaping import Flatten

__all__ = ["Identity", "Linear", "ReLU", "Tanh", "Sigmoid", "Softmax", "LogSoftmax", "Flatten",
           "Dropout", "linear", "dropout", "Hardtanh", "ReLU6", "ELU", "SELU", "CELU", "LeakyReLU", "Threshold",
           "LogSigmoid", "Hardsigmoid", "Hardswish", "Softsign", "Tanhshrink", "Mish", "SiLU", "Softplus", "GELU",
           "CosineSimilarity", "PairwiseDistance"]
