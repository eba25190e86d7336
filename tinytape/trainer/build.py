"""Everything a run needs, built and checked before its output folder exists: the data,
the model, the optimizer and the checkpoint to resume from.  A file that is missing,
truncated, of the wrong kind or holding NaN is a one-line ConfigError naming the key."""
import os
import zipfile
from dataclasses import dataclass, field

import numpy as np

import tinytape as tt

from . import checkpoint
from .config import ConfigError
from .model import TwoLayerNet

DTYPES = {"float32": tt.float32, "float64": tt.float64}


def _generator(seed, stream):
    # distinct streams for data and weights even when their seeds are equal
    return tt.Generator().manual_seed([int(seed), stream])


def _human(nbytes):
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if nbytes < 1000 or unit == "PB":
            return f"{nbytes:.3g} {unit}"
        nbytes /= 1000


def _memory_bytes():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(key, nbytes, what):
    """Refuse sizes the machine can't hold, saying how much they need."""
    available = _memory_bytes()
    if available is not None and nbytes > available:
        raise ConfigError(f"{key}: {what} need {_human(nbytes)}, more than this machine's "
                          f"{_human(available)} of memory")


def read_npz(key, path, names):
    """The named arrays of an .npz file, real numbers only, all finite."""
    if not os.path.isfile(str(path)):
        raise ConfigError(f"{key}: no such file: {path}")
    try:
        archive = np.load(str(path), allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise ConfigError(f"{key}: {path} is not a readable .npz file ({str(e).splitlines()[0] if str(e) else 'empty'})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ConfigError(f"{key}: {path} holds a single array; it must be an .npz with arrays {', '.join(names)}")
    arrays = {}
    with archive:
        for name in names:
            if name not in archive.files:
                raise ConfigError(f"{key}: {path} has no array {name!r} (it has {', '.join(archive.files) or 'none'})")
            try:
                a = archive[name]
            except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
                raise ConfigError(f"{key}: {path}: array {name!r} is unreadable ({e})") from None
            if a.dtype.kind not in "biuf":
                raise ConfigError(f"{key}: {path}: array {name!r} has dtype {a.dtype}; it must hold real numbers")
            if a.dtype.kind == "f" and not np.isfinite(a).all():
                raise ConfigError(f"{key}: {path}: array {name!r} holds NaN or infinite values")
            arrays[name] = a
    return arrays


def load_data(cfg, dtype):
    d = cfg.data
    if d.name == "random":
        check_memory("data.N", 8 * d.N * (d.D_in + d.D_out), f"the data (N={d.N}, D_in={d.D_in}, D_out={d.D_out})")
        gen = _generator(d.seed, 0)
        x = tt.randn(d.N, d.D_in, generator=gen)
        y = tt.randn(d.N, d.D_out, generator=gen)
        return x.to(dtype), y.to(dtype)
    if d.name != "npz":
        raise ConfigError(f"data.name must be random or npz, got {d.name!r}")
    arrays = read_npz("data.path", d.path, ("x", "y"))
    x, y = arrays["x"], arrays["y"]
    if x.ndim != 2 or y.ndim != 2 or x.shape[0] != y.shape[0] or 0 in x.shape or 0 in y.shape:
        raise ConfigError(f"data.path: x must be (N, D_in) and y (N, D_out) with the same N and every size > 0; "
                          f"got x {x.shape} and y {y.shape}")
    return tt.tensor(x, dtype=dtype), tt.tensor(y, dtype=dtype)


def build_model(cfg, d_in, d_out, dtype):
    m = cfg.model
    if m.name != "mlp":
        raise ConfigError(f"model.name must be mlp, got {m.name!r}")
    if not isinstance(m.H, int) or isinstance(m.H, bool) or m.H <= 0:
        raise ConfigError(f"model.H must be a positive integer, got {m.H!r}")
    if m.activation not in ("clamp", "function", "manual"):
        raise ConfigError(f"model.activation must be one of clamp, function, manual; got {m.activation!r}")
    n = (d_in + d_out) * m.H
    # float64 draws, the weights, their gradients and the optimizer's buffers
    check_memory("model.H", n * (8 + 4 * dtype.itemsize), f"the weights ({n:,} numbers) with their "
                                                           "gradients and optimizer state")
    model = TwoLayerNet(d_in, m.H, d_out, m.activation, generator=_generator(cfg.seed, 1)).to(dtype)
    if m.init != "randn":
        arrays = read_npz("model.init", m.init, ("w1", "w2"))
        for name, shape in (("w1", (d_in, m.H)), ("w2", (m.H, d_out))):
            if arrays[name].shape != shape:
                raise ConfigError(f"model.init: {name} has shape {arrays[name].shape} but the model needs {shape} "
                                  f"(D_in={d_in}, model.H={m.H}, D_out={d_out})")
        model.load_state_dict({k: tt.tensor(v, dtype=dtype) for k, v in arrays.items()})
    return model


def build_optimizer(cfg, params):
    o = cfg.optim
    if o.name == "sgd":
        return tt.optim.SGD(params, lr=o.lr, momentum=o.get("momentum", 0.0))
    if o.name == "adam":
        return tt.optim.Adam(params, lr=o.lr, betas=tuple(o.get("betas", (0.9, 0.999))), eps=o.get("eps", 1e-8))
    raise ConfigError(f"optim.name must be sgd or adam, got {o.name!r}")


@dataclass
class Setup:
    x: object
    y: object
    model: object
    optimizer: object
    resume: dict = None        # the checked checkpoint, or None
    changed_hyper: list = field(default_factory=list)


def prepare(cfg):
    """Build and check everything; raises ConfigError (one line, naming the key) on the
    first problem.  Nothing is written."""
    if cfg.trainer.device == "cuda" and not tt.cuda.is_available():
        raise ConfigError("trainer.device=cuda: no CUDA device is available (numba finds no GPU; "
                          "NUMBA_ENABLE_CUDASIM=1 runs the simulator); use trainer.device=cpu")
    dtype, device = DTYPES[cfg.trainer.dtype], cfg.trainer.device
    try:
        x, y = load_data(cfg, dtype)
        model = build_model(cfg, x.shape[1], y.shape[1], dtype)
    except MemoryError as e:
        raise ConfigError(f"model: not enough memory ({str(e).splitlines()[0] if str(e) else 'MemoryError'})") from None
    x, y, model = x.to(device), y.to(device), model.to(device)
    optimizer = build_optimizer(cfg, model.parameters())
    setup = Setup(x, y, model, optimizer)
    if cfg.trainer.resume is not None:
        path = str(cfg.trainer.resume)
        state = checkpoint.load(path)
        if state["step"] > cfg.trainer.steps:
            raise ConfigError(f"trainer.resume: the checkpoint is at step {state['step']}, past "
                              f"trainer.steps={cfg.trainer.steps}")
        setup.changed_hyper = checkpoint.restore(state, path, model, optimizer)
        setup.resume = state
    return setup
