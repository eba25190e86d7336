"""Data for the trainer.  A data ``_target_`` returns ``(x, y)`` — tensors or numpy arrays
with the same first dimension; ``Batches`` cuts them into the steps' minibatches.

The harness keys of the ``data`` config (not passed to the target): ``batch_size`` (null:
the whole set each step, as in the seed), ``shuffle`` (a seeded permutation each epoch)
and ``val_fraction`` (rows held out; their loss is logged beside the training loss)."""
import math
import os
import zipfile

import numpy as np

import tinytape as tt

HARNESS_KEYS = ("batch_size", "shuffle", "val_fraction")


def generator(seed, stream):
    """A generator of its own for each use (data, weights, shuffling, the split), so they
    stay distinct even when their seeds are equal."""
    return tt.Generator().manual_seed([int(seed), *stream])


def random_data(N, D_in, D_out, seed=0):
    """Standard-normal inputs (N, D_in) and targets (N, D_out), as the seed draws them."""
    gen = generator(seed, [0])
    return tt.randn(N, D_in, generator=gen), tt.randn(N, D_out, generator=gen)


class DataError(ValueError):
    """The data or a file can't be used; the message says why (the harness adds the key)."""


def read_npz(path, names):
    """The named arrays of an .npz file, real numbers only, all finite."""
    if not os.path.isfile(str(path)):
        raise DataError(f"no such file: {path}")
    try:
        archive = np.load(str(path), allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise DataError(f"{path} is not a readable .npz file ({str(e).splitlines()[0] if str(e) else 'empty'})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataError(f"{path} holds a single array; it must be an .npz with arrays {', '.join(names or ['...'])}")
    arrays = {}
    with archive:
        for name in names or archive.files:
            if name not in archive.files:
                raise DataError(f"{path} has no array {name!r} (it has {', '.join(archive.files) or 'none'})")
            try:
                a = archive[name]
            except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
                raise DataError(f"{path}: array {name!r} is unreadable ({e})") from None
            arrays[name] = check_array(a, f"{path}: array {name!r}")
    return arrays


def check_array(a, what):
    if a.dtype.kind not in "biuf":
        raise DataError(f"{what} has dtype {a.dtype}; it must hold real numbers")
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise DataError(f"{what} holds NaN or infinite values")
    return a


def npz_data(path):
    """Arrays ``x`` (N, D_in) and ``y`` (N, D_out) from an .npz file."""
    arrays = read_npz(path, ("x", "y"))
    x, y = arrays["x"], arrays["y"]
    if x.ndim != 2 or y.ndim != 2 or x.shape[0] != y.shape[0] or 0 in x.shape or 0 in y.shape:
        raise DataError(f"x must be (N, D_in) and y (N, D_out) with the same N and every size > 0; "
                        f"got x {x.shape} and y {y.shape}")
    return x, y


class Batches:
    """The training rows cut into minibatches: step ``s`` is batch ``s % per_epoch`` of
    epoch ``s // per_epoch`` — a function of the step alone, so a resumed run sees the
    batches the uninterrupted one would have."""

    def __init__(self, x, y, batch_size=None, shuffle=False, val_fraction=0.0, seed=0):
        n = x.shape[0]
        n_val = int(math.floor(n * val_fraction))
        if n_val:
            order = np.random.default_rng([int(seed), 3]).permutation(n)
            train_rows, val_rows = np.sort(order[n_val:]), np.sort(order[:n_val])
            self.val = (x[tt.tensor(val_rows)], y[tt.tensor(val_rows)])
            x, y = x[tt.tensor(train_rows)], y[tt.tensor(train_rows)]
        else:
            self.val = None
        self.x, self.y = x, y
        self.n = x.shape[0]
        self.batch_size = self.n if batch_size is None else min(int(batch_size), self.n)
        self.per_epoch = -(-self.n // self.batch_size)
        self.shuffle, self.seed = shuffle, seed
        self._epoch, self._order = None, None

    def __call__(self, step):
        if self.batch_size == self.n and not self.shuffle:
            return self.x, self.y  # the whole set, as the seed trains
        epoch, index = divmod(step, self.per_epoch)
        if epoch != self._epoch:
            self._epoch = epoch
            self._order = (np.random.default_rng([int(self.seed), 2, epoch]).permutation(self.n)
                           if self.shuffle else np.arange(self.n))
        rows = tt.tensor(self._order[index * self.batch_size:(index + 1) * self.batch_size], device=self.x.device)
        return self.x[rows], self.y[rows]
