"""What a run leaves behind: losses.csv, metrics.json, loss.png."""
import csv
import json
import math
import os
import platform

import numpy as np


def write_losses(path, losses, elapsed, val_losses=()):
    """step,loss,elapsed_s for every step, and val_loss on the steps it was measured."""
    val = dict(val_losses)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["step", "loss", "elapsed_s"] + (["val_loss"] if val else []))
        for step, (loss, t) in enumerate(zip(losses, elapsed)):
            extra = [repr(float(val[step])) if step in val else ""] if val else []
            w.writerow([step, repr(float(loss)), f"{t:.6f}", *extra])


def read_losses(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [int(r["step"]) for r in rows], [float(r["loss"]) for r in rows]


def versions():
    import hydra
    import numba

    import tinytape
    return {"tinytape": tinytape.__version__, "numba": numba.__version__, "numpy": np.__version__,
            "hydra": hydra.__version__, "python": platform.python_version()}


def _finite_or_none(value):
    return float(value) if value is not None and math.isfinite(value) else None


def write_metrics(path, losses, elapsed, time_to_first_step, device, dtype, completed, reason=None,
                  val_losses=(), compile_s=None, eager_reason=None):
    """metrics.json, valid JSON always: a NaN or infinite number is written as null."""
    first = _finite_or_none(losses[0]) if losses else None
    final = _finite_or_none(losses[-1]) if losses else None
    timed = len(elapsed) - 1
    span = elapsed[-1] - elapsed[0] if timed > 0 else 0.0
    metrics = {
        "steps": len(losses),
        "completed": completed,
        "reason": reason,
        "first_loss": first,
        "final_loss": final,
        "decay_factor": _finite_or_none(first / final) if first is not None and final else None,
        "final_val_loss": _finite_or_none(val_losses[-1][1]) if val_losses else None,
        "steps_per_s": timed / span if span > 0 else None,
        "time_to_first_step_s": time_to_first_step,
        "compiled": compile_s is not None and eager_reason is None,
        "compile_s": compile_s,
        "eager_reason": eager_reason,
        "device": device,
        "dtype": dtype,
        "versions": versions(),
    }
    with open(path, "w") as f:
        json.dump(metrics, f, indent=2, allow_nan=False)
    return metrics


def plot_losses(path, curves, title):
    """Log-scale loss against step; ``curves`` maps a label to a list of losses (one per
    step) or a dict step -> loss."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
