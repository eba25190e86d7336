"""The seed's two-layer net, three ways to get its gradient: the tape with ``clamp``, the
tape with a custom ReLU ``Function``, and the gradient written out by hand."""
import tinytape as tt
from tinytape import nn
from tinytape.autograd import Function

ACTIVATIONS = ("clamp", "function", "manual")


class MyReLU(Function):
    """The seed's custom ReLU: saves its input, zeroes the gradient where it was negative."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


class TwoLayerNet(nn.Module):
    """y_pred = relu(x @ w1) @ w2, the weights laid out as the seed draws them:
    w1 (D_in, H) and w2 (H, D_out), standard normal from ``generator``."""

    def __init__(self, D_in, H, D_out, activation="clamp", generator=None):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
        self.activation = activation
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
            grad_h[h < 0] = 0
            grad_w1 = x.t().mm(grad_h)
        for w, g in ((self.w1, grad_w1), (self.w2, grad_w2)):
            w.grad = g if w.grad is None else w.grad + g
        return loss
