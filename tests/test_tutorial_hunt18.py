"""Programs from tutorials, against PyTorch's answers: einsum over batches whose ellipses
cover different numbers of dims, and its size errors in PyTorch's words; the legacy typed
constructors (``LongTensor``, ``DoubleTensor``, ``ByteTensor``) reading data at their own
dtype; cross_entropy's class-probability target that is not floating."""
import numpy as np

from helpers import check_against_pytorch, check_close_to_pytorch, check_grad, outcome_of


def _errors(calls):
    """Each call's outcome as text: PyTorch's type and words, the package named as torch."""
    return [str(outcome_of(c)).replace("tinytape", "torch") for c in calls]


def test_einsum_ellipses_of_different_lengths_broadcast_from_the_right():
    def run(torch):
        a = torch.arange(20.).view(5, 2, 2).requires_grad_()
        b = torch.arange(60.).view(3, 5, 2, 2)
        r = torch.einsum('...ij,...jk->...ik', a, b)
        r.sum().backward()
        # the values, not the last op's name: PyTorch ends most einsums with a view
        return [r.detach(), a.grad, torch.einsum('...ij,...jk', a, b).shape,
                torch.einsum('...i,...i->...', torch.arange(12.).view(4, 3), torch.ones(2, 1, 3)),
                torch.einsum('b...,...->b...', torch.arange(6.).view(2, 3), torch.arange(3.))]
    check_against_pytorch(run)


def test_einsum_with_ellipses_of_different_lengths_by_finite_differences():
    import tinytape as tt
    b = tt.tensor(np.random.rand(2, 3, 2, 2))
    check_grad(lambda a: tt.einsum('...ij,...jk->...ik', a, b), np.random.rand(3, 2, 2))


def test_einsum_size_errors_in_pytorchs_words():
    def run(torch):
        ones = torch.ones
        return _errors([
            lambda: torch.einsum('ij,jk->ik', ones(2, 4), ones(3, 2)),
            lambda: torch.einsum('ij,ij->i', ones(2, 4), ones(3, 4)),
            lambda: torch.einsum('bij,bjk->bik', ones(2, 2, 3), ones(3, 3, 1)),
            lambda: torch.einsum('ij,j->i', ones(2, 4), ones(1)),
            lambda: torch.einsum('ij,j->i', ones(2, 1), ones(3)),
            lambda: torch.einsum('ii->i', ones(2, 3)),
            lambda: torch.einsum('iij,jk->ik', ones(2, 2, 4), ones(3, 2)),
            lambda: torch.einsum('ij,jjk->ik', ones(2, 4), ones(3, 2, 2)),
            lambda: torch.einsum('...i,...i->...', ones(2, 3), ones(4, 3)),
            lambda: torch.einsum('...ij,...jk->...ik', ones(2, 3, 2, 2), ones(4, 2, 2)),
            lambda: torch.einsum('...ij,...jk->...ik', ones(5, 2, 2), ones(3, 4, 2, 2)),
        ])
    check_against_pytorch(run)


def _without_op_note(texts):
    """``texts`` with the note tinytape adds after PyTorch's words on an overflow taken off."""
    return [t.split(" (tensor(): ")[0] for t in texts]


def test_legacy_typed_constructors_read_data_at_their_dtype():
    def run(torch):
        return [torch.LongTensor([16777217, 2**40 + 1]), torch.DoubleTensor([0.1]).item(),
                torch.LongTensor([1.7, -1.7]), torch.ByteTensor([-1, 255]), torch.BoolTensor([0, 2]),
                torch.LongTensor([[1, 2], [3, 4]]), torch.LongTensor(np.array([1, 2])),
                torch.FloatTensor(np.array([1, 2])), torch.LongTensor(()), torch.LongTensor(2, 3).shape,
                str(torch.ByteTensor(3).dtype).split('.')[1], torch.HalfTensor([70000.]), torch.IntTensor([True, 2]),
                torch.DoubleTensor([1 / 3]) * 3,
                *_without_op_note(_errors([lambda: torch.ByteTensor([1, 300]), lambda: torch.IntTensor([2**31]),
                                           lambda: torch.CharTensor([200]), lambda: torch.LongTensor(3.5)]))]
    check_against_pytorch(run)


def test_cross_entropy_target_of_the_inputs_shape_must_be_floating():
    def run(torch):
        F = torch.nn.functional
        ones = torch.ones
        return _errors([
            lambda: F.cross_entropy(ones(2, 3), ones(2, 3, dtype=torch.long)),
            lambda: F.cross_entropy(ones(2, 3), ones(2, 3, dtype=torch.int32)),
            lambda: F.cross_entropy(ones(2, 3), ones(2, 3, dtype=torch.bool)),
            lambda: F.cross_entropy(ones(2, 3), ones(2, 3, dtype=torch.uint8)),
            lambda: F.cross_entropy(ones(2, 3, 4), ones(2, 3, 4, dtype=torch.long)),
            lambda: F.cross_entropy(ones(3), ones(3, dtype=torch.long)),
            lambda: torch.nn.CrossEntropyLoss()(ones(2, 3), ones(2, 3, dtype=torch.long)),
            lambda: F.cross_entropy(ones(2, 3), ones(2, 4)),
            lambda: F.cross_entropy(ones(2, 3), ones(2, 3, dtype=torch.float64)),
            lambda: F.cross_entropy(ones(3), torch.tensor(0)),
        ])
    check_against_pytorch(run)


def test_convolution_outputs_are_contiguous_so_view_flattens_them():
    """CS231n's ``flatten``: ``x.view(N, -1)`` of a convolution's output (with a bias)."""
    def run(torch):
        torch.manual_seed(0)
        nn, F = torch.nn, torch.nn.functional
        x4, x3, x5 = torch.randn(2, 3, 6, 6), torch.randn(2, 3, 8), torch.randn(1, 2, 4, 4, 4)
        w = torch.randn(4, 3, 3, 3, requires_grad=True)
        b = torch.randn(4, requires_grad=True)
        y = F.conv2d(x4, w, b, padding=1)
        flat = y.view(2, -1)
        (flat * torch.arange(288.).view(2, 144)).sum().backward()
        outs = [y, nn.Conv1d(3, 4, 3)(x3), nn.Conv2d(3, 6, 3, groups=3)(x4), nn.Conv3d(2, 3, 2)(x5),
                nn.ConvTranspose2d(3, 2, 3, stride=2)(x4), nn.ConvTranspose3d(2, 2, 2)(x5)]
        return [[o.is_contiguous() for o in outs], [o.stride() for o in outs], flat, w.grad, b.grad,
                nn.Conv3d(2, 3, 2)(x5).view(1, -1).shape]
    check_close_to_pytorch(run, rtol=1e-4, atol=1e-4)  # the products' sums round apart from PyTorch's


def test_convolutions_with_bias_by_finite_differences():
    import tinytape as tt
    F = tt.nn.functional
    check_grad(lambda x, w, b: F.conv2d(x, w, b, padding=1).view(2, -1) * tt.arange(64.).view(1, 64),
               np.random.rand(2, 2, 3, 3), np.random.rand(4, 2, 2, 2), np.random.rand(4))
    check_grad(lambda x, w, b: F.conv3d(x, w, b).view(1, -1),
               np.random.rand(1, 2, 3, 3, 3), np.random.rand(2, 2, 2, 2, 2), np.random.rand(2))


def test_python_float_and_complex_as_dtypes_are_double():
    def run(torch):
        return [torch.ones(2, 3, dtype=float), torch.tensor([1, 2], dtype=float), torch.zeros(1, dtype=complex).dtype,
                torch.ones(2).to(float), torch.ones(2, dtype=torch.long).to(dtype=float),
                torch.nn.Linear(2, 2).to(float).weight.dtype, torch.zeros(2, dtype=int), torch.ones(1, dtype=bool)]
    check_against_pytorch(lambda torch: [str(v).replace("tinytape", "torch") if not hasattr(v, "shape") else v
                                         for v in run(torch)])


def test_numpy_arrays_read_backwards_are_refused():
    """``img[:, :, ::-1]`` (BGR to RGB), ``np.flip``: PyTorch's tensors have no negative strides."""
    def run(torch):
        a = np.arange(6).reshape(2, 3)
        return [*_errors([lambda: torch.from_numpy(np.arange(6)[::-1]), lambda: torch.from_numpy(a[:, ::-1]),
                          lambda: torch.from_numpy(np.flip(np.eye(2), 0)), lambda: torch.as_tensor(a[::-1]),
                          lambda: torch.as_tensor(a[::-1], dtype=torch.float32), lambda: torch.tensor(a[:, ::-1]),
                          lambda: torch.tensor(a[::-1], dtype=torch.float32)]),
                torch.from_numpy(np.arange(6.)[::2]), torch.from_numpy(np.arange(6)[::-1].copy()),
                torch.from_numpy(a[:, ::2]).stride(), torch.tensor([np.arange(3)[::-1]])]
    check_against_pytorch(run)


def test_a_list_of_numpy_arrays_makes_a_tensor_of_their_dtype():
    """RL and data-prep code: ``torch.tensor([state, state, ...])``."""
    def run(torch):
        f32 = np.float32
        return [torch.tensor([np.arange(3)]), torch.tensor([np.arange(3.), np.ones(3)]),
                torch.tensor((np.ones(2, dtype=f32), np.zeros(2, dtype=f32))), torch.FloatTensor([np.ones(2), np.ones(2)]),
                torch.tensor([[np.arange(2)], [np.arange(2) + 2]]), torch.tensor([np.ones(2, dtype=np.int32)] * 2),
                torch.tensor([np.ones(2), np.zeros(2)], dtype=torch.float32), torch.as_tensor([np.ones(2, dtype=f32)]),
                *_errors([lambda: torch.tensor([np.array(1.5), np.array(2.)])])]
    check_against_pytorch(run)


def test_the_warnings_pytorch_gives_once_a_program():
    import warnings

    import pytest

    import tinytape as tt
    from tinytape import _creation
    read_only = np.arange(3.)
    read_only.flags.writeable = False
    _creation._NOT_WRITABLE_WARNED = _creation._LIST_OF_ARRAYS_WARNED = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tt.tensor(read_only)  # a copy: no warning (PyTorch's)
    with pytest.warns(UserWarning, match="The given NumPy array is not writable"):
        tt.from_numpy(read_only)
    with pytest.warns(UserWarning, match="Creating a tensor from a list of numpy.ndarrays is extremely slow"):
        tt.tensor([np.ones(2), np.ones(2)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tt.as_tensor(read_only)
        tt.tensor([np.ones(2)])
