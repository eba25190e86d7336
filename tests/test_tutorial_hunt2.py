"""More tutorial idioms where ``import tinytape as torch`` once gave something other than
PyTorch: d2l's lazy layers (``nn.LazyConv2d``, ``nn.LazyBatchNorm2d`` in its modern-CNN
chapters, loading a checkpoint into a lazy net), BatchNorm checkpoints without
``num_batches_tracked``, the bits of ``x ** 3`` ("Learning PyTorch with Examples"' polynomial
fit) and of the gradients of ``/``, ``sigmoid``, ``silu``, ``rsqrt``, ``atanh`` and ``repeat``
(makemore's ``counts / counts.sum(1, keepdims=True)``), ``Tensor.tile``, ``Module.half``,
``torch.device("cuda")`` and ``type(t)``."""
import numpy as np
import pytest

import tinytape
from pytorch_answers import pytorch


def _grad_fn_name(t):
    return type(t.grad_fn).__name__ if t.grad_fn is not None else None


def _assert_same(mine, recorded):
    """A tinytape tensor against PyTorch's recorded one: dtype, shape, grad_fn, bits."""
    assert str(mine.dtype).split(".")[-1] == recorded.dtype
    assert tuple(mine.shape) == recorded.shape
    assert _grad_fn_name(mine) == recorded.grad_fn
    np.testing.assert_array_equal(mine.detach().cpu().numpy(), recorded.numpy())


def _assert_close(mine, recorded):
    assert str(mine.dtype).split(".")[-1] == recorded.dtype and tuple(mine.shape) == recorded.shape
    np.testing.assert_allclose(mine.detach().numpy(), recorded.numpy(), rtol=2e-6, atol=1e-7)


def _lazy_net(torch):
    torch.manual_seed(0)
    nn = torch.nn
    net = nn.Sequential(nn.LazyConv2d(4, kernel_size=3, padding=1), nn.LazyBatchNorm2d(), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Flatten(), nn.LazyLinear(3), nn.LazyBatchNorm1d())
    before = repr(net)
    y = net(torch.randn(2, 1, 4, 4))
    one_d = [nn.LazyConv1d(3, 2)(torch.ones(1, 2, 5)).shape, nn.LazyConvTranspose2d(3, 2)(torch.ones(1, 2, 3, 3)).shape]
    return {"before": before, "after": repr(net), "y": y, "types": [type(m).__name__ for m in net],
            "shapes": [tuple(p.shape) for p in net.parameters()], "buffers": [b for b in net.buffers()],
            "one_d": [tuple(s) for s in one_d]}


def test_lazy_conv_and_batch_norm_layers_initialise_as_pytorchs():
    ours, theirs = _lazy_net(tinytape), pytorch(_lazy_net)
    for key in ("before", "after", "types", "shapes", "one_d"):
        assert ours[key] == theirs[key], key
    for mine, recorded in zip([ours["y"]] + ours["buffers"], [theirs["y"]] + theirs["buffers"]):
        _assert_close(mine, recorded)  # (batch norm's sums round apart in the last bit)


def _lazy_checkpoint(torch):
    import io
    torch.manual_seed(0)
    nn = torch.nn
    net = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(1))
    x = torch.rand(2, 4)
    y = net(x)
    buffer = io.BytesIO()
    torch.save(net.state_dict(), buffer)
    buffer.seek(0)
    clone = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(1))
    result = str(clone.load_state_dict(torch.load(buffer)))
    after = torch.rand(2)  # no random numbers drawn by the load nor the clone's first call
    return [result, [tuple(p.shape) for p in clone.parameters()], clone(x), y, after]


def test_a_lazy_net_takes_the_shapes_of_the_checkpoint_it_loads():
    ours, theirs = _lazy_checkpoint(tinytape), pytorch(_lazy_checkpoint)
    assert ours[:2] == theirs[:2]
    for mine, recorded in zip(ours[2:], theirs[2:]):
        _assert_close(mine, recorded)  # (the matrix products' sums round apart in the last bit)


def _batch_norm_checkpoints(torch):
    import io
    bn = torch.nn.BatchNorm1d(3)
    bn(torch.ones(4, 3) * torch.arange(4.0)[:, None])
    plain = {k: v for k, v in bn.state_dict().items() if k != "num_batches_tracked"}
    out = [str(torch.nn.BatchNorm1d(3).load_state_dict(plain))]  # no version: filled in
    current = bn.state_dict()
    del current["num_batches_tracked"]
    buffer = io.BytesIO()
    torch.save(current, buffer)
    buffer.seek(0)
    for sd in (current, torch.load(buffer)):  # version 2 (kept by save/load): missing
        try:
            torch.nn.BatchNorm1d(3).load_state_dict(sd)
        except RuntimeError as e:
            out.append(str(e))
    out.append(dict(torch.nn.Sequential(torch.nn.Linear(1, 1), bn).state_dict()._metadata))
    return out


def test_batch_norm_fills_in_num_batches_tracked_only_for_old_checkpoints():
    assert _batch_norm_checkpoints(tinytape) == pytorch(_batch_norm_checkpoints)


def _powers_and_quotients(torch, x, y, g):
    out = []
    for dtype in (torch.float32, torch.float64):
        for e in (2, 3, -2, -1, -0.5, 3.0):
            base = torch.tensor(x, dtype=dtype) if e != -0.5 else torch.tensor(np.abs(x) + 0.1, dtype=dtype)
            base.requires_grad_(True)
            value = base ** e
            value.backward(torch.tensor(g, dtype=dtype))
            # the gradients of x ** -2 and x ** -0.5 take powf (SLEEF's in PyTorch) of x ** -3, x ** -1.5
            out += [value] + ([base.grad] if e in (2, 3, -1) else [])
        a, b = torch.tensor(x, dtype=dtype, requires_grad=True), torch.tensor(y, dtype=dtype, requires_grad=True)
        (a / b).backward(torch.tensor(g, dtype=dtype))
        out += [b.grad]
        b2 = torch.tensor(y[:8, None], dtype=dtype, requires_grad=True)  # makemore: counts / counts.sum(1)
        (torch.tensor(x.reshape(8, -1), dtype=dtype) / b2).backward(torch.tensor(g.reshape(8, -1), dtype=dtype))
        out += [b2.grad]
    return out


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_small_integer_powers_and_division_gradients_are_pytorchs_bits(device):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(256) * 3).astype(np.float32)
    y = (rng.random(256) + 0.5).astype(np.float32)
    g = rng.standard_normal(256).astype(np.float32)
    theirs = pytorch(_powers_and_quotients, x, y, g)
    ours = _powers_and_quotients(tinytape, x, y, g) if device == "cpu" else _on_cuda(x, y, g)
    assert len(ours) == len(theirs)
    for i, (mine, recorded) in enumerate(zip(ours, theirs)):
        if device == "cuda" and i % 12 in (7, 11):  # CUDA's 1 / sqrt and row sums round apart (as PyTorch's)
            _assert_close(mine.cpu(), recorded)
        else:
            _assert_same(mine, recorded)


def _on_cuda(x, y, g):
    """The same computations on the CUDA backend (its kernels give the same bits here)."""
    out = []
    for dtype in (tinytape.float32, tinytape.float64):
        for e in (2, 3, -2, -1, -0.5, 3.0):
            data = x if e != -0.5 else np.abs(x) + 0.1
            base = tinytape.tensor(data, dtype=dtype, device="cuda", requires_grad=True)
            value = base ** e
            value.backward(tinytape.tensor(g, dtype=dtype, device="cuda"))
            out += [value] + ([base.grad] if e in (2, 3, -1) else [])
        b = tinytape.tensor(y, dtype=dtype, device="cuda", requires_grad=True)
        (tinytape.tensor(x, dtype=dtype, device="cuda") / b).backward(tinytape.tensor(g, dtype=dtype, device="cuda"))
        b2 = tinytape.tensor(y[:8, None], dtype=dtype, device="cuda", requires_grad=True)
        (tinytape.tensor(x.reshape(8, -1), dtype=dtype, device="cuda") / b2).backward(
            tinytape.tensor(g.reshape(8, -1), dtype=dtype, device="cuda"))
        out += [b.grad, b2.grad]
    return out


def _activation_gradients(torch, x, g):
    out = []
    for dtype in (torch.float32, torch.float64):
        for name, f in (("sigmoid", torch.sigmoid), ("silu", torch.nn.functional.silu),
                        ("rsqrt", lambda t: torch.rsqrt(t.abs() + 0.1)),
                        ("atanh", lambda t: torch.atanh(t.clamp(-0.9, 0.9))),
                        ("repeat", lambda t: t[:32].repeat(8)), ("repeat2d", lambda t: t[:64].view(8, 8).repeat(2, 4, 1)),
                        ("tile", lambda t: t[:32].view(4, 8).tile((2, 4)))):
            t = torch.tensor(x, dtype=dtype, requires_grad=True)
            y = f(t)
            y.backward(torch.tensor(np.resize(g, y.shape), dtype=dtype))
            out += [y, t.grad]
    return out


def test_activation_and_repeat_gradients_are_pytorchs_bits():
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(256) * 2).astype(np.float32)
    g = rng.standard_normal(256).astype(np.float32)
    ours, theirs = _activation_gradients(tinytape, x, g), pytorch(_activation_gradients, x, g)
    assert len(ours) == len(theirs)
    for mine, recorded in zip(ours, theirs):
        _assert_same(mine, recorded)


def test_repeat_and_tile_gradients_check():
    from helpers import check_grad
    x = np.random.default_rng(2).standard_normal((2, 3))
    check_grad(lambda t: t.repeat(2, 1, 3), x, second_order=True)
    check_grad(lambda t: tinytape.tile(t, (2,)), x)
    check_grad(lambda t: t.tile(3, 1, 1) * t, x)


def _small_api(torch):
    class MyReLU(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clamp(min=0)

        @staticmethod
        def backward(ctx, g):
            return g

    m = torch.nn.Linear(2, 2)
    halves = [p.dtype for p in m.half().parameters()] + [p.dtype for p in m.bfloat16().parameters()]
    node = repr(MyReLU.apply(torch.ones(1, requires_grad=True)).grad_fn)
    return [str(torch.device("cuda")), repr(torch.device("cuda")), torch.device("cuda") == torch.device("cuda:0"),
            torch.device("cpu") == "cpu", torch.device("cpu") != "cpu", torch.device("cpu") == torch.device("cpu"),
            str(type(torch.ones(1))), [str(d) for d in halves], str(torch.get_default_device()),
            torch.ones(2).is_pinned(), node.split(" object")[0],
            torch.arange(6).tile(2).tolist(), torch.tile(torch.arange(4).view(2, 2), (2, 1, 2)).tolist(),
            type(torch.arange(3).tile((2,)).grad_fn).__name__]


def test_devices_types_and_small_methods_print_as_pytorchs():
    ours = [v.replace("tinytape", "torch") if isinstance(v, str) else v for v in _small_api(tinytape)]
    ours[7] = [v.replace("tinytape", "torch") for v in ours[7]]
    assert ours == pytorch(_small_api)


def _optimizer_defaults(torch):
    params = torch.nn.Linear(2, 2).parameters
    optimizers = [torch.optim.SGD(params(), lr=0.1, momentum=0.9), torch.optim.Adam(params()), torch.optim.AdamW(params()),
                  torch.optim.RMSprop(params()), torch.optim.Adagrad(params())]
    return [list(o.defaults.items()) for o in optimizers]


def test_optimizer_defaults_list_pytorchs_options_in_its_order():
    import json
    as_data = lambda value: json.loads(json.dumps(value))  # noqa: E731  (tuples and lists alike)
    assert as_data(_optimizer_defaults(tinytape)) == as_data(pytorch(_optimizer_defaults))
