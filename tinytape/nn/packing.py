"""Packed variable-length batches, as PyTorch's ``nn.utils.rnn``: ``PackedSequence``,
``pack_padded_sequence``, ``pad_packed_sequence``, ``pack_sequence``, ``unpack_sequence``,
``unpad_sequence``, and the recurrent layers' loop over a packed batch (``packed_run``):
at each time step only the sequences still running take a step, so each final hidden
state is the one after that sequence's own last element, as PyTorch's ``PackedLayer``."""
from collections import namedtuple

import numpy as np

from .. import _creation, _dtype
from .._tensor import Tensor
from ..ops.composite_entry import composite_op
from ..ops.shape import cat, stack


class PackedSequence(namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices",
                                                    "unsorted_indices"])):
    """``data``: the time steps' rows one after another (at step t the first
    ``batch_sizes[t]`` sequences, longest first); ``sorted_indices`` the batch order that
    sorted the sequences by length (``None``: already sorted), ``unsorted_indices`` its
    inverse."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            raise TypeError("PackedSequence: batch_sizes must be given (pack_padded_sequence builds them)")
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def _map(self, fn):
        data = fn(self.data)
        if data is self.data:
            return self
        moved = [None if i is None else i.to(data.device) for i in (self.sorted_indices, self.unsorted_indices)]
        return type(self)(data, self.batch_sizes, *moved)

    def to(self, *args, **kwargs):
        return self._map(lambda t: t.to(*args, **kwargs))

    def cpu(self):
        return self._map(lambda t: t.cpu())

    def cuda(self, *args, **kwargs):
        return self._map(lambda t: t.cuda(*args, **kwargs))

    def double(self):
        return self.to(dtype=_dtype.float64)

    def float(self):
        return self.to(dtype=_dtype.float32)

    @property
    def is_cuda(self):
        return self.data.device.type == "cuda"

    def is_pinned(self):
        return False


def invert_permutation(permutation):
    if permutation is None:
        return None
    order = permutation.cpu().numpy()
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    return _creation.tensor(inverse, device=permutation.device)


def _lengths_array(lengths):
    if isinstance(lengths, Tensor):
        return lengths.cpu().numpy().astype(np.int64).reshape(-1)
    return np.asarray(list(lengths), dtype=np.int64).reshape(-1)


def _batch_sizes(lengths):
    return np.array([(lengths > t).sum() for t in range(int(lengths.max()))], dtype=np.int64)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """The padded batch ``input`` ((T, B, *), or (B, T, *) with ``batch_first``) packed by
    ``lengths``; with ``enforce_sorted=False`` the batch is sorted by length first."""
    lengths = _lengths_array(lengths)
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
                               "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
                               "sidestep this requirement if you do not need ONNX exportability.")
        sorted_indices = None
    else:
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
        sorted_indices = _creation.tensor(order, device=input.device)
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    if lengths.size and lengths.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' that "
                           "is <= 0")
    steps = input.shape[1 if batch_first else 0]
    if lengths.size and lengths.max() > steps:
        raise RuntimeError(f"Expected the lengths to be at most the sequence length {steps}, but got a length of "
                           f"{int(lengths.max())}")
    batch_sizes = _batch_sizes(lengths)

    def compute(x):
        if batch_first:
            x = x.transpose(0, 1)
        return cat([x[t, :int(b)] for t, b in enumerate(batch_sizes)], 0)
    data = composite_op("PackPaddedSequenceBackward0", compute, input)
    return PackedSequence(data, _creation.tensor(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The inverse of ``pack_padded_sequence``: (padded batch, lengths), in the batch's
    original order."""
    batch_sizes = sequence.batch_sizes.cpu().numpy().astype(np.int64)
    max_seq_length = batch_sizes.size
    if total_length is not None:
        if total_length < max_seq_length:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, but "
                             f"got total_length={total_length} and max sequence length being {max_seq_length}")
        max_seq_length = total_length
    data = sequence.data
    batch = int(batch_sizes[0])
    out = _creation.full((max_seq_length, batch) + tuple(data.shape[1:]), padding_value, dtype=data.dtype,
                         device=data.device)
    offset = 0
    for t, b in enumerate(batch_sizes):
        out[t, :int(b)] = data[offset:offset + int(b)]
        offset += int(b)
    lengths = np.array([(batch_sizes > i).sum() for i in range(batch)], dtype=np.int64)
    if batch_first:
        out = out.transpose(0, 1)
    lengths = _creation.tensor(lengths)
    if sequence.unsorted_indices is not None:
        out = out.index_select(0 if batch_first else 1, sequence.unsorted_indices)
        lengths = lengths[sequence.unsorted_indices.cpu()]
    return out, lengths


def pack_sequence(sequences, enforce_sorted=True):
    """A list of (L_i, *) tensors packed (``pad_sequence`` then ``pack_padded_sequence``)."""
    from .rnn_utils import pad_sequence
    lengths = _creation.tensor([v.shape[0] for v in sequences])
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [seq[:int(n)] for seq, n in zip(padded_sequences, _lengths_array(lengths))]


def unpack_sequence(packed_sequences):
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


# ---------------------------------------------------------------------- the recurrent loop

def _slice(state, start, stop):
    return tuple(s[start:stop] for s in state) if isinstance(state, tuple) else state[start:stop]


def _concat(states):
    if isinstance(states[0], tuple):
        return tuple(cat([s[i] for s in states], 0) for i in range(len(states[0])))
    return cat(states, 0)


def _forward_direction(projected, batch_sizes, hidden, step, weights):
    """PyTorch's ``PackedLayer``: the state shrinks as sequences end; each ended part is
    kept, and the final state is the parts put back together."""
    outputs, finished, offset, last = [], [], 0, int(batch_sizes[0])
    for b in batch_sizes:
        b = int(b)
        if last > b:
            finished.append(_slice(hidden, b, last))
            hidden = _slice(hidden, 0, b)
        last = b
        hidden = step(projected[offset:offset + b], hidden, *weights)
        offset += b
        outputs.append(hidden[0] if isinstance(hidden, tuple) else hidden)
    finished.append(hidden)
    return cat(outputs, 0), _concat(finished[::-1])


def _reverse_direction(projected, batch_sizes, initial, step, weights):
    """PyTorch's ``ReversedPackedLayer``: from the last step back, sequences join (from
    their initial states) as the batch grows."""
    outputs, offset = [], projected.shape[0]
    last = int(batch_sizes[-1])
    hidden = _slice(initial, 0, last)
    for b in batch_sizes[::-1]:
        b = int(b)
        if b > last:
            hidden = _concat([hidden, _slice(initial, last, b)])
        last = b
        hidden = step(projected[offset - b:offset], hidden, *weights)
        offset -= b
        outputs.append(hidden[0] if isinstance(hidden, tuple) else hidden)
    return cat(outputs[::-1], 0), hidden


def packed_run(module, packed, hidden, step):
    """``module``'s layers over the packed batch; ``hidden`` per (layer, direction) in the
    packed (sorted) batch order.  Returns (the last layer's packed output data, finals)."""
    from ..ops.nn_ops import dropout
    directions = 2 if module.bidirectional else 1
    batch_sizes = packed.batch_sizes.cpu().numpy().astype(np.int64)
    x, finals = packed.data, []
    for layer in range(module.num_layers):
        outputs = []
        for direction in range(directions):
            index = layer * directions + direction
            params = [getattr(module, name) for name in module._all_weights[index]]
            w_ih, w_hh = params[0], params[1]
            b_ih, b_hh = (params[2], params[3]) if module.bias else (None, None)
            weights = [w_hh, b_hh] + (params[-1:] if module.proj_size > 0 else [])
            projected = x.matmul(w_ih.t()) if b_ih is None else x.matmul(w_ih.t()) + b_ih
            run = _reverse_direction if direction == 1 else _forward_direction
            out, final = run(projected, batch_sizes, hidden[index], step, weights)
            outputs.append(out)
            finals.append(final)
        x = outputs[0] if len(outputs) == 1 else cat(outputs, -1)
        if module.dropout > 0 and module.training and layer < module.num_layers - 1:
            x = dropout(x, module.dropout, True)
    return x, finals


def packed_forward(module, packed, hx, step, lstm):
    """``RNN``/``GRU``/``LSTM`` ``forward`` on a ``PackedSequence``: the initial state taken
    into the packed batch order, the final one returned in the caller's."""
    batch = int(packed.batch_sizes[0])
    real_hidden = module.proj_size if lstm and module.proj_size > 0 else module.hidden_size
    module._check_input(packed.data)
    expected = (module.num_layers * (2 if module.bidirectional else 1), batch, real_hidden)
    data = packed.data
    if hx is None:
        hx = _creation.zeros(*expected, dtype=data.dtype, device=data.device)
        if lstm:
            hx = (hx, _creation.zeros(*expected[:2], module.hidden_size, dtype=data.dtype, device=data.device))
    elif packed.sorted_indices is not None:
        hx = tuple(h.index_select(1, packed.sorted_indices) for h in hx) if lstm else \
            hx.index_select(1, packed.sorted_indices)
    if lstm:
        module._check_hidden(hx[0], expected, "Expected hidden[0] size {}, got {}")
        module._check_hidden(hx[1], expected[:2] + (module.hidden_size,), "Expected hidden[1] size {}, got {}")
        hidden = list(zip(hx[0].unbind(0), hx[1].unbind(0)))
    else:
        module._check_hidden(hx, expected)
        hidden = hx.unbind(0)
    out, finals = packed_run(module, packed, hidden, step)
    output = PackedSequence(out, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices)
    if lstm:
        h_n = (stack([h for h, _ in finals], 0), stack([c for _, c in finals], 0))
        if packed.unsorted_indices is not None:
            h_n = tuple(h.index_select(1, packed.unsorted_indices) for h in h_n)
        return output, h_n
    h_n = stack(finals, 0)
    if packed.unsorted_indices is not None:
        h_n = h_n.index_select(1, packed.unsorted_indices)
    return output, h_n
