"""Checkpoints: one .npz holding the weights, optimizer state, step, RNG state and the
loss history, written atomically (temporary file in the same folder, then rename)."""
import json
import os
import tempfile

import numpy as np

import tinytape as tt


def _optimizer_arrays(optimizer):
    state = optimizer.state_dict()
    arrays, scalars = {}, {}
    for index, entries in state["state"].items():
        for key, value in entries.items():
            if isinstance(value, tt.Tensor):
                arrays[f"optim/{index}/{key}"] = value.detach().cpu().numpy()
            else:
                scalars[f"{index}/{key}"] = value
    meta = {"param_groups": state["param_groups"], "scalars": scalars}
    return arrays, meta


def save(path, model, optimizer, step, losses, elapsed):
    arrays, optim_meta = _optimizer_arrays(optimizer)
    meta = {"step": int(step), "optimizer": optim_meta, "rng_state": tt.get_rng_state()}
    payload = {"w1": model.w1.detach().cpu().numpy(), "w2": model.w2.detach().cpu().numpy(),
               "losses": np.asarray(losses, np.float64), "elapsed": np.asarray(elapsed, np.float64),
               "meta": np.asarray(json.dumps(meta)), **arrays}
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".checkpoint-", suffix=".npz.tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **payload)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a checkpoint is an ordinary output
        os.replace(tmp, path)  # atomic: readers see the old checkpoint or the new one
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load(path):
    """dict(w1, w2, step, losses, elapsed, optimizer_state, rng_state)."""
    with np.load(path) as f:
        meta = json.loads(str(f["meta"]))
        optim_meta = meta["optimizer"]
        state = {}
        for key in f.files:
            if key.startswith("optim/"):
                _, index, name = key.split("/", 2)
                state.setdefault(int(index), {})[name] = tt.tensor(f[key])
        for key, value in optim_meta["scalars"].items():
            index, name = key.split("/", 1)
            state.setdefault(int(index), {})[name] = value
        return {
            "w1": f["w1"].copy(), "w2": f["w2"].copy(), "step": meta["step"],
            "losses": f["losses"].tolist(), "elapsed": f["elapsed"].tolist(),
            "optimizer_state": {"state": state, "param_groups": optim_meta["param_groups"]},
            "rng_state": meta["rng_state"],
        }
