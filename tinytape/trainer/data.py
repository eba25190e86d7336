"""Data for the trainer.  A data ``_target_`` returns the training data, or a
``(train, validation)`` tuple of two of them; each is ``(x, y)`` — tensors or numpy arrays
with the same first dimension — or a Dataset (``len(ds)`` and ``ds[i] -> (x_i, y_i)``, as
``tinytape.utils.data.TensorDataset``).  ``y`` of integers with shape (N,) are class labels
(kept as int64 for the loss); any other ``y`` is a regression target of the run's dtype.

The harness keys of the ``data`` config (not passed to the target): ``batch_size`` (null:
the whole set each step, as in the seed), ``shuffle`` (a seeded permutation each epoch),
``drop_last`` (leave out an epoch's smaller last batch) and ``val_fraction`` (rows held out; their loss and metrics are logged beside the
training loss).  ``Batches`` cuts the training rows into the steps' minibatches."""
import math
import os
import zipfile

import numpy as np

import tinytape as tt
from tinytape.utils.data import DataLoader, TensorDataset

HARNESS_KEYS = ("batch_size", "shuffle", "val_fraction", "drop_last")


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


def is_labels(y):
    """Class labels: integers (or booleans), one per row."""
    return y.ndim == 1 and y.dtype.kind in "biu"


def npz_data(path):
    """Arrays ``x`` (N, D_in) and ``y`` from an .npz file: ``y`` (N, D_out) for regression,
    or integer class labels (N,)."""
    arrays = read_npz(path, ("x", "y"))
    x, y = arrays["x"], arrays["y"]
    labels = is_labels(y)
    if x.ndim != 2 or (y.ndim != 2 and not labels) or x.shape[0] != y.shape[0] or 0 in x.shape or 0 in y.shape:
        raise DataError(f"x must be (N, D_in) and y (N, D_out), or integer class labels (N,), with the same N and "
                        f"every size > 0; got x {x.shape} {x.dtype} and y {y.shape} {y.dtype}")
    return x, y


def digits(scale=True):
    """scikit-learn's 8x8 handwritten digits: x (1797, 64) pixel intensities (divided by 16
    with ``scale``, to [0, 1]) and y (1797,) the digit, 0-9.  Needs scikit-learn
    (``pip install -e '.[data]'``)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise DataError("the digits data set needs scikit-learn: pip install -e '.[data]' "
                        "(or pip install scikit-learn)") from None
    bunch = load_digits()
    x = bunch.data.astype(np.float32)
    return (x / 16.0 if scale else x), bunch.target.astype(np.int64)


# --- what a target returned, as arrays ---------------------------------------------------

def _is_array_like(value):
    return isinstance(value, (tt.Tensor, np.ndarray, list)) or np.isscalar(value)


def is_dataset(value):
    """A Dataset-like object: ``len()`` and ``[i]``, and not itself an array or a tuple."""
    return (hasattr(value, "__len__") and hasattr(value, "__getitem__")
            and not isinstance(value, (tt.Tensor, np.ndarray, list, tuple, dict, str, bytes)))


def to_numpy(value):
    if isinstance(value, tt.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def dataset_arrays(ds):
    """A Dataset's rows as two arrays: a TensorDataset's tensors as they are; any other
    Dataset item by item, stacked."""
    tensors = getattr(ds, "tensors", None)
    if isinstance(tensors, (tuple, list)) and len(tensors) == 2:
        return to_numpy(tensors[0]), to_numpy(tensors[1])
    n = len(ds)
    if n == 0:
        raise DataError(f"the {type(ds).__name__} is empty")
    xs, ys = [], []
    for i in range(n):
        item = ds[i]
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise DataError(f"{type(ds).__name__}[{i}] must be an (x, y) pair, got {type(item).__name__}")
        xs.append(to_numpy(item[0]))
        ys.append(to_numpy(item[1]))
    try:
        return np.stack(xs), np.stack(ys)
    except ValueError as e:
        raise DataError(f"the rows of the {type(ds).__name__} differ in shape ({e})") from None


def _split_arrays(part, what):
    """(x, y) arrays of one part: a Dataset or an (x, y) pair."""
    if is_dataset(part):
        x, y = dataset_arrays(part)
    elif isinstance(part, (tuple, list)) and len(part) == 2 and all(_is_array_like(v) for v in part):
        x, y = (to_numpy(v) for v in part)
    else:
        raise DataError(f"the {what} must be (x, y) arrays or a Dataset, got {type(part).__name__}")
    for name, a in (("x", x), ("y", y)):
        check_array(a, f"the {what}'s {name}")
        if a.ndim == 0 or a.shape[0] == 0:
            raise DataError(f"the {what}'s {name} has shape {a.shape}; it needs at least one row")
    if x.shape[0] != y.shape[0]:
        raise DataError(f"the {what}'s x and y must have the same number of rows; got x {x.shape} and y {y.shape}")
    if y.dtype.kind == "b":
        y = y.astype(np.int64) if y.ndim == 1 else y
    return x, y


def unpack(built):
    """What a data target returned -> ((x, y), (x_val, y_val) or None), as numpy arrays."""
    if (isinstance(built, tuple) and len(built) == 2
            and all(is_dataset(p) or (isinstance(p, tuple) and len(p) == 2) for p in built)):
        return _split_arrays(built[0], "training data"), _split_arrays(built[1], "validation data")
    if is_dataset(built) or (isinstance(built, (tuple, list)) and len(built) == 2):
        return _split_arrays(built, "data"), None
    raise DataError(f"must return (x, y), a Dataset or a (train, validation) pair of them, got "
                    f"{type(built).__name__}")


class Batches:
    """The training rows cut into minibatches, read through a ``DataLoader``: step ``s`` is
    batch ``s % per_epoch`` of epoch ``s // per_epoch`` — a function of the step alone, so
    a resumed run sees the batches the uninterrupted one would have.  ``val``: the held-out (x, y), from the data
    target or ``val_fraction`` of the rows (``val_rows``, in the rows' order); ``classes``:
    the number of classes when ``y`` holds class labels, else None."""

    def __init__(self, x, y, batch_size=None, shuffle=False, val_fraction=0.0, seed=0, val=None, classes=None,
                 drop_last=False):
        n = x.shape[0]
        n_val = int(math.floor(n * val_fraction))
        self.all = (x, y)  # every row, before the split
        self.val_rows = None
        if n_val:
            order = np.random.default_rng([int(seed), 3]).permutation(n)
            train_rows, val_rows = np.sort(order[n_val:]), np.sort(order[:n_val])
            self.val = (x[tt.tensor(val_rows)], y[tt.tensor(val_rows)])
            x, y = x[tt.tensor(train_rows)], y[tt.tensor(train_rows)]
            self.val_rows = val_rows
        else:
            self.val = val
        self.x, self.y, self.classes = x, y, classes
        self.dataset = TensorDataset(x, y)
        self.n = x.shape[0]
        self.batch_size = self.n if batch_size is None else min(int(batch_size), self.n)
        # drop_last: an epoch's last batch, when smaller, is left out (one batch shape: one compiled program)
        self.drop_last = bool(drop_last)
        self.per_epoch = self.n // self.batch_size if self.drop_last else -(-self.n // self.batch_size)
        self.shuffle, self.seed = shuffle, seed
        self._epoch, self._order = None, None

    def order(self, epoch):
        """The rows of ``epoch`` in the order its batches take them."""
        if epoch != self._epoch:
            self._epoch = epoch
            self._order = (np.random.default_rng([int(self.seed), 2, epoch]).permutation(self.n)
                           if self.shuffle else np.arange(self.n))
        return self._order

    def loader(self, epoch, start=0):
        """A DataLoader over the batches of ``epoch`` from its batch ``start`` on: each
        batch is one read of the training TensorDataset at a tensor of row numbers."""
        order, size = self.order(epoch), self.batch_size
        end = self.per_epoch * size if self.drop_last else self.n
        chunks = [tt.tensor(order[i:i + size], device=self.x.device) for i in range(start * size, end, size)]
        return DataLoader(self.dataset, batch_size=None, sampler=chunks)

    def iterate(self, start, stop):
        """(step, x, y) for the steps ``start`` to ``stop - 1``."""
        step = start
        while step < stop:
            if self.batch_size == self.n and not self.shuffle:
                yield step, self.x, self.y  # the whole set, as the seed trains
                step += 1
                continue
            epoch, index = divmod(step, self.per_epoch)
            for x, y in self.loader(epoch, index):
                yield step, x, y
                step += 1
                if step >= stop:
                    return

    def __call__(self, step):
        """The batch of ``step``."""
        return next(self.iterate(step, step + 1))[1:]
