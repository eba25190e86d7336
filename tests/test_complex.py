"""Complex tensors against PyTorch's recorded answers: the dtypes and their promotion with real
dtypes and Python numbers, creation (data, ``complex``, ``polar``, factories, seeded ``randn``),
printing, ``item``, the parts (``real``/``imag`` views, ``view_as_real``/``view_as_complex``),
conjugation, ``abs``/``angle``/``sgn``, and the errors of ops PyTorch refuses for complex."""
import warnings

import numpy as np
import pytest

import tinytape
from helpers import assert_close_to, check_against_pytorch, check_close_to_pytorch, normalize, outcome_of as _outcome
from pytorch_answers import pytorch


def test_dtypes_their_names_and_flags():
    def run(torch):
        out = []
        for dt in (torch.complex64, torch.complex128, torch.cfloat, torch.cdouble):
            out.append([str(dt), dt.is_complex, dt.is_floating_point, dt.itemsize, dt.is_signed])
        z = torch.tensor([1 + 2j])
        out.append([str(z.dtype), z.is_complex(), torch.is_complex(z), z.is_floating_point(),
                    torch.ones(2).is_complex(), z.element_size()])
        return out
    assert normalize(repr(run(tinytape))).replace("tinytape", "torch") == repr(pytorch(run))


def test_promotion_with_real_dtypes_and_python_numbers():
    def run(torch):
        out = []
        reals = (torch.float16, torch.float32, torch.float64, torch.int64, torch.int8, torch.bool, torch.bfloat16)
        for c in (torch.complex64, torch.complex128):
            for r in reals:
                out.append(str(torch.promote_types(c, r)))
                out.append(str((torch.ones(2, dtype=c) + torch.ones(2, dtype=r)).dtype))
                if r not in (torch.float16, torch.bfloat16):  # (those give PyTorch's ComplexHalf, BComplex32)
                    out.append(str((torch.ones(2, dtype=r) * torch.ones((), dtype=c)).dtype))  # a 0-d complex lifts
            out += [str((torch.ones(2, dtype=c) * 2).dtype), str((torch.ones(2, dtype=c) * 2.5).dtype)]
        for r in (torch.float32, torch.float64, torch.int64, torch.bool):
            out.append(str((torch.ones(2, dtype=r) * 1j).dtype))
            out.append(str((1j + torch.ones(2, dtype=r)).dtype))
        return out
    assert [s.replace("tinytape", "torch") for s in run(tinytape)] == pytorch(run)


def test_creation_from_python_and_numpy_data():
    def run(torch):
        return [torch.tensor([1 + 2j, 3, -0.5j]), torch.tensor([[1, 2j], [3.5, 4]]), torch.tensor(2j),
                torch.tensor([1, 2], dtype=torch.complex128), torch.tensor([1j], dtype=torch.cdouble),
                torch.zeros(2, 3, dtype=torch.cfloat), torch.ones(2, dtype=torch.cdouble),
                torch.full((2,), 1 - 1j), torch.empty(3, dtype=torch.cfloat).shape,
                torch.from_numpy(np.array([1 + 1j, 2], np.complex64)) if hasattr(torch, "from_numpy") else None,
                torch.tensor([1.5, 2.5]).to(torch.complex64), torch.tensor([1, 2]).to(torch.cdouble)]
    check_against_pytorch(run)


def test_seeded_randn_and_rand_draw_both_parts_as_pytorch():
    def run(torch):
        torch.manual_seed(0)
        out = [torch.randn(3, dtype=torch.cfloat), torch.randn(2, 10, dtype=torch.cdouble),
               torch.rand(5, dtype=torch.cfloat), torch.randn(20, dtype=torch.cfloat)]
        g = torch.Generator().manual_seed(7)
        out.append(torch.randn(4, dtype=torch.cdouble, generator=g))
        out.append(torch.randn(3, dtype=torch.cfloat))  # the stream went on as PyTorch's
        return out
    check_against_pytorch(run)


def test_complex_and_polar_constructors():
    def run(torch):
        re, im = torch.tensor([1.0, -2.0, 0.5]), torch.tensor([0.0, 1.5, -3.0])
        r, th = torch.tensor([1.0, 2.0, 0.0], dtype=torch.float64), torch.tensor([0.0, 1.0, 2.5], dtype=torch.float64)
        return [torch.complex(re, im), torch.complex(re.double(), im.double()), torch.polar(r, th),
                torch.complex(re, torch.tensor(2.0)),
                _outcome(lambda: torch.complex(re, im.double())), _outcome(lambda: torch.complex(re.long(), im.long()))]
    check_close_to_pytorch(run, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("case", range(9))
def test_printing_matches_pytorch(case):
    def run(torch):
        makers = [
            lambda: torch.tensor([1 + 2j, -3.5 - 0.25j, 0.1j]),
            lambda: torch.tensor([[1e-5 + 1j, 100 + 0j], [3, 4]]),
            lambda: torch.tensor(1e10 + 1j, dtype=torch.cdouble),
            lambda: torch.tensor([1.0 + 0j, float("nan") + 1j, complex(0, float("inf")), complex(-0.0, -0.0)]),
            lambda: torch.tensor([1 + 2j, 3 - 4j], requires_grad=True) * 2,
            lambda: torch.arange(2000, dtype=torch.float32).reshape(40, 50) * (1 + 1j),
            lambda: torch.tensor([], dtype=torch.cfloat),
            lambda: torch.tensor([[1 + 2j, 3j], [1, 2]]).conj(),
            lambda: torch.tensor([0.12345 + 123456.7j, -2 + 0.001j]),
        ]
        return repr(makers[case]())
    assert run(tinytape).replace("tinytape", "torch") == pytorch(run)


def test_item_tolist_and_python_conversions():
    def run(torch):
        z = torch.tensor([1 + 2j, -0.5 + 0j])
        return [z[0].item(), z.tolist(), complex(z[1]), torch.tensor(3j, dtype=torch.cdouble).item(),
                _outcome(lambda: float(z[0])), _outcome(lambda: int(z[0])), float(z[1]), int(z[1])]
    ours = run(tinytape)
    assert ours == pytorch(run) and type(ours[0]) is complex and type(ours[7]) is int


def test_real_and_imag_are_writable_views():
    def run(torch):
        z = torch.tensor([[1 + 2j, 3 - 1j], [0.5j, -2]])
        re, im = z.real, z.imag
        re[0, 1] = 10.0
        im.mul_(2)
        t = z.t()  # a strided view: its parts too
        col = t.real[1]
        z.real = torch.tensor([[7.0, 8.0], [9.0, 6.0]])
        return [z, re, im, col, torch.real(z), torch.imag(z), torch.ones(2).real,
                _outcome(lambda: torch.ones(2).imag)]
    check_against_pytorch(run)


def test_view_as_real_and_view_as_complex_share_memory():
    def run(torch):
        z = torch.tensor([1 + 2j, 3 - 4j, 5j])
        r = torch.view_as_real(z)
        r[1, 0] = 30.0
        x = torch.arange(8.0).reshape(2, 2, 2)
        c = torch.view_as_complex(x)
        c[0, 1] = 1j
        return [z, r, r.shape, x, c, torch.view_as_complex(torch.view_as_real(z)),
                _outcome(lambda: torch.view_as_real(torch.ones(2))),
                _outcome(lambda: torch.view_as_complex(torch.ones(3))),
                _outcome(lambda: torch.view_as_complex(torch.ones(2, 2).long())),
                _outcome(lambda: torch.view_as_real(z.conj()))]
    check_against_pytorch(run)


def test_conjugation():
    def run(torch):
        z = torch.tensor([1 + 2j, -3 - 4j])
        c = z.conj()
        r = torch.tensor([1.0, 2.0])
        out = [c, c.is_conj(), z.is_conj(), c.resolve_conj(), c.resolve_conj().is_conj(), torch.conj_physical(z),
               torch.conj_physical(z).is_conj(), c.conj(), c.conj().is_conj(), r.conj() is r, r.is_conj(),
               torch.conj(z), torch.resolve_conj(c)]
        w = z.clone()
        w.conj_physical_()
        m = torch.tensor([[1 + 1j, 2j], [3, 4 - 1j]])
        return out + [w, m.mH, m.H, m.adjoint(), m.mT]
    check_against_pytorch(run)


def test_abs_angle_sgn():
    def run(torch):
        z = torch.tensor([3 + 4j, -1 + 0j, 0j, -2 - 2j, 1e-3j], dtype=torch.cdouble)
        zf = z.to(torch.cfloat)
        return [z.abs(), torch.abs(zf), z.angle(), torch.angle(zf), z.sgn(), torch.sgn(zf),
                torch.tensor([-2.0, 0.0, 3.0]).sgn(), torch.tensor([-2.0, 0.0]).angle()]
    check_close_to_pytorch(run, rtol=1e-6, atol=1e-7)


def test_arithmetic_values():
    def run(torch):
        torch.manual_seed(3)
        a, b = torch.randn(4, 3, dtype=torch.cfloat), torch.randn(4, 3, dtype=torch.cfloat)
        x = torch.randn(3)
        out = [a + b, a - b, a * b, a / b, a ** 2, a ** 0.5, a ** b, a ** (1 + 1j), 2 ** a, -a,
               a.exp(), a.log(), a.sqrt(), a.reciprocal(), a.tanh(), a.sigmoid(), a.sin(), a.cos(),
               a * x, x / a, x + 1j, a * 2.5, 1 - a, a.sum(), a.sum(0), a.mean(), a.mean(1, keepdim=True),
               a @ b.mT, a[0] @ b[0], a.mT @ b, a @ b[0], a == b, a != a.conj(), a.square()]
        return out
    check_close_to_pytorch(run, rtol=2e-5, atol=2e-6)


def test_ops_pytorch_refuses_for_complex():
    def run(torch):
        F = torch.nn.functional  # noqa: N806  (PyTorch's spelling)
        z = torch.tensor([1 + 2j, 3 - 1j])
        cases = [lambda: z < 1, lambda: z <= z, lambda: z > z, lambda: z >= 0, lambda: z.max(), lambda: z.min(),
                 lambda: z.max(0), lambda: z.argmax(), lambda: z.sort(), lambda: z.clamp(0, 1), lambda: torch.relu(z),
                 lambda: F.relu(z), lambda: z.sign(), lambda: z.floor(), lambda: z.ceil(), lambda: z.round(),
                 lambda: torch.maximum(z, z), lambda: torch.minimum(z, z), lambda: z.erf(),
                 lambda: torch.atan2(z, z), lambda: z % 2, lambda: z // 2, lambda: F.gelu(z), lambda: F.softplus(z)]
        return [_outcome(c) for c in cases]
    assert [o.replace("tinytape", "torch") for o in run(tinytape)] == pytorch(run)


def test_a_real_cast_of_a_complex_tensor_keeps_the_real_part():
    def run(torch):
        z = torch.tensor([1.5 + 2j, -3 - 1j])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [z.to(torch.float32), z.to(torch.float64), z.real.long()]
    check_against_pytorch(run)


def test_complex_gradients_are_pytorch_conjugate_wirtinger_ones():
    def run(torch):
        z = torch.tensor([1 + 2j, -3.5 - 0.25j, 0.1j], requires_grad=True)
        loss = (z * z.conj()).real.sum()
        loss.backward()
        g1 = z.grad.clone()
        z.grad = None
        (z.exp() / (z + 1) - z.sqrt() * z.log() + z ** 2 + z ** 0.5).abs().sum().backward()
        return [g1, z.grad]
    check_close_to_pytorch(run, rtol=1e-5, atol=1e-6)


def test_grad_fn_names():
    def run(torch):
        z = torch.tensor([1 + 2j, 3 - 1j], requires_grad=True)
        r = torch.tensor([1.0, 2.0], requires_grad=True)
        outs = [z.exp(), z + 1, z * z, z / 2, z.sum(), z.mean(), z.abs(), z.angle(), z.sgn(), z.conj(),
                z.conj_physical(), torch.view_as_real(z), z.real, z.imag, torch.complex(r, r), torch.polar(r, r),
                torch.view_as_complex(torch.stack([r, r], -1)), r * 1j, z ** 2, z ** z]
        return [type(o.grad_fn).__name__ for o in outs]
    assert run(tinytape) == pytorch(run)


def test_complex_tensor_stays_on_the_cpu_with_a_clear_error():
    z = tinytape.tensor([1j])
    with pytest.raises(RuntimeError, match="complex tensors are CPU tensors"):
        from tinytape.ops.shape import ToDevice
        ToDevice.forward(type("ctx", (), {})(), z, tinytape.device("cuda"))


def test_requires_grad_on_complex_factories():
    def run(torch):
        z = torch.zeros(2, dtype=torch.cfloat, requires_grad=True)
        w = torch.tensor([1j], requires_grad=True)
        return [z, w, torch.ones(2, dtype=torch.cdouble).requires_grad_()]
    check_against_pytorch(run)


def test_assert_close_helper_sees_complex_values():
    # a check of the comparison itself: a complex answer that differs in its imaginary part fails
    def run(torch):
        return torch.tensor([1 + 2j])
    theirs = pytorch(run)
    with pytest.raises(AssertionError):
        assert_close_to(tinytape.tensor([1 + 2.5j]), theirs)


def test_a_real_cast_of_a_complex_tensor_warns_once_a_process_as_pytorch():
    # PyTorch's TORCH_WARN_ONCE in its copy kernel: the first complex-to-real cast of a process warns
    from tinytape.ops import elementwise
    elementwise._warned_complex_cast = False
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        tinytape.tensor([1.5 + 2j]).to(tinytape.float64)
        tinytape.tensor([1j]).float()
    assert [str(w.message) for w in ours] == ["Casting complex values to real discards the imaginary part"]
    assert ours[0].filename == __file__  # pointed at the caller's line


def test_sums_of_strided_views_of_two_itemsizes_with_one_byte_stride():
    # a real part's view (float32 every 8 bytes, float64 every 16) meets real views with the same byte
    # strides: the cascade sum's layout depends on the itemsize too
    def run(torch):
        a = torch.arange(40.0)[::4]
        b = torch.arange(20.0, dtype=torch.float64)[::2]
        z = torch.arange(10.0, dtype=torch.float64) * (1 + 2j)
        w = torch.arange(10.0) * (1 - 1j)
        return [a.sum(), b.sum(), z.real.sum(), z.imag.sum(), w.real.sum(), w.imag.sum(), a.sum(), b.sum()]
    check_against_pytorch(run)


_MORE_OPS = {
    "prod": lambda t, z, w, m: z.prod(), "prod0": lambda t, z, w, m: z.prod(0),
    "cumsum": lambda t, z, w, m: z.cumsum(1),
    "cumprod": lambda t, z, w, m: z.cumprod(0), "var": lambda t, z, w, m: z.var(), "std": lambda t, z, w, m: z.std(1),
    "norm": lambda t, z, w, m: z.norm(), "vector_norm": lambda t, z, w, m: t.linalg.vector_norm(z, 1),
    "linalg_norm": lambda t, z, w, m: t.linalg.norm(z), "vdot": lambda t, z, w, m: t.vdot(z[0], z[1]),
    "outer": lambda t, z, w, m: t.outer(z[0], z[1]), "einsum": lambda t, z, w, m: t.einsum("ij,jk->ik", z, w),
    "cat": lambda t, z, w, m: t.cat([z, z]), "stack": lambda t, z, w, m: t.stack([z, z]),
    "flip": lambda t, z, w, m: z.flip(0), "roll": lambda t, z, w, m: z.roll(1, 1),
    "where": lambda t, z, w, m: t.where(m, z, 0), "masked_fill": lambda t, z, w, m: z.masked_fill(m, 1j),
    "index_select": lambda t, z, w, m: z.index_select(1, t.tensor([0, 2])), "getitem_mask": lambda t, z, w, m: z[m],
    "gather": lambda t, z, w, m: z.gather(1, t.tensor([[0], [1], [2]])), "repeat": lambda t, z, w, m: z.repeat(2, 1),
    "bmm": lambda t, z, w, m: t.bmm(z[None], w[None]), "kron": lambda t, z, w, m: t.kron(z[:2, :2], z[:2, :2]),
    "trace": lambda t, z, w, m: z[:3, :3].trace(), "diag": lambda t, z, w, m: z.diag(),
    "tril": lambda t, z, w, m: z.tril(),
    "mul_": lambda t, z, w, m: z.clone().mul_(2j), "add_": lambda t, z, w, m: z.clone().add_(w.T),
    "div_": lambda t, z, w, m: z.clone().div_(1 + 1j), "sub_alpha": lambda t, z, w, m: t.sub(z, w.T, alpha=2),
    "add_alpha": lambda t, z, w, m: t.add(z, w.T, alpha=1j), "addcmul": lambda t, z, w, m: t.addcmul(z, z, w.T),
    "lerp": lambda t, z, w, m: t.lerp(z, w.T, 0.3), "lerp_far": lambda t, z, w, m: t.lerp(z, w.T, 0.8),
    "sum_dtype": lambda t, z, w, m: z.sum(dtype=t.cdouble), "isclose": lambda t, z, w, m: t.isclose(z, z),
    "isnan": lambda t, z, w, m: z.isnan(), "isfinite": lambda t, z, w, m: z.isfinite(),
    "nonzero": lambda t, z, w, m: (z * m).nonzero(), "count_nonzero": lambda t, z, w, m: (z * m).count_nonzero(),
    "any": lambda t, z, w, m: z.any(), "linear": lambda t, z, w, m: t.nn.functional.linear(z, w.T),
    "batched": lambda t, z, w, m: t.stack([z, 2 * z]).matmul(w), "mv": lambda t, z, w, m: z.mv(w[:, 0]),
    "fill_": lambda t, z, w, m: z.clone().fill_(2j), "copy_real": lambda t, z, w, m: z.clone().copy_(t.ones(3, 4)),
    "full_like": lambda t, z, w, m: t.full_like(z, 1j), "dist": lambda t, z, w, m: t.dist(z, w.T),
    "new_tensor": lambda t, z, w, m: z.new_tensor([1, 2]), "type_as": lambda t, z, w, m: t.ones(2).type_as(z),
    "cdist": lambda t, z, w, m: t.cdist(z, z), "softmax": lambda t, z, w, m: z.softmax(0),
}


@pytest.mark.parametrize("name", sorted(_MORE_OPS))
def test_more_ops_on_complex_tensors(name):
    def run(torch):
        torch.manual_seed(0)
        z, w = torch.randn(3, 4, dtype=torch.cfloat), torch.randn(4, 3, dtype=torch.cfloat)
        m = torch.tensor([[True, False, True, False]] * 3)
        return _outcome(lambda: _MORE_OPS[name](torch, z, w, m))
    ours, theirs = run(tinytape), pytorch(run)
    if isinstance(theirs, str):  # PyTorch refuses: the same error type
        assert isinstance(ours, str) and ours.split(":")[0] == theirs.split(":")[0], (ours, theirs)
    else:
        assert_close_to(ours, theirs, rtol=2e-5, atol=2e-6, grad_fn=False)


@pytest.mark.gpu
def test_the_cuda_backend_refuses_complex_tensors_with_a_clear_error():
    makers = [lambda: tinytape.zeros(2, dtype=tinytape.cfloat, device="cuda"),
              lambda: tinytape.tensor([1j], device="cuda"), lambda: tinytape.tensor([1j]).cuda(),
              lambda: tinytape.ones(2, device="cuda") * 1j, lambda: tinytape.fft.fft(tinytape.ones(4, device="cuda"))]
    for make in makers:
        with pytest.raises(RuntimeError, match="CPU"):
            make()
    assert (tinytape.ones(2, device="cuda") * 2).sum().item() == 4.0  # real tensors as before


def test_a_recorded_write_through_a_part_view_is_refused_not_recorded_wrong():
    z = tinytape.tensor([1 + 2j, 3j], requires_grad=True)
    w = z * 1
    with pytest.raises(RuntimeError, match="not recorded"):
        w.real[0] = 5.0
    with pytest.raises(RuntimeError, match="not recorded"):
        tinytape.zeros(2, dtype=tinytape.cfloat).imag.copy_(tinytape.ones(2, requires_grad=True))
    with tinytape.no_grad():
        w.imag[1] = 7.0  # unrecorded: a plain write into the memory
    assert w.tolist() == [1 + 2j, 7j] and tinytape.view_as_real(w)._base is w
