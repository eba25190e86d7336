"""The trainer as a harness for classification: integer labels, cross-entropy, metrics
beside the loss, best.npz and early stopping, eval_only, data targets (arrays, Datasets,
(train, validation) pairs), schedules of the run's length, the digits data set, Ctrl-C's
outputs and resume command, and run folders of their own."""
import json
import os
import shlex
import sys
import threading
from datetime import datetime, timedelta

import numpy as np
import pytest

import tinytape as tt
from trainer_runs import config, read_csv, train_in_process as _train_in_process
from tinytape.nn import functional as F
from tinytape.trainer import checkpoint, cli, metrics, prepare, run
from tinytape.trainer.config import ConfigError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUIET = ["trainer.progress=false"]

USER_DATA = '''
import numpy as np
import tinytape as tt
from tinytape.utils.data import Dataset, TensorDataset


def rows(n=60, seed=0, dtype="int64"):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(dtype) + (x[:, 1] > 0.5).astype(dtype)   # 3 classes
    return x, y


def arrays(n=60):                      # takes no seed, no N or D_in
    return rows(n)


def tensors():
    x, y = rows()
    return tt.tensor(x), tt.tensor(y)


class Items(Dataset):
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return tt.tensor(self.x[i]), int(self.y[i])


def dataset():
    return Items(*rows())


def pair():
    x, y = rows(80)
    return TensorDataset(tt.tensor(x[:60]), tt.tensor(y[:60])), (x[60:], y[60:])


def regression():
    x, _ = rows()
    return x, x[:, :2] * 2.0
'''


def read_json(path):
    with open(path) as f:
        return json.load(f, parse_constant=lambda c: pytest.fail(f"{path} holds {c}"))


@pytest.fixture
def user_data(tmp_path, monkeypatch):
    (tmp_path / "userdata.py").write_text(USER_DATA)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    sys.modules.pop("userdata", None)
    yield
    sys.modules.pop("userdata", None)


@pytest.fixture
def labels_npz(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(60, 4))
    y = ((x[:, 0] > 0).astype(np.int32) + (x[:, 1] > 0.5)).astype(np.int32)
    path = tmp_path / "labels.npz"
    np.savez(path, x=x, y=y)
    return path


CLASSIFY = ["model=classifier", "model.hidden=[8]", "loss=cross_entropy", "optim=adam", "optim.lr=0.05", *QUIET]


# ------------------------------------------------------------------ labels and the loss

def test_npz_labels_train_with_cross_entropy_and_metrics(tmp_path, labels_npz):
    out = tmp_path / "run"
    result = run(config("data=npz", f"data.path={labels_npz}", "data.val_fraction=0.25", "data.batch_size=15",
                        "data.shuffle=true", "trainer.epochs=6", "trainer.log_every=5", *CLASSIFY,
                        "trainer.compile=false"), str(out))  # (compiled classification: the digits tests)
    assert result["final_loss"] < result["first_loss"] / 2
    final = result["final_metrics"]
    assert set(final) == {"train_accuracy", "val_loss", "val_accuracy"}
    assert final["val_accuracy"] > 0.6 and 0 <= final["train_accuracy"] <= 1
    # the output width is the number of classes; the labels stayed integers
    state = checkpoint.load(str(out / "checkpoint.npz"))
    assert tuple(state["model"]["layers.2.weight"].shape) == (3, 8)
    rows = read_csv(out)
    assert list(rows[0]) == ["step", "loss", "elapsed_s", "lr", "val_loss", "train_accuracy", "val_accuracy"]
    measured = [int(r["step"]) for r in rows if r["val_accuracy"]]
    # every log_every steps and at each epoch's end (3 batches an epoch)
    assert measured == [0, 2, 5, 8, 10, 11, 14, 15, 17], measured
    assert all(float(r["lr"]) == 0.05 for r in rows)
    log = (out / "train.log").read_text()
    assert " val_accuracy " in log and " train_accuracy " in log and " lr 0.05 " in log
    # the held-out rows are in the checkpoint: 15 of the 60, the same the run used
    setup = prepare(config("data=npz", f"data.path={labels_npz}", "data.val_fraction=0.25", *CLASSIFY))
    np.testing.assert_array_equal(state["val_rows"], setup.batches.val_rows)
    assert len(state["val_rows"]) == 15
    # best.npz: the step whose validation accuracy was best, loadable as a checkpoint
    best = result["best"]
    assert best["metric"] == "val_accuracy" and best["value"] == max(float(r["val_accuracy"]) for r in rows
                                                                     if r["val_accuracy"])
    assert checkpoint.load(str(out / "best.npz"))["step"] == best["step"] + 1
    assert (out / "loss.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("dtype", ["uint8", "int16", "int32", "int64", "bool"])
def test_labels_of_any_integer_dtype_stay_integers(tmp_path, dtype):
    rng = np.random.default_rng(0)
    y = (rng.random(20) > 0.5).astype(dtype)
    np.savez(tmp_path / "d.npz", x=rng.normal(size=(20, 3)), y=y)
    setup = prepare(config("data=npz", f"data.path={tmp_path / 'd.npz'}", *CLASSIFY))
    assert setup.batches.y.dtype == tt.int64 and setup.batches.classes == 2
    assert setup.batches.y.tolist() == y.astype(np.int64).tolist()


def test_labels_from_a_data_target_are_not_cast(user_data):
    setup = prepare(config("data=custom", "data._target_=userdata.tensors", *CLASSIFY))
    assert setup.batches.y.dtype == tt.int64 and setup.batches.x.dtype == tt.float32
    assert setup.batches.classes == 3 and tuple(setup.model.layers[-1].weight.shape) == (3, 8)


def test_cross_entropy_takes_label_smoothing_and_class_weights(labels_npz):
    cfg = config("data=npz", f"data.path={labels_npz}", *CLASSIFY, "loss.label_smoothing=0.2",
                 "loss.weight=[1.0,2.0,0.5]", "trainer.dtype=float64")
    setup = prepare(cfg)
    x, y = setup.batches.x, setup.batches.y
    got = setup.loss(setup.model(x), y).item()
    want = F.cross_entropy(setup.model(x), y, weight=tt.tensor([1.0, 2.0, 0.5], dtype=tt.float64),
                           label_smoothing=0.2).item()
    plain = F.cross_entropy(setup.model(x), y).item()
    assert got == want and got != plain
    assert setup.loss.weight.dtype == tt.float64


def test_top_k_accuracy_counts():
    output = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.3, 0.5], [0.6, 0.1, 0.3]])
    labels = np.array([1, 1, 0, 2])
    assert metrics.correct(["accuracy", "top2_accuracy", "top3_accuracy"], output, labels) == \
        {"accuracy": 1, "top2_accuracy": 3, "top3_accuracy": 4}


@pytest.mark.slow  # another run or Hydra start-up: the default run has the quicker cases
def test_top_k_metrics_are_logged(tmp_path, labels_npz):
    result = run(config("data=npz", f"data.path={labels_npz}", "data.val_fraction=0.25", "trainer.steps=4",
                        "metrics=[accuracy,top2_accuracy]", *CLASSIFY), str(tmp_path))
    final = result["final_metrics"]
    assert final["val_top2_accuracy"] >= final["val_accuracy"]
    assert final["train_top2_accuracy"] >= final["train_accuracy"]


@pytest.mark.slow  # another run or Hydra start-up: the default run has the quicker cases
def test_regression_keeps_the_loss_alone(tmp_path):
    result = run(config("data.D_in=10", "model.H=8", "data.val_fraction=0.25", "trainer.steps=3", *QUIET),
                 str(tmp_path))
    assert set(result["final_metrics"]) == {"val_loss"} and result["best"]["metric"] == "val_loss"
    assert "val_accuracy" not in read_csv(tmp_path)[0]


# the one line each refusal gives (exit 2, nothing written)
BAD = [
    (["data=npz", "data.path={labels}", "model.H=4"], "loss: SquaredErrorSum is a regression loss but the data's y "
                                                      "holds class labels"),
    (["data=npz", "data.path={labels}", "loss=mse", "model=classifier"], "loss: MSELoss is a regression loss"),
    (["data.D_in=10", "model=classifier", "loss=cross_entropy"], "loss: CrossEntropyLoss needs integer class labels"),
    (["data=npz", "data.path={floaty}", "model=classifier", "loss=cross_entropy"],
     "data.path: x must be (N, D_in) and y (N, D_out), or integer class labels (N,)"),
    (["data=npz", "data.path={negative}", "model=classifier", "loss=cross_entropy"],
     "data: y holds the class label -1"),
    (["data=npz", "data.path={labels}", "model=classifier", "loss=cross_entropy", "loss.weight=[1,2]"],
     "loss.weight: 2 class weights for 3 classes"),
    (["data=npz", "data.path={labels}", "model=classifier", "loss=cross_entropy", "metrics=[top4_accuracy]"],
     "metrics: top4_accuracy needs 1 <= K <= the number of classes (3)"),
    (["data.D_in=10", "model.H=4", "metrics=[accuracy]"], "metrics: accuracy needs class labels"),
    (["data=npz", "data.path={labels}", "model=classifier", "loss=cross_entropy", "trainer.best_metric=val_loss"],
     "trainer.best_metric: val_loss is not measured in this run"),
    (["data.D_in=10", "model.H=4", "trainer.early_stopping.patience=3"], "trainer.early_stopping.patience"),
    (["data.D_in=10", "model.H=4", "+trainer.early_stopping.wait=3"], "trainer.early_stopping.wait: unknown key"),
    (["data.D_in=10", "model.H=4", "trainer.eval_only=true"], "trainer.eval_only needs the checkpoint"),
    (["model.H=10**9"], "model.H must be a positive integer, got '10**9'"),
    (["data=custom", "data._target_=userdata.arrays", "+data.bogus=1", "model=classifier", "loss=cross_entropy"],
     "data.bogus: userdata.arrays takes no argument 'bogus'"),
    (["data=custom", "data._target_=userdata.pair", "data.val_fraction=0.2", "model=classifier",
      "loss=cross_entropy"], "data.val_fraction: userdata.pair gives its own validation split"),
]


FAST_BAD = (0, 2, 5, 13)  # the default run's cases; the rest under slow
BAD_IDS = [" ".join(o) for o, _ in BAD]
BAD = [case if i in FAST_BAD else pytest.param(*case, marks=pytest.mark.slow) for i, case in enumerate(BAD)]


@pytest.mark.parametrize("overrides, line", BAD, ids=BAD_IDS)
def test_labels_that_dont_fit_are_one_line_and_nothing_written(tmp_path, capsys, user_data, overrides, line):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 3))
    np.savez(tmp_path / "labels.npz", x=x, y=np.arange(12) % 3)
    np.savez(tmp_path / "floaty.npz", x=x, y=(np.arange(12) % 3).astype(np.float32))
    np.savez(tmp_path / "negative.npz", x=x, y=np.arange(12) % 3 - 1)
    args = [o.format(labels=tmp_path / "labels.npz", floaty=tmp_path / "floaty.npz",
                     negative=tmp_path / "negative.npz") for o in overrides]
    status, err = _train_in_process([*args, *QUIET, "trainer.steps=2", f"output_root={tmp_path / 'outputs'}"], capsys)
    assert status == 2, err
    assert len(err) == 1 and err[0].startswith(f"error: {line}"), err
    assert not (tmp_path / "outputs").exists()


def test_digits_without_scikit_learn_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    status, err = _train_in_process(["data=digits", "model=classifier", "loss=cross_entropy", *QUIET,
                                     f"output_root={tmp_path / 'outputs'}"], capsys)
    assert status == 2 and len(err) == 1
    assert err[0].startswith("error: data: the digits data set needs scikit-learn: pip install -e '.[data]'"), err
    assert not (tmp_path / "outputs").exists()


@pytest.mark.slow  # another run or Hydra start-up: the default run has the quicker cases
def test_digits_are_ten_classes_of_64_pixels():
    setup = prepare(config("data=digits", "model=classifier", "loss=cross_entropy", *QUIET))
    b = setup.batches
    assert b.classes == 10 and tuple(b.x.shape) == (1438, 64) and tuple(b.val[0].shape) == (359, 64)
    assert b.y.dtype == tt.int64 and 0 <= b.x.min().item() and b.x.max().item() <= 1
    assert (b.batch_size, b.per_epoch, b.drop_last) == (32, 44, True)


@pytest.mark.parametrize("model", [["model=cnn", "model.channels=[4]"], ["model=gru", "model.H=8"]],
                         ids=["cnn", "gru"])
def test_the_cnn_and_the_gru_train_on_digits(tmp_path, capsys, model):
    args = ["data=digits", *model, "loss=cross_entropy", "optim=adam", "optim.lr=1e-2",
            "trainer.steps=3", "trainer.compile=false", *QUIET, f"output_root={tmp_path / 'outputs'}"]
    status, err = _train_in_process(args, capsys)
    assert status == 0, err
    (out,) = (tmp_path / "outputs").glob("*/*")
    assert read_json(out / "metrics.json")["final_metrics"]["val_accuracy"] is not None


@pytest.mark.slow
def test_the_gru_compiles_and_learns_the_digits(tmp_path, capsys):
    args = ["data=digits", "model=gru", "model.H=32", "loss=cross_entropy", "optim=adamw", "optim.lr=1e-2",
            "trainer.epochs=3", *QUIET, f"output_root={tmp_path / 'outputs'}"]
    status, err = _train_in_process(args, capsys)
    assert status == 0, err
    (out,) = (tmp_path / "outputs").glob("*/*")
    metrics = read_json(out / "metrics.json")
    assert metrics["compiled"] is True and metrics["eager_reason"] is None
    assert metrics["final_metrics"]["val_accuracy"] > 0.7


# ------------------------------------------------------------------ data targets

@pytest.mark.parametrize("target", ["arrays", "tensors", "dataset"])
def test_a_target_gives_arrays_tensors_or_a_dataset(tmp_path, user_data, target):
    # data=random's N, D_in, D_out and seed are not passed to a function that doesn't take them
    cfg = config(f"data._target_=userdata.{target}", "data.val_fraction=0.25", *CLASSIFY)
    setup = prepare(cfg)
    assert setup.batches.n == 45 and setup.batches.classes == 3 and setup.batches.y.dtype == tt.int64
    x, y = prepare(config("data=custom", "data._target_=userdata.arrays", *CLASSIFY)).batches.dataset.tensors
    assert np.array_equal(setup.batches.all[0].numpy(), x.numpy()) and np.array_equal(setup.batches.all[1].numpy(),
                                                                                      y.numpy())


@pytest.mark.slow  # another run or Hydra start-up: the default run has the quicker cases
def test_a_target_gives_its_own_validation_split(tmp_path, user_data):
    result = run(config("data=custom", "data._target_=userdata.pair", "data.batch_size=20", "trainer.steps=9",
                        "trainer.log_every=4", *CLASSIFY), str(tmp_path))
    setup = prepare(config("data=custom", "data._target_=userdata.pair", *CLASSIFY))
    assert setup.batches.n == 60 and setup.batches.val[0].shape[0] == 20 and setup.batches.val_rows is None
    assert result["final_metrics"]["val_accuracy"] is not None


@pytest.mark.slow  # another run or Hydra start-up: the default run has the quicker cases
def test_a_regression_target_with_a_users_loss(tmp_path, user_data):
    result = run(config("data=custom", "data._target_=userdata.regression", "model=classifier", "loss=mse",
                        "optim=adam", "optim.lr=1e-2", "trainer.steps=20", *QUIET), str(tmp_path))
    assert result["final_loss"] < result["first_loss"] and result["final_metrics"] == {}


def test_batches_come_through_a_dataloader(monkeypatch, labels_npz):
    from tinytape.trainer import data
    setup = prepare(config("data=npz", f"data.path={labels_npz}", "data.batch_size=16", "data.shuffle=true",
                           *CLASSIFY))
    made = []
    real = data.DataLoader

    def loader(*args, **kwargs):
        made.append(kwargs)
        return real(*args, **kwargs)
    monkeypatch.setattr(data, "DataLoader", loader)
    seen = [y for _, _, y in setup.batches.iterate(0, 8)]
    assert len(made) == 2  # one loader an epoch (4 batches of 16, 16, 16, 12)
    assert [len(y) for y in seen] == [16, 16, 16, 12] * 2
    assert sorted(np.concatenate([y.numpy() for y in seen[:4]]).tolist()) == sorted(setup.batches.y.tolist())
    # a batch is a function of its step: resuming at step 5 gives the batches of the full pass
    again = [y.tolist() for _, _, y in setup.batches.iterate(5, 8)]
    assert again == [y.tolist() for y in seen[5:8]]
    # drop_last: three batches of 16 an epoch, one batch shape
    dropped = prepare(config("data=npz", f"data.path={labels_npz}", "data.batch_size=16", "data.shuffle=true",
                             "data.drop_last=true", *CLASSIFY)).batches
    assert dropped.per_epoch == 3 and [len(y) for _, _, y in dropped.iterate(0, 6)] == [16] * 6


# ------------------------------------------------------------------ schedules, best, early stopping, eval

def test_a_schedule_spans_the_runs_steps(tmp_path, labels_npz):
    cfg = config("data=npz", f"data.path={labels_npz}", "data.batch_size=20", "trainer.epochs=4",
                 "scheduler=cosine", "trainer.compile=false", *CLASSIFY)
    assert cfg.scheduler.T_max is None
    setup = prepare(cfg)
    assert setup.scheduler.T_max == 12  # 4 epochs of 3 batches
    run(cfg, str(tmp_path))
    lrs = [float(r["lr"]) for r in read_csv(tmp_path)]
    assert len(lrs) == 12 and lrs[0] == 0.05
    np.testing.assert_allclose(lrs, [0.025 * (1 + np.cos(np.pi * s / 12)) for s in range(12)], rtol=1e-12)
    given = config("data=npz", f"data.path={labels_npz}", "data.batch_size=20", "trainer.epochs=4",
                   "scheduler=cosine", "scheduler.T_max=5", *CLASSIFY)
    assert prepare(given).scheduler.T_max == 5  # unless the config sets it


def test_early_stopping_ends_the_run_when_the_metric_stalls(tmp_path, labels_npz):
    result = run(config("data=npz", f"data.path={labels_npz}", "data.val_fraction=0.25", "optim.lr=1e-12",
                        "trainer.steps=40", "trainer.log_every=2", "trainer.early_stopping.patience=3",
                        "trainer.compile=false",
                        *[o for o in CLASSIFY if not o.startswith("optim.lr")]), str(tmp_path))
    # lr 1e-12 moves nothing: the accuracy of step 0 is the best, three evaluations later it stops
    assert result["completed"] is True and result["reason"].startswith("early stopping: val_accuracy has not improved")
    assert result["steps"] == 7 and result["best"]["step"] == 0
    assert checkpoint.load(str(tmp_path / "checkpoint.npz"))["step"] == 7


def test_eval_only_prints_and_writes_a_checkpoints_metrics(tmp_path, labels_npz, capsys):
    base = ["data=npz", f"data.path={labels_npz}", "data.val_fraction=0.25", *CLASSIFY]
    trained = run(config(*base, "trainer.steps=12", "trainer.log_every=3", "trainer.compile=false"),
                  str(tmp_path / "train"))
    best = tmp_path / "train" / "best.npz"
    result = run(config(*base, "trainer.eval_only=true", f"trainer.resume={best}"), str(tmp_path / "eval"))
    assert result["val_accuracy"] == trained["best"]["value"] and result["rows"] == 15
    assert result["step"] == trained["best"]["step"] + 1
    assert read_json(tmp_path / "eval" / "eval.json") == result
    assert f"val_accuracy {result['val_accuracy']:.6g}" in capsys.readouterr().out
    assert not (tmp_path / "eval" / "checkpoint.npz").exists()
    # the held-out rows come from the checkpoint, even when this config splits otherwise
    other = run(config(*base[:-len(CLASSIFY)], "data.val_fraction=0.5", *CLASSIFY, "trainer.eval_only=true",
                       f"trainer.resume={best}"), str(tmp_path / "eval2"))
    assert other["rows"] == 15 and other["val_accuracy"] == result["val_accuracy"]


@pytest.mark.slow  # another run or Hydra start-up: the default run has the quicker cases
def test_a_classifier_resumes_bit_for_bit_with_its_metrics(tmp_path, labels_npz):
    base = ["data=npz", f"data.path={labels_npz}", "data.val_fraction=0.25", "data.batch_size=15",
            "data.shuffle=true", "trainer.log_every=3", *CLASSIFY]
    run(config(*base, "trainer.steps=15"), str(tmp_path / "full"))
    run(config(*base, "trainer.steps=7"), str(tmp_path / "half"))
    run(config(*base, "trainer.steps=15", f"trainer.resume={tmp_path / 'half' / 'checkpoint.npz'}"),
        str(tmp_path / "resumed"))
    full, resumed = read_csv(tmp_path / "full"), read_csv(tmp_path / "resumed")
    for column in ("loss", "lr", "val_loss", "val_accuracy"):
        assert [r[column] for r in resumed] == [r[column] for r in full], column
    assert read_json(tmp_path / "resumed" / "metrics.json")["best"]["value"] == \
        read_json(tmp_path / "full" / "metrics.json")["best"]["value"]


# ------------------------------------------------------------------ progress, timing, endings, folders

def test_the_first_step_says_it_compiles_and_the_rate_leaves_it_out(tmp_path, caplog):
    caplog.set_level("INFO", logger="tinytape.trainer")
    result = run(config("data.D_in=10", "model.H=4", "trainer.steps=30", *QUIET), str(tmp_path))
    assert "step 0: compiling the step (first call" in caplog.text
    assert result["first_step_s"] > 0 and result["compile_s"] >= result["first_step_s"]
    rows = read_csv(tmp_path)
    # steady: the steps that compiled nothing, so at least the rate of steps 1..29 with compiling included
    assert result["steps_per_s"] >= 29 / (float(rows[-1]["elapsed_s"]) - float(rows[0]["elapsed_s"])) * 0.999


def test_the_eager_fallback_is_said_once(tmp_path):
    result = run(config("data.D_in=10", "model.H=4", "model=mlp_function", "trainer.steps=6", *QUIET), str(tmp_path))
    assert result["compiled"] is False
    assert (tmp_path / "train.log").read_text().count("running it eagerly") == 1


def test_ctrl_c_leaves_the_outputs_and_a_command_that_continues(tmp_path, capsys, monkeypatch):
    from tinytape.trainer import data

    real = data.Batches.iterate

    def interrupted(self, start, stop):
        for item in real(self, start, stop):
            if item[0] == 5 and start == 0:
                raise KeyboardInterrupt
            yield item
    monkeypatch.setattr(data.Batches, "iterate", interrupted)
    args = ["data.D_in=10", "model.H=4", "optim.lr=1e-4", "trainer.steps=12", *QUIET]
    status, err = _train_in_process([*args, f"output_root={tmp_path / 'outputs'}"], capsys)
    assert status == 130
    (out,) = [p for p in (tmp_path / "outputs").glob("*/*")]
    assert {"checkpoint.npz", "metrics.json", "loss.png", "losses.csv"} <= set(os.listdir(out))
    saved = read_json(out / "metrics.json")
    assert saved["completed"] is False and saved["steps"] == 5 and saved["reason"] == "interrupted after step 5"
    command = err[-1].split("continue with ", 1)[1]
    words = shlex.split(command)
    assert words[:2] == ["python", "train.py"] and "trainer.steps=12" in words
    assert words[-1] == f"trainer.resume={out / 'checkpoint.npz'}"
    status, err = _train_in_process(words[2:], capsys)  # the printed command, as printed
    assert status == 0, err
    (again,) = [p for p in (tmp_path / "outputs").glob("*/*") if p != out]
    assert read_json(again / "metrics.json")["steps"] == 12


def test_claims_of_one_folder_get_folders_of_their_own(tmp_path):
    folder = str(tmp_path / "day" / "12-00-00")
    got = []
    threads = [threading.Thread(target=lambda: got.append(cli.claim(folder))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == sorted([folder] + [f"{folder}-{n}" for n in range(2, 7)])


@pytest.mark.slow  # another run or Hydra start-up: the default run has the quicker cases
def test_a_run_started_in_a_taken_second_gets_its_own_folder(tmp_path, capsys):
    # every folder the next minute could name is taken, as by runs started in the same second
    root = tmp_path / "outputs"
    now = datetime.now()
    taken = {now + timedelta(seconds=s) for s in range(-2, 60)}
    for t in taken:
        (root / t.strftime("%Y-%m-%d") / t.strftime("%H-%M-%S")).mkdir(parents=True, exist_ok=True)
    status, err = _train_in_process(["data.D_in=10", "model.H=4", "trainer.steps=2", *QUIET,
                                     f"output_root={root}"], capsys)
    assert status == 0, err
    written = [p for p in root.glob("*/*") if any(p.iterdir())]
    assert len(written) == 1 and written[0].name.endswith("-2")


@pytest.mark.slow  # the README's digits run: about 1800 steps
def test_digits_reach_97_percent(tmp_path):
    result = run(config("data=digits", "model=classifier", "loss=cross_entropy", "optim=adamw", "optim.lr=3e-3",
                        "scheduler=cosine", "trainer.epochs=40", *QUIET), str(tmp_path))
    assert result["final_metrics"]["val_accuracy"] >= 0.97
    assert result["best"]["value"] >= 0.97


def test_config_error_type():
    with pytest.raises(ConfigError, match="metrics: unknown metric 'precision'"):
        metrics.resolve(["precision"], 3)
