"""``tinytape.fft`` against PyTorch's recorded answers: every transform with ``n``/``s``, ``dim``
and ``norm``, on real and complex inputs, its values, dtype, grad_fn and input gradient; finite
differences through each primitive; the frequency helpers and shifts; the argument errors; a
spectrum-of-a-signal program and a deconvolution fitted by gradient descent; and the compiler,
which runs transforms eagerly."""
import warnings

import numpy as np
import pytest

import tinytape
from helpers import check_close_to_pytorch, check_grad, outcome_of as _outcome
from pytorch_answers import pytorch
from tinytape.compiler.capture import Unsupported

_ONE_D = ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft")
_MANY_D = ("fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn", "rfftn", "irfftn")
_REAL_ONLY = ("rfft", "rfft2", "rfftn", "ihfft")


def _transform_and_gradient(torch, name, complex_input, size, norm, dtype="float64"):
    """The transform of a seeded input and the gradient of a seeded real loss of it."""
    torch.manual_seed(0)
    real, cplx = getattr(torch, dtype), (torch.complex64 if dtype == "float32" else torch.complex128)
    x = torch.randn(4, 6, dtype=cplx if complex_input else real, requires_grad=True)
    kw = {}
    if size is not None:
        kw = {"n": size} if name in _ONE_D else {"s": (3, size)}
    y = getattr(torch.fft, name)(x, norm=norm, **kw)
    weights = torch.randn(*y.shape, dtype=y.dtype)
    loss = (y * weights).real.sum() if y.is_complex() else (y * weights).sum()
    (g,) = torch.autograd.grad(loss, x)
    return [y, g]


@pytest.mark.parametrize("norm", [None, "backward", "ortho", "forward"])
@pytest.mark.parametrize("size", [None, 5, 8])
@pytest.mark.parametrize("name, complex_input", [(name, False) for name in _ONE_D + _MANY_D] +
                         [(name, True) for name in _ONE_D + _MANY_D if name not in _REAL_ONLY])
def test_transform_values_grad_fn_and_gradient(name, complex_input, size, norm):
    # (the real-input transforms' refusal of complex input: test_argument_errors)
    check_close_to_pytorch(lambda torch: _transform_and_gradient(torch, name, complex_input, size, norm),
                           rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", _ONE_D + _MANY_D)
def test_float32_transforms(name):
    check_close_to_pytorch(lambda torch: _transform_and_gradient(torch, name, name not in _REAL_ONLY, None, None,
                                                                 "float32"), rtol=2e-5, atol=2e-5)


def test_dims_and_grad_fn_chains():
    def run(torch):
        torch.manual_seed(1)
        x = torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True)
        z = torch.randn(2, 3, 4, dtype=torch.cdouble, requires_grad=True)
        outs = [torch.fft.fft(x, dim=1), torch.fft.ifft(x, dim=0), torch.fft.fft(z, dim=-2), torch.fft.rfft(x, dim=0),
                torch.fft.fftn(x, dim=(0, 2)), torch.fft.fftn(z, s=(5,), dim=(1,)), torch.fft.rfftn(x, dim=(2, 0)),
                torch.fft.irfftn(z, s=(4, 6), dim=(0, 1)), torch.fft.fft2(z, s=(2, 7)), torch.fft.ifftn(z),
                torch.fft.irfft2(z, dim=(0, 1)), torch.fft.hfft(z, n=7, dim=1), torch.fft.ihfft(x, dim=0),
                torch.fft.fft(torch.arange(5)), torch.fft.rfft(torch.arange(6)), torch.fft.irfft(x)]
        chains = []
        for y in outs:
            node, chain = y.grad_fn, []
            while node is not None and len(chain) < 3:
                chain.append(type(node).__name__)
                node = node.next_functions[0][0] if node.next_functions else None
            chains.append(chain)
        return outs + [chains]
    check_close_to_pytorch(run, rtol=1e-6, atol=1e-6)  # (two of float32: the transforms of integers)


@pytest.mark.parametrize("primitive", ["c2c", "r2c", "r2c_full", "c2r", "c2r_odd", "hfft", "ihfft", "c2c_2d",
                                       "r2c_2d", "c2r_2d"])
def test_primitives_match_finite_differences(primitive):
    fft = tinytape.fft
    as_real = tinytape.view_as_real
    fns = {
        "c2c": lambda re, im: as_real(fft.fft(tinytape.complex(re, im), norm="ortho")),
        "r2c": lambda re, im: as_real(fft.rfft(re * im, n=7)),
        "r2c_full": lambda re, im: as_real(fft.ifft(re + im).resolve_conj()),
        "c2r": lambda re, im: fft.irfft(tinytape.complex(re, im)),
        "c2r_odd": lambda re, im: fft.irfft(tinytape.complex(re, im), n=5, norm="forward"),
        "hfft": lambda re, im: fft.hfft(tinytape.complex(re, im), n=6),
        "ihfft": lambda re, im: as_real(fft.ihfft(re - im).resolve_conj()),
        "c2c_2d": lambda re, im: as_real(fft.ifft2(tinytape.complex(re, im), s=(3, 5))),
        "r2c_2d": lambda re, im: as_real(fft.rfft2(re * 2 + im)),
        "c2r_2d": lambda re, im: fft.irfftn(tinytape.complex(re, im), norm="ortho"),
    }
    rng = np.random.default_rng(3)
    check_grad(fns[primitive], rng.standard_normal((3, 4)), rng.standard_normal((3, 4)))


def test_frequencies_and_shifts():
    def run(torch):
        x = torch.arange(10.0).reshape(2, 5).requires_grad_()
        return [torch.fft.fftfreq(5), torch.fft.fftfreq(8, 0.1), torch.fft.fftfreq(4, dtype=torch.float64),
                torch.fft.rfftfreq(6, 0.1), torch.fft.rfftfreq(7), torch.fft.rfftfreq(9, 1 / 3, dtype=torch.float64),
                torch.fft.fftfreq(3, requires_grad=True), torch.fft.fftshift(torch.arange(5)),
                torch.fft.ifftshift(torch.arange(5)), torch.fft.fftshift(x), torch.fft.ifftshift(x, dim=1),
                torch.fft.fftshift(x, dim=(0,)), torch.fft.ifftshift(torch.fft.fftshift(x)),
                torch.fft.fftshift(torch.fft.fftfreq(6))]
    check_close_to_pytorch(run, rtol=0, atol=0)


def test_argument_errors():
    def run(torch):
        z = torch.randn(2, 3, dtype=torch.cfloat)
        x = torch.randn(2, 3)
        fft = torch.fft
        cases = [lambda: fft.rfft(z), lambda: fft.ihfft(z), lambda: fft.rfftn(z), lambda: fft.rfft2(z),
                 lambda: fft.fft(z, n=0), lambda: fft.fft(z, norm="x"), lambda: fft.irfft(z, n=0),
                 lambda: fft.fft2(torch.ones(3)), lambda: fft.fft(z, dim=3),
                 lambda: fft.fftn(z, s=(2,), dim=(0, 1)), lambda: fft.irfft(torch.ones(1, dtype=torch.cfloat)),
                 lambda: fft.fftn(x, s=(1, 2, 3)), lambda: fft.fftn(x, dim=(0, 0))]
        return [_outcome(c) for c in cases]
    # PyTorch's type and words; ours may name the op first ("fft: Dimension out of range ...")
    for ours, theirs in zip(run(tinytape), pytorch(run), strict=True):
        kind, _, text = theirs.partition(": ")
        assert ours.startswith(kind + ": ") and ours.endswith(text), (ours, theirs)


def test_spectrum_of_a_signal():
    # a tutorial program: the dominant frequencies of a noisy two-tone signal, and a low-pass filter
    def run(torch):
        torch.manual_seed(0)
        rate, n = 100.0, 256
        t = torch.arange(n) / rate
        signal = torch.sin(2 * torch.pi * 5 * t) + 0.5 * torch.sin(2 * torch.pi * 12 * t) + 0.1 * torch.randn(n)
        spectrum = torch.fft.rfft(signal)
        freqs = torch.fft.rfftfreq(n, 1 / rate)
        power = spectrum.abs() ** 2 / n
        top = power.topk(2).indices
        filtered = torch.fft.irfft(spectrum * (freqs < 8), n=n)
        centered = torch.fft.fftshift(torch.fft.fft(signal)).abs()
        return [freqs[top], power[top], filtered[:8], (signal - filtered).pow(2).mean(), centered.argmax(),
                spectrum[:4]]
    check_close_to_pytorch(run, rtol=2e-4, atol=2e-4)


def test_deconvolution_fitted_by_gradient_descent():
    # recover a signal blurred by a known kernel: minimise |irfft(rfft(x) * H) - y|^2 with Adam
    def run(torch):
        torch.manual_seed(0)
        n = 32
        truth = torch.randn(n, dtype=torch.float64)
        kernel = torch.zeros(n, dtype=torch.float64)
        kernel[:3] = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)
        H = torch.fft.rfft(kernel)
        y = torch.fft.irfft(torch.fft.rfft(truth) * H, n=n)
        x = torch.zeros(n, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.Adam([x], lr=0.1)
        for _ in range(40):
            opt.zero_grad()
            loss = (torch.fft.irfft(torch.fft.rfft(x) * H, n=n) - y).pow(2).sum()
            loss.backward()
            opt.step()
        return [loss.detach(), x.detach()[:6], x.grad[:6]]
    check_close_to_pytorch(run, rtol=1e-8, atol=1e-10)


def test_compile_runs_transforms_eagerly():
    x = tinytape.arange(8.0).requires_grad_()

    def step(a):
        loss = tinytape.fft.irfft(tinytape.fft.rfft(a * 2), n=8).pow(2).sum()
        loss.backward()
        return loss
    compiled = tinytape.compile(step)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = compiled(x)
    assert any("numpy" in str(c.message) for c in caught)
    compiled_grad = x.grad.clone()
    x.grad = None
    eager = step(x)
    assert first.item() == eager.item()
    np.testing.assert_array_equal(compiled_grad.numpy(), x.grad.numpy())
    with pytest.raises(Unsupported, match="FftR2C"):
        tinytape.compile(lambda a: tinytape.fft.rfft(a).abs().sum(), fullgraph=True)(x.detach())


def test_stft_and_istft():
    def run(torch):
        torch.manual_seed(0)
        x = torch.randn(2, 40, dtype=torch.float64, requires_grad=True)
        w = torch.hann_window(16, dtype=torch.float64)
        S = torch.stft(x, 16, hop_length=4, window=w, return_complex=True)
        y = torch.istft(S, 16, hop_length=4, window=w, length=40)
        (S.abs() ** 2).sum().add(y.pow(3).sum()).backward()
        S2 = torch.stft(x[0], 16, hop_length=2, window=torch.hann_window(12, dtype=torch.float64), win_length=12,
                        return_complex=True, center=False, normalized=True, onesided=False)
        z = torch.randn(50, dtype=torch.cdouble)
        w8 = torch.hann_window(8, dtype=torch.float64)
        S3 = torch.stft(z, 8, hop_length=2, window=w8, return_complex=True)
        S4 = torch.stft(x.detach(), 8, window=torch.ones(8, dtype=torch.float64), return_complex=True,
                        pad_mode="constant")
        return [S, y, x.grad, S2, S3, torch.istft(S3, 8, hop_length=2, window=w8, return_complex=True),
                S4, torch.istft(S4, 8, window=torch.ones(8, dtype=torch.float64)),
                _outcome(lambda: torch.stft(x, 16)), _outcome(lambda: torch.istft(x, 16))]
    check_close_to_pytorch(run, rtol=1e-10, atol=1e-12)
