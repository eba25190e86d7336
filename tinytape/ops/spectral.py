"""``stft`` and ``istft``, composed as PyTorch composes them (``torch/functional.py`` and
``SpectralOps.cpp``): frames of the (reflect-padded) signal times the window, a one-dimensional
transform of each (``fft.FftR2C``/``FftC2C``), transposed to (..., frequency, frame); back, each
frame's inverse transform times the window, added where the frames overlap and divided by the
overlapped squared window."""
import warnings

from .. import _creation
from .._tensor import Tensor
from .composite_entry import composite_op

_warned_window = set()  # the ops that warned of a missing window (once a process each, as PyTorch's)
_SUPPRESS = ("To suppress this warning and use a rectangular window, explicitly set "
             "`window=torch.ones(n_fft, device=<device>)`.")
_WINDOW_WARNINGS = {
    "stft": "A window was not provided. A rectangular window will be applied,which is known to cause spectral "
            "leakage. Other windows such as torch.hann_window or torch.hamming_window are recommended to reduce "
            "spectral leakage." + _SUPPRESS,
    "istft": "A window was not provided. A rectangular window will be applied.Please provide the same window used "
             "by stft to make the inversion lossless." + _SUPPRESS}


def _window(window, win_length, n_fft, like, op):
    """The window padded with zeros on both sides to ``n_fft`` (None: rectangular, with PyTorch's
    once-a-process warning)."""
    if window is None:
        if op not in _warned_window:
            _warned_window.add(op)
            warnings.warn(_WINDOW_WARNINGS[op], UserWarning, stacklevel=3)
        window = _creation.ones(win_length, dtype=like.dtype.to_real(), device=like.device)
    elif window.ndim != 1 or window.shape[0] != win_length:
        raise RuntimeError(f"{op}: expected a 1D window tensor of size equal to win_length={win_length}, but got "
                           f"window with size {list(window.shape)}")
    if win_length < n_fft:
        left = (n_fft - win_length) // 2
        window = _pad(window, [left, n_fft - win_length - left])
    return window


def _pad(x, pad, mode="constant"):
    from .nn_ops import pad as pad_op
    return pad_op(x, pad, mode)


def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, pad_mode="reflect",
         normalized=False, onesided=None, return_complex=None):
    from .. import fft
    from .complex import view_as_real
    if return_complex is None and not input.is_complex() and not (window is not None and window.is_complex()):
        raise RuntimeError("stft requires the return_complex parameter be given for real inputs, and will further "
                           "require that return_complex=True in a future PyTorch release.")
    if input.ndim not in (1, 2):
        raise RuntimeError(f"stft: expected a 1D or 2D tensor, but got {input.ndim}D tensor")
    if center:
        pad = n_fft // 2
        shape = (1,) * (3 - input.ndim) + tuple(input.shape)
        input = _pad(input.view(shape), [pad, pad], pad_mode).view(input.shape[:-1] + (-1,))
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    signal = input.unsqueeze(0) if input.ndim == 1 else input
    length = signal.shape[-1]
    if not 0 < n_fft <= length:
        raise RuntimeError(f"stft: expected 0 < n_fft < {length}, but got n_fft={n_fft}")
    if hop_length <= 0:
        raise RuntimeError(f"stft: expected hop_length > 0, but got hop_length={hop_length}")
    if not 0 < win_length <= n_fft:
        raise RuntimeError(f"stft: expected 0 < win_length <= n_fft, but got win_length={win_length}")
    frames = signal.unfold(-1, n_fft, hop_length) * _window(window, win_length, n_fft, signal, "stft")
    norm = "ortho" if normalized else "backward"
    if frames.is_complex():
        out = fft.FftC2C.apply(frames, (2,), norm, True)
    else:
        out = fft.FftR2C.apply(frames, (2,), norm, True if onesided is None else bool(onesided))
    out = composite_op("TransposeBackward1", lambda t: t.transpose(1, 2), out)
    if input.ndim == 1:
        out = composite_op("SqueezeBackward4", lambda t: t.squeeze(0), out)
    return out if return_complex or return_complex is None else view_as_real(out)


def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, normalized=False,
          onesided=None, length=None, return_complex=False):
    from .. import fft
    if not isinstance(input, Tensor) or not input.is_complex():
        raise TypeError("istft requires a complex-valued input tensor matching the output from stft with "
                           "return_complex=True.")
    if input.ndim not in (2, 3):
        raise RuntimeError(f"istft: expected a tensor with 2 or 3 dimensions of complex dtype, but got "
                           f"{input.ndim}D tensor")
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    batched = input.ndim == 3
    spectra = (input if batched else input.unsqueeze(0)).transpose(1, 2)  # (batch, frames, frequencies)
    n_frames = spectra.shape[1]
    expected = n_fft + hop_length * (n_frames - 1)
    window = _window(window, win_length, n_fft, input, "istft")
    norm = "ortho" if normalized else "backward"
    if return_complex:
        frames = fft.FftC2C.apply(spectra, (2,), norm, False)
    else:
        if onesided is False:
            spectra = spectra.narrow(-1, 0, n_fft // 2 + 1)
        frames = fft.FftC2R.apply(spectra, (2,), norm, n_fft)
    frames = frames * window.view(1, 1, n_fft)
    positions = (_creation.arange(n_frames).unsqueeze(1) * hop_length + _creation.arange(n_fft)).reshape(-1)
    signal = frames.new_zeros((frames.shape[0], expected)).index_add(1, positions, frames.reshape(frames.shape[0], -1))
    envelope = window.pow(2).expand(n_frames, n_fft).reshape(-1)
    envelope = envelope.new_zeros(expected).index_add(0, positions, envelope)
    start = n_fft // 2 if center else 0
    end = start + length if length is not None else (expected - n_fft // 2 if center else expected)
    signal, envelope = signal[:, start:min(end, expected)], envelope[start:min(end, expected)]
    if bool((envelope.abs() < 1e-11).any()):
        raise RuntimeError(f"istft: window overlap add min: {envelope.abs().min().item():g}")
    signal = signal / envelope
    if not batched:
        signal = signal.squeeze(0)
    if end > expected:
        signal = _pad(signal, [0, end - expected])
    return signal


FUNCTIONS = {"stft": stft, "istft": istft}
METHODS = {"stft": stft, "istft": istft}