"""tinytape.nn.Module and Parameter: registration, walking, modes, state dicts, device and
dtype moves, printing — against PyTorch's behaviour (and PyTorch itself where installed)."""
import copy
from collections import OrderedDict

import numpy as np
import pytest

import tinytape as tt
from pytorch_answers import pytorch
from tinytape import nn


def two_part(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Dropout(0.25))
            self.head = lib.nn.Linear(4, 2, bias=False)
    return Net()


def build(lib):
    """The same model in tinytape or torch: a Sequential, a custom Module, a ModuleList,
    a buffer and a direct Parameter."""
    class Model(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.features = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Flatten())
            self.blocks = lib.nn.ModuleList([lib.nn.Linear(4, 4) for _ in range(3)] + [lib.nn.Sigmoid()])
            self.scale = lib.nn.Parameter(lib.ones(4))
            self.register_buffer("running", lib.zeros(4))
            self.register_buffer("scratch", lib.zeros(2), persistent=False)
            self.out = lib.nn.Linear(4, 2, bias=False)

        def forward(self, x):
            x = self.features(x)
            for block in self.blocks:
                x = block(x)
            return self.out(x * self.scale + self.running)
    return Model()


# ---------------------------------------------------------------- Parameter


def test_parameter_is_a_leaf_tensor_sharing_storage():
    data = tt.tensor([1.0, 2.0])
    p = nn.Parameter(data)
    assert isinstance(p, tt.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf and p.grad_fn is None
    with tt.no_grad():
        p.add_(1.0)
    assert data.tolist() == [2.0, 3.0]  # same storage, as PyTorch's Parameter(data)
    assert not nn.Parameter(tt.zeros(2), requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)
    with pytest.raises(TypeError, match="expected a Tensor"):
        nn.Parameter([1.0, 2.0])


def test_parameter_repr_matches_pytorch():
    values = [[1.5, -2.0], [0.25, 3.0]]

    def printed(lib):
        return (repr(lib.nn.Parameter(lib.tensor(values))),
                str(lib.nn.Parameter(lib.tensor(values), requires_grad=False)))
    assert printed(tt) == pytorch(printed)


PARAMETER_OPS = [
    ("add", lambda p, t: p + t),
    ("radd", lambda p, t: t + p),
    ("mul scalar", lambda p, t: 2.0 * p),
    ("matmul", lambda p, t: p @ t.reshape(3, 1)),
    ("mm into", lambda p, t: t.reshape(1, 3).mm(p.reshape(3, 1))),
    ("pow", lambda p, t: p ** 2),
    ("clamp by tensor", lambda p, t: p.clamp(min=t)),
    ("where", lambda p, t: tt.where(t > 0, p, t)),
    ("maximum", lambda p, t: tt.maximum(t, p)),
    ("mse_loss", lambda p, t: tt.nn.functional.mse_loss(p, t)),
    ("indexing", lambda p, t: p[1:] * t[:2]),
    ("stack", lambda p, t: tt.stack([p, t])),
    ("cat", lambda p, t: tt.cat([t, p])),
    ("sum", lambda p, t: p.sum()),
]


@pytest.mark.parametrize("name, fn", PARAMETER_OPS, ids=[r[0] for r in PARAMETER_OPS])
def test_parameter_behaves_as_a_tensor_in_every_op(name, fn):
    """Parameters and plain tensors give the same values and gradients through any op."""
    values, other = np.array([0.5, -1.0, 2.0], np.float32), tt.tensor([1.0, 0.5, -0.5])
    p = nn.Parameter(tt.tensor(values))
    t = tt.tensor(values, requires_grad=True)
    out_p, out_t = fn(p, other), fn(t, other)
    assert type(out_p) is tt.Tensor  # results of ops are plain tensors, as in PyTorch
    np.testing.assert_array_equal(out_p.detach().numpy(), out_t.detach().numpy())
    out_p.sum().backward()
    out_t.sum().backward()
    np.testing.assert_array_equal(p.grad.numpy(), t.grad.numpy())


def test_parameter_in_place_update_under_no_grad_keeps_the_parameter():
    p = nn.Parameter(tt.tensor([1.0, 2.0]))
    (p * p).sum().backward()
    with tt.no_grad():
        p -= 0.5 * p.grad
    assert type(p) is nn.Parameter and p.tolist() == [0.0, 0.0]
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        p.add_(1.0)


def test_parameter_deepcopy_is_an_independent_parameter():
    p = nn.Parameter(tt.tensor([1.0, 2.0]))
    q = copy.deepcopy(p)
    assert type(q) is nn.Parameter and q.requires_grad and q is not p
    with tt.no_grad():
        q.add_(1.0)
    assert p.tolist() == [1.0, 2.0]


# ---------------------------------------------------------------- registration and walking


def test_attribute_assignment_registers_parameters_modules_and_buffers():
    m = build(tt)
    assert [n for n, _ in m.named_children()] == ["features", "blocks", "out"]
    assert set(dict(m.named_buffers())) == {"running", "scratch"}
    m.extra = nn.Parameter(tt.zeros(1))
    assert "extra" in dict(m.named_parameters())
    m.extra = None  # a registered parameter may be cleared
    assert "extra" not in dict(m.named_parameters())
    with pytest.raises(TypeError, match="cannot assign 'tinytape.FloatTensor' as parameter 'scale'"):
        m.scale = tt.ones(4)
    with pytest.raises(TypeError, match="cannot assign 'int' as child module 'out'"):
        m.out = 3
    m.running = tt.ones(4)  # a buffer takes a tensor
    assert m.running.tolist() == [1.0] * 4 and "running" in m.state_dict()
    del m.out
    assert "out" not in dict(m.named_children())
    with pytest.raises(AttributeError, match="'Model' object has no attribute 'out'"):
        m.out


@pytest.mark.parametrize("call, error, message", [
    (lambda m: m.register_buffer("a.b", tt.zeros(1)), KeyError, "buffer name can"),
    (lambda m: m.register_buffer("", tt.zeros(1)), KeyError, "empty string"),
    (lambda m: m.register_buffer("forward", tt.zeros(1)), KeyError, "attribute 'forward' already exists"),
    (lambda m: m.register_buffer("b", [1.0]), TypeError, "cannot assign 'list' object to buffer 'b'"),
    (lambda m: m.register_parameter("w", tt.zeros(1)), TypeError, "tinytape.nn.Parameter or None required"),
    (lambda m: m.register_parameter("w", nn.Parameter(tt.zeros(1)) * 2), TypeError, "Parameter or None"),
    (lambda m: m.add_module("c", 3), TypeError, "int is not a Module subclass"),
    (lambda m: m.add_module(3, nn.ReLU()), TypeError, "module name should be a string"),
])
def test_registration_errors(call, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        call(nn.Module())


def test_assignment_before_init_is_refused():
    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(tt.zeros(1))
            super().__init__()

    with pytest.raises(AttributeError, match="cannot assign parameters before Module.__init__"):
        Early()


def _walks(lib):
    """The names build(lib)'s walks give, in order."""
    model = build(lib)
    return {"walks": [[n for n, _ in getattr(model, walk)()]
                      for walk in ("named_parameters", "named_buffers", "named_modules", "named_children")],
            "state_dict": list(model.state_dict()),
            "prefixed": [n for n, _ in model.named_parameters(prefix="model", recurse=True)],
            "modules": len(list(model.modules())), "children": [type(c).__name__ for c in model.children()]}


def test_names_order_and_walking_match_pytorch():
    assert _walks(tt) == pytorch(_walks)
    assert [n for n, _ in build(tt).named_parameters(recurse=False)] == ["scale"]


def test_shared_modules_and_parameters_appear_once():
    shared = nn.Linear(2, 2)
    m = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(m.parameters())) == 2
    assert [n for n, _ in m.named_modules()] == ["", "0", "1"]
    assert list(m.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]  # as PyTorch


def test_deep_module_chain_walks_without_recursion():
    m = nn.Identity()
    for _ in range(3000):
        outer = nn.Module()
        outer.inner = m
        m = outer
    assert len(list(m.modules())) == 3001


def test_get_submodule_parameter_and_apply():
    m = build(tt)
    assert m.get_submodule("blocks.1") is m.blocks[1]
    assert m.get_parameter("features.0.bias") is m.features[0].bias
    with pytest.raises(AttributeError, match="has no attribute `nope`"):
        m.get_submodule("blocks.nope")
    seen = []
    assert m.apply(lambda mod: seen.append(type(mod).__name__)) is m
    assert seen[-1] == "Model" and seen[0] == "Linear"  # children first


def test_forward_hooks_and_missing_forward():
    lin = nn.Linear(2, 2)
    calls = []
    pre = lin.register_forward_pre_hook(lambda mod, args: calls.append("pre"))
    post = lin.register_forward_hook(lambda mod, args, out: out * 0)
    assert lin(tt.ones(1, 2)).tolist() == [[0.0, 0.0]] and calls == ["pre"]
    pre.remove()
    post.remove()
    assert lin(tt.ones(1, 2)).abs().sum().item() > 0 and calls == ["pre"]
    with pytest.raises(NotImplementedError, match='missing the required "forward" function'):
        nn.Module()(tt.ones(1))


# ---------------------------------------------------------------- modes and gradients


def test_train_eval_set_every_submodule():
    m = build(tt)
    assert m.training and all(sub.training for sub in m.modules())
    assert m.eval() is m and not any(sub.training for sub in m.modules())
    m.train()
    assert all(sub.training for sub in m.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        m.train("no")


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    m = build(tt)
    m(tt.randn(2, 3)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=set_to_none)
    for p in m.parameters():
        assert p.grad is None if set_to_none else p.grad.abs().sum().item() == 0


def test_requires_grad_switches_every_parameter():
    m = build(tt).requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


# ---------------------------------------------------------------- state dict


def test_state_dict_shares_storage_and_round_trips():
    m, other = build(tt), build(tt)
    sd = m.state_dict()
    assert isinstance(sd, OrderedDict) and "scratch" not in sd and "running" in sd
    assert all(type(v) is tt.Tensor and not v.requires_grad for v in sd.values())
    with tt.no_grad():
        m.features[0].weight.add_(1.0)
    assert np.array_equal(sd["features.0.weight"].numpy(), m.features[0].weight.detach().numpy())
    result = other.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == [] and repr(result) == "<All keys matched successfully>"
    x = tt.randn(5, 3)
    np.testing.assert_array_equal(other(x).detach().numpy(), m(x).detach().numpy())
    assert all(v.is_leaf for v in m.state_dict(keep_vars=True).values())
    assert type(m.state_dict(keep_vars=True)["scale"]) is nn.Parameter


def test_load_state_dict_casts_and_keeps_the_parameter_objects():
    m = nn.Linear(2, 3)
    weight = m.weight
    m.load_state_dict({"weight": tt.ones(3, 2, dtype=tt.float64), "bias": tt.zeros(3)})
    assert m.weight is weight and m.weight.dtype is tt.float32 and m.weight.tolist() == [[1.0, 1.0]] * 3
    assert m.weight.requires_grad


LOAD_ERRORS = [
    ("missing", lambda sd: sd.pop("out.weight")),
    ("unexpected", lambda sd: sd.__setitem__("blocks.0.extra", sd["scale"])),
    ("unexpected nested", lambda sd: sd.__setitem__("nothere.weight", sd["scale"])),
    ("size mismatch", lambda sd: sd.__setitem__("features.0.weight", sd["features.0.weight"][:2])),
    ("all three", lambda sd: (sd.pop("running"), sd.__setitem__("extra", sd["scale"]),
                              sd.__setitem__("scale", sd["out.weight"]))),
    ("not a tensor", lambda sd: sd.__setitem__("scale", [1.0, 2.0])),
]


@pytest.mark.parametrize("name, damage", LOAD_ERRORS, ids=[r[0] for r in LOAD_ERRORS])
def test_load_state_dict_errors_read_as_pytorchs(name, damage):
    def message(lib):
        model = build(lib)
        sd = model.state_dict()
        damage(sd)
        with pytest.raises(RuntimeError) as info:
            model.load_state_dict(sd)
        return (str(info.value).replace("torch.", "tinytape.").replace("tinytape.Tensor", "Tensor")
                .replace("<class 'tinytape.Tensor'>", "").replace("<class 'Tensor'>", "")
                .replace("tinytape.Size", "Size"))
    assert message(tt) == pytorch(message)


def test_load_state_dict_non_strict_reports_keys_but_refuses_shape_mismatch():
    m = nn.Linear(2, 3)
    sd = {"weight": tt.ones(3, 2), "other": tt.ones(1)}
    result = m.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["other"]
    assert m.weight.tolist() == [[1.0, 1.0]] * 3
    with pytest.raises(RuntimeError, match=r"size mismatch for weight: copying a param with shape "
                                           r"tinytape.Size\(\[2, 2\]\) from checkpoint, the shape in "
                                           r"current model is tinytape.Size\(\[3, 2\]\)."):
        m.load_state_dict({"weight": tt.ones(2, 2)}, strict=False)
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        m.load_state_dict([("weight", tt.ones(3, 2))])


def test_load_state_dict_assign_takes_the_tensors():
    m = nn.Linear(2, 1)
    w = tt.ones(1, 2, dtype=tt.float64)
    m.load_state_dict({"weight": w, "bias": tt.zeros(1, dtype=tt.float64)}, assign=True)
    assert type(m.weight) is nn.Parameter and m.weight.dtype is tt.float64 and m.weight.requires_grad


# ---------------------------------------------------------------- device and dtype


def test_to_dtype_converts_floating_point_and_keeps_parameter_objects():
    m = build(tt)
    m.register_buffer("count", tt.tensor([3]))
    params = list(m.parameters())
    m(tt.randn(2, 3)).sum().backward()
    assert m.to(tt.float64) is m
    assert [id(p) for p in m.parameters()] == [id(p) for p in params]  # optimizers keep working
    assert all(p.dtype is tt.float64 and type(p) is nn.Parameter and p.requires_grad for p in m.parameters())
    assert all(p.grad.dtype is tt.float64 for p in m.parameters())
    assert m.running.dtype is tt.float64 and m.count.dtype is tt.int64
    assert m(tt.randn(2, 3, dtype=tt.float64)).dtype is tt.float64
    assert m.float().out.weight.dtype is tt.float32
    assert m.double().out.weight.dtype is tt.float64
    with pytest.raises(TypeError, match="only accepts floating point dtypes"):
        m.to(tt.int64)


@pytest.mark.gpu
@pytest.mark.parametrize("move", [lambda m: m.to("cuda"), lambda m: m.cuda(), lambda m: m.to(tt.zeros(1, device="cuda")),
                                  lambda m: m.to(device="cuda", dtype=tt.float64)])
def test_to_cuda_and_back(move):
    m = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    m.register_buffer("shift", tt.ones(2))
    x = tt.randn(4, 3)
    expected = m(x).detach().numpy()
    move(m)
    assert all(p.device.type == "cuda" for p in m.parameters()) and m.shift.device.type == "cuda"
    out = m(x.to(m[0].weight.dtype).cuda())
    assert out.device.type == "cuda"
    np.testing.assert_allclose(out.detach().cpu().numpy(), expected, rtol=1e-6, atol=1e-6)
    out.sum().backward()
    assert m[0].weight.grad.device.type == "cuda"
    m.cpu()
    assert all(p.device.type == "cpu" for p in m.parameters()) and m[0].weight.grad.device.type == "cpu"


# ---------------------------------------------------------------- printing


def test_repr_matches_pytorch():
    makes = (build, two_part, lambda lib: lib.nn.Sequential(lib.nn.ReLU(inplace=True)),
             lambda lib: lib.nn.ModuleList(), lambda lib: lib.nn.Sequential(OrderedDict(a=lib.nn.Identity())),
             lambda lib: lib.nn.CrossEntropyLoss(label_smoothing=0.1))
    for make, theirs in zip(makes, pytorch(lambda torch: [repr(make(torch)) for make in makes])):
        assert repr(make(tt)) == theirs


def test_extra_repr_of_a_custom_module():
    class Scale(nn.Module):
        def extra_repr(self):
            return "factor=2\nmode=x"

    assert repr(Scale()) == "Scale(\n  factor=2\n  mode=x\n)"


def test_deepcopy_of_a_model_is_independent():
    m = build(tt)
    c = copy.deepcopy(m)
    with tt.no_grad():
        c.out.weight.fill_(0.0)
    assert m.out.weight.abs().sum().item() > 0
    assert [n for n, _ in c.named_parameters()] == [n for n, _ in m.named_parameters()]


# ---------------------------------------------------------------- containers


CONTAINER_OPS = {
    "slice": lambda lib, s: s[1:],
    "negative_index": lambda lib, s: s[-1],
    "step_slice": lambda lib, s: s[::2],
    "append": lambda lib, s: s.append(lib.nn.Tanh()),
    "extend": lambda lib, s: s.extend([lib.nn.Tanh(), lib.nn.Identity()]),
    "insert": lambda lib, s: s.insert(1, lib.nn.Sigmoid()),
    "insert_negative": lambda lib, s: s.insert(-1, lib.nn.Sigmoid()),
    "delete": lambda lib, s: (s.__delitem__(0), s)[1],
    "delete_slice": lambda lib, s: (s.__delitem__(slice(0, 2)), s)[1],
    "pop": lambda lib, s: (s.pop(1), s),
    "setitem": lambda lib, s: (s.__setitem__(-2, lib.nn.Identity()), s)[1],
    "add": lambda lib, s: s + s[1:] if isinstance(s, lib.nn.Sequential) else s + [lib.nn.ReLU()],
    "iadd": lambda lib, s: s.__iadd__(lib.nn.Sequential(lib.nn.ReLU())) if isinstance(s, lib.nn.Sequential)
    else s.__iadd__([lib.nn.ReLU()]),
    "len_and_iter": lambda lib, s: (len(s), [type(m).__name__ for m in s]),
}


def _describe(result):
    if isinstance(result, tuple):
        return tuple(_describe(r) for r in result)
    return repr(result).replace("torch.", "tinytape.")


# ModuleList.insert with a negative index is a KeyError in PyTorch; ours inserts as Sequential does
@pytest.mark.parametrize("name, kind", [(n, k) for n in sorted(CONTAINER_OPS) for k in ("Sequential", "ModuleList")
                                        if (n, k) != ("insert_negative", "ModuleList")])
def test_container_operations_match_pytorch(name, kind):
    def operate(lib):
        layers = [lib.nn.Linear(2, 3), lib.nn.ReLU(), lib.nn.Linear(3, 1), lib.nn.Flatten(0, 1)]
        container = lib.nn.Sequential(*layers) if kind == "Sequential" else lib.nn.ModuleList(layers)
        return (_describe(CONTAINER_OPS[name](lib, container)), list(container._modules),
                [n for n, _ in container.named_parameters()])
    assert operate(tt) == pytorch(operate)


def test_sequential_runs_its_modules_in_order_and_index_errors():
    s = nn.Sequential(OrderedDict([("scale", nn.Linear(1, 1, bias=False)), ("act", nn.ReLU())]))
    nn.init.constant_(s.scale.weight, -2.0)
    assert s(tt.tensor([[1.0], [-1.0]])).tolist() == [[0.0], [2.0]]
    assert type(s[0:1]) is nn.Sequential and list(s[0:1]._modules) == ["scale"]
    with pytest.raises(IndexError, match="index 2 is out of range"):
        s[2]
    with pytest.raises(NotImplementedError):
        nn.ModuleList([nn.ReLU()])(tt.ones(1))
