"""The Hydra trainer: run(cfg, out_dir) through hydra.compose, and train.py end to end."""
import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException

from tinytape.trainer import ConfigError, checkpoint, run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONF = os.path.join(ROOT, "conf")
SMALL = ["data.D_in=20", "model.H=8", "trainer.progress=false"]


def config(*overrides):
    with initialize_config_dir(config_dir=CONF, version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


def losses_of(out_dir):
    with open(os.path.join(out_dir, "losses.csv")) as f:
        return [float(r["loss"]) for r in csv.DictReader(f)]


def test_default_config_is_the_seed_run_and_decays_a_millionfold(tmp_path):
    cfg = config("trainer.progress=false")
    assert (cfg.data.N, cfg.data.D_in, cfg.model.H, cfg.data.D_out) == (24, 1000, 100, 4)
    assert (cfg.optim._target_, cfg.optim.lr, cfg.trainer.steps) == ("tinytape.optim.SGD", 1e-6, 200)
    metrics = run(cfg, str(tmp_path))
    assert 1e5 < metrics["first_loss"] < 1e8
    assert metrics["final_loss"] < 1e-3
    assert metrics["decay_factor"] > 1e6


def test_three_activations_give_the_same_curve(tmp_path):
    curves = {}
    for activation in ("clamp", "function", "manual"):
        out = tmp_path / activation
        run(config(*SMALL, "trainer.steps=30", "optim.lr=1e-3", f"model.activation={activation}",
                   "trainer.dtype=float64"), str(out))
        curves[activation] = losses_of(out)
    np.testing.assert_allclose(curves["function"], curves["clamp"], rtol=1e-9)
    np.testing.assert_allclose(curves["manual"], curves["clamp"], rtol=1e-9)
    assert curves["clamp"][-1] < curves["clamp"][0] / 10


@pytest.mark.parametrize("overrides", [
    ["optim=sgd", "optim.momentum=0.9", "optim.lr=1e-4"],
    ["optim=adam", "optim.lr=0.1"],
    ["trainer.dtype=float64", "optim.lr=1e-3"],
])
def test_optimizers_and_dtypes_train(tmp_path, overrides):
    metrics = run(config(*SMALL, "trainer.steps=40", *overrides), str(tmp_path))
    assert metrics["final_loss"] < metrics["first_loss"] / 10
    assert metrics["dtype"] == ("float64" if "trainer.dtype=float64" in overrides else "float32")


def test_npz_data_and_init(tmp_path):
    rng = np.random.default_rng(0)
    data, init = tmp_path / "data.npz", tmp_path / "init.npz"
    np.savez(data, x=rng.normal(size=(10, 6)), y=rng.normal(size=(10, 3)))
    np.savez(init, w1=rng.normal(size=(6, 5)) * 0.3, w2=rng.normal(size=(5, 3)) * 0.3)
    out = tmp_path / "run"
    metrics = run(config("data=npz", f"data.path={data}", "model.H=5", f"model.init={init}",
                         "optim.lr=1e-2", "trainer.steps=50", "trainer.progress=false"), str(out))
    assert metrics["final_loss"] < metrics["first_loss"]
    state = checkpoint.load(str(out / "checkpoint.npz"))["model"]
    assert tuple(state["w1"].shape) == (6, 5) and tuple(state["w2"].shape) == (5, 3)


@pytest.mark.parametrize("overrides, key", [
    (["trainer.steps=0"], "trainer.steps"),
    (["model.H=-1"], "model.H"),
    (["optim.lr=0"], "optim.lr"),
    (["trainer.dtype=float16"], "trainer.dtype"),
    (["model.activation=gelu"], "model.activation"),
    (["data=npz", "data.path=/nonexistent.npz"], "data.path"),
    (["model.init=/nonexistent.npz"], "model.init"),
    (["trainer.resume=/nonexistent.npz"], "trainer.resume"),
])
def test_invalid_values_stop_before_training(tmp_path, overrides, key):
    out = tmp_path / "run"
    base = ["trainer.progress=false"] if "data=npz" in overrides else SMALL
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")) as e:
        run(config(*base, *overrides), str(out))
    assert "\n" not in str(e.value)
    assert not out.exists()


def test_arrays_of_the_wrong_shape(tmp_path):
    data = tmp_path / "bad.npz"
    np.savez(data, x=np.ones((4, 3)), y=np.ones((5, 2)))
    with pytest.raises(ConfigError, match=r"data\.path: x must be"):
        run(config("data=npz", f"data.path={data}"), str(tmp_path / "run"))
    init = tmp_path / "init.npz"
    np.savez(init, w1=np.ones((3, 3)), w2=np.ones((8, 4)))
    with pytest.raises(ConfigError, match=r"model\.init: w1 has shape \(3, 3\) but the model needs \(20, 8\)"):
        run(config(*SMALL, f"model.init={init}"), str(tmp_path / "run"))


def test_unknown_keys_get_hydras_error():
    with pytest.raises(ConfigCompositionException, match="trainer.stepz"):
        config("trainer.stepz=3")


def test_resume_gives_the_uninterrupted_losses(tmp_path):
    base = [*SMALL, "optim.lr=1e-4", "optim.momentum=0.9"]
    run(config(*base, "trainer.steps=60"), str(tmp_path / "full"))
    run(config(*base, "trainer.steps=30"), str(tmp_path / "half"))
    ckpt = tmp_path / "half" / "checkpoint.npz"
    assert checkpoint.load(str(ckpt))["step"] == 30
    run(config(*base, "trainer.steps=60", f"trainer.resume={ckpt}"), str(tmp_path / "resumed"))
    assert losses_of(tmp_path / "resumed") == losses_of(tmp_path / "full")


def test_resume_checks_shapes_and_length(tmp_path):
    run(config(*SMALL, "trainer.steps=4"), str(tmp_path / "a"))
    ckpt = tmp_path / "a" / "checkpoint.npz"
    with pytest.raises(ConfigError, match=r"trainer\.resume: .*checkpoint\.npz: w1 has shape \(20, 8\), this run's "
                                         r"model needs \(20, 9\)"):
        run(config(*SMALL, "model.H=9", f"trainer.resume={ckpt}"), str(tmp_path / "b"))
    with pytest.raises(ConfigError, match=r"trainer\.resume: the checkpoint is at step 4, past the run's 3 steps"):
        run(config(*SMALL, "trainer.steps=3", f"trainer.resume={ckpt}"), str(tmp_path / "c"))
    assert not (tmp_path / "b").exists() and not (tmp_path / "c").exists()


def _train(*args, cwd=ROOT):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run([sys.executable, os.path.join(ROOT, "train.py"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_train_py_writes_every_output(tmp_path):
    out = tmp_path / "run"
    proc = _train("trainer.steps=5", f"hydra.run.dir={out}")
    assert proc.returncode == 0, proc.stderr
    assert (out / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(out / "losses.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["step", "loss", "elapsed_s", "lr"] and [r[0] for r in rows[1:]] == ["0", "1", "2", "3", "4"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"first_loss", "final_loss", "decay_factor", "steps_per_s", "time_to_first_step_s", "device",
            "dtype", "versions"} <= set(metrics)
    assert metrics["steps"] == 5 and metrics["device"] == "cpu"
    log = (out / "train.log").read_text()
    assert "step 0 loss" in log and "step 4 loss" in log and log.count("step 0 loss") == 1
    assert "steps: 5" in (out / "config.yaml").read_text()
    assert (out / ".hydra" / "config.yaml").exists()
    assert tuple(checkpoint.load(str(out / "checkpoint.npz"))["model"]["w1"].shape) == (1000, 100)


def test_train_py_reports_a_bad_value_in_one_line(tmp_path):
    proc = _train("trainer.steps=0", f"hydra.run.dir={tmp_path / 'run'}")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["error: trainer.steps must be a positive integer, got 0"]
    assert not (tmp_path / "run").exists()


@pytest.mark.slow  # train.py twice in a subprocess: a second Hydra start-up and kernel load
def test_multirun_writes_a_summary(tmp_path):
    sweep = tmp_path / "sweep"
    proc = _train("-m", "optim.lr=1e-6,2e-6", "trainer.steps=3", "data.D_in=50", f"hydra.sweep.dir={sweep}")
    assert proc.returncode == 0, proc.stderr
    with open(sweep / "summary.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["overrides"] for r in rows] == ["optim.lr=1e-06 trainer.steps=3 data.D_in=50",
                                              "optim.lr=2e-06 trainer.steps=3 data.D_in=50"]
    assert all(float(r["final_loss"]) > 0 for r in rows)
    assert (sweep / "summary.png").read_bytes()[:4] == b"\x89PNG"


class _Terminal:
    """A stderr that says it is a terminal, keeping what is written."""

    def __init__(self, tty):
        self.tty, self.text = tty, []

    def isatty(self):
        return self.tty

    def write(self, s):
        self.text.append(s)

    def flush(self):
        pass


@pytest.mark.parametrize("tty, progress, shown", [(True, True, True), (False, True, False), (True, False, False)])
def test_progress_bar_on_a_terminal_only(tmp_path, monkeypatch, tty, progress, shown):
    err = _Terminal(tty)
    monkeypatch.setattr(sys, "stderr", err)
    run(config(*SMALL[:-1], f"trainer.progress={str(progress).lower()}", "trainer.steps=5"), str(tmp_path))
    text = "".join(err.text)
    assert ("train: 100%" in text and "5/5" in text and "loss=" in text) is shown
