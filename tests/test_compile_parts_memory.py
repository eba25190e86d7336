"""A long program compiled in parts (``compiler/segments.py``): its parts share their
temporaries and compute a value into the memory of an argument nothing reads afterwards
(a gradient accumulated over the time steps stays in one array).  Compiled equals eager
bit for bit, and a value someone still reads (a result, a view kept for later, a state
read again after the loop) keeps its memory."""
import numpy as np

import tinytape as torch

T, H = 24, 6  # 24 time steps of ~20 kernel calls: more than 300 calls, compiled in parts


def _params(seed):
    rng = np.random.default_rng(seed)
    return [torch.tensor((rng.standard_normal(s) * 0.4).astype(np.float32), requires_grad=True)
            for s in ((H, H), (H, H), (H,))]


def _inputs(seed):
    rng = np.random.default_rng(seed)
    return torch.tensor(rng.standard_normal((T, 3, H)).astype(np.float32))


def _bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype
    assert a.tobytes() == b.tobytes(), np.abs(a.astype(np.float64) - b).max()


def _check(make, calls=4, recorded=None):
    pc, pe = _params(0), _params(0)
    compiled, eager = torch.compile(make(pc)), make(pe)
    for i in range(calls):
        xs = _inputs(i)
        out_c, out_e = compiled(xs), eager(xs)
        for a, b in zip(out_c, out_e):
            _bits(a.detach().numpy(), b.detach().numpy())
        for a, b in zip(pc, pe):
            _bits(a.detach().numpy(), b.detach().numpy())
    (entry,), = compiled.programs.values()
    assert entry.kind == "fused" and len(entry.program.capture.calls) > 300
    if recorded is not None:
        recorded["calls"] = entry.program.capture.calls
    return entry.source.split("\n# calls")[0]  # the driver: the parts' calls


def test_gradients_accumulated_over_time_steps_stay_in_one_array():
    def make(params):
        wx, wh, b = params

        def step(xs):
            h = torch.zeros(3, H)
            loss = 0.0
            for t in range(T):
                h = torch.tanh(xs[t] @ wx + h @ wh + b)
                loss = loss + (h * h).mean()
            loss.backward()
            with torch.no_grad():
                for p in params:
                    p -= 0.1 * p.grad
                    p.grad = None
            return (loss.detach(),)
        return step
    recorded = {}
    driver = _check(make, recorded=recorded)
    # wx's, wh's and b's gradient, step after step: summed in place by the engine (an add
    # into its first operand, replayed so) or computed into the memory the sum came in
    in_place = sum(1 for _, kernel, args, kwargs, _out in recorded["calls"]
                   if kernel == "binary" and kwargs.get("out", ("c",))[0] == "b" and kwargs["out"] == args[1])
    assert in_place + driver.count("'s memory") >= 3 * (T - 2)


def test_values_read_later_keep_their_memory():
    """The hidden states are returned, a view of each is read after the loop, and the
    gradients are returned too: none of them is overwritten by a later step."""
    def make(params):
        wx, wh, b = params

        def step(xs):
            h = torch.zeros(3, H)
            states, flat = [], []
            loss = 0.0
            for t in range(T):
                h = torch.tanh(xs[t] @ wx + h @ wh + b) * 0.5 + h * 0.5
                states.append(h)
                flat.append(h.view(-1))
                loss = loss + h.sum()
            late = sum(v[1:4].sum() for v in flat)  # views of every state, read after the loop
            (loss + late).backward()
            grads = [p.grad.clone() for p in params]
            with torch.no_grad():
                for p in params:
                    p -= 0.01 * p.grad
                    p.grad = None
            return (loss.detach(), late.detach(), *[s.detach() for s in states], *grads)
        return step
    _check(make)


def test_a_state_read_again_after_the_loop_is_not_given_away():
    def make(params):
        wx, wh, b = params

        def step(xs):
            h0 = torch.tanh(xs[0] @ wx)
            h, acc = h0, torch.zeros(3, H)
            for t in range(1, T):
                h = torch.tanh(xs[t] @ wx + h @ wh + b)
                acc = acc + h  # accumulated step by step: its memory is handed on
            loss = (acc * h0).sum() + acc.sum()  # h0 read once more after every step
            loss.backward()
            with torch.no_grad():
                for p in params:
                    p -= 0.01 * p.grad
                    p.grad = None
            return loss.detach(), acc.detach(), h0.detach()
        return step
    _check(make)
