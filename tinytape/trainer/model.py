"""The seed's two-layer net, three ways to get its gradient: the tape with ``clamp``, the
tape with a custom ReLU ``Function``, and the gradient written out by hand; and the seed's
loss, the squared-error sum."""
import os

import tinytape as tt
from tinytape import nn
from tinytape.autograd import Function

ACTIVATIONS = ("clamp", "function", "manual")


class MyReLU(Function):
    """The seed's custom ReLU: saves its input, zeroes the gradient where it was not positive
    (the seed writes ``< 0``; ``<= 0`` is clamp's rule in PyTorch 2.14, so the three model
    variants give one curve even where h is exactly 0)."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input <= 0] = 0
        return grad_input


def _human(nbytes):
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if nbytes < 1000 or unit == "PB":
            return f"{nbytes:.3g} {unit}"
        nbytes /= 1000


def check_memory(numbers, what):
    """MemoryError, saying how much is needed, before drawing more than the machine holds:
    ``numbers`` float32 weights drawn in float64, with their gradients and optimizer state."""
    try:
        available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return
    needed = numbers * (8 + 4 * 4)
    if needed > available:
        raise MemoryError(f"{what}: the weights ({numbers:,} numbers) with their gradients and optimizer state "
                          f"need {_human(needed)}, more than this machine's {_human(available)} of memory")


class SquaredErrorSum(nn.Module):
    """The seed's loss, ``(y_pred - y).pow(2).sum()``."""

    def forward(self, input, target):
        return (input - target).pow(2).sum()


class TwoLayerNet(nn.Module):
    """y_pred = relu(x @ w1) @ w2, the weights laid out as the seed draws them:
    w1 (D_in, H) and w2 (H, D_out), standard normal from a generator seeded by ``seed``."""

    def __init__(self, D_in, H, D_out, activation="clamp", seed=0):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
        for name, size in (("D_in", D_in), ("H", H), ("D_out", D_out)):
            if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
                raise ValueError(f"{name} must be a positive integer, got {size!r}")
        check_memory((D_in + D_out) * H, f"H={H}")
        self.activation = activation
        generator = tt.Generator().manual_seed([int(seed), 1])  # the weights' own stream
        self.w1 = nn.Parameter(tt.randn(D_in, H, generator=generator))
        self.w2 = nn.Parameter(tt.randn(H, D_out, generator=generator))

    def forward(self, x):
        if self.activation == "function":
            return MyReLU.apply(x.mm(self.w1)).mm(self.w2)
        return x.mm(self.w1).clamp(min=0).mm(self.w2)

    def extra_repr(self):
        return f"D_in={self.w1.shape[0]}, H={self.w1.shape[1]}, D_out={self.w2.shape[1]}, activation={self.activation}"

    def manual_backward(self, x, y):
        """With ``activation='manual'``: the squared-error-sum loss (a 0-d tensor) and the
        weights' ``.grad``, by the backward pass the seed spells out — no tape involved.
        ``None`` for the other activations (the trainer then calls ``loss.backward()``)."""
        if self.activation != "manual":
            return None
        with tt.no_grad():
            h = x.mm(self.w1)
            h_relu = h.clamp(min=0)
            y_pred = h_relu.mm(self.w2)
            loss = (y_pred - y).pow(2).sum()
            grad_y_pred = 2.0 * (y_pred - y)
            grad_w2 = h_relu.t().mm(grad_y_pred)
            grad_h_relu = grad_y_pred.mm(self.w2.t())
            grad_h = grad_h_relu.clone()
            grad_h[h <= 0] = 0  # clamp's rule at h == 0, as MyReLU above
            grad_w1 = x.t().mm(grad_h)
        for w, g in ((self.w1, grad_w1), (self.w2, grad_w2)):
            w.grad = g if w.grad is None else w.grad + g
        return loss


class CrossEntropyLoss(nn.CrossEntropyLoss):
    """``nn.CrossEntropyLoss`` whose class ``weight`` may be a plain list (from a config);
    the targets are class indices (N,) or class probabilities (N, C)."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        if weight is not None and not isinstance(weight, tt.Tensor):
            weight = tt.tensor([float(w) for w in weight])
        if not 0.0 <= float(label_smoothing) <= 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing!r}")
        super().__init__(weight=weight, ignore_index=ignore_index, reduction=reduction,
                         label_smoothing=float(label_smoothing))


_ACTIVATION_LAYERS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU, "sigmoid": nn.Sigmoid}


class MLP(nn.Module):
    """Linear layers with ``activation`` between them: D_in -> hidden... -> D_out (for
    classes, D_out is their number and the outputs are logits).  Rows of more than one
    dimension (images) are flattened first.  Weights as ``nn.Linear`` draws them, from the
    global generator (``seed``)."""

    def __init__(self, D_in, D_out, hidden=(128,), activation="relu", dropout=0.0):
        super().__init__()
        if activation not in _ACTIVATION_LAYERS:
            raise ValueError(f"activation must be one of {', '.join(_ACTIVATION_LAYERS)}, got {activation!r}")
        hidden = [hidden] if isinstance(hidden, int) else list(hidden)
        for h in hidden:
            if not isinstance(h, int) or isinstance(h, bool) or h <= 0:
                raise ValueError(f"hidden must be positive integers, got {h!r}")
        check_memory(sum(a * b for a, b in zip([D_in, *hidden], [*hidden, D_out])), f"hidden={hidden}")
        layers, width = [], D_in
        for h in hidden:
            layers += [nn.Linear(width, h), _ACTIVATION_LAYERS[activation]()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, D_out))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x.flatten(1) if x.ndim > 2 else x)


class CNN(nn.Module):
    """A small convolutional net for square images: rows of ``D_in`` pixels (or (C, H, W)
    images) -> ``channels`` 3x3 convolutions with ReLU, each followed by a 2x2 max-pool
    -> a linear layer of ``D_out`` logits.  Needs ``nn.Conv2d`` and ``nn.MaxPool2d``."""

    def __init__(self, D_in, D_out, channels=(16, 32), in_channels=1):
        super().__init__()
        if not hasattr(nn, "Conv2d") or not hasattr(nn, "MaxPool2d"):
            raise ValueError("this tinytape has no nn.Conv2d / nn.MaxPool2d; use model=classifier")
        side = int(round((D_in / in_channels) ** 0.5))
        if side * side * in_channels != D_in:
            raise ValueError(f"D_in={D_in} is not {in_channels} square image(s) of pixels")
        channels = [channels] if isinstance(channels, int) else list(channels)
        self.shape = (in_channels, side, side)
        layers, width = [], in_channels
        for c in channels:
            if side < 2:
                raise ValueError(f"{len(channels)} pooling layers halve a {self.shape[1]}-pixel side below 1")
            layers += [nn.Conv2d(width, c, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            width, side = c, side // 2
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(width * side * side, D_out)

    def forward(self, x):
        x = x.reshape(x.shape[0], *self.shape)
        return self.head(self.features(x).flatten(1))


class GRUClassifier(nn.Module):
    """A recurrent classifier for rows of ``D_in`` features read as a sequence of ``steps``
    vectors (an 8x8 digit: 8 rows of 8 pixels) -> ``nn.GRU`` (``H`` hidden units,
    ``layers`` layers) -> a linear layer of ``D_out`` logits from the last hidden state."""

    def __init__(self, D_in, D_out, H=64, steps=8, layers=1):
        super().__init__()
        if D_in % steps:
            raise ValueError(f"D_in={D_in} does not split into {steps} steps")
        self.steps = steps
        self.gru = nn.GRU(D_in // steps, H, num_layers=layers, batch_first=True)
        self.head = nn.Linear(H, D_out)

    def forward(self, x):
        out, _ = self.gru(x.reshape(x.shape[0], self.steps, -1))
        return self.head(out[:, -1])
