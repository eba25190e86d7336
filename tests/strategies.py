"""Hypothesis strategies: shapes, broadcast-compatible pairs, and (possibly transposed) arrays."""
import numpy as np
from hypothesis import strategies as st

import tinytape as tt

dims = st.integers(1, 4)
shapes = st.lists(dims, min_size=0, max_size=3).map(tuple)
nonempty_shapes = st.lists(dims, min_size=1, max_size=3).map(tuple)


@st.composite
def broadcast_pair(draw):
    """Two shapes numpy broadcasts together: dims dropped from the front or set to 1."""
    out = draw(nonempty_shapes)
    def shrink(shape):
        lead = draw(st.integers(0, len(shape)))
        return tuple(1 if draw(st.booleans()) else s for s in shape[lead:])
    return shrink(out), shrink(out)


@st.composite
def arrays(draw, shape, low=-2.0, high=2.0, away_from=None):
    """float64 values in [low, high], kept 0.1 away from ``away_from`` (kinks, poles)."""
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    a = rng.uniform(low, high, size=shape)
    if away_from is not None:
        near = np.abs(a - away_from) < 0.1
        a[near] = away_from + 0.1 + rng.uniform(0, 0.5, size=near.sum())
    return a


def leaf(a, transposed=False):
    """A float64 leaf requiring grad; ``transposed`` gives a non-contiguous view with
    the same values (the leaf is stored transposed and viewed back)."""
    if transposed and a.ndim >= 2:
        t = tt.tensor(np.ascontiguousarray(a.T), dtype=tt.float64, requires_grad=True)
        return t, t.T
    t = tt.tensor(a, dtype=tt.float64, requires_grad=True)
    return t, t
