"""Checkpoints: one ``tinytape.save`` file (an .npz that runs no code when loaded) holding
the model's state dict, the optimizer's kind and state dict, the number of completed
steps, the RNG state at that step boundary and the loss history.  Written atomically
(a temporary file in the same folder, then a rename); read back with every field
checked, so a bad file is a one-line ConfigError naming it."""
import math
import os
import tempfile

import numpy as np

import tinytape as tt

from .config import ConfigError

FORMAT = "tinytape.trainer.checkpoint/3"  # 3: the RNG state is PyTorch's byte tensor


class CheckpointWriteError(OSError):
    """The checkpoint could not be written; the previous one is untouched."""


def save(path, model, optimizer, step, losses, elapsed, rng_state, val_losses=(), lrs=None, evals=None,
         val_rows=None, best=None):
    """``lrs``: the learning rate of each step; ``evals``: {"names": [...], "table": rows of
    step and values (NaN: not measured)}; ``val_rows``: the rows of the data held out for
    validation; ``best``: the best-metric tracking (metric, value, step, stale)."""
    payload = {
        "format": FORMAT, "step": int(step), "rng_state": rng_state,
        "model": model.state_dict(),
        "optimizer": {"kind": type(optimizer).__name__, "state": optimizer.state_dict()},
        "losses": np.asarray(losses, np.float64), "elapsed": np.asarray(elapsed, np.float64),
        "val_losses": np.asarray(val_losses, np.float64).reshape(-1, 2),
    }
    if lrs is not None:
        payload["lrs"] = np.asarray(lrs, np.float64)
    if evals is not None:
        payload["evals"] = {"names": list(evals["names"]),
                            "table": np.asarray(evals["table"], np.float64).reshape(-1, 1 + len(evals["names"]))}
    if val_rows is not None:
        payload["val_rows"] = np.asarray(val_rows, np.int64)
    if best is not None:
        payload["best"] = {k: v for k, v in best.items() if v is not None}
    folder = os.path.dirname(os.path.abspath(path))
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".checkpoint-", suffix=".npz.tmp", dir=folder)
        with os.fdopen(fd, "wb") as f:
            tt.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a checkpoint is an ordinary output
        os.replace(tmp, path)  # atomic: readers see the old checkpoint or the new one
    except BaseException as e:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(e, OSError):
            kept = "the previous checkpoint is kept" if os.path.exists(path) else "no checkpoint was written before"
            raise CheckpointWriteError(e.errno, f"could not write the checkpoint of step {step} to {path} "
                                                f"({e.strerror or e}): the partial file is removed; {kept}") from None
        raise


def _tensors(tree):
    if isinstance(tree, tt.Tensor):
        yield tree
    elif isinstance(tree, dict):
        for value in tree.values():
            yield from _tensors(value)
    elif isinstance(tree, (list, tuple)):
        for value in tree:
            yield from _tensors(value)


def _all_finite(tensors):
    return all(t.dtype in (tt.int64, tt.bool) or bool(np.isfinite(t.detach().cpu().numpy()).all())
               for t in tensors)


def params_finite(model):
    return _all_finite(model.parameters())


def load(path, key="trainer.resume"):
    """The checkpoint's fields, each checked; a ConfigError naming ``key`` and the file otherwise."""
    def bad(why):
        return ConfigError(f"{key}: {path} {why}")

    if not os.path.isfile(path):
        raise bad("is not a file")
    try:
        state = tt.load(path)
    except (RuntimeError, OSError, ValueError, KeyError, EOFError) as e:
        raise bad(f"is not a tinytape checkpoint ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise bad("is not a tinytape trainer checkpoint (no trainer checkpoint format marker)")
    step, losses, elapsed = state.get("step"), state.get("losses"), state.get("elapsed")
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        raise bad(f"has an invalid step {step!r} (must be a non-negative integer)")
    for name, history in (("loss", losses), ("elapsed-time", elapsed)):
        if not isinstance(history, np.ndarray) or history.ndim != 1 or len(history) != step:
            length = len(history) if isinstance(history, np.ndarray) and history.ndim == 1 else "no"
            raise bad(f"has {length} {name} entries for {step} completed steps")
    if not all(math.isfinite(v) for v in losses.tolist()):
        raise bad("has non-finite values in its loss history")
    model_state, optim = state.get("model"), state.get("optimizer")
    if not isinstance(model_state, dict) or not isinstance(optim, dict) or not isinstance(optim.get("state"), dict):
        raise bad("lacks the model or optimizer state")
    if not _all_finite(_tensors(model_state)) or not _all_finite(_tensors(optim["state"])):
        raise bad("holds NaN or infinite weights or optimizer state")
    rng = state.get("rng_state")
    if not isinstance(rng, tt.Tensor) or rng.dtype is not tt.uint8 or rng.numel() != 5056:
        raise bad("lacks the RNG state")
    val = state.get("val_losses", np.zeros((0, 2)))
    if not isinstance(val, np.ndarray) or val.ndim != 2 or val.shape[1] != 2 or (len(val) and val[:, 0].max() >= step):
        raise bad("has a malformed validation-loss history")
    state["losses"], state["elapsed"] = losses.tolist(), elapsed.tolist()
    state["val_losses"] = [(int(s), v) for s, v in val.tolist()]
    lrs = state.get("lrs")
    if lrs is not None and (not isinstance(lrs, np.ndarray) or lrs.shape != (step,)):
        raise bad("has a malformed learning-rate history")
    state["lrs"] = lrs.tolist() if lrs is not None else None
    evals = state.get("evals")
    if evals is not None:
        names, table = evals.get("names") if isinstance(evals, dict) else None, \
            evals.get("table") if isinstance(evals, dict) else None
        if (not isinstance(names, list) or not all(isinstance(n, str) for n in names)
                or not isinstance(table, np.ndarray) or table.ndim != 2 or table.shape[1] != 1 + len(names)
                or (len(table) and table[:, 0].max() >= step)):
            raise bad("has a malformed metrics history")
        state["evals"] = [{"step": int(row[0]), **{n: v for n, v in zip(names, row[1:].tolist()) if math.isfinite(v)}}
                          for row in table]
    rows = state.get("val_rows")
    if rows is not None and (not isinstance(rows, np.ndarray) or rows.ndim != 1 or rows.dtype.kind not in "iu"):
        raise bad("has malformed validation rows")
    best = state.get("best")
    if best is not None and (not isinstance(best, dict) or not isinstance(best.get("metric"), str)):
        raise bad("has a malformed best-metric record")
    return state


def restore(state, path, model, optimizer, key="trainer.resume"):
    """Load ``state`` into ``model`` and ``optimizer``.  The model's keys and shapes must
    match; the optimizer must be of the same kind (its state — momentum buffers, Adam's
    moments — is taken) while the hyperparameters stay the config's."""
    mine = model.state_dict()
    theirs = state["model"]
    missing = [k for k in mine if k not in theirs]
    extra = [k for k in theirs if k not in mine]
    if missing or extra:
        what = f"lacks {', '.join(missing)}" if missing else f"has {', '.join(extra)} which this model lacks"
        raise ConfigError(f"{key}: {path} is not a checkpoint of this model: it {what}")
    for name, value in mine.items():
        if tuple(theirs[name].shape) != tuple(value.shape):
            raise ConfigError(f"{key}: {path}: {name} has shape {tuple(theirs[name].shape)}, this run's model "
                              f"needs {tuple(value.shape)}")
    kind = state["optimizer"].get("kind")
    if kind != type(optimizer).__name__:
        raise ConfigError(f"{key}: {path} was written by a {kind} optimizer, this run uses "
                          f"{type(optimizer).__name__}: resume with the same optimizer (or start afresh)")
    model.load_state_dict(theirs)
    hyper = [{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups]
    try:
        optimizer.load_state_dict(state["optimizer"]["state"])
    except (ValueError, KeyError, TypeError) as e:
        raise ConfigError(f"{key}: {path}: the optimizer state does not fit this model ({e})") from None
    saved = [{k: v for k, v in g.items() if k != "params"} for g in state["optimizer"]["state"]["param_groups"]]
    for group, options in zip(optimizer.param_groups, hyper):
        for k in [k for k in group if k != "params" and k not in options]:
            del group[k]  # what a schedule added (initial_lr): the schedule is rebuilt from the config
        group.update(options)  # the config's hyperparameters win over the checkpoint's
    def differ(a, b):
        return list(a) != list(b) if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) else a != b
    changed = sorted({k for s, h in zip(saved, hyper) for k in h if k in s and differ(s[k], h[k])})
    return changed
