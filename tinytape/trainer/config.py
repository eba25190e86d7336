"""Checks of the config's values, before anything is built, run or written.  Every
refusal is one line naming the key (a ConfigError); train.py exits with status 2."""
import math

from omegaconf import DictConfig, ListConfig, OmegaConf


class ConfigError(ValueError):
    """A config value (or a file it names) the trainer can't use; the message names the key."""


class TrainingStopped(RuntimeError):
    """The run ended before its last step (non-finite loss, a checkpoint that could not be
    written); its outputs say so and the last good checkpoint is kept."""


DTYPES = ("float32", "float64")
_ABSENT = object()
TOP_KEYS = {"seed", "output_root", "trainer", "data", "model", "optim", "loss", "scheduler", "metrics"}
TRAINER_KEYS = {"steps", "epochs", "compile", "log_every", "checkpoint_every", "device", "dtype", "progress", "resume",
                "on_nonfinite", "best_metric", "early_stopping", "eval_only"}
EARLY_STOPPING_KEYS = {"patience", "min_delta"}


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def non_negative_int(key, value):
    if not _is_int(value) or value < 0:
        raise ConfigError(f"{key} must be a non-negative integer, got {value!r}")
    return value


def positive_int(key, value):
    if not _is_int(value) or value <= 0:
        raise ConfigError(f"{key} must be a positive integer, got {value!r}")
    return value


def positive_float(key, value):
    if not _is_number(value) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{key} must be a positive number, got {value!r}")
    return float(value)


def non_negative_float(key, value):
    if not _is_number(value) or not math.isfinite(value) or value < 0:
        raise ConfigError(f"{key} must be a non-negative number, got {value!r}")
    return float(value)


def betas(key, value):
    pair = list(value) if isinstance(value, (list, tuple, ListConfig)) else None
    if pair is None or len(pair) != 2 or not all(_is_number(b) and 0 <= b < 1 for b in pair):
        shown = OmegaConf.to_container(value) if isinstance(value, ListConfig) else value
        raise ConfigError(f"{key} must be two numbers in [0, 1), got {shown!r}")
    return tuple(float(b) for b in pair)


def boolean(key, value):
    if not isinstance(value, bool):
        raise ConfigError(f"{key} must be true or false, got {value!r}")
    return value


def name(key, value):
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{key} must be a name, got {value!r}")
    return value


def optional(check):
    def allow_null(key, value):
        return None if value is None else check(key, value)
    return allow_null


def fraction(key, value):
    if not _is_number(value) or not 0 <= value < 1:
        raise ConfigError(f"{key} must be a number in [0, 1), got {value!r}")
    return float(value)


def one_of(choices):
    def check(key, value):
        if value not in choices:
            raise ConfigError(f"{key} must be one of {', '.join(map(str, choices))}; got {value!r}")
        return value
    return check


# key -> check, for every key whose meaning the trainer knows, checked when the config has
# it (a target's own signature decides which arguments it takes)
CHECKS = {
    "seed": non_negative_int,
    "trainer.steps": positive_int,
    "trainer.epochs": optional(positive_int),
    "trainer.log_every": positive_int,
    "trainer.checkpoint_every": non_negative_int,
    "trainer.device": one_of(("cpu", "cuda")),
    "trainer.dtype": one_of(DTYPES),
    "trainer.progress": boolean,
    "trainer.compile": boolean,
    "trainer.on_nonfinite": one_of(("stop", "warn")),
    "trainer.eval_only": boolean,
    "trainer.best_metric": optional(name),
    "trainer.early_stopping.patience": optional(positive_int),
    "trainer.early_stopping.min_delta": non_negative_float,
    "optim.lr": positive_float,
    "optim.momentum": non_negative_float,
    "optim.weight_decay": non_negative_float,
    "optim.eps": positive_float,
    "optim.alpha": non_negative_float,
    "optim.betas": betas,
    "data.batch_size": optional(positive_int),
    "data.shuffle": boolean,
    "data.drop_last": boolean,
    "data.val_fraction": fraction,
    "data.N": positive_int,
    "data.D_in": positive_int,
    "data.D_out": positive_int,
    "model.H": positive_int,
}


def _unknown_keys(cfg):
    for key in cfg:
        if key not in TOP_KEYS:
            yield key
    if isinstance(cfg.get("trainer"), DictConfig):
        for key in cfg.trainer:
            if key not in TRAINER_KEYS:
                yield f"trainer.{key}"
        stopping = cfg.trainer.get("early_stopping")
        if isinstance(stopping, DictConfig):
            for key in stopping:
                if key not in EARLY_STOPPING_KEYS:
                    yield f"trainer.early_stopping.{key}"


def validate(cfg):
    """Check the plain values (types, ranges, unknown and missing keys); files and sizes
    are checked when the data, model and checkpoint are loaded."""
    missing = sorted(OmegaConf.missing_keys(cfg))
    if missing:
        raise ConfigError(f"{missing[0]} must be given (it has no default): add {missing[0]}=...")
    for key in _unknown_keys(cfg):
        if key.startswith("trainer.early_stopping."):
            raise ConfigError(f"{key}: unknown key (trainer.early_stopping has {', '.join(sorted(EARLY_STOPPING_KEYS))})")
        raise ConfigError(f"{key}: unknown key (the trainer's keys are {', '.join(sorted(TRAINER_KEYS))})"
                          if key.startswith("trainer.") else f"{key}: unknown key")
    for key, check in CHECKS.items():
        value = OmegaConf.select(cfg, key, default=_ABSENT)
        if value is not _ABSENT:
            check(key, value)
    resume = cfg.trainer.get("resume")
    if resume is not None and not isinstance(resume, str):
        raise ConfigError(f"trainer.resume must be a path to a checkpoint, got {resume!r}")
    if cfg.trainer.get("eval_only") and resume is None:
        raise ConfigError("trainer.eval_only needs the checkpoint to evaluate: add trainer.resume=<path to .npz>")
