"""After a multirun: summary.csv (each job's overrides, status, final loss and final
validation loss and metrics) and
summary.png (every job's loss curve) in the sweep folder.  A job that failed is a row with
its one-line reason; the sweep then exits 1."""
import csv
import json
import logging
import os
import sys

from hydra.experimental.callback import Callback
from omegaconf import OmegaConf

from .report import plot_losses, read_losses

log = logging.getLogger(__name__)


def summarize(sweep_dir):
    """Write the summary of the jobs found in ``sweep_dir``; returns the rows written."""
    rows, curves = [], {}
    for name in sorted(os.listdir(sweep_dir), key=lambda n: (len(n), n)):
        job = os.path.join(sweep_dir, name)
        metrics_path = os.path.join(job, "metrics.json")
        if not os.path.isfile(metrics_path):
            continue
        overrides_path = os.path.join(job, ".hydra", "overrides.yaml")
        overrides = []
        if os.path.isfile(overrides_path):
            overrides = list(OmegaConf.load(overrides_path) or [])
        with open(metrics_path) as f:
            metrics = json.load(f)
        label = " ".join(overrides) or name
        status = "ok" if metrics.get("completed") else f"failed: {metrics.get('reason') or 'interrupted'}"
        rows.append({"job": name, "overrides": label, "status": status, "final_loss": metrics["final_loss"],
                     "first_loss": metrics["first_loss"], "decay_factor": metrics["decay_factor"],
                     "steps": metrics["steps"], "steps_per_s": metrics["steps_per_s"],
                     **(metrics.get("final_metrics") or {})})
        losses_path = os.path.join(job, "losses.csv")
        if os.path.isfile(losses_path) and metrics["steps"]:
            curves[label] = read_losses(losses_path)[1]
    if not rows:
        return rows
    with open(os.path.join(sweep_dir, "summary.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(dict.fromkeys(k for r in rows for k in r)), restval="")
        writer.writeheader()
        writer.writerows(rows)
    if curves:
        plot_losses(os.path.join(sweep_dir, "summary.png"), curves, "sweep: loss per job")
    return rows


class SweepSummary(Callback):
    def on_multirun_end(self, config, **kwargs):
        sweep_dir = config.hydra.sweep.dir
        if os.path.isdir(sweep_dir):
            rows = summarize(sweep_dir)
            log.info("sweep summary of %d jobs written to %s", len(rows), sweep_dir)
            failed = [r for r in rows if r["status"] != "ok"]
            if failed:
                print(f"error: {len(failed)} of {len(rows)} sweep jobs failed (see {os.path.join(sweep_dir, 'summary.csv')})",
                      file=sys.stderr)
                sys.exit(1)
