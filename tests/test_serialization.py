"""tinytape.save / tinytape.load: tensors and nested containers round-trip exactly, on
either device, and a file that is not one (or that would run code) is refused."""
import base64
import io
import math
import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import tinytape as tt
from pytorch_answers import pytorch
from tinytape import nn


def round_trip(obj, **load_kwargs):
    buffer = io.BytesIO()
    tt.save(obj, buffer)
    buffer.seek(0)
    return tt.load(buffer, **load_kwargs)


TENSORS = {
    "float32": lambda: tt.tensor([[1.5, -2.25], [3.0, 1e-30]]),
    "float64": lambda: tt.tensor([math.pi, -1e300], dtype=tt.float64),
    "int64": lambda: tt.tensor([2 ** 62, -3]),
    "bool": lambda: tt.tensor([True, False]),
    "scalar": lambda: tt.tensor(7.0),
    "empty": lambda: tt.zeros(0, 3),
    "transposed": lambda: tt.arange(6.0).reshape(2, 3).t(),
    "special": lambda: tt.tensor([float("inf"), float("nan"), -0.0]),
}


@pytest.mark.parametrize("name", sorted(TENSORS))
def test_tensor_round_trip_is_exact(name):
    t = TENSORS[name]()
    back = round_trip(t)
    assert type(back) is tt.Tensor and back.dtype is t.dtype and back.shape == t.shape
    np.testing.assert_array_equal(back.numpy(), t.numpy())
    assert np.signbit(back.numpy()).tolist() == np.signbit(t.numpy()).tolist()


def test_nested_structure_round_trip():
    obj = OrderedDict([
        ("z", 1), ("a", [1.5, float("inf"), float("-inf"), None, True, "text", (1, (2, 3))]),
        ("nested", {0: {"step": 3, "buf": tt.ones(2)}, 1: {}}),
        ("nan", float("nan")), ("array", np.arange(6, dtype=np.int32).reshape(2, 3)),
        ("dtype", tt.float64), ("device", tt.device("cpu")), ("scalar", np.float64(2.5)),
    ])
    back = round_trip(obj)
    assert type(back) is OrderedDict and list(back) == list(obj)
    assert back["a"][:3] == [1.5, float("inf"), float("-inf")] and back["a"][3:] == [None, True, "text", (1, (2, 3))]
    assert type(back["a"][6]) is tuple and type(back["a"][6][1]) is tuple
    assert set(back["nested"]) == {0, 1} and back["nested"][0]["step"] == 3  # int keys stay ints
    assert back["nested"][0]["buf"].tolist() == [1.0, 1.0] and back["nested"][1] == {}
    assert math.isnan(back["nan"]) and back["array"].dtype == np.int32 and back["array"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert back["dtype"] is tt.float64 and back["device"] == tt.device("cpu") and back["scalar"] == 2.5
    assert type(round_trip({"x": 1})) is dict


def test_parameters_and_requires_grad_are_kept():
    p = nn.Parameter(tt.tensor([1.0, 2.0]))
    q = tt.tensor([3.0], requires_grad=True)
    back = round_trip({"p": p, "q": q, "frozen": nn.Parameter(tt.ones(1), requires_grad=False)})
    assert type(back["p"]) is nn.Parameter and back["p"].requires_grad and back["p"].tolist() == [1.0, 2.0]
    assert type(back["q"]) is tt.Tensor and back["q"].requires_grad and back["q"].is_leaf
    assert not back["frozen"].requires_grad


def test_model_and_optimizer_checkpoint_through_a_path(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    opt = tt.optim.Adam(model.parameters(), lr=0.01)
    model(tt.randn(5, 3)).sum().backward()
    opt.step()
    path = tmp_path / "checkpoint.pt"
    tt.save({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 4}, path)
    assert os.listdir(tmp_path) == ["checkpoint.pt"]  # written at the path as given
    state = tt.load(str(path))
    fresh = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    fresh.load_state_dict(state["model"])
    fresh_opt = tt.optim.Adam(fresh.parameters())
    fresh_opt.load_state_dict(state["optim"])
    x = tt.randn(2, 3)
    np.testing.assert_array_equal(fresh(x).detach().numpy(), model(x).detach().numpy())
    assert fresh_opt.param_groups[0]["lr"] == 0.01 and fresh_opt.param_groups[0]["betas"] == (0.9, 0.999)
    assert state["epoch"] == 4
    first = fresh.parameters().__next__()
    np.testing.assert_array_equal(fresh_opt.state[first]["exp_avg"].numpy(),
                                  opt.state[model[0].weight]["exp_avg"].numpy())


@pytest.mark.gpu
@pytest.mark.parametrize("map_location, expected", [
    (None, "cuda"), ("cpu", "cpu"), (tt.device("cpu"), "cpu"), ({"cuda:0": "cpu"}, "cpu"),
    (lambda t, saved: t if saved == "cuda:0" else None, "cpu"),
])
def test_map_location_for_a_cuda_tensor(map_location, expected):
    back = round_trip({"w": tt.tensor([1.0, 2.0], device="cuda")}, map_location=map_location)
    assert back["w"].device.type == expected and back["w"].cpu().tolist() == [1.0, 2.0]


@pytest.mark.gpu
def test_map_location_moves_a_cpu_tensor_to_cuda():
    back = round_trip(nn.Linear(2, 2).state_dict(), map_location="cuda")
    assert all(v.device.type == "cuda" for v in back.values())


class _Exploit:
    """Unpickling this would create a file: a loader that unpickles runs code."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _npz_without_structure(path, marker):
    np.savez(open(path, "wb"), w=np.ones(2))


def _torch_style_pickle(path, marker):
    with open(path, "wb") as f:
        pickle.dump({"w": _Exploit(marker)}, f)


def _npz_with_pickled_object(path, marker):
    np.savez(open(path, "wb"), __structure__=np.array([_Exploit(marker)], dtype=object))


def _bad_structure(path, marker):
    np.savez(open(path, "wb"), __structure__=np.frombuffer(b"{not json", dtype=np.uint8))


def _other_format(path, marker):
    np.savez(open(path, "wb"), __structure__=np.frombuffer(b'{"format": "other/9", "object": 1}', dtype=np.uint8))


BAD_FILES = {
    "text": (lambda path, marker: open(path, "w").write("hello\n"), "not an .npz archive"),
    "empty": (lambda path, marker: open(path, "wb").close(), "is not a file written by tinytape.save"),
    "npy": (lambda path, marker: np.save(open(path, "wb"), np.ones(3)), "single numpy array"),
    "npz_without_structure": (_npz_without_structure, "without its __structure__ entry"),
    "pickle": (_torch_style_pickle, "not an .npz archive"),
    "pickled_structure": (_npz_with_pickled_object, "is not a file written by tinytape.save"),
    "bad_structure": (_bad_structure, "unreadable structure entry"),
    "other_format": (_other_format, "unknown format 'other/9'"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_file_that_is_not_ours_is_refused_without_running_code(name, tmp_path):
    write, message = BAD_FILES[name]
    path, marker = tmp_path / "file.bin", tmp_path / "code-ran"
    write(str(path), str(marker))
    with pytest.raises(RuntimeError, match=message) as info:
        tt.load(path)
    assert "file.bin" in str(info.value) and "\n" not in str(info.value)
    assert not marker.exists()


def _torch_save_archive(torch):
    """The zip archive torch.save writes for {"w": ones(2)}: its members, base64 (but the
    random serialization id, which only makes two saves differ)."""
    buffer = io.BytesIO()
    torch.save({"w": torch.ones(2)}, buffer)
    with zipfile.ZipFile(buffer) as archive:
        return {name: base64.b64encode(archive.read(name)).decode() for name in archive.namelist()
                if not name.endswith("serialization_id")}


def test_torch_save_file_is_refused(tmp_path):
    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in pytorch(_torch_save_archive).items():
            archive.writestr(name, base64.b64decode(data))
    with pytest.raises(RuntimeError, match="is not a file written by tinytape.save"):
        tt.load(path)
    with pytest.raises(FileNotFoundError):
        tt.load(tmp_path / "missing.pt")


@pytest.mark.parametrize("obj, message", [
    ({(1, 2): tt.ones(1)}, "dict keys must be str, int, float, bool or None, got tuple"),
    (np.array([object()]), "arrays of Python objects can't be saved"),
])
def test_unsupported_objects_are_refused_on_save(obj, message):
    with pytest.raises(TypeError, match=message):
        tt.save(obj, io.BytesIO())
