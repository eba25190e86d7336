"""``nn.utils.rnn``: ``pad_sequence`` (variable-length sequences stacked into one padded
tensor) and the packed sequences of ``packing.py``."""
from .. import _creation
from .packing import (PackedSequence, invert_permutation, pack_padded_sequence, pack_sequence,  # noqa: F401
                      pad_packed_sequence, unpack_sequence, unpad_sequence)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Sequences of shape (L_i, *) as one (max L, B, *) tensor ((B, max L, *) with
    ``batch_first``), filled with ``padding_value`` after each (before, ``padding_side='left'``);
    written slice by slice as PyTorch's, so the result's grad_fn is CopySlices."""
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    first = sequences[0]
    longest = max(s.shape[0] for s in sequences)
    trailing = tuple(first.shape[1:])
    shape = (len(sequences), longest) + trailing if batch_first else (longest, len(sequences)) + trailing
    out = _creation.full(shape, padding_value, dtype=first.dtype, device=first.device)
    for i, seq in enumerate(sequences):
        n = seq.shape[0]
        rows = slice(0, n) if padding_side == "right" else slice(longest - n, longest)
        if batch_first:
            out[i, rows] = seq
        else:
            out[rows, i] = seq
    return out


__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pack_sequence", "pad_packed_sequence",
           "pad_sequence", "unpack_sequence", "unpad_sequence"]
