"""Recurrent layers as PyTorch's: ``RNN`` (tanh or relu), ``LSTM``, ``GRU`` and their
single-step cells.  Parameter names, shapes, gate order (LSTM i, f, g, o; GRU r, z, n
with r applied to ``W_hn h + b_hn``) and initialisation (uniform on +-1/sqrt(hidden_size))
are PyTorch's, so a PyTorch model's ``state_dict`` loads and gives its outputs.

Every step is composed from recorded tensor ops (matmul, add, sigmoid, tanh, chunk,
stack), so gradients, the CUDA path and ``tinytape.compile`` come from those ops.  The
input projections of a whole sequence are one matrix product; the loop is over time."""
import math
import numbers
import warnings

from .. import _dtype
from .._creation import empty, zeros
from .._tensor import Tensor
from ..ops.nn_ops import dropout as _dropout
from ..ops import shape as _shape
from ..ops.shape import cat, stack
from . import rnn_layer as _rnn_layer
from . import init
from .module import Module
from .packing import PackedSequence, packed_forward
from .parameter import Parameter

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _affine(x, weight, bias):
    """``x @ weight.T (+ bias)``."""
    out = x.matmul(weight.t())
    return out if bias is None else out + bias


def _rnn_step(activation):
    def step(gi, h, w_hh, b_hh):
        out = gi + _affine(h, w_hh, b_hh)
        return out.tanh() if activation == "tanh" else out.relu()
    return step


def _lstm_step(gi, state, w_hh, b_hh, w_hr=None):
    h, c = state
    i, f, g, o = (gi + _affine(h, w_hh, b_hh)).chunk(4, -1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    h = o.sigmoid() * c.tanh()
    if w_hr is not None:
        h = h.matmul(w_hr.t())
    return h, c


def _gru_step(gi, h, w_hh, b_hh):
    i_r, i_z, i_n = gi.chunk(3, -1)
    h_r, h_z, h_n = _affine(h, w_hh, b_hh).chunk(3, -1)
    r = (i_r + h_r).sigmoid()
    z = (i_z + h_z).sigmoid()
    n = (i_n + r * h_n).tanh()
    return n + z * (h - n)


def _check_float_input(input, weight, op):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor as input, got {type(input).__name__}")
    if input.dtype != weight.dtype:
        raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight.dtype}). "
                         f"Convert input: input.to({weight.dtype}), or convert model: model.to({input.dtype})")


class RNNBase(Module):
    """What ``RNN``, ``LSTM`` and ``GRU`` share: the parameters of every layer and
    direction, the checks on input and hidden state, and the loop over layers."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             "element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}", stacklevel=3)
        for name, value, kind in (("bias", bias, bool), ("batch_first", batch_first, bool),
                                  ("input_size", input_size, int), ("hidden_size", hidden_size, int)):
            if not isinstance(value, kind):
                raise TypeError(f"{name} should be of type {kind.__name__}, got: {type(value).__name__}")
            if kind is int and value <= 0:
                raise ValueError(f"{name} must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        dtype = _dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
        directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names, self._all_weights = [], []
        for layer in range(num_layers):
            for direction in range(directions):
                layer_input = input_size if layer == 0 else real_hidden * directions
                shapes = [("weight_ih_l{}{}", (gate_size, layer_input)), ("weight_hh_l{}{}", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih_l{}{}", (gate_size,)), ("bias_hh_l{}{}", (gate_size,))]
                if proj_size > 0:
                    shapes += [("weight_hr_l{}{}", (proj_size, hidden_size))]
                names = []
                for pattern, shape in shapes:
                    name = pattern.format(layer, "_reverse" if direction == 1 else "")
                    setattr(self, name, Parameter(empty(*shape, dtype=dtype, device=device)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    @property
    def _flat_weights(self):
        return [getattr(self, name, None) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self):
        """PyTorch's cuDNN layout call: nothing to do here."""

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    # ------------------------------------------------------------------ checks
    def _expected_hidden_size(self, input, last):
        batch = input.shape[0] if self.batch_first else input.shape[1]
        return (self.num_layers * (2 if self.bidirectional else 1), batch, last)

    def _check_input(self, input):
        _check_float_input(input, self._flat_weights[0], type(self).__name__)
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {input.shape[-1]}")

    @staticmethod
    def _check_hidden(hx, expected, msg="Expected hidden size {}, got {}"):
        if tuple(hx.shape) != expected:
            raise RuntimeError(msg.format(expected, list(hx.shape)))

    def _prepare(self, input, label):
        """(the input with a batch dimension, whether it had one)."""
        if not isinstance(input, Tensor):
            raise TypeError(f"{label}: expected a Tensor or a PackedSequence as input, got {type(input).__name__}")
        if input.dim() not in (2, 3):
            suffix = " tensor" if label == "RNN" else ""
            raise ValueError(f"{label}: Expected input to be 2D or 3D, got {input.dim()}D{suffix} instead")
        batched = input.dim() == 3
        if not batched:
            input = input.unsqueeze(0 if self.batch_first else 1)
        return input, batched

    # ------------------------------------------------------------------ the loop
    def _run(self, input, hidden, step):
        """``hidden``: per (layer, direction), the initial state (a tensor, or (h, c)).
        Returns the last layer's outputs (time-major) and each final state."""
        directions = 2 if self.bidirectional else 1
        x = input.transpose(0, 1) if self.batch_first else input
        finals = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                params = [getattr(self, name) for name in self._all_weights[layer * directions + direction]]
                w_ih, w_hh = params[0], params[1]
                b_ih, b_hh = (params[2], params[3]) if self.bias else (None, None)
                extra = params[-1:] if self.proj_size > 0 else []
                state = hidden[layer * directions + direction]
                if _rnn_layer.serves(self, x):  # PyTorch's oneDNN layer: one entry per layer and direction
                    out, state = _rnn_layer.run_layer(x, state, (w_ih, w_hh, b_ih, b_hh), direction, step, _affine)
                    outputs.append(out)
                    finals.append(state)
                    continue
                projected = _affine(x, w_ih, b_ih).unbind(0)  # every time step's input part at once
                if direction == 1:
                    projected = projected[::-1]
                steps = []
                for gi in projected:
                    state = step(gi, state, w_hh, b_hh, *extra)
                    steps.append(state[0] if isinstance(state, tuple) else state)
                if direction == 1:
                    steps = steps[::-1]
                outputs.append(_stack(steps))
                finals.append(state)
            x = _cat(outputs)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = _dropout(x, self.dropout, True)
        # PyTorch transposes a batch_first RNN/GRU output in place (TransposeBackward1), an LSTM's not
        if self.batch_first:
            x = _shape.transpose(x, 0, 1) if self.mode == "LSTM" else _shape.TransposeInPlace.apply(x, 0, 1)
        return x, finals


def _stack(tensors):
    return stack(tensors, 0)


def _cat(tensors):
    return tensors[0] if len(tensors) == 1 else cat(tensors, -1)


class RNN(RNNBase):
    """An Elman RNN: ``h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh)`` (or relu)."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__("RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU", *args, **kwargs)

    def __setattr__(self, name, value):
        if name == "nonlinearity" and "_parameters" not in self.__dict__:
            object.__setattr__(self, name, value)  # set before Module.__init__, as PyTorch does
        else:
            super().__setattr__(name, value)

    def forward(self, input, hx=None):
        return _single_state_forward(self, input, hx, "RNN", _rnn_step(self.nonlinearity))


class GRU(RNNBase):
    """A gated recurrent unit: r, z, n gates, ``h' = (1 - z) * n + z * h``."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input, hx=None):
        return _single_state_forward(self, input, hx, "GRU", _gru_step)


def _single_state_forward(module, input, hx, label, step):
    if isinstance(input, PackedSequence):
        return packed_forward(module, input, hx, step, lstm=False)
    input, batched = module._prepare(input, label)
    if hx is not None:
        if batched and hx.dim() != 3:
            raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D tensor")
        if not batched and hx.dim() != 2:
            raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got {hx.dim()}-D tensor")
        if not batched:
            hx = hx.unsqueeze(1)
    module._check_input(input)
    expected = module._expected_hidden_size(input, module.hidden_size)
    if hx is None:
        hx = zeros(*expected, dtype=input.dtype, device=input.device)
    module._check_hidden(hx, expected)
    output, finals = module._run(input, hx.unbind(0), step)
    h_n = _stack(finals)
    if not batched:
        return output.squeeze(0 if module.batch_first else 1), h_n.squeeze(1)
    return output, h_n


class LSTM(RNNBase):
    """Long short-term memory: i, f, g, o gates, ``c' = f c + i g``, ``h' = o tanh(c')``,
    optionally projected to ``proj_size`` by ``weight_hr``.  Returns ``output, (h_n, c_n)``."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            return packed_forward(self, input, hx, _lstm_step, lstm=True)
        input, batched = self._prepare(input, "LSTM")
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        if hx is not None:
            h0, c0 = hx[0], hx[1]  # (indexed, as PyTorch: a lone tensor fails as its dim 0 runs out)
            if batched and (h0.dim() != 3 or c0.dim() != 3):
                raise RuntimeError("For batched 3-D input, hx and cx should also be 3-D but got "
                                   f"({h0.dim()}-D, {c0.dim()}-D) tensors")
            if not batched:
                if h0.dim() != 2 or c0.dim() != 2:
                    raise RuntimeError("For unbatched 2-D input, hx and cx should also be 2-D but got "
                                       f"({h0.dim()}-D, {c0.dim()}-D) tensors")
                h0, c0 = h0.unsqueeze(1), c0.unsqueeze(1)
        self._check_input(input)
        expected_h = self._expected_hidden_size(input, real_hidden)
        expected_c = self._expected_hidden_size(input, self.hidden_size)
        if hx is None:
            h0 = zeros(*expected_h, dtype=input.dtype, device=input.device)
            c0 = zeros(*expected_c, dtype=input.dtype, device=input.device)
        self._check_hidden(h0, expected_h, "Expected hidden[0] size {}, got {}")
        self._check_hidden(c0, expected_c, "Expected hidden[1] size {}, got {}")
        output, finals = self._run(input, list(zip(h0.unbind(0), c0.unbind(0))), _lstm_step)
        h_n, c_n = _stack([h for h, _ in finals]), _stack([c for _, c in finals])
        if not batched:
            return output.squeeze(0 if self.batch_first else 1), (h_n.squeeze(1), c_n.squeeze(1))
        return output, (h_n, c_n)


# ---------------------------------------------------------------------- cells

class RNNCellBase(Module):
    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        dtype = _dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
        self.weight_ih = Parameter(empty(num_chunks * hidden_size, input_size, dtype=dtype, device=device))
        self.weight_hh = Parameter(empty(num_chunks * hidden_size, hidden_size, dtype=dtype, device=device))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, dtype=dtype, device=device))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _prepare(self, input, states, label, what="hidden"):
        _check_float_input(input, self.weight_ih, label)
        if input.dim() not in (1, 2):
            raise ValueError(f"{label}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        for idx, state in enumerate(states):
            if state is not None and state.dim() not in (1, 2):
                name = f"hx[{idx}]" if what == "hx" else what
                raise ValueError(f"{label}: Expected {name} to be 1D or 2D, got {state.dim()}D instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"{label}: input has inconsistent input_size: got {input.shape[1]} "
                               f"expected {self.input_size}")
        prepared = []
        for state in states:
            if state is None:
                state = zeros(input.shape[0], self.hidden_size, dtype=input.dtype, device=input.device)
            elif not batched:
                state = state.unsqueeze(0)
            if tuple(state.shape) != (input.shape[0], self.hidden_size):
                raise RuntimeError(f"{label}: hidden state of shape {list(state.shape)} does not match input "
                                   f"batch {input.shape[0]} and hidden_size {self.hidden_size}")
            prepared.append(state)
        return input, prepared, batched


class RNNCell(RNNCellBase):
    """One step of ``RNN``: ``h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`` (or relu)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        input, (hx,), batched = self._prepare(input, (hx,), "RNNCell")
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        h = _rnn_step(self.nonlinearity)(_affine(input, self.weight_ih, self.bias_ih), hx, self.weight_hh,
                                         self.bias_hh)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One step of ``LSTM``: returns ``(h', c')``."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        states = (None, None) if hx is None else tuple(hx)
        input, (h, c), batched = self._prepare(input, states, "LSTMCell", what="hx")
        h, c = _lstm_step(_affine(input, self.weight_ih, self.bias_ih), (h, c), self.weight_hh, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One step of ``GRU``."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        input, (hx,), batched = self._prepare(input, (hx,), "GRUCell")
        h = _gru_step(_affine(input, self.weight_ih, self.bias_ih), hx, self.weight_hh, self.bias_hh)
        return h if batched else h.squeeze(0)
