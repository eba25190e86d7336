"""The trainer behind ``train.py``: ``run(cfg, out_dir)`` trains the seed's two-layer net
as the Hydra config says and writes its outputs into ``out_dir``."""
import logging
import os
import sys
import time

import numpy as np
from omegaconf import OmegaConf
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

import tinytape as tt

from . import checkpoint, report
from .model import ACTIVATIONS, TwoLayerNet

log = logging.getLogger(__name__)

DTYPES = {"float32": tt.float32, "float64": tt.float64}


class ConfigError(ValueError):
    """A config value the trainer can't use; the message names the key."""


# ---------------------------------------------------------------- validation


def _positive_int(cfg, key, allow_zero=False):
    value = OmegaConf.select(cfg, key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(f"{key} must be a {'non-negative' if allow_zero else 'positive'} integer, got {value!r}")
    return value


def _positive_float(cfg, key):
    value = OmegaConf.select(cfg, key)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
        raise ConfigError(f"{key} must be a positive number, got {value!r}")
    return float(value)


def validate(cfg):
    """Check every value before anything runs or is written; raises ConfigError."""
    _positive_int(cfg, "trainer.steps")
    _positive_int(cfg, "trainer.log_every")
    _positive_int(cfg, "trainer.checkpoint_every", allow_zero=True)
    _positive_int(cfg, "model.H")
    if cfg.trainer.dtype not in DTYPES:
        raise ConfigError(f"trainer.dtype must be one of {sorted(DTYPES)}, got {cfg.trainer.dtype!r}")
    if cfg.trainer.device not in ("cpu", "cuda"):
        raise ConfigError(f"trainer.device must be cpu or cuda, got {cfg.trainer.device!r}")
    if cfg.trainer.device == "cuda" and not tt.cuda.is_available():
        raise ConfigError("trainer.device=cuda: no CUDA device is available (numba finds no GPU; "
                          "NUMBA_ENABLE_CUDASIM=1 runs the simulator); use trainer.device=cpu")
    if cfg.model.activation not in ACTIVATIONS:
        raise ConfigError(f"model.activation must be one of {list(ACTIVATIONS)}, got {cfg.model.activation!r}")
    if cfg.optim.name not in ("sgd", "adam"):
        raise ConfigError(f"optim.name must be sgd or adam, got {cfg.optim.name!r}")
    _positive_float(cfg, "optim.lr")
    if cfg.data.name == "random":
        for key in ("data.N", "data.D_in", "data.D_out"):
            _positive_int(cfg, key)
    elif cfg.data.name == "npz":
        if not os.path.isfile(str(cfg.data.path)):
            raise ConfigError(f"data.path: no such file: {cfg.data.path}")
    else:
        raise ConfigError(f"data.name must be random or npz, got {cfg.data.name!r}")
    if cfg.model.init != "randn" and not os.path.isfile(str(cfg.model.init)):
        raise ConfigError(f"model.init must be randn or an .npz file with w1 and w2; no such file: {cfg.model.init}")
    resume = cfg.trainer.resume
    if resume is not None and not os.path.isfile(str(resume)):
        raise ConfigError(f"trainer.resume: no such checkpoint: {resume}")


# ---------------------------------------------------------------- data and weights


def _generator(seed, stream):
    # distinct streams for data and weights even when their seeds are equal
    return tt.Generator().manual_seed([int(seed), stream])


def load_data(cfg, dtype):
    if cfg.data.name == "random":
        gen = _generator(cfg.data.seed, 0)
        x = tt.randn(cfg.data.N, cfg.data.D_in, generator=gen)
        y = tt.randn(cfg.data.N, cfg.data.D_out, generator=gen)
        return x.to(dtype), y.to(dtype)
    try:
        with np.load(cfg.data.path) as f:
            x, y = f["x"], f["y"]
    except (KeyError, ValueError, OSError) as e:
        raise ConfigError(f"data.path: {cfg.data.path} must be an .npz holding arrays x and y ({e})") from None
    if x.ndim != 2 or y.ndim != 2 or x.shape[0] != y.shape[0] or x.shape[0] == 0:
        raise ConfigError(f"data.path: x must be (N, D_in) and y (N, D_out) with the same N > 0; "
                          f"got x {x.shape} and y {y.shape}")
    return tt.tensor(x, dtype=dtype), tt.tensor(y, dtype=dtype)


def init_weights(cfg, d_in, d_out, dtype):
    H = cfg.model.H
    if cfg.model.init == "randn":
        gen = _generator(cfg.seed, 1)
        w1, w2 = tt.randn(d_in, H, generator=gen), tt.randn(H, d_out, generator=gen)
    else:
        try:
            with np.load(cfg.model.init) as f:
                w1, w2 = tt.tensor(f["w1"]), tt.tensor(f["w2"])
        except (KeyError, ValueError, OSError) as e:
            raise ConfigError(f"model.init: {cfg.model.init} must be an .npz holding w1 and w2 ({e})") from None
        for name, w, shape in (("w1", w1, (d_in, H)), ("w2", w2, (H, d_out))):
            if tuple(w.shape) != shape:
                raise ConfigError(f"model.init: {name} has shape {tuple(w.shape)} but the model needs {shape} "
                                  f"(D_in={d_in}, model.H={H}, D_out={d_out})")
    return w1.to(dtype).requires_grad_(), w2.to(dtype).requires_grad_()


def _resume_state(cfg, w1, w2):
    """The checkpoint to continue from, checked against this run's shapes and length."""
    if cfg.trainer.resume is None:
        return None
    try:
        state = checkpoint.load(cfg.trainer.resume)
    except (KeyError, ValueError, OSError) as e:
        raise ConfigError(f"trainer.resume: {cfg.trainer.resume} is not a tinytape checkpoint ({e})") from None
    for name, w in (("w1", w1), ("w2", w2)):
        if state[name].shape != tuple(w.shape):
            raise ConfigError(f"trainer.resume: the checkpoint's {name} has shape {state[name].shape}, "
                              f"this run's model needs {tuple(w.shape)}")
    if state["step"] > cfg.trainer.steps:
        raise ConfigError(f"trainer.resume: the checkpoint is at step {state['step']}, past "
                          f"trainer.steps={cfg.trainer.steps}")
    return state


def make_optimizer(cfg, params):
    o = cfg.optim
    if o.name == "sgd":
        return tt.optim.SGD(params, lr=o.lr, momentum=o.get("momentum", 0.0))
    return tt.optim.Adam(params, lr=o.lr, betas=tuple(o.get("betas", (0.9, 0.999))), eps=o.get("eps", 1e-8))


# ---------------------------------------------------------------- the run


def _log_to_file(out_dir):
    """train.log in out_dir, unless a handler (Hydra's) already writes there."""
    path = os.path.abspath(os.path.join(out_dir, "train.log"))
    root = logging.getLogger()
    if any(getattr(h, "baseFilename", None) == path for h in root.handlers + log.handlers):
        return None
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("[%(asctime)s][%(name)s][%(levelname)s] - %(message)s"))
    log.addHandler(handler)
    if log.level == logging.NOTSET or log.level > logging.INFO:
        log.setLevel(logging.INFO)
    return handler


def run(cfg, out_dir):
    """Train as ``cfg`` says; write config.yaml, train.log, losses.csv, metrics.json,
    loss.png and checkpoint.npz into ``out_dir``.  Returns the metrics dict.

    Raises ConfigError before anything is trained or written when a value is unusable.
    On Ctrl-C it saves a checkpoint and re-raises KeyboardInterrupt with where it is.
    """
    validate(cfg)
    dtype = DTYPES[cfg.trainer.dtype]
    device = cfg.trainer.device
    x, y = load_data(cfg, dtype)
    x, y = x.to(device), y.to(device)
    w1, w2 = init_weights(cfg, x.shape[1], y.shape[1], dtype)
    w1, w2 = w1.detach().to(device).requires_grad_(), w2.detach().to(device).requires_grad_()
    model = TwoLayerNet(w1, w2, cfg.model.activation)
    optimizer = make_optimizer(cfg, model.parameters())
    state = _resume_state(cfg, w1, w2)

    os.makedirs(out_dir, exist_ok=True)
    handler = _log_to_file(out_dir)
    ckpt_path = os.path.join(out_dir, "checkpoint.npz")
    with open(os.path.join(out_dir, "config.yaml"), "w") as f:
        f.write(OmegaConf.to_yaml(cfg, resolve=True))

    losses, elapsed, start = [], [], 0
    tt.manual_seed(cfg.seed)
    if state is not None:
        with tt.no_grad():
            w1.copy_(tt.tensor(state["w1"], device=device))
            w2.copy_(tt.tensor(state["w2"], device=device))
        optimizer.load_state_dict(state["optimizer_state"])
        tt.set_rng_state(state["rng_state"])
        losses, elapsed, start = state["losses"], state["elapsed"], state["step"]
        log.info("resumed from %s at step %d", cfg.trainer.resume, start)

    steps = cfg.trainer.steps
    offset = elapsed[-1] if elapsed else 0.0
    t0 = time.perf_counter()
    time_to_first_step = None
    log.info("training %s/%s on %s (%s): N=%d D_in=%d H=%d D_out=%d, %s lr=%g, steps %d..%d",
             cfg.model.name, cfg.model.activation, cfg.trainer.device, cfg.trainer.dtype, x.shape[0],
             x.shape[1], cfg.model.H, y.shape[1], cfg.optim.name, cfg.optim.lr, start, steps - 1)
    # updated by hand, not by iterating it: a log line redraws the bar, and an iterated bar
    # redraws a step count that is only written back every few steps
    bar = tqdm(initial=start, total=steps, desc="train", file=sys.stderr,
               disable=None if cfg.trainer.progress else True, dynamic_ncols=True)
    try:
        with logging_redirect_tqdm():
            for step in range(start, steps):
                loss = model.loss_and_backward(x, y)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                now = time.perf_counter() - t0
                if time_to_first_step is None:
                    time_to_first_step = now
                losses.append(loss)
                elapsed.append(offset + now)
                bar.set_postfix(loss=f"{loss:.4g}", refresh=False)
                bar.update(1)
                if step % cfg.trainer.log_every == 0 or step == steps - 1:
                    log.info("step %d loss %.6g", step, loss)
                every = cfg.trainer.checkpoint_every
                if every and (step + 1) % every == 0 and step + 1 < steps:
                    checkpoint.save(ckpt_path, model, optimizer, step + 1, losses, elapsed)
    except KeyboardInterrupt:
        done = len(losses)
        checkpoint.save(ckpt_path, model, optimizer, done, losses, elapsed)
        if losses:
            report.write_losses(os.path.join(out_dir, "losses.csv"), losses, elapsed)
        log.warning("interrupted at step %d: checkpoint saved to %s", done, ckpt_path)
        raise KeyboardInterrupt(f"checkpoint saved to {ckpt_path} after {done} steps; "
                                f"continue with trainer.resume={ckpt_path}") from None
    finally:
        bar.close()
        if handler is not None:
            log.removeHandler(handler)
            handler.close()

    checkpoint.save(ckpt_path, model, optimizer, len(losses), losses, elapsed)
    report.write_losses(os.path.join(out_dir, "losses.csv"), losses, elapsed)
    metrics = report.write_metrics(os.path.join(out_dir, "metrics.json"), losses, elapsed,
                                   time_to_first_step, cfg.trainer.device, cfg.trainer.dtype, True)
    report.plot_losses(os.path.join(out_dir, "loss.png"), {cfg.model.activation: losses},
                       f"two-layer net, {cfg.optim.name} lr={cfg.optim.lr:g}")
    log.info("done: loss %.6g -> %.6g (x%.3g) in %d steps", metrics["first_loss"], metrics["final_loss"],
             metrics["decay_factor"], metrics["steps"])
    return metrics
