"""The training loop.  A step is all-or-nothing: Ctrl-C is deferred to the step boundary,
and an interrupt that still lands inside a step never saves that step's half-done state.
A non-finite loss stops the run (``trainer.on_nonfinite=stop``) without overwriting the
last good checkpoint."""
import json
import logging
import math
import os
import shlex
import signal
import sys
import threading
import time
import warnings

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

import tinytape as tt

from ..backend.cpu import _cache as kernel_cache
from . import checkpoint, metrics, report
from .build import total_steps
from .config import TrainingStopped

log = logging.getLogger("tinytape.trainer")
# read before the run builds its data and model, which compile kernels of their own
_KERNELS_CACHED = kernel_cache.holds_compiled_kernels()


class DeferredInterrupt:
    """While active (in the main thread), the first Ctrl-C only sets ``requested``: the
    step in flight completes and the loop stops at its boundary.  A second Ctrl-C
    interrupts at once."""

    def __enter__(self):
        self.requested = False
        self._previous = None
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


def _loss_and_backward(model, loss_fn, x, y, keep_output=False):
    """The step's loss (0-d tensor) with the parameters' ``.grad`` filled in; a model with a
    ``manual_backward(x, y)`` (the seed's hand-written gradient) does it itself.  With
    ``keep_output``: (loss, the model's output, detached) — None for a manual backward."""
    manual = getattr(model, "manual_backward", None)
    loss = manual(x, y) if manual is not None else None
    output = None
    if loss is None:
        output = model(x)
        loss = loss_fn(output, y)
        loss.backward()
        output = output.detach()
    return (loss, output) if keep_output else loss


def compiled_step(model, loss_fn, optimizer, keep_output=False):
    """Forward, backward and update as one ``tinytape.compile``d function: traced on its
    first call (and on a new batch shape), replayed after."""
    def train_step(x, y):
        result = _loss_and_backward(model, loss_fn, x, y, keep_output)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return result
    return tt.compile(train_step)


def evaluate(model, loss_fn, x, y, names):
    """{"loss": the loss on (x, y), <metric>: its value for each of ``names``}, in eval
    mode, without gradients."""
    training = getattr(model, "training", None)
    if training is not None:
        model.eval()
    try:
        with tt.no_grad():
            output = model(x)
            values = {"loss": loss_fn(output, y).item()}
            if names:
                labels = y.cpu().numpy()
                counts = metrics.correct(names, output.cpu().numpy(), labels)
                values.update({n: c / len(labels) for n, c in counts.items()})
    finally:
        if training:
            model.train()
    return values


class EarlyStop(Exception):
    """The best metric stopped improving (``trainer.early_stopping.patience``)."""


def current_lr(optimizer):
    lr = optimizer.param_groups[0].get("lr")
    return float(lr) if isinstance(lr, (int, float)) else None


class Run:
    """One training run's state: the history and what is on disk."""

    def __init__(self, cfg, setup, out_dir, resume_command=None):
        self.cfg, self.setup, self.out_dir = cfg, setup, out_dir
        self.resume_command = resume_command  # the overrides that rerun this config
        self.ckpt_path = os.path.join(out_dir, "checkpoint.npz")
        self.best_path = os.path.join(out_dir, "best.npz")
        self.losses, self.elapsed, self.lrs, self.evals, self.start = [], [], [], [], 0
        self.total = total_steps(cfg, setup.batches)
        self.saved_step = None  # the step of the checkpoint this run last wrote
        self.time_to_first_step = None
        self.first_step_s = None
        self.compile_s = None  # time spent in calls that traced and compiled the step
        self.steady_steps, self.steady_s = 0, 0.0  # the steps that compiled nothing, for steps_per_s
        self.eager_reason = None  # why the compiled step runs eagerly, when it does
        self.warned_eager = set()
        self.best = {"metric": setup.best_metric, "value": None, "step": None, "stale": 0}
        stopping = cfg.trainer.get("early_stopping") or {}
        self.patience, self.min_delta = stopping.get("patience"), float(stopping.get("min_delta") or 0.0)
        self.window = metrics.Window(setup.metrics if self._outputs_kept() else [])
        tt.manual_seed(cfg.seed)
        if setup.resume is not None:
            state = setup.resume
            tt.set_rng_state(state["rng_state"])
            self.losses, self.elapsed = list(state["losses"]), list(state["elapsed"])
            self.lrs = list(state["lrs"]) if state.get("lrs") is not None else [None] * len(self.losses)
            self.evals = list(state["evals"]) if state.get("evals") is not None else \
                [{"step": s, "val_loss": v} for s, v in state["val_losses"]]
            if isinstance(state.get("best"), dict) and state["best"].get("metric") == self.best["metric"]:
                self.best.update(state["best"])
            self.start = state["step"]
        self.boundary_rng = tt.get_rng_state()  # the RNG state after the last completed step

    def _outputs_kept(self):
        return bool(self.setup.metrics) and getattr(self.setup.model, "manual_backward", None) is None

    @property
    def val_losses(self):
        return [(e["step"], e["val_loss"]) for e in self.evals if "val_loss" in e]

    def _write(self, path):
        names = report.eval_columns(self.evals)
        table = [[e["step"], *(e.get(n, math.nan) for n in names)] for e in self.evals]
        checkpoint.save(path, self.setup.model, self.setup.optimizer, len(self.losses), self.losses,
                        self.elapsed, self.boundary_rng, self.val_losses, lrs=self.lrs,
                        evals={"names": names, "table": table}, val_rows=self.setup.batches.val_rows,
                        best=self.best if self.best["metric"] else None)

    def save(self, path=None):
        if self.cfg.trainer.on_nonfinite == "stop" and not checkpoint.params_finite(self.setup.model):
            raise TrainingStopped(f"the weights became NaN or infinite in the update of step {len(self.losses) - 1}; "
                                  f"{self.kept()}")
        try:
            self._write(path or self.ckpt_path)
        except checkpoint.CheckpointWriteError as e:
            raise TrainingStopped(str(e)) from None
        if path is None:
            self.saved_step = len(self.losses)

    def kept(self):
        if self.saved_step is None:
            return "no checkpoint was written"
        return f"the checkpoint of step {self.saved_step} is kept: {self.ckpt_path}"

    def is_eval_step(self, step):
        b = self.setup.batches
        epoch_end = self.cfg.trainer.get("epochs") and b.per_epoch > 1 and (step + 1) % b.per_epoch == 0
        return step % self.cfg.trainer.log_every == 0 or step == self.total - 1 or bool(epoch_end)

    def log_step(self, step, loss, lr):
        """The log line of ``step``: loss, learning rate, the training batches' metrics since
        the last line, the validation loss and metrics; best.npz and early stopping."""
        setup = self.setup
        record = {"step": step, **self.window.values()}
        self.window.reset()
        if setup.batches.val is not None:
            values = evaluate(setup.model, setup.loss, *setup.batches.val, setup.metrics)
            record.update({f"val_{k}": v for k, v in values.items()})
        self.evals.append(record)
        parts = [f"step {step} loss {loss:.6g}"] + ([f"lr {lr:.4g}"] if lr is not None else [])
        parts += [f"{k} {v:.6g}" for k, v in record.items() if k != "step"]
        log.info("%s", " ".join(parts))
        self.track_best(step, record)

    def track_best(self, step, record):
        name = self.best["metric"]
        if name is None or name not in record or not math.isfinite(record[name]):
            return
        value, best = record[name], self.best["value"]
        sign = 1.0 if metrics.higher_is_better(name) else -1.0
        if best is None or sign * (value - best) > self.min_delta:
            self.best.update(value=value, step=step, stale=0)
            self.save(self.best_path)
        else:
            self.best["stale"] += 1
            if self.patience and self.best["stale"] >= self.patience:
                raise EarlyStop(f"early stopping: {name} has not improved on {best:.6g} (step {self.best['step']}) "
                                f"for {self.best['stale']} evaluations (trainer.early_stopping.patience="
                                f"{self.patience})")

    def steps(self, interrupt, bar):
        cfg, setup = self.cfg, self.setup
        model, optimizer, loss_fn, batches = setup.model, setup.optimizer, setup.loss, setup.batches
        steps, every = self.total, cfg.trainer.checkpoint_every
        keep = self._outputs_kept()
        offset = self.elapsed[-1] if self.elapsed else 0.0
        compiled = compiled_step(model, loss_fn, optimizer, keep) if cfg.trainer.compile else None
        self.warned = False
        t0 = time.perf_counter()
        for step, x, y in batches.iterate(self.start, steps):
            first = step == self.start
            output = None
            lr = current_lr(optimizer)
            started = time.perf_counter()
            if compiled is None:
                if first:
                    log.info("step %d: running the first step (each kernel compiles on its first use)...", step)
                self.phase = "compute"  # parameters and optimizer untouched so far
                result = _loss_and_backward(model, loss_fn, x, y, keep)
                loss, output = result if keep else (result, None)
                loss = loss.item()
                self.check_finite(loss, step)
                self.phase = "update"  # an interrupt from here to the count leaves a half-updated step
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                compiling = first
            else:
                traces = compiled.traces
                # the first call traces the step, the next compiles the traced program
                compiling = compiled.eager is None and (first or self._traced_last)
                if first and compiled.eager is None:
                    log.info("step %d: compiling the step (first call: tracing it, compiling the kernels it "
                             "uses)...", step)
                self.phase = "update"  # forward, backward and update in one call
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", RuntimeWarning)
                    result = compiled(x, y)
                loss, output = result if keep else (result, None)
                loss = loss.item()
                for w in caught:  # the compiler's fallback to eager, into the log once
                    if str(w.message) not in self.warned_eager:
                        self.warned_eager.add(str(w.message))
                        log.warning("%s", w.message)
                self._traced_last = compiled.traces != traces
                compiling = compiling or self._traced_last
                # a refusal for the whole function, or for this batch's signature
                self.eager_reason = compiled.eager or next(iter(compiled.eager_signatures.values()), None)
                self.check_finite(loss, step)  # after the update: the checkpoint on disk stays the last good one
            if setup.scheduler is not None:
                setup.scheduler.step()
            finished = time.perf_counter()
            if compiling:
                if compiled is not None:
                    self.compile_s = (self.compile_s or 0.0) + finished - started
                if finished - started > 0.1:
                    log.info("step %d took %.2f s (%s)", step, finished - started,
                             "compiling" if compiled is not None else "its kernels compiled")
            else:
                self.steady_steps += 1
                self.steady_s += finished - started
            if first:
                self.first_step_s = finished - started
            now = finished - t0
            self.losses.append(loss)
            self.elapsed.append(offset + now)
            self.lrs.append(lr)
            self.boundary_rng = tt.get_rng_state()
            self.phase = "done"
            if self.time_to_first_step is None:
                self.time_to_first_step = now
            if output is not None:
                self.window.add(output.cpu().numpy(), y.cpu().numpy())
            bar.set_postfix(loss=f"{loss:.4g}", lr=f"{lr:.3g}" if isinstance(lr, float) else lr,
                            refresh=False)  # and tqdm's own rate: steps/s
            bar.update(1)
            if self.is_eval_step(step):
                self.log_step(step, loss, lr)
            if every and (step + 1) % every == 0 and step + 1 < steps:
                self.save()
            if interrupt.requested:
                raise KeyboardInterrupt

    def check_finite(self, loss, step):
        if math.isfinite(loss):
            return
        if self.cfg.trainer.on_nonfinite == "stop":
            raise TrainingStopped(f"loss is {loss} at step {step} (trainer.on_nonfinite=stop); {self.kept()}")
        if not self.warned:
            log.warning("loss is %s at step %d; training on (trainer.on_nonfinite=warn)", loss, step)
            self.warned = True

    def continue_with(self):
        command = self.resume_command
        if command is None:  # not started by train.py: the run's length is what must match
            epochs = self.cfg.trainer.get("epochs")
            command = [f"trainer.epochs={epochs}" if epochs else f"trainer.steps={self.cfg.trainer.steps}"]
        command = [o for o in command if not o.startswith(("trainer.resume=", "hydra.run.dir="))]
        return " ".join(["python train.py", *map(shlex.quote, command),
                         shlex.quote(f"trainer.resume={self.ckpt_path}")])

    def interrupted(self):
        """After a KeyboardInterrupt: save the last completed step unless the interrupt
        tore a step's update, and write the outputs; the message says how to continue."""
        done = len(self.losses)
        if self.phase == "update":
            log.warning("interrupted inside the update of step %d: its weights are half-updated, so they are "
                        "not saved", done)
            where = (f"continue with {self.continue_with()} (step {self.saved_step})"
                     if self.saved_step is not None else "no checkpoint was written")
            self._finish_quietly(f"interrupted inside the update of step {done}")
            return f"interrupted inside the update of step {done}, which is not saved; {where}"
        self.save()
        self._finish_quietly(f"interrupted after step {done}")
        log.warning("interrupted after step %d: checkpoint saved to %s", done, self.ckpt_path)
        return f"checkpoint saved to {self.ckpt_path} after {done} steps; continue with {self.continue_with()}"

    def _finish_quietly(self, reason):
        try:
            self.finish(False, reason)
        except OSError as e:
            log.error("outputs not written: %s", e)

    def write_losses(self):
        report.write_losses(os.path.join(self.out_dir, "losses.csv"), self.losses, self.elapsed,
                            lrs=self.lrs, evals=self.evals)

    def finish(self, completed, reason=None):
        cfg = self.cfg
        self.write_losses()
        best = dict(self.best, path=self.best_path) if self.best["metric"] and self.best["value"] is not None else None
        metrics_ = report.write_metrics(
            os.path.join(self.out_dir, "metrics.json"), self.losses, self.elapsed, self.time_to_first_step,
            cfg.trainer.device, cfg.trainer.dtype, completed, reason, self.val_losses, self.compile_s,
            self.eager_reason, steady=(self.steady_steps, self.steady_s), first_step_s=self.first_step_s,
            evals=self.evals, best=best)
        if self.losses:
            curves = {"training": self.losses}
            if self.val_losses:
                curves["validation"] = dict(self.val_losses)
            metric_curves = {}
            for name in report.eval_columns(self.evals):
                if name != "val_loss":
                    metric_curves[name] = {e["step"]: e[name] for e in self.evals if name in e}
            lr = self.setup.optimizer.param_groups[0].get("lr")
            report.plot_losses(os.path.join(self.out_dir, "loss.png"), curves,
                               f"{type(self.setup.model).__name__}, {type(self.setup.optimizer).__name__}"
                               + (f" lr={lr:g}" if isinstance(lr, (int, float)) else ""), metric_curves)
        return metrics_


def train(cfg, setup, out_dir, resume_command=None):
    """Run the steps; write the outputs.  Returns the metrics dict; raises TrainingStopped
    (after writing the outputs) or KeyboardInterrupt (after saving a checkpoint)."""
    run = Run(cfg, setup, out_dir, resume_command)
    run._traced_last = False
    if setup.resume is not None:
        log.info("resumed from %s at step %d", cfg.trainer.resume, run.start)
        if setup.changed_hyper:
            log.info("optimizer hyperparameters from the config, not the checkpoint: %s",
                     ", ".join(f"{k}={setup.optimizer.param_groups[0][k]}" for k in setup.changed_hyper))
    global _KERNELS_CACHED
    if cfg.trainer.device == "cpu" and _KERNELS_CACHED is False:
        log.info("first run on this kernel cache (%s): the first steps compile the kernels they use, "
                 "a few seconds; later runs load them from there", kernel_cache.cache_root())
        _KERNELS_CACHED = True  # once a process
    b = setup.batches
    log.info("training %s on %s (%s): %d rows, batches of %d (%d per epoch)%s%s, %s lr=%s, steps %d..%d",
             type(setup.model).__name__, cfg.trainer.device, cfg.trainer.dtype, b.n, b.batch_size, b.per_epoch,
             f", {b.val[0].shape[0]} rows held out for validation" if b.val is not None else "",
             f", {b.classes} classes" if b.classes is not None else "",
             type(setup.optimizer).__name__, setup.optimizer.param_groups[0].get("lr"), run.start, run.total - 1)
    # updated by hand, not by iterating it: a log line redraws the bar, and an iterated bar
    # redraws a step count that is only written back every few steps
    bar = tqdm(initial=run.start, total=run.total, desc="train", file=sys.stderr,
               disable=None if cfg.trainer.progress else True, dynamic_ncols=True)
    run.phase = "done"
    reason = None
    try:
        with logging_redirect_tqdm(), DeferredInterrupt() as interrupt:
            try:
                run.steps(interrupt, bar)
            except EarlyStop as e:
                reason = str(e)
                log.info("%s", reason)
        run.save()
    except KeyboardInterrupt:
        bar.close()
        raise KeyboardInterrupt(run.interrupted()) from None
    except TrainingStopped as e:
        bar.close()
        log.error("%s", e)
        try:
            run.finish(False, str(e))
        except OSError as write_error:  # a full disk may refuse these too
            log.error("outputs not written: %s", write_error)
        raise
    finally:
        bar.close()
    metrics_ = run.finish(True, reason)
    log.info("done: loss %s -> %s (x%s) in %d steps", *(f"{metrics_[k]:.6g}" if metrics_[k] is not None else "nan"
                                                         for k in ("first_loss", "final_loss", "decay_factor")),
             metrics_["steps"])
    if metrics_["final_metrics"]:
        log.info("final metrics: %s", ", ".join(f"{k} {v:.6g}" for k, v in metrics_["final_metrics"].items()
                                                if v is not None))
    if metrics_["best"]:
        log.info("best %s %.6g at step %d: %s", metrics_["best"]["metric"], metrics_["best"]["value"],
                 metrics_["best"]["step"], run.best_path)
    return metrics_


def evaluate_checkpoint(cfg, setup, out_dir):
    """``trainer.eval_only``: the checkpoint's loss and metrics on the rows it held out
    (recorded in it), else on this config's validation split, else on the training rows;
    printed and written to eval.json."""
    state, b = setup.resume, setup.batches
    rows = state.get("val_rows")
    if rows is not None and len(rows) and int(rows.max()) < b.all[0].shape[0]:
        index = tt.tensor(rows, device=b.all[0].device)
        x, y, split = b.all[0][index], b.all[1][index], "the rows the checkpoint's run held out"
    elif b.val is not None:
        (x, y), split = b.val, "this config's validation split"
    else:
        x, y, split = b.x, b.y, "the training rows (no validation split)"
    prefix = "val_" if split != "the training rows (no validation split)" else "train_"
    values = {f"{prefix}{k}": v for k, v in evaluate(setup.model, setup.loss, x, y, setup.metrics).items()}
    result = {"checkpoint": os.path.abspath(str(cfg.trainer.resume)), "step": state["step"], "rows": int(x.shape[0]),
              "split": split, **values}
    with open(os.path.join(out_dir, "eval.json"), "w") as f:
        json.dump(result, f, indent=2, allow_nan=False)
    line = f"{cfg.trainer.resume} (after {state['step']} steps) on {split}, {x.shape[0]} rows: " + \
        ", ".join(f"{k} {v:.6g}" for k, v in values.items())
    log.info("%s", line)
    print(line)
    return result
