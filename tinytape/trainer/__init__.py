"""The trainer behind ``train.py``: ``run(cfg, out_dir)`` trains as the Hydra config says
and writes its outputs into ``out_dir``.

    validate (config.py) -> prepare: data, model, optimizer, checkpoint (build.py)
        -> the output folder -> train (loop.py) -> outputs (report.py)

Everything that can be refused is refused before the output folder exists.
"""
import logging
import os

from omegaconf import OmegaConf

from .build import prepare
from .config import ConfigError, TrainingStopped, validate
from .loop import evaluate_checkpoint, log, train

__all__ = ["ConfigError", "TrainingStopped", "prepare", "run", "validate"]


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


def run(cfg, out_dir, setup=None, resume_command=None):
    """Train as ``cfg`` says; write config.yaml, train.log, losses.csv, metrics.json,
    loss.png and checkpoint.npz into ``out_dir``.  Returns the metrics dict.

    Raises ConfigError before anything is written when a value or file is unusable
    (``setup``: what ``prepare(cfg)`` already built).  TrainingStopped: the run ended
    early (non-finite loss, a checkpoint the disk refused); its outputs say why.
    KeyboardInterrupt: a checkpoint of the last completed step is saved; the message says
    how to continue (``resume_command``: the overrides that gave ``cfg``, for the command
    it prints).  With ``trainer.eval_only``: the checkpoint's validation metrics, printed
    and written to eval.json (returned).
    """
    if setup is None:
        validate(cfg)
        setup = prepare(cfg)
    os.makedirs(out_dir, exist_ok=True)
    handler = _log_to_file(out_dir)
    try:
        with open(os.path.join(out_dir, "config.yaml"), "w") as f:
            f.write(OmegaConf.to_yaml(cfg, resolve=True))
        if cfg.trainer.get("eval_only"):
            return evaluate_checkpoint(cfg, setup, out_dir)
        return train(cfg, setup, out_dir, resume_command)
    finally:
        if handler is not None:
            log.removeHandler(handler)
            handler.close()
