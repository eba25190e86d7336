"""``ConvTranspose1d/2d/3d(...)(x, output_size=...)`` against PyTorch: the output padding that
gives each requested size (spatial sizes alone or with the batch and channel axes, batched and
unbatched, with stride, padding and dilation), the gradients through it, and PyTorch's errors
for sizes no output padding reaches."""
import pytest

import tinytape
from helpers import check_against_pytorch, check_close_to_pytorch


def _outcome(f):
    try:
        return f()
    except Exception as e:  # noqa: BLE001 - the error is the answer
        return f"{type(e).__name__}: {str(e).replace('tinytape', 'torch')}"


_CASES = [  # (n, module options, input shape, output sizes)
    (1, dict(stride=3, padding=1), (2, 2, 5), [[13], [14], [15], (2, 4, 15)]),
    (1, dict(stride=2, dilation=2, padding=2), (2, 5), [[9], [10], [4, 10]]),
    (2, dict(stride=2, padding=1), (1, 2, 3, 4), [[5, 7], [6, 8], (1, 4, 6, 7), [5, 8]]),
    (2, dict(stride=(3, 2), padding=(0, 1), dilation=(1, 2), groups=2), (2, 3, 3), [[9, 7], [11, 8], (4, 10, 8)]),
    (3, dict(stride=2), (1, 2, 2, 3, 2), [[5, 7, 5], [6, 8, 6], [5, 8, 6]]),
]


@pytest.mark.parametrize("case", range(len(_CASES)))
def test_output_size_picks_the_output_padding(case):
    n, options, shape, sizes = _CASES[case]

    def run(torch):
        torch.manual_seed(case)
        in_channels = shape[0] if len(shape) == n + 1 else shape[1]
        conv = getattr(torch.nn, f"ConvTranspose{n}d")(in_channels, 4, 3, **options).double()
        x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
        out = []
        for size in sizes:
            y = conv(x, output_size=size)
            gx, gw = torch.autograd.grad((y * y).sum(), [x, conv.weight])
            out += [y, gx, gw]
        out.append(conv(x, output_size=torch.Size(sizes[-1])))
        return out
    check_close_to_pytorch(run, rtol=1e-10, atol=1e-12)


def test_impossible_output_sizes_raise_pytorchs_errors():
    def run(torch):
        torch.manual_seed(5)
        c1 = torch.nn.ConvTranspose1d(2, 3, 3, stride=2, padding=1)
        c2 = torch.nn.ConvTranspose2d(2, 3, 3, stride=2)
        c3 = torch.nn.ConvTranspose3d(2, 3, 2)
        x1, x2, x3 = torch.randn(1, 2, 4), torch.randn(2, 3, 3), torch.randn(1, 2, 2, 2, 2)
        return [_outcome(lambda: c1(x1, output_size=[6])), _outcome(lambda: c1(x1, output_size=[9])),
                _outcome(lambda: c1(x1, output_size=[1, 2, 3, 8])), _outcome(lambda: c1(x1, output_size=[])),
                _outcome(lambda: c2(x2, output_size=[6, 8])), _outcome(lambda: c2(x2, output_size=[2, 7, 9])),
                _outcome(lambda: c2(x2, output_size=torch.Size([3, 9, 6]))),
                _outcome(lambda: c2(x2, output_size=[7, 9]).shape),
                _outcome(lambda: c3(x3, output_size=[3, 3, 4])), _outcome(lambda: c3(x3, output_size=[3, 3])),
                _outcome(lambda: c3(x3, output_size=[3, 3, 3]).shape)]
    check_against_pytorch(run)


def test_padding_mode_changed_after_construction_is_refused_in_forward():
    def run(torch):
        conv = torch.nn.ConvTranspose2d(1, 1, 2)
        conv.padding_mode = "reflect"
        return [_outcome(lambda: conv(torch.ones(1, 1, 3, 3))),
                _outcome(lambda: torch.nn.ConvTranspose1d(1, 1, 2, padding_mode="circular"))]
    check_against_pytorch(run)


def test_lazy_transposed_convolution_takes_output_size():
    def run(torch):
        torch.manual_seed(7)
        conv = torch.nn.LazyConvTranspose2d(3, 3, stride=2)
        y = conv(torch.randn(1, 2, 4, 4), output_size=[10, 9])
        return [y.shape[2:] == (10, 9), type(conv).__name__, conv(torch.ones(1, 2, 4, 4), output_size=[9, 10]).shape[2:]]
    ours, theirs = run(tinytape), __import__("pytorch_answers").pytorch(run)
    assert ours[:2] == theirs[:2] and tuple(ours[2]) == tuple(theirs[2])


def _functional_error_cases(torch, n):
    F = torch.nn.functional
    f = getattr(F, f"conv_transpose{n}d")
    x, w = torch.ones(1, 2, *([3] * n)), torch.ones(2, 1, *([2] * n))
    cases = [dict(padding=-1), dict(output_padding=-1), dict(stride=0), dict(dilation=0), dict(dilation=-1),
             dict(padding=3), dict(output_padding=2, stride=2), dict(output_padding=1, dilation=2), dict(groups=3),
             dict(groups=0), dict(stride=(1,) * (n + 1)), dict(padding=(0,) * (n + 1)),
             dict(output_padding=(0,) * (n + 1)), dict(dilation=(1,) * (n + 1)), dict(stride=[2]),
             dict(stride=1.5), dict(padding=[1.0]), dict(stride=True), dict(padding=5, output_padding=2),
             dict(dilation=0, output_padding=2)]
    out = [_outcome(lambda: tuple(f(x, w, **kw).shape)) for kw in cases]
    out += [_outcome(lambda: f(x, w, torch.ones(3))), _outcome(lambda: f(x, torch.ones(2, 1, 2))),
            _outcome(lambda: f(torch.ones(3), w)), _outcome(lambda: f(torch.ones(1, 3, *([3] * n)), w)),
            _outcome(lambda: f(x.double(), w)), _outcome(lambda: f(x, w.double())),
            _outcome(lambda: f(x, w, torch.ones(1, dtype=torch.float64))), _outcome(lambda: f(x.int(), w.int())),
            _outcome(lambda: f(x, torch.ones(4, 1, *([2] * n)), groups=3)),
            _outcome(lambda: f(x, torch.ones(2, 0, *([2] * n)))),
            _outcome(lambda: f(x, torch.ones(2, 1, 0, *([2] * (n - 1))), dilation=0)),
            _outcome(lambda: f(x, torch.ones(2, 1, 0, *([2] * (n - 1))))),
            _outcome(lambda: f(torch.ones(1, 2, 0, *([3] * (n - 1))), w)),
            _outcome(lambda: tuple(f(torch.ones(0, 2, *([3] * n)), w, padding=1).shape)),
            _outcome(lambda: f(torch.ones(0, 2, *([3] * n)), w, padding=4)),
            _outcome(lambda: tuple(f(torch.ones(2, 0, *([3] * n)), torch.ones(0, 1, *([2] * n))).shape)),
            _outcome(lambda: f(torch.ones(2, 4, *([3] * n)), torch.ones(4, 1))),
            _outcome(lambda: f(torch.ones(2, 4, *([3] * n)), torch.ones(4, 1, 2), stride=(1,) * n))]
    return out


@pytest.mark.parametrize("n", [1, 2, 3])
def test_functional_errors_in_pytorchs_order_and_words(n):
    check_against_pytorch(lambda torch: _functional_error_cases(torch, n))


@pytest.mark.parametrize("n", [1, 2])
def test_bias_of_another_dtype_is_cast_by_the_one_and_two_d_kernels(n):
    def run(torch):
        torch.manual_seed(n)
        f = getattr(torch.nn.functional, f"conv_transpose{n}d")
        x = torch.randn(1, 2, *([3] * n), requires_grad=True)
        w = torch.randn(2, 3, *([2] * n), requires_grad=True)
        b = torch.randn(3, dtype=torch.float64, requires_grad=True)
        y = f(x, w, b, stride=2)
        return [y] + list(torch.autograd.grad((y * y).sum(), [x, w, b]))
    check_close_to_pytorch(run, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_convolution_checks_weight_against_groups_first_and_shows_the_dilated_kernel(n):
    def run(torch):
        f = getattr(torch.nn.functional, f"conv{n}d")
        x, w = torch.ones(1, 2, *([3] * n)), torch.ones(4, 2, *([2] * n))
        return [_outcome(lambda: f(x, w, dilation=5)), _outcome(lambda: f(x, w, groups=3)),
                _outcome(lambda: f(x, w, stride=1.5)).split(":")[0]]
    ours, theirs = run(tinytape), __import__("pytorch_answers").pytorch(run)
    assert [o.replace(f"conv{n}d: ", "") for o in ours[:2]] == theirs[:2]  # (ours name the op first)
    assert ours[2] == theirs[2] == "TypeError"
