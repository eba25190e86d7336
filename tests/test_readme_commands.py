"""Every `python train.py ...` command the README shows, run as written (step counts capped
where the text allows), in a folder holding the files the commands name: `my.npz`,
`weights.npz`, the README's `mydata.py` and `mynet.py`, a `my_conf` folder, and the
checkpoints of an earlier run in place of the README's dated paths."""
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
# a GPU command (trainer.device=cuda) runs in the gpu set's simulator tests, not here
NEEDS_A_GPU = ("trainer.device=cuda",)


def _commands():
    """The README's train.py commands: bash-block lines (with their continuations) and
    inline ones (a backticked span, possibly over several lines)."""
    found = []
    for block in re.findall(r"```bash\n(.*?)```", README, re.S):
        text = block.replace("\\\n", " ")
        for line in text.splitlines():
            line = line.split("#")[0].strip()
            if line.startswith("python train.py") or line.startswith("pip install -e . && python train.py"):
                found.append(line.replace("pip install -e . && ", ""))
    for span in re.findall(r"`(python train\.py[^`]*)`", README):
        found.append(" ".join(span.split()))
    commands = []
    for c in found:
        if "<" in c or "..." in c or c.endswith("trainer.resume=") or any(g in c for g in NEEDS_A_GPU):
            continue  # a pattern (`<the run's overrides>`, `trainer.resume=...`), not a command
        if c not in commands:
            commands.append(c)
    return commands


def _python_block_after(marker):
    at = README.index(marker)
    return re.search(r"```python\n(.*?)```", README[at:], re.S).group(1)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("readme")
    rng = np.random.default_rng(0)
    np.savez(d / "my.npz", x=rng.standard_normal((24, 1000)).astype(np.float32),
             y=rng.standard_normal((24, 4)).astype(np.float32))
    np.savez(d / "weights.npz", w1=rng.standard_normal((1000, 100)).astype(np.float32),
             w2=rng.standard_normal((100, 4)).astype(np.float32))
    (d / "mydata.py").write_text(_python_block_after("**Your own data**"))
    (d / "mynet.py").write_text(_python_block_after("**Your own model**"))
    (d / "my_conf" / "model").mkdir(parents=True)
    (d / "my_conf" / "model" / "mynet.yaml").write_text("_target_: mynet.MyNet\nwidth: 64\n")
    # the dated checkpoints the README names, made by short runs of the same kinds
    for args, where in [([], "outputs/2026-11-22/10-00-00"),
                        (["data=digits", "model=classifier", "loss=cross_entropy", "optim=adamw",
                          "trainer.steps=5"], "outputs/DATE/TIME")]:
        done = _run(["python", "train.py", "trainer.steps=5", *args, f"hydra.run.dir={where}"], d)
        assert done.returncode == 0, done.stderr[-2000:]
    return d


def _run(argv, cwd):
    argv = [sys.executable, str(ROOT / "train.py"), *argv[2:]]
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=600)


def _capped(argv):
    """The command with its length cut to a few steps (the README's run lengths are what
    the text describes; a test needs only that the command runs)."""
    if "trainer.eval_only=true" in argv:
        return argv
    keep = [a for a in argv if not a.startswith(("trainer.steps=", "trainer.epochs="))]
    if any(a.startswith("trainer.resume=") for a in argv):
        return keep + ["trainer.steps=8"]  # past the checkpoint's 5 steps
    return keep + (["trainer.epochs=1"] if any(a.startswith("trainer.epochs=") for a in argv) else ["trainer.steps=4"])


def test_the_readme_shows_the_commands_this_test_runs():
    commands = _commands()
    assert len(commands) >= 12
    assert "python train.py" in commands and any("data=digits" in c for c in commands)


@pytest.mark.slow
@pytest.mark.parametrize("command", _commands())
def test_every_readme_command_runs_as_written(workdir, command):
    argv = _capped(shlex.split(command))
    done = _run(argv, workdir)
    assert done.returncode == 0, f"{command}\n{done.stderr[-3000:]}"
