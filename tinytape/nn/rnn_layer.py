"""One LSTM layer (one direction) as one tape entry with three outputs, ``MkldnnRnnLayerBackward0``,
as PyTorch records a float32 LSTM on the CPU (its oneDNN kernel runs a layer at a time): the
output sequence, the final hidden state and the final cell state.  Forward runs the layer's
ops on leaves of its own, recorded there; backward differentiates that inner graph (or, for
``create_graph=True``, the layer run again on the inputs themselves)."""
from .._grad_mode import _state, enable_grad
from ..autograd.function import Function
from ..ops import elementwise as ew
from ..ops.shape import stack


class MkldnnRnnLayer(Function):
    grad_fn_name = "MkldnnRnnLayerBackward0"

    @staticmethod
    def forward(ctx, compute, recording, *tensors):
        ctx.compute = compute
        ctx.save_for_backward(*tensors)
        if not recording:
            return tuple(compute(*tensors))
        with enable_grad():  # the layer's own graph, on leaves of its own: its backward below
            leaves = [t.detach().requires_grad_(t.requires_grad) for t in tensors]
            outs = compute(*leaves)
        ctx.inner = (leaves, outs)
        return tuple(o.detach() for o in outs)

    @staticmethod
    def backward(ctx, *grads):
        from ..autograd import grad as _grad
        inputs = ctx.saved_tensors
        wanted = [i for i, x in enumerate(inputs) if ctx.needs_input_grad[i + 2]]
        create_graph = _state.enabled
        if create_graph:  # differentiable: the layer again, recorded on the inputs themselves
            with enable_grad():
                leaves, outs = list(inputs), ctx.compute(*inputs)
        else:
            leaves, outs = ctx.inner
        used = [(o, g) for o, g in zip(outs, grads) if g is not None and o.requires_grad]
        with enable_grad():
            found = _grad([o for o, _ in used], [leaves[i] for i in wanted], [g for _, g in used],
                          retain_graph=True, allow_unused=True, create_graph=create_graph) if used else \
                [None] * len(wanted)
        result = [None] * (len(inputs) + 2)
        for i, gi in zip(wanted, found):
            result[i + 2] = gi if gi is not None else ew.mul(inputs[i].detach(), 0)
        return tuple(result)


def serves(module, x):
    """Whether PyTorch runs this LSTM through oneDNN (float32 on the CPU, no projection)."""
    return module.mode == "LSTM" and module.proj_size == 0 and x.dtype.name == "float32" and x.device.type == "cpu"


def run_layer(x, state, params, direction, step, affine):
    """(output sequence, (h, c)) of one layer and direction, one ``MkldnnRnnLayerBackward0`` entry."""
    w_ih, w_hh, b_ih, b_hh = params
    tensors = [x, state[0], state[1], w_ih, w_hh] + [b for b in (b_ih, b_hh) if b is not None]

    def compute(x, h0, c0, w_ih, w_hh, *biases):
        b_ih, b_hh = biases if biases else (None, None)
        gates = affine(x, w_ih, b_ih).unbind(0)  # every time step's input part at once
        if direction == 1:
            gates = gates[::-1]
        hidden, steps = (h0, c0), []
        for gi in gates:
            hidden = step(gi, hidden, w_hh, b_hh)
            steps.append(hidden[0])
        if direction == 1:
            steps = steps[::-1]
        return stack(steps, 0), hidden[0], hidden[1]

    recording = _state.enabled and any(t.requires_grad for t in tensors)
    out, h, c = MkldnnRnnLayer.apply(compute, recording, *tensors)
    return out, (h, c)

