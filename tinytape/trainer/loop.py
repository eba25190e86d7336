"""The training loop.  A step is all-or-nothing: Ctrl-C is deferred to the step boundary,
and an interrupt that still lands inside a step never saves that step's half-done state.
A non-finite loss stops the run (``trainer.on_nonfinite=stop``) without overwriting the
last good checkpoint."""
import logging
import math
import os
import signal
import sys
import threading
import time
import warnings

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

import tinytape as tt

from ..backend.cpu import _cache as kernel_cache
from . import checkpoint, report
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


def _loss_and_backward(model, loss_fn, x, y):
    """The step's loss (0-d tensor) with the parameters' ``.grad`` filled in; a model with a
    ``manual_backward(x, y)`` (the seed's hand-written gradient) does it itself."""
    manual = getattr(model, "manual_backward", None)
    loss = manual(x, y) if manual is not None else None
    if loss is None:
        loss = loss_fn(model(x), y)
        loss.backward()
    return loss


def compiled_step(model, loss_fn, optimizer):
    """Forward, backward and update as one ``tinytape.compile``d function: traced on its
    first call (and on a new batch shape), replayed after."""
    def train_step(x, y):
        loss = _loss_and_backward(model, loss_fn, x, y)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss
    return tt.compile(train_step)


def _validation_loss(model, loss_fn, val):
    training = getattr(model, "training", None)
    if training is not None:
        model.eval()
    with tt.no_grad():
        loss = loss_fn(model(val[0]), val[1]).item()
    if training:
        model.train()
    return loss


class Run:
    """One training run's state: the history and what is on disk."""

    def __init__(self, cfg, setup, out_dir):
        self.cfg, self.setup, self.out_dir = cfg, setup, out_dir
        self.ckpt_path = os.path.join(out_dir, "checkpoint.npz")
        self.losses, self.elapsed, self.val_losses, self.start = [], [], [], 0
        self.total = total_steps(cfg, setup.batches)
        self.saved_step = None  # the step of the checkpoint this run last wrote
        self.time_to_first_step = None
        self.compile_s = None  # time spent in calls that traced and compiled the step
        self.eager_reason = None  # why the compiled step runs eagerly, when it does
        tt.manual_seed(cfg.seed)
        if setup.resume is not None:
            tt.set_rng_state(setup.resume["rng_state"])
            self.losses, self.elapsed = list(setup.resume["losses"]), list(setup.resume["elapsed"])
            self.val_losses = [tuple(v) for v in setup.resume["val_losses"]]
            self.start = setup.resume["step"]
        self.boundary_rng = tt.get_rng_state()  # the RNG state after the last completed step

    def save(self):
        if self.cfg.trainer.on_nonfinite == "stop" and not checkpoint.params_finite(self.setup.model):
            raise TrainingStopped(f"the weights became NaN or infinite in the update of step {len(self.losses) - 1}; "
                                  f"{self.kept()}")
        try:
            checkpoint.save(self.ckpt_path, self.setup.model, self.setup.optimizer, len(self.losses),
                            self.losses, self.elapsed, self.boundary_rng, self.val_losses)
        except checkpoint.CheckpointWriteError as e:
            raise TrainingStopped(str(e)) from None
        self.saved_step = len(self.losses)

    def kept(self):
        if self.saved_step is None:
            return "no checkpoint was written"
        return f"the checkpoint of step {self.saved_step} is kept: {self.ckpt_path}"

    def steps(self, interrupt, bar):
        cfg, setup = self.cfg, self.setup
        model, optimizer, loss_fn, batches = setup.model, setup.optimizer, setup.loss, setup.batches
        steps, every = self.total, cfg.trainer.checkpoint_every
        offset = self.elapsed[-1] if self.elapsed else 0.0
        compiled = compiled_step(model, loss_fn, optimizer) if cfg.trainer.compile else None
        self.warned = False
        t0 = time.perf_counter()
        for step in range(self.start, steps):
            if compiled is None:
                self.phase = "compute"  # parameters and optimizer untouched so far
                loss = _loss_and_backward(model, loss_fn, *batches(step)).item()
                self.check_finite(loss, step)
                self.phase = "update"  # an interrupt from here to the count leaves a half-updated step
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
            else:
                x, y = batches(step)
                self.phase = "update"  # forward, backward and update in one call
                traces, started = compiled.traces, time.perf_counter()
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", RuntimeWarning)
                    loss = compiled(x, y).item()
                for w in caught:  # the compiler's fallback to eager, into the log
                    log.warning("%s", w.message)
                if compiled.traces != traces:
                    self.compile_s = (self.compile_s or 0.0) + time.perf_counter() - started
                # a refusal for the whole function, or for this batch's signature
                self.eager_reason = compiled.eager or next(iter(compiled.eager_signatures.values()), None)
                self.check_finite(loss, step)  # after the update: the checkpoint on disk stays the last good one
            if setup.scheduler is not None:
                setup.scheduler.step()
            now = time.perf_counter() - t0
            self.losses.append(loss)
            self.elapsed.append(offset + now)
            self.boundary_rng = tt.get_rng_state()
            self.phase = "done"
            if self.time_to_first_step is None:
                self.time_to_first_step = now
            bar.set_postfix(loss=f"{loss:.4g}", refresh=False)
            bar.update(1)
            if step % cfg.trainer.log_every == 0 or step == steps - 1:
                if batches.val is not None:
                    self.val_losses.append((step, _validation_loss(model, loss_fn, batches.val)))
                    log.info("step %d loss %.6g val_loss %.6g", step, loss, self.val_losses[-1][1])
                else:
                    log.info("step %d loss %.6g", step, loss)
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

    def interrupted(self):
        """After a KeyboardInterrupt: save the last completed step unless the interrupt
        tore a step's update; the message says how to continue."""
        done = len(self.losses)
        if self.phase == "update":
            log.warning("interrupted inside the update of step %d: its weights are half-updated, so they are "
                        "not saved", done)
            where = (f"continue with trainer.resume={self.ckpt_path} (step {self.saved_step})"
                     if self.saved_step is not None else "no checkpoint was written")
            return f"interrupted inside the update of step {done}, which is not saved; {where}"
        self.save()
        self.write_losses()
        log.warning("interrupted after step %d: checkpoint saved to %s", done, self.ckpt_path)
        return f"checkpoint saved to {self.ckpt_path} after {done} steps; continue with trainer.resume={self.ckpt_path}"

    def write_losses(self):
        report.write_losses(os.path.join(self.out_dir, "losses.csv"), self.losses, self.elapsed, self.val_losses)

    def finish(self, completed, reason=None):
        cfg = self.cfg
        self.write_losses()
        metrics = report.write_metrics(os.path.join(self.out_dir, "metrics.json"), self.losses, self.elapsed,
                                       self.time_to_first_step, cfg.trainer.device, cfg.trainer.dtype,
                                       completed, reason, self.val_losses, self.compile_s, self.eager_reason)
        if self.losses:
            curves = {"training": self.losses}
            if self.val_losses:
                curves["validation"] = dict(self.val_losses)
            lr = self.setup.optimizer.param_groups[0].get("lr")
            report.plot_losses(os.path.join(self.out_dir, "loss.png"), curves,
                               f"{type(self.setup.model).__name__}, {type(self.setup.optimizer).__name__}"
                               + (f" lr={lr:g}" if isinstance(lr, (int, float)) else ""))
        return metrics


def train(cfg, setup, out_dir):
    """Run the steps; write the outputs.  Returns the metrics dict; raises TrainingStopped
    (after writing the outputs) or KeyboardInterrupt (after saving a checkpoint)."""
    run = Run(cfg, setup, out_dir)
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
    log.info("training %s on %s (%s): %d rows, batches of %d (%d per epoch)%s, %s lr=%s, steps %d..%d",
             type(setup.model).__name__, cfg.trainer.device, cfg.trainer.dtype, b.n, b.batch_size, b.per_epoch,
             f", {b.val[0].shape[0]} rows held out for validation" if b.val is not None else "",
             type(setup.optimizer).__name__, setup.optimizer.param_groups[0].get("lr"), run.start, run.total - 1)
    # updated by hand, not by iterating it: a log line redraws the bar, and an iterated bar
    # redraws a step count that is only written back every few steps
    bar = tqdm(initial=run.start, total=run.total, desc="train", file=sys.stderr,
               disable=None if cfg.trainer.progress else True, dynamic_ncols=True)
    run.phase = "done"
    try:
        with logging_redirect_tqdm(), DeferredInterrupt() as interrupt:
            run.steps(interrupt, bar)
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
    metrics = run.finish(True)
    log.info("done: loss %s -> %s (x%s) in %d steps", *(f"{metrics[k]:.6g}" if metrics[k] is not None else "nan"
                                                         for k in ("first_loss", "final_loss", "decay_factor")),
             metrics["steps"])
    return metrics
