"""The trainer under hostile conditions: interrupts at every point of a step, resumes with
another optimizer, NaN, bad files and values, a full disk, a read-only output folder, and
sweeps with a failing job."""
import csv
import errno
import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

import tinytape as tt
from trainer_runs import train_in_process as _train_in_process
from tinytape.trainer import ConfigError, TrainingStopped, checkpoint, prepare, run
from tinytape.trainer.model import TwoLayerNet

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONF = os.path.join(ROOT, "conf")
SMALL = ["data.D_in=20", "model.H=8", "trainer.progress=false"]
STEPS = 12
BASE = [*SMALL, "optim.lr=1e-3", "optim.momentum=0.9", "trainer.checkpoint_every=5", f"trainer.steps={STEPS}"]
EAGER = [*BASE, "trainer.compile=false"]


def config(*overrides):
    with initialize_config_dir(config_dir=CONF, version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


def losses_of(out_dir):
    with open(os.path.join(out_dir, "losses.csv")) as f:
        return [float(r["loss"]) for r in csv.DictReader(f)]


def strict_json(path):
    def refuse(name):
        raise ValueError(f"{path} holds {name}, which is not JSON")
    with open(path) as f:
        return json.load(f, parse_constant=refuse)


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("full")
    run(config(*EAGER), str(out))
    return losses_of(out)


@pytest.fixture(scope="module")
def full_compiled_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("full_compiled")
    run(config(*BASE), str(out))
    return losses_of(out)


# ---------------------------------------------------------------- interrupts

def _after(function, when):
    """``function`` that calls ``when(n)`` after its n-th call (n from 0)."""
    calls = {"n": 0}

    def wrapped(*args, **kwargs):
        result = function(*args, **kwargs)
        n = calls["n"]
        calls["n"] += 1
        when(n)
        return result
    return wrapped


def _each(generator, when):
    """``generator`` that calls ``when(n)`` after making its n-th item (n from 0)."""
    def wrapped(*args, **kwargs):
        for n, item in enumerate(generator(*args, **kwargs)):
            when(n)
            yield item
    return wrapped


# point -> (object, attribute, the call that lands in step 7 (or the first checkpoint write))
POINTS = {
    "after forward": (TwoLayerNet, "forward", 7),
    "after backward": (tt.Tensor, "backward", 7),
    "between parameter updates": (sys.modules["tinytape.optim.sgd"], "add_", 2 * 7),  # w1 updated, w2 not yet
    "after update, before the count": (tt.optim.SGD, "step", 7),
    "during checkpoint write": (tt, "save", 0),
}
# the step of the checkpoint left behind: a deferred Ctrl-C lets step 7 finish (8 steps
# done); a KeyboardInterrupt raised before the update saves the 7 completed steps; one raised
# inside the update keeps the last checkpoint (step 5) rather than save a half-updated step
SAVED_STEP = {("signal", "during checkpoint write"): 5, ("raise", "during checkpoint write"): 5,
              ("raise", "after forward"): 7, ("raise", "after backward"): 7,
              ("raise", "between parameter updates"): 5, ("raise", "after update, before the count"): 5}


def _interrupt_at(target, how):
    def interrupt(n):
        if n == target:
            if how == "signal":
                os.kill(os.getpid(), signal.SIGINT)
            else:
                raise KeyboardInterrupt
    return interrupt


def _cut_and_resume(tmp_path, overrides, saved_step, monkeypatch):
    cut = tmp_path / "cut"
    with pytest.raises(KeyboardInterrupt, match="trainer.resume="):
        run(config(*overrides), str(cut))
    monkeypatch.undo()
    ckpt = cut / "checkpoint.npz"
    assert checkpoint.load(str(ckpt))["step"] == saved_step
    assert not [f for f in os.listdir(cut) if f.endswith(".tmp")]
    run(config(*overrides, f"trainer.resume={ckpt}"), str(tmp_path / "resumed"))
    return losses_of(tmp_path / "resumed")


@pytest.mark.parametrize("how", ["signal", "raise"])
@pytest.mark.parametrize("point", list(POINTS))
def test_an_interrupt_anywhere_in_a_step_resumes_bit_for_bit(tmp_path, monkeypatch, full_run, point, how):
    owner, name, target = POINTS[point]
    monkeypatch.setattr(owner, name, _after(getattr(owner, name), _interrupt_at(target, how)))
    assert _cut_and_resume(tmp_path, EAGER, SAVED_STEP.get((how, point), 8), monkeypatch) == full_run


class _Interrupting:
    """A compiled step that calls ``when(n)`` after its n-th call."""

    def __init__(self, compiled, when):
        self.compiled, self.when, self.n = compiled, when, 0

    def __call__(self, *args):
        result = self.compiled(*args)
        self.n += 1
        self.when(self.n - 1)
        return result

    def __getattr__(self, name):  # traces, eager
        return getattr(self.compiled, name)


@pytest.mark.parametrize("how, point, saved_step", [
    ("signal", "before the step", 8), ("raise", "before the step", 7),
    ("signal", "inside the compiled step", 8), ("raise", "inside the compiled step", 5),
])
def test_an_interrupt_of_a_compiled_step_resumes_bit_for_bit(tmp_path, monkeypatch, full_compiled_run, how,
                                                              point, saved_step):
    from tinytape.trainer import data, loop
    when = _interrupt_at(7, how)
    if point == "before the step":
        monkeypatch.setattr(data.Batches, "iterate", _each(data.Batches.iterate, when))
    else:
        real = loop.compiled_step
        monkeypatch.setattr(loop, "compiled_step", lambda *a: _Interrupting(real(*a), when))
    assert _cut_and_resume(tmp_path, BASE, saved_step, monkeypatch) == full_compiled_run


def test_run_restores_the_sigint_handler(tmp_path):
    before = signal.getsignal(signal.SIGINT)
    run(config(*SMALL, "trainer.steps=2"), str(tmp_path))
    assert signal.getsignal(signal.SIGINT) is before


# ---------------------------------------------------------------- resume and the optimizer

def test_resume_takes_the_configs_hyperparameters_and_the_checkpoints_state(tmp_path):
    run(config(*BASE, "trainer.steps=5"), str(tmp_path / "a"))
    ckpt = tmp_path / "a" / "checkpoint.npz"
    setup = prepare(config(*BASE, "optim.lr=5e-4", "optim.momentum=0.5", f"trainer.resume={ckpt}"))
    group = setup.optimizer.param_groups[0]
    assert (group["lr"], group["momentum"]) == (5e-4, 0.5)
    saved = checkpoint.load(str(ckpt))["optimizer"]["state"]["state"]
    buffers = [setup.optimizer.state[p]["momentum_buffer"].numpy() for p in setup.model.parameters()]
    np.testing.assert_array_equal(buffers[0], saved[0]["momentum_buffer"].numpy())
    assert sorted(setup.changed_hyper) == ["lr", "momentum"]


def test_resume_with_the_same_config_changes_no_hyperparameter(tmp_path):
    run(config(*SMALL, "optim=adam", "trainer.steps=3"), str(tmp_path / "adam"))
    setup = prepare(config(*SMALL, "optim=adam", "trainer.steps=6", f"trainer.resume={tmp_path / 'adam' / 'checkpoint.npz'}"))
    assert setup.changed_hyper == [] and setup.optimizer.param_groups[0]["betas"] in ((0.9, 0.999), [0.9, 0.999])


def test_a_checkpoint_of_another_optimizer_is_refused(tmp_path):
    run(config(*SMALL, "optim=adam", "trainer.steps=3"), str(tmp_path / "adam"))
    ckpt = tmp_path / "adam" / "checkpoint.npz"
    with pytest.raises(ConfigError, match=r"^trainer\.resume: .* was written by a Adam optimizer, this run uses SGD"):
        prepare(config(*SMALL, "trainer.steps=6", f"trainer.resume={ckpt}"))


# ---------------------------------------------------------------- non-finite losses

DIVERGING = [*SMALL, "optim.lr=0.05", "trainer.steps=30", "trainer.checkpoint_every=2"]


def test_a_nonfinite_loss_stops_the_run_and_keeps_the_last_finite_checkpoint(tmp_path):
    with pytest.raises(TrainingStopped, match=r"loss is (nan|inf) at step (\d+)") as e:
        run(config(*DIVERGING), str(tmp_path))
    stopped_at = int(e.value.args[0].split(" at step ")[1].split()[0])
    assert "\n" not in str(e.value) and 0 < stopped_at < 30
    metrics = strict_json(tmp_path / "metrics.json")
    assert metrics["completed"] is False and f"step {stopped_at}" in metrics["reason"]
    assert metrics["steps"] == stopped_at
    state = checkpoint.load(str(tmp_path / "checkpoint.npz"))  # load refuses NaN weights
    assert state["step"] <= stopped_at and state["step"] % 2 == 0
    assert all(np.isfinite(v.numpy()).all() for v in state["model"].values())


def test_on_nonfinite_warn_trains_on_and_writes_valid_json(tmp_path):
    metrics = run(config(*DIVERGING, "trainer.on_nonfinite=warn"), str(tmp_path))
    assert metrics["steps"] == 30 and metrics["completed"] is True
    written = strict_json(tmp_path / "metrics.json")
    assert written["final_loss"] is None and written["decay_factor"] is None


# ---------------------------------------------------------------- disk full

def test_a_full_disk_during_a_checkpoint_keeps_the_previous_one(tmp_path, monkeypatch):
    def full(obj, f):
        f.write(b"PK\x03\x04 partial")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    real = tt.save
    calls = {"n": 0}

    def second_write_fails(obj, f):
        calls["n"] += 1
        return real(obj, f) if calls["n"] == 1 else full(obj, f)

    monkeypatch.setattr(tt, "save", second_write_fails)
    with pytest.raises(TrainingStopped, match=r"could not write the checkpoint of step 6 .*No space left on device.*"
                                              r"partial file is removed; the previous checkpoint is kept"):
        run(config(*SMALL, "trainer.steps=10", "trainer.checkpoint_every=3"), str(tmp_path))
    monkeypatch.undo()
    assert checkpoint.load(str(tmp_path / "checkpoint.npz"))["step"] == 3
    assert not [f for f in os.listdir(tmp_path) if f.startswith(".checkpoint-")]
    assert strict_json(tmp_path / "metrics.json")["completed"] is False


# ---------------------------------------------------------------- bad values and files, through train.py

@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    rng = np.random.default_rng(0)
    np.savez(d / "empty_dim.npz", x=np.ones((4, 0)), y=np.ones((4, 2)))
    np.savez(d / "no_outputs.npz", x=np.ones((4, 3)), y=np.ones((4, 0)))
    np.savez(d / "complex.npz", x=np.ones((4, 3)) + 1j, y=np.ones((4, 2)))
    np.savez(d / "nan.npz", x=np.full((4, 3), np.nan), y=np.ones((4, 2)))
    np.savez(d / "strings.npz", x=np.array([["a"] * 3] * 4), y=np.ones((4, 2)))
    np.savez(d / "init_inf.npz", w1=np.full((20, 8), np.inf), w2=np.ones((8, 4)))
    np.save(d / "plain.npy", np.ones(3))
    (d / "empty.npz").write_bytes(b"")
    whole = (d / "nan.npz").read_bytes()
    (d / "truncated.npz").write_bytes(whole[: len(whole) // 2])
    (d / "a_file").write_text("not a folder")
    good = d / "good"
    run(config(*SMALL, "trainer.steps=4"), str(good))
    state = checkpoint.load(str(good / "checkpoint.npz"))

    def variant(name, **changes):
        tt.save({**{k: v for k, v in state.items() if k not in ("losses", "elapsed")},
                 "losses": np.asarray(state["losses"]), "elapsed": np.asarray(state["elapsed"]), **changes},
                str(d / name))
    variant("negative_step.npz", step=-1)
    variant("short_history.npz", losses=np.asarray(state["losses"][:2]))
    variant("nan_weights.npz", model={"w1": tt.full((20, 8), float("nan")), "w2": state["model"]["w2"]})
    variant("nan_history.npz", losses=np.asarray([1.0, float("nan"), 1.0, 1.0]))
    tt.save({"w1": rng.normal(size=(2, 2))}, str(d / "not_a_checkpoint.npz"))
    return d


# (overrides, the key the one line must name); {d} is the folder of bad files
BAD = [
    (["seed=1.5"], "seed"), (["seed=-1"], "seed"), (["seed=abc"], "seed"),
    (["trainer.steps=0"], "trainer.steps"), (["trainer.progress=abc"], "trainer.progress"),
    (["+trainer.stepz=5"], "trainer.stepz"), (["trainer.on_nonfinite=ignore"], "trainer.on_nonfinite"),
    (["trainer.dtype=float16"], "trainer.dtype"),
    (["optim.lr=-1"], "optim.lr"), (["optim.momentum=-1"], "optim.momentum"),
    (["optim=adam", "optim.betas=[2,3]"], "optim.betas"), (["optim=adam", "optim.eps=-1"], "optim.eps"),
    (["model.H=1000000000"], "model.H"), (["model.H=-1"], "model.H"),
    (["data=npz"], "data.path"),
    (["data=npz", "data.path={d}/missing.npz"], "data.path"),
    (["data=npz", "data.path={d}/empty_dim.npz"], "data.path"),
    (["data=npz", "data.path={d}/no_outputs.npz"], "data.path"),
    (["data=npz", "data.path={d}/complex.npz"], "data.path"),
    (["data=npz", "data.path={d}/nan.npz"], "data.path"),
    (["data=npz", "data.path={d}/strings.npz"], "data.path"),
    (["data=npz", "data.path={d}/plain.npy"], "data.path"),
    (["data=npz", "data.path={d}/empty.npz"], "data.path"),
    (["data=npz", "data.path={d}/truncated.npz"], "data.path"),
    (["model.init={d}/init_inf.npz"], "model.init"),
    (["model.init={d}/truncated.npz"], "model.init"),
    (["model.init={d}/plain.npy"], "model.init"),
    (["trainer.resume={d}/empty.npz"], "trainer.resume"),
    (["trainer.resume={d}/truncated.npz"], "trainer.resume"),
    (["trainer.resume={d}/plain.npy"], "trainer.resume"),
    (["trainer.resume={d}/not_a_checkpoint.npz"], "trainer.resume"),
    (["trainer.resume={d}/negative_step.npz"], "trainer.resume"),
    (["trainer.resume={d}/short_history.npz"], "trainer.resume"),
    (["trainer.resume={d}/nan_weights.npz"], "trainer.resume"),
    (["trainer.resume={d}/nan_history.npz"], "trainer.resume"),
    (["trainer.resume={d}/good/checkpoint.npz", "optim=adam"], "trainer.resume"),
    (["trainer.resume={d}/good/checkpoint.npz", "model.H=9"], "trainer.resume"),
    (["model=custom", "model._target_=nosuchmodule.Net"], "model._target_"),
    (["+model.width=3"], "model.width"),
    (["model=custom"], "model._target_"),
    (["data.batch_size=0"], "data.batch_size"), (["data.val_fraction=1"], "data.val_fraction"),
    (["trainer.epochs=0"], "trainer.epochs"), (["trainer.compile=maybe"], "trainer.compile"),
    (["output_root={d}/a_file/outputs"], "output_root"),
    (["output_root=/sys/tinytape-outputs"], "output_root"),
]


@pytest.mark.parametrize("overrides, key", BAD, ids=[" ".join(o) for o, _ in BAD])
def test_a_bad_value_or_file_is_one_line_exit_2_and_nothing_written(tmp_path, capsys, bad_files, overrides, key):
    base = SMALL[1:] if "data=npz" in overrides else SMALL  # npz data has no data.D_in key
    base = [o for o in base if not o.startswith("model.")] if "model=custom" in overrides else base
    args = [*base, "trainer.steps=6", *(o.format(d=bad_files) for o in overrides)]
    if not any(a.startswith("output_root=") for a in args):
        args.append(f"output_root={tmp_path / 'outputs'}")
    status, err = _train_in_process(args, capsys)
    assert status == 2, err
    assert len(err) == 1 and err[0].startswith(f"error: {key}"), err
    assert not (tmp_path / "outputs").exists()


def test_the_memory_a_size_needs_is_said(capsys, tmp_path):
    status, err = _train_in_process(["model.H=1000000000", f"output_root={tmp_path}"], capsys)
    assert status == 2 and err[0].startswith("error: model.H: out of memory building ")
    assert "(1,004,000,000,000 numbers)" in err[0] and " need 24.1 TB, more than this machine's " in err[0]


def test_a_nonfinite_run_exits_1_with_one_line(tmp_path, capsys):
    status, err = _train_in_process([*DIVERGING, f"hydra.run.dir={tmp_path / 'run'}"], capsys)
    assert status == 1
    assert len(err) == 1 and err[0].startswith("error: loss is ") and " at step " in err[0]


def test_outputs_the_disk_refuses_are_one_line_exit_1(tmp_path, capsys, monkeypatch):
    from tinytape.trainer import report

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(report, "write_losses", full)
    status, err = _train_in_process([*SMALL, "trainer.steps=2", f"hydra.run.dir={tmp_path / 'run'}"], capsys)
    assert status == 1 and len(err) == 1
    assert err[0].startswith("error: can't write the outputs in ") and "No space left on device" in err[0]


@pytest.mark.slow  # a three-job sweep in a subprocess
def test_a_sweep_runs_past_a_failing_job_and_says_why(tmp_path):
    sweep = tmp_path / "sweep"
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "train.py"), "-m", "optim.lr=1e-6,-1,2e-6",
                           *SMALL, "trainer.steps=3", f"hydra.sweep.dir={sweep}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, proc.stderr
    with open(sweep / "summary.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["status"] for r in rows] == ["ok", "failed: optim.lr must be a positive number, got -1", "ok"]
    assert float(rows[0]["final_loss"]) > 0 and float(rows[2]["final_loss"]) > 0
    assert "error: 1 of 3 sweep jobs failed" in proc.stderr
