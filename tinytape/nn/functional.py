"""Activations and losses, as ``torch.nn.functional`` names them: defined here, or gathered
from where they live (the pointwise activations in ``nn/pointwise.py``, the losses in
``nn/functional_losses.py`` and ``nn/functional_class_losses.py``, softmax and the forms
built from ops in ``ops/``)."""
import math

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ..ops import elementwise as ew
from ..ops.elementwise import silu  # noqa: F401  (declared in the op table)
from ..ops.linalg import addmm as _addmm
from ..ops.normalization import batch_norm  # noqa: F401
from ..ops.pooling import adaptive_avg_pool1d, adaptive_avg_pool2d, avg_pool1d, max_pool1d  # noqa: F401
from ..ops import softmax as _softmax_ops
from ..ops.softmax import (  # noqa: F401
    LogSoftmax, Softmax, _kernel_dtype_name, _softmax_dim, _softmax_input)
from .functional_losses import (  # noqa: F401
    binary_cross_entropy, binary_cross_entropy_with_logits, BinaryCrossEntropy, BinaryCrossEntropyWithLogits,
    BinaryCrossEntropyWithLogitsPosWeight, _broadcast_target, _check_reduction, _check_unit_interval, _check_weight,
    huber_loss, HuberLoss, l1_loss, mse_loss, MseLoss, _not_differentiable, _pointwise_loss, _PointwiseLoss,
    _reduce, _REDUCTIONS, _softplus_neg, _table_loss, _weighted)
from .functional_class_losses import (  # noqa: F401
    _class_plan, cross_entropy, nll_loss, NllLoss, NllLoss2d)
from .distance import _ClampMinKeepGradient, cosine_similarity, pairwise_distance, pdist  # noqa: F401
from .pointwise import (  # noqa: F401  (the pointwise activations, composed from tensor ops)
    celu, celu_, elu, elu_, gelu, hardsigmoid, hardswish, hardtanh, hardtanh_, leaky_relu, leaky_relu_, logsigmoid,
    mish, relu6, rrelu, rrelu_, selu, selu_, softplus, softsign, tanhshrink, threshold, threshold_)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """PyTorch's signature: the third positional is ``_stacklevel`` (ignored), ``dtype`` is by name."""
    return _softmax_ops.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    return _softmax_ops.log_softmax(input, dim, dtype=dtype)


def relu(input, inplace=False):
    return input.relu_() if inplace else ew.relu(input)


def relu_(input):
    return input.relu_()


def sigmoid(input):
    return ew.sigmoid(input)


def tanh(input):
    return ew.tanh(input)


def linear(input, weight, bias=None):
    """``input @ weight.T + bias``, recorded as PyTorch records it: one ``addmm`` for a
    2-D input, and for a contiguous input of another rank (3-D, or with a 1-D bias) a view
    to rows, the ``addmm`` and a view back; else a product and an add."""
    if bias is not None and isinstance(input, Tensor) and weight.ndim == 2 and input.ndim >= 1:
        if input.ndim == 2:
            return _addmm(bias, input, weight.t())
        if input.is_contiguous() and (input.ndim == 3 or bias.ndim == 1):
            rows = input.reshape(math.prod(input.shape[:-1]), input.shape[-1])
            out = _addmm(bias, rows, weight.t())
            return out.view(*input.shape[:-1], out.shape[1])
    out = input.matmul(weight.t() if weight.ndim == 2 else weight)
    return out if bias is None else out + bias


def one_hot(tensor, num_classes=-1):
    """int64 rows with a 1 at each class index (classes counted from the data when -1)."""
    if tensor.dtype is not _dtype.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    from ..compiler.capture import tracing
    if tracing() and num_classes != -1:
        # compiled: rows of the identity picked by recorded indexing, whose kernel checks the
        # indices without a host read (a negative class is sent past the table: IndexError)
        from .._creation import eye
        from ..ops.masking import where
        if tensor.numel():  # eager's two checks, in its order and words (the lookup's own would be an IndexError)
            flat, n = tensor.reshape(-1)._data, tensor.numel()
            plan = (np.zeros(n, np.int64), flat, np.arange(n), 0)
            tensor._backend.positions(*plan, 2 ** 62, False, (True, "Class values must be non-negative.", None))
            tensor._backend.positions(*plan, num_classes, False,
                                      (True, "Class values must be smaller than num_classes.", None))
        table = eye(num_classes, dtype=_dtype.int64, device=tensor.device)
        return table[where(tensor < 0, num_classes, tensor)]
    ids = tensor._backend.to_numpy(tensor._data)
    if num_classes == -1:
        if ids.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(ids.max()) + 1
    if ids.size and ids.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if ids.size and ids.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = np.zeros(ids.shape + (num_classes,), np.int64)
    np.put_along_axis(out, ids[..., None], 1, axis=-1)
    from .._creation import tensor as _tensor
    return _tensor(out, device=tensor.device)




from .sparse import embedding  # noqa: E402,F401  (the lookup and its EmbeddingBackward0)
from .activation import softmin  # noqa: E402,F401
from .attention import multi_head_attention_forward  # noqa: E402,F401


def _attach_composites():
    from ..ops import composite
    for name, fn in composite.FUNCTIONAL.items():  # this module's own definitions win
        globals().setdefault(name, fn)


_attach_composites()
