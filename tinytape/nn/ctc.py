"""``CTCLoss`` and ``F.ctc_loss`` (Graves et al.'s connectionist temporal classification),
as PyTorch's CPU kernels compute them: the log-space forward (alpha) recursion for the
loss, the backward (beta) recursion for the gradient, whose formula is PyTorch's
(``exp(lp) - exp(log sum alpha beta + nll - lp)``: the gradient through a log-softmax, as
PyTorch's is).  The recursions run over the lengths on the host, vectorised over the
label positions; ``CtcLossBackward0`` is one tape entry."""
import numpy as np

from .. import _creation
from .._tensor import Tensor
from ..autograd.function import Function
from ..ops import elementwise as ew
from .loss import _Loss


def _logsumexp(*terms):
    """``log(sum exp(x - m)) + m`` with ``m`` the largest term (0 where all are -inf)."""
    m = terms[0]
    for t in terms[1:]:
        m = np.maximum(m, t)
    m = np.where(m == -np.inf, 0, m).astype(terms[0].dtype)
    with np.errstate(divide="ignore"):
        total = np.exp(terms[0] - m)
        for t in terms[1:]:
            total = total + np.exp(t - m)
        return np.log(total) + m


def _shift(x, k):
    """``x`` moved ``k`` places towards the end (``k < 0``: the start), -inf coming in."""
    out = np.full_like(x, -np.inf)
    if k > 0:
        out[k:] = x[:-k]
    else:
        out[:k] = x[-k:]
    return out


def _extended(targets, blank):
    """``l'``: the labels with a blank before each and one at the end."""
    out = np.full(2 * len(targets) + 1, blank, dtype=np.int64)
    out[1::2] = targets
    return out


def _alpha(lp, labels):
    """Log alpha over (time, extended position) of one sample's log-probabilities."""
    steps, positions = lp.shape[0], labels.size
    la = np.full((steps, positions), -np.inf, dtype=lp.dtype)
    la[0, 0] = lp[0, labels[0]]
    if positions > 1:
        la[0, 1] = lp[0, labels[1]]
    skip = np.zeros(positions, bool)
    skip[2:] = labels[2:] != labels[:-2]
    neg = np.array(-np.inf, dtype=lp.dtype)
    for t in range(1, steps):
        prev = la[t - 1]
        la2 = _shift(prev, 1)
        la3 = np.where(skip, _shift(prev, 2), neg)
        la[t] = _logsumexp(prev, la2, la3) + lp[t, labels]
    return la, skip


def _nll(la, target_length):
    last = la[-1]
    if target_length == 0:
        return -last[0]
    return -_logsumexp(last[2 * target_length], last[2 * target_length - 1])


class CtcLoss(Function):
    grad_fn_name = "CtcLossBackward0"

    @staticmethod
    def forward(ctx, log_probs, samples, blank, zero_infinity):
        lp_all = log_probs.detach().cpu().numpy()
        nll, saved = np.zeros(lp_all.shape[1], dtype=lp_all.dtype), []
        for b, (input_length, targets) in enumerate(samples):
            labels = _extended(targets, blank)
            la, skip = _alpha(lp_all[:input_length, b], labels)
            nll[b] = _nll(la, len(targets))
            saved.append((labels, la, skip))
        ctx.lp, ctx.nll, ctx.saved, ctx.samples, ctx.zero_infinity = lp_all, nll, saved, samples, zero_infinity
        ctx.device = log_probs.device
        return _creation.tensor(nll, device=log_probs.device)

    @staticmethod
    def backward(ctx, grad_output):
        lp_all, gr_all = ctx.lp, grad_output.detach().cpu().numpy()
        grad = np.zeros_like(lp_all)
        for b, ((input_length, targets), (labels, la, skip)) in enumerate(zip(ctx.samples, ctx.saved)):
            nll = ctx.nll[b]
            if (ctx.zero_infinity and nll == np.inf) or input_length == 0:
                continue
            lp = lp_all[:input_length, b]
            positions = labels.size
            lb = np.full_like(la, -np.inf)
            lb[-1, -1] = lp[-1, labels[-1]]
            if positions > 1:
                lb[-1, -2] = lp[-1, labels[-2]]
            skip_next = np.zeros(positions, bool)
            skip_next[:-2] = labels[:-2] != labels[2:]
            neg = np.array(-np.inf, dtype=lp.dtype)
            for t in range(input_length - 2, -1, -1):
                nxt = lb[t + 1]
                lb2 = _shift(nxt, -1)
                lb3 = np.where(skip_next, _shift(nxt, -2), neg)
                lb[t] = _logsumexp(nxt, lb2, lb3) + lp[t, labels]
            # log of sum over the positions holding each class of alpha * beta (-inf: none)
            log_ab = la + lb
            lcab = np.full_like(lp, -np.inf)
            for c in np.unique(labels):
                cols = log_ab[:, labels == c]
                m = cols.max(1)
                m = np.where(m == -np.inf, 0, m)
                with np.errstate(divide="ignore"):
                    lcab[:, c] = np.log(np.exp(cols - m[:, None]).sum(1)) + m
            grad[:input_length, b] = (np.exp(lp) - np.exp(lcab + nll - lp)) * gr_all[b]
        return _creation.tensor(grad, device=ctx.device), None, None, None


def _lengths(x):
    if isinstance(x, Tensor):
        return [int(v) for v in x.detach().cpu().numpy().reshape(-1)]
    if isinstance(x, int):
        return [x]
    return [int(v) for v in x]


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """The negative log-likelihood of each target sequence under the per-step class
    log-probabilities ``log_probs`` (T, N, C) (or (T, C)); ``targets`` padded (N, S) or
    concatenated; 'mean' divides each loss by its target length, then averages."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if isinstance(input_lengths, Tensor) != isinstance(target_lengths, Tensor):
        raise TypeError("ctc_loss() received an invalid combination of arguments: input_lengths and target_lengths "
                        "must be both tensors or both tuples of ints")
    batched = log_probs.ndim == 3
    if not batched:
        log_probs, targets = log_probs.unsqueeze(1), targets.unsqueeze(0)
    input_lengths, target_lengths = _lengths(input_lengths), _lengths(target_lengths)
    steps, batch, classes = log_probs.shape
    if len(input_lengths) != batch:
        raise RuntimeError("input_lengths must be of size batch_size")
    if len(target_lengths) != batch:
        raise RuntimeError("target_lengths must be of size batch_size")
    if not 0 <= blank < classes:
        raise RuntimeError("blank must be in label range")
    labels = targets.detach().cpu().numpy().astype(np.int64)
    samples, offset = [], 0
    for b, (il, tl) in enumerate(zip(input_lengths, target_lengths)):
        if il > steps:
            raise RuntimeError(f"Expected input_lengths to have value at most {steps}, but got value {il} (while "
                               f"checking arguments for ctc_loss_cpu)")
        if labels.ndim == 1:
            seq = labels[offset:offset + tl]
            offset += tl
        else:
            if tl > labels.shape[1]:
                raise RuntimeError(f"Expected tensor to have size at least {tl} at dimension 1, but got size "
                                   f"{labels.shape[1]} for argument #2 'targets' (while checking arguments for "
                                   "ctc_loss_cpu)")
            seq = labels[b, :tl]
        samples.append((il, seq))
    loss = CtcLoss.apply(log_probs, samples, blank, zero_infinity)
    if zero_infinity:
        loss = ew.where(loss == float("inf"), _creation.zeros_like(loss), loss)
    if reduction == "mean":
        lengths = _creation.tensor(target_lengths, device=loss.device).clamp_min(1).to(loss.dtype)
        return (loss / lengths).mean()
    if reduction == "sum":
        return loss.sum()
    return loss if batched else loss.squeeze(0)


class CTCLoss(_Loss):
    def __init__(self, blank=0, reduction="mean", zero_infinity=False):
        super().__init__(reduction=reduction)
        self.blank, self.zero_infinity = blank, zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank, self.reduction,
                        self.zero_infinity)


MODULES = ["CTCLoss"]
FUNCTIONAL = {"ctc_loss": ctc_loss}
