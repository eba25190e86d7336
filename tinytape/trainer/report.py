"""What a run leaves behind: losses.csv, metrics.json, loss.png."""
import csv
import json
import math
import os
import platform

import numpy as np


def eval_columns(evals):
    """The measured quantities of ``evals`` (dicts with a step), in a fixed order: the
    validation loss, then the training and validation metrics."""
    names = list(dict.fromkeys(k for e in evals for k in e if k != "step"))
    return sorted(names, key=lambda n: (n != "val_loss", not n.startswith("train_"), n))


def write_losses(path, losses, elapsed, val_losses=(), lrs=None, evals=None):
    """step,loss,elapsed_s for every step, lr (the learning rate the step used) when known,
    and val_loss and the metrics on the steps they were measured."""
    if evals is None:
        evals = [{"step": s, "val_loss": v} for s, v in val_losses]
    by_step = {e["step"]: e for e in evals}
    columns = eval_columns(evals)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["step", "loss", "elapsed_s"] + (["lr"] if lrs is not None else []) + columns)
        for step, (loss, t) in enumerate(zip(losses, elapsed)):
            lr = [repr(float(lrs[step])) if step < len(lrs) and lrs[step] is not None else ""] if lrs is not None else []
            row = by_step.get(step, {})
            extra = [repr(float(row[c])) if c in row and row[c] is not None else "" for c in columns]
            w.writerow([step, repr(float(loss)), f"{t:.6f}", *lr, *extra])


def read_losses(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [int(r["step"]) for r in rows], [float(r["loss"]) for r in rows]


def versions():
    import hydra
    import numba

    import tinytape
    return {"tinytape": tinytape._version.__version__, "numba": numba.__version__, "numpy": np.__version__,
            "hydra": hydra.__version__, "python": platform.python_version()}


def _finite_or_none(value):
    return float(value) if value is not None and math.isfinite(value) else None


def write_metrics(path, losses, elapsed, time_to_first_step, device, dtype, completed, reason=None,
                  val_losses=(), compile_s=None, eager_reason=None, steady=None, first_step_s=None, evals=(),
                  best=None, extra=None):
    """metrics.json, valid JSON always: a NaN or infinite number is written as null.
    ``steady``: (steps, seconds) of the steps that compiled nothing, for steps_per_s."""
    first = _finite_or_none(losses[0]) if losses else None
    final = _finite_or_none(losses[-1]) if losses else None
    if steady is not None:
        timed, span = steady
    else:
        timed = len(elapsed) - 1
        span = elapsed[-1] - elapsed[0] if timed > 0 else 0.0
    final_metrics = {}
    for e in evals:
        final_metrics.update({k: _finite_or_none(v) for k, v in e.items() if k != "step" and v is not None})
    metrics = {
        "steps": len(losses),
        "completed": completed,
        "reason": reason,
        "first_loss": first,
        "final_loss": final,
        "decay_factor": _finite_or_none(first / final) if first is not None and final else None,
        "final_val_loss": _finite_or_none(val_losses[-1][1]) if val_losses else None,
        "final_metrics": final_metrics,
        "best": best,
        "steps_per_s": timed / span if span > 0 else None,
        "first_step_s": first_step_s,
        "time_to_first_step_s": time_to_first_step,
        "compiled": compile_s is not None and eager_reason is None,
        "compile_s": compile_s,
        "eager_reason": eager_reason,
        "device": device,
        "dtype": dtype,
        "versions": versions(),
        **(extra or {}),
    }
    with open(path, "w") as f:
        json.dump(metrics, f, indent=2, allow_nan=False)
    return metrics


def plot_losses(path, curves, title, metric_curves=None):
    """Log-scale loss against step; ``curves`` maps a label to a list of losses (one per
    step) or a dict step -> loss.  ``metric_curves`` (the same, for metrics in [0, 1])
    are drawn in a panel beside it."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if metric_curves:
        fig, (ax, mx) = plt.subplots(1, 2, figsize=(11.0, 4.0))
        for label, values in metric_curves.items():
            mx.plot(list(values), list(values.values()), label=label, marker="." if len(values) < 30 else None)
        mx.set_xlabel("step")
        mx.set_ylabel("metric")
        mx.set_title("metrics")
        mx.grid(True, alpha=0.3)
        mx.legend(fontsize="small")
    else:
        fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for label, losses in curves.items():
        steps, values = (list(losses), list(losses.values())) if isinstance(losses, dict) else \
            (np.arange(len(losses)), losses)
        ax.plot(steps, np.maximum(np.asarray(values, np.float64), np.finfo(np.float64).tiny), label=label)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    if len(curves) > 1:
        ax.legend(fontsize="small")
    fig.tight_layout()
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)
