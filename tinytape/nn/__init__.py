"""Neural-network building blocks with PyTorch's interface: ``Module``, ``Parameter``,
layers, containers, losses, ``init``, ``utils`` and ``functional``."""
from . import functional, init  # noqa: F401
from .parameter import Buffer, Parameter
from .module import Module
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .linear import Identity, Linear
from .activation import (CELU, ELU, GELU, SELU, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU, LogSigmoid, LogSoftmax,
                         Mish, ReLU, ReLU6, Sigmoid, SiLU, Softmax, Softmin, Softplus, Softsign, Tanh, Tanhshrink,
                         Threshold, RReLU)
from .attention import MultiheadAttention
from .dropout import AlphaDropout, Dropout, FeatureAlphaDropout
from .distance import CosineSimilarity, PairwiseDistance
from .conv import Conv1d, Conv2d
from .pooling import AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss, NLLLoss
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from .sparse import Embedding
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .lazy import (LazyBatchNorm1d, LazyBatchNorm2d, LazyConv1d, LazyConv2d, LazyConvTranspose1d,
                   LazyConvTranspose2d, LazyLinear, UninitializedBuffer, UninitializedParameter, LazyConv3d,
                   LazyConvTranspose3d, LazyBatchNorm3d, LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d)
from .reshaping import Flatten, Unflatten
from . import layers, utils  # noqa: F401
from . import breadth as _breadth
from . import shuffling as _shuffling
from . import embedding_losses as _embedding_losses
from . import transformer as _transformer
from . import ctc as _ctc
from . import norms_pools as _norms_pools
from . import adaptive as _adaptive
from .adaptive import AdaptiveLogSoftmaxWithLoss  # noqa: F401
from . import rnn_utils as _rnn_utils
from . import folding as _folding
from . import embedding_bag as _embedding_bag
from . import volumetric as _volumetric
from . import unpooling as _unpooling
from .conv_transpose import (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d, conv_transpose1d, conv_transpose2d,
                             conv_transpose3d)

functional.conv_transpose1d, functional.conv_transpose2d = conv_transpose1d, conv_transpose2d
functional.conv_transpose3d = conv_transpose3d
from .dropout import alpha_dropout as _alpha_dropout, feature_alpha_dropout as _feature_alpha_dropout  # noqa: E402
functional.alpha_dropout, functional.feature_alpha_dropout = _alpha_dropout, _feature_alpha_dropout

utils.rnn = _rnn_utils  # nn.utils.rnn.pad_sequence
__import__("sys").modules[__name__ + ".utils.rnn"] = _rnn_utils
from . import parametrizations as _parametrizations, parametrize as _parametrize  # noqa: E402
utils.parametrize, utils.parametrizations = _parametrize, _parametrizations  # nn.utils.parametrize.*
utils.weight_norm, utils.remove_weight_norm = _parametrizations.legacy_weight_norm, _parametrizations.remove_weight_norm
utils.spectral_norm, utils.remove_spectral_norm = (_parametrizations.legacy_spectral_norm,
                                                 _parametrizations.remove_spectral_norm)
__import__("sys").modules[__name__ + ".utils.parametrize"] = _parametrize
__import__("sys").modules[__name__ + ".utils.parametrizations"] = _parametrizations
from . import prune as _prune  # noqa: E402
utils.prune = _prune  # nn.utils.prune.l1_unstructured
__import__("sys").modules[__name__ + ".utils.prune"] = _prune

for _family in (_breadth, _norms_pools, _embedding_losses, _transformer, _ctc, _folding, _embedding_bag,
                _volumetric, _unpooling, _shuffling):
    globals().update({name: getattr(_family, name) for name in _family.MODULES})
    for _name, _fn in _family.FUNCTIONAL.items():
        if not hasattr(functional, _name):
            setattr(functional, _name, _fn)

__all__ = ["Parameter", "Buffer", "Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
           "Identity", "Linear", "ReLU", "Tanh", "Sigmoid", "Softmax", "LogSoftmax", "Flatten", "Dropout",
           "Hardtanh", "ReLU6", "ELU", "SELU", "CELU", "LeakyReLU", "RReLU", "Threshold", "LogSigmoid", "Hardsigmoid",
           "Hardswish", "Softsign", "Tanhshrink", "Mish", "SiLU", "Softplus", "GELU", "CosineSimilarity",
           "PairwiseDistance", "L1Loss", "MSELoss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "NLLLoss",
           "CrossEntropyLoss", "RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell",
           "GRUCell", "Embedding", "LayerNorm", "MultiheadAttention", "Softmin", "LazyLinear", "UninitializedParameter",
           "LazyConv1d", "LazyConv2d", "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConv3d", "LazyConvTranspose3d", "LazyBatchNorm1d", "LazyBatchNorm2d",
           "LazyBatchNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d",
           "UninitializedBuffer",
           "Unflatten", "Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d",
           "AdaptiveAvgPool2d", "BatchNorm1d", "BatchNorm2d",
           "functional", "init", "utils", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "AlphaDropout", "FeatureAlphaDropout",
           *_breadth.MODULES, *_embedding_losses.MODULES,
           *_transformer.MODULES, *_ctc.MODULES, *_norms_pools.MODULES, *_folding.MODULES,
           *_embedding_bag.MODULES, *_volumetric.MODULES, *_unpooling.MODULES, *_adaptive.MODULES,
           *_shuffling.MODULES]
