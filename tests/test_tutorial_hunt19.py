"""Programs from tutorials and reference pages, against PyTorch's answers: sort keeping its
input's memory order; a dim of the wrong type refused as PyTorch's argument parser refuses it;
the legacy typed constructors given a tensor; the tensor options (``layout``, ``pin_memory``,
``memory_format``) factories take; einsum's last op and layout (a product summing nothing, a
diagonal as a view)."""
import numpy as np
import pytest

from helpers import check_against_pytorch, check_close_to_pytorch, check_grad, outcome_of


def _errors(calls):
    """Each call's outcome as text: PyTorch's type and words, the package named as torch."""
    return [str(outcome_of(c)).replace("tinytape", "torch") for c in calls]


def _layouts(torch):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 4, generator=g)
    return [x.permute(2, 0, 1), x[:, :, ::2], x.expand(2, 2, 3, 4)[1], x.transpose(0, 2),
            torch.randn(3, 1, generator=g).expand(3, 4), torch.randn(4, 3, generator=g).t()[:, :2],
            x.permute(2, 0, 1)[::2], torch.randn(2, 3, generator=g).t()]


def test_sort_keeps_its_inputs_memory_order():
    # (values, indices and argsort come out laid out as the input; a gapped or broadcast input
    # gives dense strides in its order)
    def run(torch):
        out = []
        for y in _layouts(torch):
            for d in range(y.ndim):
                v, i = y.sort(dim=d, descending=d % 2 == 1)
                out += [v, i, v.stride(), i.stride(), y.argsort(dim=d).stride(),
                        torch.sort(y, dim=d, stable=True).values.stride(), y.topk(1, dim=d).values.stride()]
        out.append(torch.msort(_layouts(torch)[3]).stride())
        return out
    check_against_pytorch(run)


def test_sort_of_a_transposed_tensor_records_its_gradient():
    def run(torch):
        base = torch.randn(3, 4, generator=torch.Generator().manual_seed(0)).requires_grad_()
        v, i = base.t().sort(dim=1, descending=True)
        g, = torch.autograd.grad((v * torch.arange(12.).view(4, 3)).sum(), base)
        leaf = torch.randn(4, 3, generator=torch.Generator().manual_seed(1)).t().detach().requires_grad_()
        w = leaf.sort(dim=0).values
        (w * torch.arange(12.).view(3, 4)).sum().backward()
        return [v, i, g, w, leaf.grad, v.stride()]
    check_against_pytorch(run)


def test_sort_of_a_transposed_tensor_by_finite_differences():
    import tinytape as tt
    check_grad(lambda a: a.t().sort(dim=1).values * tt.arange(12.).view(4, 3).double(), np.random.rand(3, 4),
               second_order=True)
    check_grad(lambda a: a.permute(2, 0, 1).sort(dim=0, descending=True).values, np.random.rand(2, 3, 4))


def test_sort_of_a_transposed_tensor_compiled_equals_eager():
    import tinytape as tt
    x = tt.randn(5, 4).t()

    def step(a):
        v, i = a.sort(dim=1)
        return v * 2, i
    compiled = tt.compile(step)
    for _ in range(2):
        ours, eager = compiled(x), step(x)
        assert ours[0].stride() == eager[0].stride() == (1, 4)
        np.testing.assert_array_equal(ours[0].numpy(), eager[0].numpy())
        np.testing.assert_array_equal(ours[1].numpy(), eager[1].numpy())
        x = tt.randn(5, 4).t()


def test_a_dim_of_the_wrong_type_is_refused_by_the_argument_parser():
    # a tuple of dims where one int is taken: a TypeError naming the argument (PyTorch's parser adds
    # "(position n)" for a positional one), or no overload matching
    def run(torch):
        x = torch.ones(2, 3)
        return _errors([lambda: x.argmax(dim=(0, 1)), lambda: x.cumsum(dim=(0, 1)), lambda: x.softmax(dim=(0, 1)),
                        lambda: x.mode(dim=(0, 1)), lambda: x.median(dim=(0, 1)), lambda: x.nanmedian(dim=(0, 1)),
                        lambda: x.topk(1, dim=(0,)), lambda: x.unsqueeze(dim=(0,)), lambda: x.kthvalue(1, dim=(0, 1)),
                        lambda: x.amax(dim=0.5), lambda: x.logsumexp(dim=(0, 1)).item(),
                        lambda: x.cumsum(np.int64(1)).shape, lambda: x.cumsum(torch.tensor(1)).shape])
    check_against_pytorch(run)


def test_max_min_sum_with_a_dim_no_overload_takes():
    # (the overloads PyTorch then lists differ between the method and the function: the start is compared)
    def run(torch):
        x = torch.ones(2, 3)
        calls = [lambda: x.max(dim=(0, 1)), lambda: torch.max(x, dim=(0, 1)), lambda: x.min(dim=(0, 1)),
                 lambda: x.max((0, 1)), lambda: torch.min(x, (0, 1)), lambda: x.max(dim=1.0), lambda: x.max(dim=[0]),
                 lambda: x.sum(dim=1.5), lambda: x.mean(dim="a"), lambda: x.prod(dim=(0, 1))]
        return [e.split(" - got")[0] for e in _errors(calls)] + [x.max(1, True).values, torch.max(x, x)]
    check_against_pytorch(run)


def test_legacy_typed_constructors_given_a_tensor():
    # Tensor(t) aliases t whatever its dtype (and keeps its history); a typed constructor takes
    # only a tensor of its own dtype
    def run(torch):
        out = []
        for T in (torch.FloatTensor, torch.DoubleTensor, torch.LongTensor, torch.ByteTensor, torch.BoolTensor,
                  torch.HalfTensor, torch.IntTensor):
            for d in (torch.float32, torch.float64, torch.int64, torch.uint8, torch.bool, torch.float16,
                      torch.bfloat16, torch.complex64, torch.int16, torch.int8):
                out.append(outcome_of(lambda: T(torch.ones(2, dtype=d)).float()))
        a = torch.ones(2, requires_grad=True)
        b = torch.Tensor(a)
        (b * 3).sum().backward()
        out += [b, a.grad, b._base is a, torch.Tensor(torch.arange(3)), torch.DoubleTensor(a.double())]
        return [o.replace("tinytape", "torch") if isinstance(o, str) else o for o in out]
    check_against_pytorch(run)


def test_factories_take_plain_tensor_options():
    def run(torch):
        x = torch.ones(2, 3).t()
        return [torch.zeros(2, pin_memory=False), torch.ones(2, 3, layout=torch.strided),
                torch.empty(2, memory_format=torch.contiguous_format).shape,
                torch.tensor([1.5], pin_memory=False), torch.full((2,), 3, layout=torch.strided, pin_memory=False),
                torch.arange(3, pin_memory=False), torch.randn(2, generator=torch.Generator().manual_seed(0),
                                                              layout=torch.strided),
                torch.zeros_like(x, memory_format=torch.preserve_format).stride(),
                torch.ones_like(x, layout=torch.strided, pin_memory=False).stride(),
                x.new_zeros(2, layout=torch.strided, pin_memory=False), torch.eye(2, layout=torch.strided),
                torch.ones(2).is_pinned()]
    check_against_pytorch(run)


_PINNING = """
import tinytape as tt
calls = (lambda: tt.ones(2).pin_memory(), lambda: tt.empty(2, pin_memory=True), lambda: tt.zeros(3, pin_memory=True))
if tt.cuda.is_available():
    print([c().tolist() for c in calls])
else:
    for call in calls:
        try:
            call()
        except RuntimeError as e:
            print("RuntimeError", "pin" in str(e))
"""


def test_pinned_memory_needs_a_gpu():
    # (in a process of its own: the suite's runs the CUDA path in numba's simulator, a GPU for numba)
    import os
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    out = subprocess.run([sys.executable, "-c", _PINNING], env=env, capture_output=True, text=True, check=True).stdout
    if os.path.exists("/dev/nvidiactl"):
        assert out.split() == ["[1.0,", "1.0],", "[0.0,", "0.0],", "[0.0,", "0.0,", "0.0]]"], out
    else:
        assert out.split() == ["RuntimeError", "True"] * 3, out


@pytest.mark.gpu
def test_pinned_memory_with_a_gpu_is_a_copy():
    import tinytape as tt
    x = tt.arange(3.)
    p = x.pin_memory()
    assert p is not x and p.tolist() == x.tolist() and not p.is_pinned()
    assert tt.zeros(2, pin_memory=True).tolist() == [0.0, 0.0]
    with pytest.raises(RuntimeError, match="only dense CPU tensors can be pinned"):
        tt.ones(2, device="cuda").pin_memory()


_EINSUMS = [("i,j->ij", [(3,), (2,)]), ("i,j->ji", [(3,), (2,)]), ("ij,ij->ji", [(2, 3), (2, 3)]),
            ("bi,bj->bij", [(2, 3), (2, 4)]), ("ij,jk->ijk", [(2, 3), (3, 4)]), ("i,i->i", [(3,), (3,)]),
            ("ij,i->ji", [(2, 3), (2,)]), ("ij,i->i", [(2, 3), (2,)]), ("ij,jk,k->ik", [(2, 3), (3, 4), (4,)]),
            ("ii->i", [(3, 3)]), ("iij->ji", [(3, 3, 2)]), ("iji->ij", [(3, 2, 3)]), ("bii->bi", [(2, 3, 3)]),
            ("ij->ij", [(2, 3)]), ("ij->ji", [(2, 3)]), ("ij,jk->ik", [(2, 3), (3, 4)]),
            ("i,i,j->ij", [(3,), (3,), (2,)]), ("ii,i->i", [(3, 3), (3,)]), ("iij,k->jik", [(2, 2, 3), (2,)]),
            ("...i,...j->...ij", [(2, 3), (2, 4)]), ("Ab,bA->Ab", [(2, 3), (3, 2)]), ("ijk,i->j", [(2, 3, 4), (2,)])]


@pytest.mark.parametrize("equation,shapes", _EINSUMS, ids=[e for e, _ in _EINSUMS])
def test_einsum_records_pytorchs_last_op_and_layout(equation, shapes):
    def run(torch):
        xs = [torch.arange(float(np.prod(s))).reshape(s).requires_grad_() for s in shapes]
        r = torch.einsum(equation, *xs)
        grads = torch.autograd.grad((r * torch.arange(float(r.numel())).reshape(r.shape)).sum(), xs)
        return [r, r.stride(), r._base is not None, *grads]
    check_against_pytorch(run)


def test_einsum_products_and_diagonals_by_finite_differences():
    import tinytape as tt
    b = tt.tensor(np.random.rand(2, 4))
    check_grad(lambda a: tt.einsum("bi,bj->bij", a, b), np.random.rand(2, 3), second_order=True)
    check_grad(lambda a: tt.einsum("iij,k->jik", a, b[0, :2]), np.random.rand(2, 2, 3), second_order=True)
    check_grad(lambda a: tt.einsum("ii->i", a), np.random.rand(3, 3))


def test_flip_and_rot90_keep_their_inputs_memory_order():
    # (augmentation code flips images; the layout decides ``view`` and a later sum's order)
    def run(torch):
        x = torch.arange(12.).view(3, 4).t()
        y = torch.arange(24.).view(2, 3, 4).permute(2, 0, 1)
        outs = [x.flip(0), x.flip(1), x.flip(0, 1), y.flip(0), y.flip(2), torch.fliplr(x), torch.flipud(x), x.rot90(),
                x[:, ::2].flip(0), torch.ones(3, 1).expand(3, 4).flip(1), torch.arange(6.).view(2, 3).flip(1)]
        return outs + [o.stride() for o in outs]
    check_against_pytorch(run)


def test_flip_of_a_transposed_tensor_records_its_gradient():
    def run(torch):
        base = torch.arange(12.).view(3, 4).requires_grad_()
        f = base.t().flip(0)
        g, = torch.autograd.grad((f * torch.arange(12.).view(4, 3)).sum(), base)
        leaf = torch.arange(12.).view(4, 3).t().detach().requires_grad_()
        (leaf.flip(1) * torch.arange(12.).view(3, 4)).sum().backward()
        return [f, g, leaf.grad]
    check_against_pytorch(run)
    import tinytape as tt
    check_grad(lambda a: a.t().flip(0), np.random.rand(3, 4), second_order=True)


def test_flip_of_a_transposed_tensor_compiled_equals_eager():
    import tinytape as tt
    compiled = tt.compile(lambda a: a.flip(0) * 2)
    for _ in range(2):
        x = tt.randn(5, 4).t()
        ours, eager = compiled(x), x.flip(0) * 2
        assert ours.stride() == eager.stride() == (1, 4)
        np.testing.assert_array_equal(ours.numpy(), eager.numpy())


def test_nonzero_lays_its_coordinates_out_dim_by_dim():
    # ``(x > 0).nonzero()`` is (n, ndim) with strides (1, n): ``view(-1)`` refuses it, ``.t()`` is contiguous
    def run(torch):
        x = torch.arange(12.).view(3, 4)
        out = []
        for y in [x > 5, (x > 5).t(), x[0] > 0, torch.ones(2, 3, 2)]:
            n = y.nonzero()
            out += [n, n.stride(), torch.argwhere(y).stride(), n.is_contiguous(), n.t().is_contiguous(), n[:, 0],
                    n._base is None, n.sum(0)] + ([(n * 2).stride()] if y.ndim > 1 else [])
        out.append(outcome_of(lambda: (x > 2).nonzero().view(-1)))
        return [o.replace("tinytape", "torch") if isinstance(o, str) else o for o in out]
    check_against_pytorch(run)


def test_the_old_names_of_init_and_clip_grad_norm_warn_then_act():
    # (older tutorials write ``nn.init.xavier_uniform(w)`` and ``clip_grad_norm(...)``)
    import warnings

    def run(torch):
        torch.manual_seed(0)
        w = torch.empty(3, 4)
        out = []
        calls = [lambda: torch.nn.init.uniform(w, -1, 1), lambda: torch.nn.init.normal(w, 0, 2),
                 lambda: torch.nn.init.constant(w, 0.5), lambda: torch.nn.init.xavier_uniform(w),
                 lambda: torch.nn.init.xavier_normal(w), lambda: torch.nn.init.kaiming_uniform(w),
                 lambda: torch.nn.init.kaiming_normal(w, mode="fan_out"), lambda: torch.nn.init.eye(w),
                 lambda: torch.nn.init.orthogonal(w), lambda: torch.nn.init.sparse(w, 0.5),
                 lambda: torch.nn.init.dirac(torch.empty(2, 2, 3))]
        for call in calls:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                out.append(call().clone())
            out.append([(c.category.__name__, str(c.message)) for c in caught])
        m = torch.nn.Linear(3, 2)
        m(torch.ones(1, 3)).sum().backward()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out.append(torch.nn.utils.clip_grad_norm(m.parameters(), 0.1))
        out += [[(c.category.__name__, str(c.message)) for c in caught], m.weight.grad]
        return out
    check_close_to_pytorch(run)


def test_tensor_new_makes_tensors_of_its_dtype():
    # (pre-0.4 code: ``x.new(n, m).zero_()``, ``x.new([1, 2])``)
    def run(torch):
        x = torch.tensor([1., 2.])
        out = [x.new(2, 3).shape, x.new([1, 2]), x.new().shape, x.new((2, 3)), x.new(torch.tensor([3., 4.])),
               x.double().new([1, 2]), x.int().new(2).zero_(), x.new(2, device="cpu").shape, x.new(2, 3).zero_(),
               x.new(x) is x, x.new(x)._base is x]
        out += [outcome_of(f) for f in (lambda: x.new(torch.tensor([1, 2])), lambda: x.new(2.5), lambda: x.new("a"))]
        return [o.replace("tinytape", "torch") if isinstance(o, str) else o for o in out]
    check_against_pytorch(run)


def test_empty_strided_lays_out_a_fresh_tensor():
    def run(torch):
        s = torch.empty_strided((2, 3), (1, 2))
        s.fill_(1.5)
        z = torch.empty_strided((2, 3), (3, 1), dtype=torch.int64).zero_()
        return [s.stride(), s, z, z.stride(), torch.empty_strided((0, 3), (3, 1)).shape,
                torch.empty_strided((2,), (1,), requires_grad=True).requires_grad,
                torch.empty_strided((2, 2), (1, 2), layout=torch.strided, pin_memory=False).stride(),
                s.is_contiguous(), s.t().is_contiguous(), s._base is None, s.is_leaf, (s + 1).stride()]
    check_against_pytorch(run)


@pytest.mark.gpu
def test_sort_flip_and_nonzero_on_the_gpu_lay_out_as_on_the_cpu():
    import tinytape as tt
    host = tt.randn(5, 4, generator=tt.Generator().manual_seed(0)).t()
    assert host.to("cuda").stride() == host.cuda().cpu().stride() == (1, 4)  # (a copy keeps the memory order)
    for x in (host, host.to("cuda")):
        x = x.detach().requires_grad_()
        v, i = x.sort(dim=1, descending=True)
        f = x.flip(0)
        (v * 2 + f).sum().backward()
        n = (x > 0).nonzero()
        assert v.stride() == i.stride() == f.stride() == (1, 4) and n.stride() == (1, n.shape[0])
        expected = host.sort(dim=1, descending=True)
        np.testing.assert_array_equal(v.detach().cpu().numpy(), expected.values.numpy())
        np.testing.assert_array_equal(i.cpu().numpy(), expected.indices.numpy())
        np.testing.assert_array_equal(f.detach().cpu().numpy(), host.flip(0).numpy())
        np.testing.assert_array_equal(x.grad.cpu().numpy(), np.full((4, 5), 3.0, np.float32))


def test_renorm_writes_c_order_whatever_its_inputs_layout():
    def run(torch):
        x = torch.arange(12.).view(3, 4).t().requires_grad_()
        y = torch.arange(24.).view(2, 3, 4).permute(2, 0, 1)
        r = x.renorm(2, 0, 1.)
        g, = torch.autograd.grad((r * torch.arange(12.).view(4, 3)).sum(), x)
        return [r, r.stride(), x[:, ::2].renorm(2, 1, 1.).stride(), y.renorm(1, 2, 5.), y.renorm(1, 2, 5.).stride(), g]
    check_close_to_pytorch(run)
