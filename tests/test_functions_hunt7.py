"""torch.* functions and Tensor methods against PyTorch, found by running reference-page style
programs under both: diagonal/unfold as views of their input (writes seen, strides, storage),
the conjugate views of a real tensor, the nn.functional ops PyTorch also names at top level
(with their int reductions), the ``*_copy`` view forms, the window functions, and stride()
of added and empty dims.  Each compares with PyTorch's recorded answer."""
import numpy as np
import pytest

import tinytape
from helpers import check_against_pytorch as check
from pytorch_answers import pytorch


def _arange(m, *shape, dtype=None):
    return m.arange(float(np.prod(shape)), dtype=dtype).reshape(*shape)


# ---------------------------------------------------------------- views that share memory


def _diagonal_writes(m):
    a = m.arange(12., requires_grad=True)
    x = a.reshape(3, 4) * 1
    d = x.diagonal(1)
    d.mul_(2)
    x.sum().backward()
    z = m.zeros(4, 4)
    z.diagonal(-1).copy_(m.tensor([1., 2., 3.]))
    z.diagonal().fill_(7.)
    c = _arange(m, 4, 4)
    c.diagonal()[:] = -1
    return [x, d, a.grad, z, c, d.stride(), d.is_contiguous()]


def _diagonal_strides(m):
    b = _arange(m, 2, 3, 4).transpose(0, 2)
    out = []
    for args in [(0, 0, 2), (-1, 1, 2), (1, 0, 1), (2, -1, -2), (5, 0, 1)]:
        v = b.diagonal(*args)
        out += [v, v.stride(), v.is_contiguous(), v.storage_offset()]
    r = _arange(m, 3, 4)
    out += [r.diagonal().untyped_storage().data_ptr() == r.untyped_storage().data_ptr(),
            m.linalg.diagonal(r[None]).stride(), m.diagonal(r.t()).stride()]
    return out


def _unfold_views(m):
    p = m.arange(6., requires_grad=True)
    q = p.unfold(0, 3, 1)
    (q * _arange(m, 4, 3)).sum().backward()
    u = m.arange(10.).unfold(0, 3, 3)
    b = _arange(m, 2, 3, 4).transpose(0, 2)
    w = _arange(m, 5, 5)
    patches = w.unfold(0, 2, 2).unfold(1, 2, 2)
    base = m.arange(8.)
    win = base.unfold(0, 3, 2)
    win[0, 0] = -1.
    return [q, p.grad, u, u.stride(), b.unfold(1, 2, 1).stride(), b.unfold(1, 2, 1).sum(), patches,
            patches.stride(), base, m.tensor(2.).unfold(0, 1, 1), m.arange(4.).unfold(0, 2, 9)]


@pytest.mark.parametrize("program", [_diagonal_writes, _diagonal_strides, _unfold_views])
def test_diagonal_and_unfold_are_views_of_their_input(program):
    check(program)


def test_the_conjugate_views_of_a_real_tensor():
    def program(m):
        x = _arange(m, 2, 3).requires_grad_()
        y = _arange(m, 2, 3, 4)
        out = [x.H, x.mH, x.mT, x.adjoint(), y.mH, m.adjoint(y), x.real is x, m.real(x) is x,
               m.conj(x) is x, x.conj() is x, m.resolve_conj(x) is x, x.resolve_neg() is x, m.conj_physical(x) is x,
               m.is_complex(x), x.is_conj(), x.is_neg(), x.is_complex()]
        for bad in (lambda: y.H, lambda: m.arange(3.).H, lambda: m.arange(3.).mH, lambda: m.arange(3.).mT,
                    lambda: x.imag):
            try:
                bad()
            except RuntimeError as e:
                out.append(str(e))
        return out
    check(program)


def test_stride_of_added_size_one_dims_and_of_empty_tensors():
    def program(m):
        r = _arange(m, 3, 4)
        views = [r[None], r.unsqueeze(0), r.unsqueeze(1), r[:, None], r.t()[None], r.view(3, 1, 4),
                 m.zeros(3, 1, 2).permute(1, 0, 2), m.ones(3).expand(2, 1, 3), m.zeros(2, 0, 3), m.zeros(0),
                 m.zeros(3, 1)[:, :, None], _arange(m, 2, 3, 4).cumsum(0), _arange(m, 2, 3, 4).cumsum(1),
                 _arange(m, 2, 3, 4).transpose(1, 2).cumsum(1)]
        return [(v.stride(), v.is_contiguous()) for v in views]
    check(program)


# ---------------------------------------------------------------- nn ops PyTorch names at top level


def _losses(m):
    m.manual_seed(0)
    x = _arange(m, 3, 4).sub(5.).div(3.).requires_grad_()
    t = m.linspace(0.05, 0.95, 12).reshape(3, 4)
    y = _arange(m, 3, 4).cos()
    s = m.tensor([1., -1., 1.])
    out = []
    for r in (0, 1, 2, 3):
        out += [m.binary_cross_entropy_with_logits(x, t, None, None, r), m.kl_div(x, t, r),
                m.kl_div(x, t, r, log_target=True), m.hinge_embedding_loss(x, (t - 0.5).sign(), 1.0, r),
                m.margin_ranking_loss(x[:, 0], y[:, 0], s, 0.1, r),
                m.poisson_nll_loss(x, t, True, False, 1e-8, r)]
    out += [m.binary_cross_entropy_with_logits(x, t), m.kl_div(x, t),
            m.binary_cross_entropy_with_logits(x, t, m.ones(4) * 2, m.ones(4) * 3, 1)]
    try:
        m.kl_div(x, t, reduction="mean")
    except TypeError as e:
        out.append(str(e))
    return out


def _norms_pools(m):
    x = _arange(m, 3, 4).sin().requires_grad_()
    out = [m.adaptive_max_pool1d(x[None], 2), m.adaptive_max_pool1d(x[None], 3),
           m.max_pool1d_with_indices(x[None], 2), m.max_pool1d_with_indices(x[None], 2, 1, 1),
           m.channel_shuffle(_arange(m, 1, 4, 2).requires_grad_(), 2), m.native_channel_shuffle(_arange(m, 1, 6, 1), 3),
           m.constant_pad_nd(x, (1, 1), 2.), m.constant_pad_nd(x, [1, 1, 0, 1]),
           m.feature_dropout(x[None], 0.5, False), m.feature_dropout(x[None], 0.0, True)]
    for bad in (lambda: m.channel_shuffle(m.ones(2, 3), 1), lambda: m.channel_shuffle(m.ones(2, 3, 1), 2),
                lambda: m.channel_shuffle(m.ones(2, 3, 1), 0)):
        try:
            bad()
        except RuntimeError as e:
            out.append(str(e))
    return out


@pytest.mark.parametrize("program", [_losses, _norms_pools])
def test_nn_ops_under_their_torch_names_take_torchs_arguments(program):
    check(program)


def test_normalizations_and_cosine_loss_under_their_torch_names():
    """Within float32 rounding of PyTorch's (their nn.functional kernels' own last bits aside)."""
    def program(m):
        x = _arange(m, 3, 4).sin().requires_grad_()
        y = _arange(m, 3, 4).cos()
        rm, rv = m.zeros(4), m.ones(4)
        lp = _arange(m, 5, 2, 4).sin().log_softmax(2)
        tg = m.tensor([[1, 2], [1, 1]])
        return [m.batch_norm(x, None, None, None, None, True, 0.1, 1e-5, False),
                m.batch_norm(x, m.ones(4), m.zeros(4), rm, rv, True, 0.1, 1e-5, False), rm, rv,
                m.batch_norm(x, None, None, rm, rv, False, 0.1, 1e-5, False),
                m.instance_norm(x[None], None, None, None, None, True, 0.1, 1e-5, False),
                m.cosine_embedding_loss(x, y, m.tensor([1., -1., 1.]), 0., 0),
                m.cosine_embedding_loss(x, y, m.tensor([1., -1., 1.]), 0.2, 2),
                m.triplet_margin_loss(x, y, y.sin(), 1.0, 2, 1e-6, False, 0),
                m.triplet_margin_loss(x, y, y.sin(), 0.5, 2, 1e-6, True, 1),
                m.ctc_loss(lp, tg, [5, 5], [2, 2]), m.ctc_loss(lp, tg, m.tensor([5, 4]), m.tensor([2, 1]), 0, 1)]
    ours, theirs = program(tinytape), pytorch(program)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.detach().numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
        assert (a.grad_fn.name() if a.grad_fn else None) == b.grad_fn and a.shape == b.shape


def test_the_copy_forms_of_the_view_ops():
    def program(m):
        x = _arange(m, 2, 3).requires_grad_()
        return [m.alias_copy(x), m.as_strided_copy(x, (2, 2), (1, 2)), m.diagonal_copy(x),
                m.expand_copy(x, (2, 2, 3)), m.permute_copy(x, (1, 0)), m.select_copy(x, 1, 0),
                m.slice_copy(x, 1, 0, 2), m.split_copy(x, 2, 1), m.split_with_sizes_copy(x, [1, 2], 1),
                m.squeeze_copy(x[None]), m.squeeze_copy(x[None], 0), m.t_copy(x), m.transpose_copy(x, 0, 1),
                m.unbind_copy(x, 1), m.unfold_copy(x, 1, 2, 1), m.unsqueeze_copy(x, 0), m.view_copy(x, (3, 2)),
                m.view_copy(x.detach(), m.int32), m.angle(m.tensor([-1., 0., 2., float("nan")], requires_grad=True)),
                m.angle(m.tensor([-1, 0, 2])), m.angle(m.tensor([True])), x.angle()]
    check(program)


def test_window_functions():
    """Bartlett's and Kaiser's bit for bit; the cosine windows within a rounding of PyTorch's
    (their cos is MKL's, not correctly rounded in every element)."""
    def exact(m):
        out = []
        for n in (0, 1, 2, 5, 8, 101, 1000):
            for periodic in (True, False):
                out += [m.bartlett_window(n, periodic), m.kaiser_window(n, periodic),
                        m.kaiser_window(n, periodic, 5.0, dtype=m.float64), m.bartlett_window(n, periodic, dtype=m.float64)]
        return out + [m.hann_window(4, requires_grad=True), m.hann_window(0), m.blackman_window(1)]

    def cosines(m):
        out = []
        for n in (2, 5, 8, 101, 1000):
            for periodic in (True, False):
                out += [m.hann_window(n, periodic), m.hamming_window(n, periodic), m.blackman_window(n, periodic),
                        m.hann_window(n, periodic, dtype=m.float64), m.blackman_window(n, periodic, dtype=m.float64)]
        return out + [m.hamming_window(5, False, 0.5, 0.3)]
    check(exact)
    for a, b in zip(cosines(tinytape), pytorch(cosines)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)
        assert str(a.dtype).split(".")[1] == b.dtype


def test_modified_bessel_functions_bit_for_bit_with_their_gradients():
    def program(m):
        out = []
        for dtype in (m.float32, m.float64):
            x = m.cat([m.linspace(-40., 40., 4001, dtype=dtype), m.tensor([0., 8., -8., 1e-30, float("inf"),
                                                                           float("nan")], dtype=dtype)])
            x.requires_grad_()
            for f in (m.i0, m.special.i0e, m.special.i1, m.special.i1e):
                y = f(x)
                out += [y, m.autograd.grad(y.sum(), x)[0]]
        return out
    check(program)


def test_pow_of_float_tensors_bit_for_bit_with_pytorchs_vector_and_scalar_loops():
    def program(m):
        rng = np.random.default_rng(3)
        out = []
        for dtype, n in (("float32", 5), ("float32", 100), ("float32", 3000), ("float64", 7), ("float64", 100),
                         ("float64", 3000)):
            x = np.abs(rng.standard_normal(n) * 3).astype(dtype)
            y = (rng.standard_normal(n) * 2).astype(dtype)
            x[::11], x[::13], x[::29], x[::41] = 0, np.inf, -1, -0.0
            y[::17], y[::31], y[::7] = np.nan, -np.inf, np.round(y[::7])
            a, b = m.tensor(x), m.tensor(y)
            out += [a ** b, a ** 2.5, a ** -1.3, 2.7 ** b, m.float_power(a, b), a ** b[0], a[:1] ** b, m.pow(a, b)]
        return out
    check(program)


_ERRORS = [
    lambda m: m.mm(m.ones(2, 3), m.ones(2, 3)), lambda m: m.ones(2, 3) @ m.ones(2, 3),
    lambda m: m.mm(m.ones(2, 3), m.ones(3, 3, dtype=m.float64)), lambda m: m.matmul(m.ones(2, 3), m.ones(3, 3, dtype=m.float64)),
    lambda m: m.mv(m.ones(2, 3), m.ones(3, dtype=m.float64)), lambda m: m.ones(2, 3) @ m.ones(4),
    lambda m: m.ones(3) @ m.ones(4, 2), lambda m: m.dot(m.ones(2, 2), m.ones(2)),
    lambda m: m.dot(m.ones(3), m.ones(3, dtype=m.float64)), lambda m: m.bmm(m.ones(2, 2, 3), m.ones(2, 3, 2, dtype=m.float64)),
    lambda m: m.mm(m.ones(2, 2, dtype=m.int64), m.ones(2, 2)), lambda m: m.mm(m.ones(2), m.ones(2, 2)),
    lambda m: m.mm(m.ones(2, 2), m.ones(2)), lambda m: m.bmm(m.ones(2, 2), m.ones(2, 2)),
    lambda m: m.bmm(m.ones(2, 2, 2), m.ones(2, 2)), lambda m: m.ones(()) @ m.ones(2),
    lambda m: m.linalg.solve(m.ones(2, 2), m.ones(2)), lambda m: m.broadcast_shapes((2,), (3,)),
    lambda m: m.broadcast_shapes((1, 2), (3, 1), (2, 5)), lambda m: m.broadcast_tensors(m.ones(2, 3), m.ones(4, 3)),
    lambda m: m.clamp(m.ones(2)), lambda m: m.ones(2).clip(), lambda m: m.finfo(m.int32), lambda m: m.iinfo(m.float32),
    lambda m: m.iinfo(m.bool),
]


@pytest.mark.parametrize("index", range(len(_ERRORS)))
def test_error_messages_are_pytorchs(index):
    def program(m):
        try:
            _ERRORS[index](m)
        except (RuntimeError, TypeError) as e:
            return [type(e).__name__ if type(e).__name__ != "_LinAlgError" else "LinAlgError",
                    str(e).replace("tinytape", "torch")]
        return "no error"
    check(program)


def test_broadcast_shapes_einsum_sublists_and_the_matmul_family():
    def program(m):
        return [m.broadcast_shapes((2,), (3, 1), (1, 1, 1)), m.broadcast_shapes(2, (1, 2)),
                m.einsum(_arange(m, 2, 3), [0, 1], m.arange(3.), [1], [0]),
                m.einsum(m.ones(2, 3), [..., 1], m.ones(3), [1], [...]), m.einsum(_arange(m, 3, 3), [0, 0])]
    check(program)


def test_gradient_repeat_interleave_and_memory_formats():
    def program(m):
        v = m.tensor([3., 1., 4., 1., 5., 9., 2., 6.])
        x = m.tensor([[1., 5., 2., 8.], [3., 3., 7., 0.], [4., 6., 6., 1.]], requires_grad=True)
        t = m.tensor([0., 1., 1.5, 3.5, 4., 6., 6.5, 8.])
        y = m.arange(24.).reshape(1, 2, 3, 4).requires_grad_()
        last = y.contiguous(memory_format=m.channels_last)
        return [m.gradient(v), m.gradient(v, spacing=2.), m.gradient(x, dim=1), m.gradient(v, edge_order=2),
                m.gradient(x), m.gradient(x, spacing=[2., 0.5]), m.gradient(v, spacing=(t,)),
                m.gradient(v, spacing=(t,), edge_order=2), m.gradient(x, spacing=(m.tensor([0., 2., 3.]),), dim=0),
                m.gradient(m.tensor([1, 4, 9, 16])),
                m.repeat_interleave(m.tensor([1, 2]), m.tensor([1, 3])), m.repeat_interleave(m.tensor([2, 1])),
                x.repeat_interleave(2, dim=0), x.repeat_interleave(m.tensor([1, 2, 0]), dim=0),
                m.tensor([1, 2]).repeat_interleave(2, output_size=4),
                last, last.stride(), last.is_contiguous(), last.is_contiguous(memory_format=m.channels_last),
                y.clone(memory_format=m.channels_last).stride(), repr(m.channels_last), repr(m.contiguous_format),
                m.autograd.grad((last * m.arange(24.).reshape(1, 2, 3, 4)).sum(), y)[0]]
    check(program)


@pytest.mark.gpu
def test_diagonal_and_unfold_views_on_cuda():
    def program(m, device="cpu"):
        kwargs = {"device": device} if m is tinytape else {}
        a = m.arange(12., **kwargs).reshape(3, 4).t()
        d = a.diagonal(1)
        d.mul_(10.)
        u = m.arange(6., **kwargs).unfold(0, 3, 2)
        u[1, 0] = -1.
        return [a.cpu(), d.cpu(), d.stride(), u.cpu(), u._base.cpu()]
    ours, theirs = program(tinytape, "cuda"), pytorch(program)
    from helpers import assert_same
    assert_same(ours, theirs)


def test_post_accumulate_grad_hooks_run_after_backward_accumulates():
    def program(m):
        seen = []
        p = m.ones(2, requires_grad=True)
        handle = p.register_post_accumulate_grad_hook(lambda t: seen.append((t.grad.clone(), t is p)))
        (p * 3).sum().backward()
        handle.remove()
        (p * 3).sum().backward()
        m.autograd.grad((p * 2).sum(), p)  # autograd.grad accumulates nothing: no call
        net = m.nn.Linear(2, 1)
        with m.no_grad():
            net.weight.fill_(0.5)
            net.bias.fill_(0.1)
        optimizers = {q: m.optim.SGD([q], lr=0.1) for q in net.parameters()}

        def step(q):
            optimizers[q].step()
            optimizers[q].zero_grad()
        for q in net.parameters():
            q.register_post_accumulate_grad_hook(step)
        net(m.ones(3, 2)).sum().backward()
        errors = []
        for bad in (lambda: (p * 2).register_post_accumulate_grad_hook(step),
                    lambda: m.ones(2).register_post_accumulate_grad_hook(step)):
            try:
                bad()
            except RuntimeError as e:
                errors.append(str(e))
        return [seen, p.grad, net.weight.detach(), net.bias.detach(), net.weight.grad, errors]
    check(program)
