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

from . import checkpoint, metrics
from .config import ConfigError
from .data import HARNESS_KEYS as DATA_KEYS
from .data import Batches, DataError, check_array, is_labels, read_npz, unpack

DTYPES = {"float32": tt.float32, "float64": tt.float64}
MODEL_KEYS = ("init",)
# the data config's keys a target gets only when its signature takes them: random.yaml's
# sizes stay behind when data._target_ names a function of the user's; seed when it wants one
DROPPABLE_DATA_KEYS = ("N", "D_in", "D_out", "seed")  # read by the trainer, not passed to the model


def _one_line(e):
    return " ".join(str(e).split()) or type(e).__name__


def _cause(e):
    """The error behind Hydra's wrapper, in one line."""
    while e.__cause__ is not None:
        e = e.__cause__
    return e


def instantiate(key, node, *args, harness_keys=(), supplied=None, droppable=()):
    """Build config node ``key``'s ``_target_`` with ``args`` first; ``supplied`` fills the
    target's arguments of those names that the config leaves out or sets to null (the
    data's widths, a schedule's length).  ``droppable``: keys that are left out, not
    refused, when the target's signature doesn't take them (the random data's sizes and
    the seed, given to a data function of the user's)."""
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
            if name in params and kwargs.get(name) is None:
                options[name] = kwargs[name] = value
        names = [n for n, p in params.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)][len(args):]
        if not takes_any:
            for name in [n for n in kwargs if n not in params and n in droppable]:
                del options[name], kwargs[name]
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


def _as_tensor(array, dtype, device):
    if is_labels(array):
        return tt.tensor(array.astype(np.int64), device=device)  # class labels stay integers
    return tt.tensor(array, dtype=dtype, device=device)


def build_data(cfg, dtype, device):
    """((x, y), (x_val, y_val) or None) as tensors: the data target's output, checked."""
    built = instantiate("data", cfg.data, harness_keys=DATA_KEYS, droppable=DROPPABLE_DATA_KEYS)
    try:
        train, val = unpack(built)
    except DataError as e:
        raise ConfigError(f"data: {cfg.data._target_} {e}" if str(e).startswith("must return") else f"data: {e}") from None
    if val is not None:
        if cfg.data.get("val_fraction"):
            raise ConfigError(f"data.val_fraction: {cfg.data._target_} gives its own validation split; leave "
                              "data.val_fraction at 0")
        if train[0].shape[1:] != val[0].shape[1:] or train[1].shape[1:] != val[1].shape[1:] \
                or is_labels(train[1]) != is_labels(val[1]):
            raise ConfigError(f"data: the training and validation data differ in shape: x {train[0].shape} and "
                              f"{val[0].shape}, y {train[1].shape} {train[1].dtype} and {val[1].shape} {val[1].dtype}")
    return tuple(_as_tensor(a, dtype, device) for a in train), \
        (tuple(_as_tensor(a, dtype, device) for a in val) if val is not None else None)


def count_classes(y, val):
    """The number of classes of integer labels (the largest label + 1); labels must be >= 0."""
    arrays = [y.cpu().numpy()] + ([val[1].cpu().numpy()] if val is not None else [])
    low = min(int(a.min()) for a in arrays)
    if low < 0:
        raise ConfigError(f"data: y holds the class label {low}; class labels must be 0, 1, ..., C-1")
    return max(int(a.max()) for a in arrays) + 1


# losses that compare the output with a target of its shape, and those that take class labels
REGRESSION_LOSSES = ("SquaredErrorSum", "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss")
CLASS_LOSSES = ("CrossEntropyLoss", "NLLLoss")


def check_labels_fit(cfg, loss, y, classes):
    """One line when the data's targets don't fit the loss."""
    kinds = [c.__name__ for c in type(loss).__mro__]
    name = type(loss).__name__
    shape = f"{y.dtype} {tuple(y.shape)}"
    if classes is not None and any(k in REGRESSION_LOSSES for k in kinds):
        raise ConfigError(f"loss: {name} is a regression loss but the data's y holds class labels ({shape}, "
                          f"{classes} classes); use loss=cross_entropy")
    if any(k in CLASS_LOSSES for k in kinds):
        if classes is None:
            probabilities = (y.ndim == 2 and y.dtype.is_floating_point and bool((y >= 0).all())
                             and bool(((y.sum(1) - 1).abs() < 1e-4).all()))
            if not probabilities:
                raise ConfigError(f"loss: {name} needs integer class labels y of shape (N,) (or class probabilities "
                                  f"(N, C) whose rows sum to 1); the data's y is {shape}: use loss=mse or sse for "
                                  "regression targets")
            classes = y.shape[1]
        weight = getattr(loss, "weight", None)
        if weight is not None and tuple(weight.shape) != (classes,):
            raise ConfigError(f"loss.weight: {tuple(weight.shape)[0] if weight.ndim == 1 else tuple(weight.shape)} "
                              f"class weights for {classes} classes; give one weight per class")


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
    """The model's ``D_in`` (the width of a row of x, flattened) and ``D_out`` (the width
    of y, or the number of classes) come from the data when its signature takes them."""
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
    metrics: list = field(default_factory=list)  # the names of the metrics logged beside the loss
    best_metric: str = None  # the validation metric best.npz follows


def prepare(cfg):
    """Build and check everything; raises ConfigError (one line, naming the key) on the
    first problem.  Nothing is written."""
    if cfg.trainer.device == "cuda" and not tt.cuda.is_available():
        raise ConfigError("trainer.device=cuda: no CUDA device is available (numba finds no GPU; "
                          "NUMBA_ENABLE_CUDASIM=1 runs the simulator); use trainer.device=cpu")
    dtype, device = DTYPES[cfg.trainer.dtype], cfg.trainer.device
    tt.manual_seed(cfg.seed)  # modules that draw their initial weights from the global generator
    (x, y), val = build_data(cfg, dtype, device)
    classes = count_classes(y, val) if is_labels_tensor(y) else None
    batches = Batches(x, y, cfg.data.get("batch_size"), cfg.data.get("shuffle", False),
                      cfg.data.get("val_fraction", 0.0), cfg.seed, val=val, classes=classes,
                      drop_last=cfg.data.get("drop_last", False))
    loss = instantiate("loss", cfg.loss)
    if hasattr(loss, "to"):
        loss = loss.to(dtype).to(device)  # class weights in the run's dtype
    check_labels_fit(cfg, loss, y, classes)
    d_in = int(np.prod(x.shape[1:])) if x.ndim > 1 else 1
    d_out = classes if classes is not None else (y.shape[1] if y.ndim > 1 else 1)
    model = build_model(cfg, d_in, d_out, dtype, device)
    optimizer = instantiate("optim", cfg.optim, list(model.parameters()))
    setup = Setup(batches, model, loss, optimizer)
    setup.metrics = metrics.resolve(cfg.get("metrics", "auto"), classes)
    setup.best_metric = best_metric_name(cfg, setup)
    if (cfg.trainer.get("early_stopping") or {}).get("patience") and setup.best_metric is None:
        raise ConfigError("trainer.early_stopping.patience: early stopping follows trainer.best_metric, and this run "
                          "has none (it needs a validation split: set data.val_fraction)")
    if cfg.trainer.resume is not None:
        path = str(cfg.trainer.resume)
        state = checkpoint.load(path)
        if not cfg.trainer.get("eval_only") and state["step"] > total_steps(cfg, batches):
            raise ConfigError(f"trainer.resume: the checkpoint is at step {state['step']}, past the run's "
                              f"{total_steps(cfg, batches)} steps (trainer.steps / trainer.epochs)")
        setup.changed_hyper = checkpoint.restore(state, path, model, optimizer)
        setup.resume = state
    if cfg.get("scheduler") is not None:
        total = total_steps(cfg, batches)  # a schedule's length, unless the config gives it
        setup.scheduler = instantiate("scheduler", cfg.scheduler, optimizer,
                                      supplied={"T_max": total, "total_steps": total, "total_iters": total})
        with warnings.catch_warnings():  # stepped without optimizer steps, on purpose
            warnings.simplefilter("ignore", UserWarning)
            for _ in range(setup.resume["step"] if setup.resume else 0):
                setup.scheduler.step()  # the schedule is a function of the step: replay it
    return setup


def best_metric_name(cfg, setup):
    """The validation metric best.npz follows (None: no best.npz), checked."""
    chosen = cfg.trainer.get("best_metric", "auto")
    has_val = setup.batches.val is not None
    available = (["val_loss"] + [f"val_{m}" for m in setup.metrics]) if has_val else []
    if chosen == "auto":
        return ("val_accuracy" if "accuracy" in setup.metrics else "val_loss") if has_val else None
    if chosen is None:
        return None
    if chosen not in available:
        raise ConfigError(f"trainer.best_metric: {chosen} is not measured in this run "
                          + (f"(it measures {', '.join(available)})" if available else
                             "(it has no validation split: set data.val_fraction)"))
    return chosen


def is_labels_tensor(y):
    return y.ndim == 1 and y.dtype == tt.int64


def total_steps(cfg, batches):
    epochs = cfg.trainer.get("epochs")
    return epochs * batches.per_epoch if epochs else cfg.trainer.steps
