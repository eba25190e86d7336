"""Everything a run needs, built and checked before its output folder exists: the data,
the model, the loss, the optimizer and the checkpoint to resume from.

``data``, ``model``, ``loss`` and ``optim`` each name a ``_target_`` — tinytape's or the
user's — built by ``hydra.utils.instantiate``; the optimizer is a partial over the model's
parameters.  A target that can't be imported, an argument its signature doesn't take (or
lacks), an error while building it, a file that is missing, truncated or holds NaN: each
is a one-line ConfigError naming the key."""
import inspect
import logging
import os
import sys
import warnings
from dataclasses import dataclass, field

import hydra.utils
import numpy as np
from omegaconf import DictConfig, OmegaConf

import tinytape as tt

from . import checkpoint
from .config import ConfigError
from .data import HARNESS_KEYS as DATA_KEYS
from .data import Batches, DataError, check_array, read_npz

DTYPES = {"float32": tt.float32, "float64": tt.float64}
MODEL_KEYS = ("init",)  # read by the trainer, not passed to the model


def _one_line(e):
    return " ".join(str(e).split()) or type(e).__name__


def _cause(e):
    """The error behind Hydra's wrapper, in one line."""
    while e.__cause__ is not None:
        e = e.__cause__
    return e


def instantiate(key, node, *args, harness_keys=(), supplied=None):
    """Build config node ``key``'s ``_target_`` with ``args`` first; ``supplied`` fills the
    target's arguments of those names that the config leaves out (the data's widths)."""
    if not isinstance(node, DictConfig) or not isinstance(node.get("_target_"), str) or not node._target_:
        raise ConfigError(f"{key}._target_ must name a class or function (e.g. {key}._target_=mymodule.MyClass)")
    path = node._target_
    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())  # the user's modules, next to where train.py is run
    hydra_log = logging.getLogger("hydra.utils")  # it logs the failure in several lines too
    hydra_log.disabled = True
    try:
        target = hydra.utils.get_object(path)
    except Exception as e:  # Hydra's ImportError explains in several lines; one is enough
        raise ConfigError(f"{key}._target_: can't import {path} ({_one_line(_cause(e)).split(' Are you sure')[0]})") from None
    finally:
        hydra_log.disabled = False
    if not callable(target):
        raise ConfigError(f"{key}._target_: {path} is not a class or function")
    options = {k: v for k, v in OmegaConf.to_container(node, resolve=True).items() if k not in harness_keys}
    kwargs = {k: v for k, v in options.items() if not k.startswith("_")}
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        signature = None
    if signature is not None:
        params = signature.parameters
        takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        for name, value in (supplied or {}).items():
            if name in params and name not in kwargs:
                options[name] = kwargs[name] = value
        names = [n for n, p in params.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)][len(args):]
        for name in kwargs:
            if name not in params and not takes_any:
                raise ConfigError(f"{key}.{name}: {path} takes no argument {name!r} "
                                  f"(it takes {', '.join(names) or 'none'})")
        missing = [n for n in names if params[n].default is inspect.Parameter.empty and n not in kwargs]
        if missing:
            raise ConfigError(f"{key}.{missing[0]}: {path} needs argument {missing[0]!r}; give it with "
                              f"+{key}.{missing[0]}=...")
    options.setdefault("_convert_", "all")  # plain lists and dicts, not OmegaConf containers
    node = OmegaConf.create(options)
    try:
        if options.get("_partial_"):
            return hydra.utils.instantiate(node)(*args)
        return hydra.utils.instantiate(node, *args)
    except ConfigError:
        raise
    except Exception as e:
        cause = _cause(e)
        message = _one_line(cause)
        # a message that starts with an argument's name is about that key
        named = next((f"{key}.{n}" for n in kwargs if message.split(" ")[0].split("=")[0].rstrip(":") == n), key)
        if isinstance(cause, DataError):
            raise ConfigError(f"{key}.path: {cause}" if "path" in kwargs else f"{named}: {cause}") from None
        if isinstance(cause, MemoryError):
            raise ConfigError(f"{named}: out of memory building {path}: {message}") from None
        raise ConfigError(f"{named}: {path} failed: {type(cause).__name__}: {message}") from None


def _as_tensor(key, value, name, dtype, device):
    if isinstance(value, tt.Tensor):
        if not value.dtype.is_floating_point and value.dtype not in (tt.int64, tt.bool):
            raise ConfigError(f"{key}: {name} has dtype {value.dtype}; it must hold real numbers")
        value = value.detach().cpu().numpy()
    try:
        array = check_array(np.asarray(value), name)
    except DataError as e:
        raise ConfigError(f"{key}: {e}") from None
    if array.ndim == 0 or array.shape[0] == 0:
        raise ConfigError(f"{key}: {name} has shape {array.shape}; it needs at least one row")
    return tt.tensor(array, dtype=dtype, device=device)


def build_data(cfg, dtype, device):
    built = instantiate("data", cfg.data, harness_keys=DATA_KEYS)
    if not isinstance(built, (tuple, list)) or len(built) != 2:
        raise ConfigError(f"data: {cfg.data._target_} must return (x, y), got {type(built).__name__}")
    x, y = (_as_tensor("data", v, n, dtype, device) for v, n in zip(built, ("x", "y")))
    if x.shape[0] != y.shape[0]:
        raise ConfigError(f"data: x and y must have the same number of rows; got x {tuple(x.shape)} and y "
                          f"{tuple(y.shape)}")
    return x, y


def _load_init(cfg, model, dtype):
    path = cfg.model.get("init")
    if path in (None, "randn"):
        return
    try:
        arrays = read_npz(path, None)
    except DataError as e:
        raise ConfigError(f"model.init: {e}") from None
    if "__structure__" in arrays:  # a tinytape.save file: a state dict, or a trainer checkpoint
        try:
            saved = tt.load(str(path))
        except RuntimeError as e:
            raise ConfigError(f"model.init: {e}") from None
        if isinstance(saved, dict) and saved.get("format") == checkpoint.FORMAT:
            saved = checkpoint.load(str(path), key="model.init")["model"]
        if not isinstance(saved, dict) or not all(isinstance(v, tt.Tensor) for v in saved.values()):
            raise ConfigError(f"model.init: {path} holds a {type(saved).__name__}, not a state dict")
        arrays = {k: v.detach().cpu().numpy() for k, v in saved.items()}
        for name, a in arrays.items():
            try:
                check_array(a, f"{path}: {name}")
            except DataError as e:
                raise ConfigError(f"model.init: {e}") from None
    mine = model.state_dict()
    if sorted(arrays) != sorted(mine):
        raise ConfigError(f"model.init: {path} holds {', '.join(sorted(arrays)) or 'nothing'}; the model's state "
                          f"dict has {', '.join(mine)}")
    for name, value in mine.items():
        if arrays[name].shape != tuple(value.shape):
            raise ConfigError(f"model.init: {name} has shape {arrays[name].shape} but the model needs "
                              f"{tuple(value.shape)}")
    model.load_state_dict({k: tt.tensor(v, dtype=dtype) for k, v in arrays.items()})


def build_model(cfg, d_in, d_out, dtype, device):
    model = instantiate("model", cfg.model, harness_keys=MODEL_KEYS, supplied={"D_in": d_in, "D_out": d_out})
    if not callable(model) or not callable(getattr(model, "parameters", None)):
        raise ConfigError(f"model: {cfg.model._target_} must build a module (callable, with parameters()); "
                          f"got {type(model).__name__}")
    if hasattr(model, "to"):
        model = model.to(dtype)
    named = list(model.named_parameters()) if hasattr(model, "named_parameters") else \
        [(str(i), p) for i, p in enumerate(model.parameters())]
    if not named:
        raise ConfigError(f"model: {cfg.model._target_} has no parameters to train")
    frozen = [n for n, p in named if not p.requires_grad]
    if frozen:
        raise ConfigError(f"model: {cfg.model._target_}'s parameters {', '.join(frozen)} don't require grad "
                          "(make them nn.Parameter or call requires_grad_())")
    _load_init(cfg, model, dtype)
    if not checkpoint.params_finite(model):
        raise ConfigError(f"model: {cfg.model._target_} starts with NaN or infinite weights")
    return model.to(device) if hasattr(model, "to") else model


@dataclass
class Setup:
    batches: Batches
    model: object
    loss: object
    optimizer: object
    resume: dict = None        # the checked checkpoint, or None
    scheduler: object = None   # a learning-rate schedule, stepped after each update
    changed_hyper: list = field(default_factory=list)


def prepare(cfg):
    """Build and check everything; raises ConfigError (one line, naming the key) on the
    first problem.  Nothing is written."""
    if cfg.trainer.device == "cuda" and not tt.cuda.is_available():
        raise ConfigError("trainer.device=cuda: no CUDA device is available (numba finds no GPU; "
                          "NUMBA_ENABLE_CUDASIM=1 runs the simulator); use trainer.device=cpu")
    dtype, device = DTYPES[cfg.trainer.dtype], cfg.trainer.device
    tt.manual_seed(cfg.seed)  # modules that draw their initial weights from the global generator
    x, y = build_data(cfg, dtype, device)
    batches = Batches(x, y, cfg.data.get("batch_size"), cfg.data.get("shuffle", False),
                      cfg.data.get("val_fraction", 0.0), cfg.seed)
    model = build_model(cfg, x.shape[1] if x.ndim > 1 else 1, y.shape[1] if y.ndim > 1 else 1, dtype, device)
    loss = instantiate("loss", cfg.loss)
    optimizer = instantiate("optim", cfg.optim, list(model.parameters()))
    setup = Setup(batches, model, loss, optimizer)
    if cfg.trainer.resume is not None:
        path = str(cfg.trainer.resume)
        state = checkpoint.load(path)
        if state["step"] > total_steps(cfg, batches):
            raise ConfigError(f"trainer.resume: the checkpoint is at step {state['step']}, past the run's "
                              f"{total_steps(cfg, batches)} steps (trainer.steps / trainer.epochs)")
        setup.changed_hyper = checkpoint.restore(state, path, model, optimizer)
        setup.resume = state
    if cfg.get("scheduler") is not None:
        setup.scheduler = instantiate("scheduler", cfg.scheduler, optimizer)
        with warnings.catch_warnings():  # stepped without optimizer steps, on purpose
            warnings.simplefilter("ignore", UserWarning)
            for _ in range(setup.resume["step"] if setup.resume else 0):
                setup.scheduler.step()  # the schedule is a function of the step: replay it
    return setup


def total_steps(cfg, batches):
    epochs = cfg.trainer.get("epochs")
    return epochs * batches.per_epoch if epochs else cfg.trainer.steps
