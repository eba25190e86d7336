"""``train.py``'s side of Hydra: what is checked before Hydra makes the run folder, and
how each ending becomes an exit status.

    0: trained
    1: stopped early (non-finite loss, a full disk, outputs that can't be written)
    2: refused (a bad value or file: one line naming it, nothing written)
    130: Ctrl-C (checkpoint saved)

In a sweep (``-m``) a job that is refused or stops early does not stop the others: its
folder's metrics.json gives the reason, summary.csv its status, and the sweep exits 1.
"""
import copy
import os
import sys
import tempfile

from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import OmegaConf, open_dict, read_write
from omegaconf.errors import OmegaConfBaseException

from . import report
from .build import prepare
from .config import ConfigError, TrainingStopped, validate
from .loop import log

_prepared = {}  # the task config's YAML -> the Setup the preflight built for it


def _task_config(config):
    """The config without its ``hydra`` node, as Hydra hands it to the task."""
    cfg = copy.deepcopy(config)
    with read_write(cfg), open_dict(cfg):
        cfg.pop("hydra", None)
    return cfg


def _key(cfg):
    return OmegaConf.to_yaml(cfg, resolve=True)


def check_writable(key, folder):
    """The folder (or, when it doesn't exist yet, its nearest existing parent) must take a
    new directory."""
    path = os.path.abspath(folder)
    probe = path
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    try:
        if not os.path.isdir(probe):
            raise NotADirectoryError(20, "Not a directory")
        os.rmdir(tempfile.mkdtemp(prefix=".tinytape-probe-", dir=probe))
    except OSError as e:
        raise ConfigError(f"{key}: can't write outputs under {folder} ({e.strerror or e} at {probe})") from None


def refuse(message, status=2):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(status)


def _one_line(e):
    return " ".join(str(e).split())


def claim(folder):
    """Create ``folder`` (its parents as needed), or, when it exists — another run started
    in the same second — ``folder-2``, ``folder-3``, ...: the one created; os.mkdir makes
    the claim atomic between processes."""
    os.makedirs(os.path.dirname(os.path.abspath(folder)), exist_ok=True)
    for n in range(1, 10000):
        candidate = folder if n == 1 else f"{folder}-{n}"
        try:
            os.mkdir(candidate)
            return candidate
        except FileExistsError:
            continue
    raise ConfigError(f"hydra.run.dir: {folder} and 9999 more like it exist")


def claim_run_dir(config):
    """The default run folder (outputs/DATE/TIME) made unique for this run."""
    try:
        folder = claim(str(config.hydra.run.dir))
    except OSError as e:
        refuse(f"output_root: can't write outputs under {config.hydra.run.dir} ({e.strerror or e})")
    with read_write(config.hydra.run):
        config.hydra.run.dir = folder


def _sweep_dir(config):
    try:
        folder = claim(str(config.hydra.sweep.dir))
    except OSError as e:
        refuse(f"output_root: can't write outputs under {config.hydra.sweep.dir} ({e.strerror or e})")
    with read_write(config.hydra), open_dict(config.hydra):
        config.hydra.sweep.dir = folder
        # each job's config is composed again from the overrides: this one keeps them in the folder
        config.hydra.overrides.hydra.append(f"hydra.sweep.dir={folder}")


class Preflight(Callback):
    """Checks everything before Hydra creates the run folder: a refused run leaves none."""

    def on_run_start(self, config, **kwargs):
        try:
            check_writable("output_root", config.hydra.run.dir)
            cfg = _task_config(config)
            validate(cfg)
            from .loop import _KERNELS_CACHED
            if _KERNELS_CACHED is False and cfg.trainer.device == "cpu":
                print("building the data and the model (the first run on this kernel cache compiles each kernel "
                      "on its first use: seconds)...", file=sys.stderr, flush=True)
            setup = prepare(cfg)
        except ConfigError as e:
            refuse(e)
        except OmegaConfBaseException as e:
            refuse(f"{getattr(e, 'full_key', None) or 'config'}: {_one_line(e).split(' full_key:')[0]}")
        except KeyboardInterrupt:
            print("interrupted before training started; nothing was written", file=sys.stderr)
            sys.exit(130)
        _prepared.clear()
        _prepared[_key(cfg)] = setup
        if not any(o.startswith("hydra.run.dir=") for o in config.hydra.overrides.hydra):
            claim_run_dir(config)

    def on_multirun_start(self, config, **kwargs):
        try:
            check_writable("output_root", config.hydra.sweep.dir)
        except ConfigError as e:
            refuse(e)
        if not any(o.startswith("hydra.sweep.dir=") for o in config.hydra.overrides.hydra):
            _sweep_dir(config)


def _record_failure(out_dir, cfg, reason):
    """A sweep job that was refused: metrics.json says so, for the summary."""
    try:
        report.write_metrics(os.path.join(out_dir, "metrics.json"), [], [], None, cfg.trainer.get("device"),
                             cfg.trainer.get("dtype"), False, reason)
    except (OSError, OmegaConfBaseException):
        pass


def main(cfg):
    """The task function: returns the final loss; exits with the status above."""
    from . import run
    hydra_cfg = HydraConfig.get()
    out_dir = hydra_cfg.runtime.output_dir
    in_sweep = hydra_cfg.mode == RunMode.MULTIRUN
    try:
        result = run(cfg, out_dir, setup=_prepared.pop(_key(cfg), None),
                     resume_command=list(hydra_cfg.overrides.task))
        return result.get("final_loss")
    except (ConfigError, OmegaConfBaseException, TrainingStopped, OSError) as e:
        reason = _one_line(e) if not isinstance(e, OSError) else f"can't write the outputs in {out_dir} ({e})"
        if not in_sweep:
            refuse(reason, 2 if isinstance(e, (ConfigError, OmegaConfBaseException)) else 1)
        job = f"job {hydra_cfg.job.num} ({' '.join(hydra_cfg.overrides.task)})"
        print(f"error: {job}: {reason}", file=sys.stderr)
        log.error("%s failed: %s", job, reason)
        if isinstance(e, (ConfigError, OmegaConfBaseException)):
            _record_failure(out_dir, cfg, reason)
        return None
    except KeyboardInterrupt as e:
        print(f"interrupted: {e}", file=sys.stderr)
        sys.exit(130)
