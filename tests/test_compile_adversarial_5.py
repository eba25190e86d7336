"""More adversarial programs for ``tinytape.compile`` (same harness as
``test_compile_adversarial``): number arguments as program inputs, fused eager kernels
(cross_entropy variants, tanh/sigmoid/softmax chains), optimizers with schedulers and
changing param groups, random streams, integer and indexing ops, hooks and views.
A compiled call must give eager's answer bit for bit, or run eagerly."""
import math

import numpy as np
import pytest

import tinytape as tt
import tinytape.nn as nn
import tinytape.nn.functional as F
from test_compile_adversarial import ProgramSet, T, attempt, batches, mlp

PROGRAMS = ProgramSet()
program, run_program = PROGRAMS.register, PROGRAMS.run


# --------------------------------------------------------------- 1. number arguments


@program
def sc_number_as_shape_and_index(C):
    x = T(1, 6, 5)

    def f(x, n, k):
        return x[:n].sum(0) * k, x.reshape(-1)[n], x.new_zeros(n) + k
    f = C(f)
    for n, k in [(2, 0.5), (3, 0.5), (2, 1.5), (4, -0.0), (2, 2)]:
        yield {"out": attempt(f, x, n, k)}


@program
def sc_comparisons_and_bool(C):
    x = T(2, 4)

    def f(x, a):
        y = x * a
        if a > 0.5:
            y = y + 1
        if bool(a):
            y = y * 2
        return y, a == 1
    f = C(f)
    for a in [0.1, 0.2, 0.7, 0.0, 1.0, 1, True, -0.0, float("nan"), 0.3]:
        yield {"out": attempt(f, x, a)}


@program
def sc_int_round_math_format(C):
    x = T(3, 5)
    log = []

    def f(x, a):
        log.append(f"{a:.3f}")
        return x * int(a) + round(a, 1) + math.floor(a) + math.exp(a)
    f = C(f)
    for a in [1.25, 1.75, 2.5, 0.4, 1.25]:
        yield {"out": attempt(f, x, a), "log": list(log)}


@program
def sc_dict_key_and_closure(C):
    x = T(4, 3)
    table = {1: 2.0, 2: 3.0, 3: -1.0}
    kept = []

    def f(x, k):
        kept.append(lambda: k)
        return x * table[k]
    f = C(f)
    for k in [1, 2, 3, 1, 2]:
        out = attempt(f, x, k)
        yield {"out": out, "kept": [g() for g in kept]}


@program
def sc_numpy_conversion(C):
    x = T(5, 4)

    def f(x, a):
        b = np.float32(a) * 3
        c = np.asarray(a)
        return x * float(b) + float(c), x * np.float64(a)
    f = C(f)
    for a in [0.1, 0.3, 1e-8, 0.1]:
        yield {"out": attempt(f, x, a)}


@program
def sc_inplace_with_numbers(C):
    w = T(6, 5)

    def f(w, a, b):
        w.mul_(a)
        w.add_(b)
        w.clamp_(min=-a, max=a + b)
        w.sub_(w, alpha=b)
        w.div_(a)
        return w.sum()
    f = C(f)
    for a, b in [(0.9, 0.1), (1.1, 0.2), (2.0, -0.5), (1, 2), (0.5, True), (1e30, 1e-30)]:
        yield {"out": attempt(f, w, a, b), "w": w}


@program
def sc_mixed_types_across_calls(C):
    x = T(7, 4)

    def f(x, a):
        return x * a + a, x / a, x ** a
    f = C(f)
    for a in [2, 2.0, True, 3, 3.5, False, 0, 0.0, -1, 2 ** 70, float("inf"), float("-inf"), float("nan")]:
        yield {"out": attempt(f, x, a)}


@program
def sc_int_tensor_arith(C):
    x = tt.tensor(np.arange(-6, 6, dtype=np.int64))

    def f(x, a):
        return x // a, x % a, x * a, x + a, x / a
    f = C(f)
    for a in [3, -3, 2, 2.5, -0.5, 7, True, 0, 3]:
        yield {"out": attempt(f, x, a)}


@program
def sc_large_ints(C):
    x = T(8, 3)
    i = tt.tensor(np.arange(4, dtype=np.int64))

    def f(x, i, a):
        return x * a, i * a, i + a
    f = C(f)
    for a in [2 ** 31, 2 ** 40, 2 ** 62, 2 ** 63 - 1, 2 ** 64, 5]:
        yield {"out": attempt(f, x, i, a)}


@program
def sc_scalar_grad_backward(C):
    w = T(9, 4, requires_grad=True)

    def f(x, a, b):
        y = (w * a - b) ** 2
        loss = (y / a).sum() * b
        loss.backward()
        return loss
    f = C(f)
    for a, b in [(1.0, 2.0), (2.0, 0.5), (0.5, -1.0), (-0.0, 1.0), (3, 1)]:
        w.grad = None
        yield {"out": attempt(f, T(10, 4), a, b), "w": w}


@program
def sc_number_as_dim_and_kwargs(C):
    x = T(11, 3, 4, 5)

    def f(x, d, p=0.0):
        return x.sum(d) + p, x.softmax(dim=d) * p, x.pow(p)
    f = C(f)
    for d, p in [(0, 1.0), (1, 1.0), (0, 2.0), (-1, 0.5), (2, -0.0)]:
        yield {"out": attempt(f, x, d, p=p)}


@program
def sc_changes_type_in_expression(C):
    x = T(12, 4)

    def f(x, a, b):
        c = a / b
        d = a // b
        e = a ** b
        return x * c + d, x * e
    f = C(f)
    for a, b in [(3, 2), (4, 2), (3, -2), (2, 0.5), (-8, 1 / 3), (3, 0), (0, -1), (4, 2)]:
        yield {"out": attempt(f, x, a, b)}


@program
def sc_number_stored_on_module(C):
    m = nn.Linear(3, 2)

    def f(x, t):
        m.temperature = t
        return m(x) / m.temperature
    f = C(f)
    for t in [1.0, 2.0, 0.5, 2.0]:
        yield {"out": attempt(f, T(13, 4, 3), t), "t": m.temperature}


@program
def sc_lr_in_manual_sgd(C):
    w = T(14, 5, requires_grad=True)

    def f(x, lr, wd):
        loss = ((x * w).sum() - 1) ** 2
        loss.backward()
        with tt.no_grad():
            w.mul_(1 - lr * wd)
            w.add_(w.grad, alpha=-lr)
        w.grad = None
        return loss
    f = C(f)
    for i, x in enumerate(batches(15, 6, 5)):
        yield {"out": attempt(f, x, 0.1 / (i + 1), 1e-2 * i), "w": w}


@program
def sc_full_and_arange(C):
    def f(n, v):
        return tt.full((n,), v), tt.arange(n) * v, tt.linspace(0, v, 5), tt.ones(3) * v
    f = C(f)
    for n, v in [(3, 1.5), (3, 2.5), (4, 1.5), (3, 7), (3, -0.0)]:
        yield {"out": attempt(f, n, v)}


@program
def sc_max_min_builtin(C):
    x = T(16, 4)

    def f(x, a, b):
        return x * max(a, b), x * min(a, 0.5), x * abs(a), x * sum([a, b])
    f = C(f)
    for a, b in [(0.2, 0.3), (0.4, 0.1), (0.9, 0.95), (-1.0, 2.0)]:
        yield {"out": attempt(f, x, a, b)}


@program
def sc_divide_by_zero_exception(C):
    x = T(17, 3)

    def f(x, a, b):
        return x * (a / b)
    f = C(f)
    for a, b in [(1.0, 2.0), (1.0, 4.0), (1.0, 0.0), (1.0, 3.0), (1, 0), (2.0, -0.0)]:
        yield {"out": attempt(f, x, a, b)}


@program
def sc_number_tensor_creation(C):
    def f(x, a):
        return tt.tensor(a) * x, tt.tensor([a, 2 * a]), tt.as_tensor(a + 1)
    f = C(f)
    for a in [1.5, 2.5, 3, 1.5, True]:
        yield {"out": attempt(f, T(18, 2), a)}


# --------------------------------------------------------------- 2. fused eager kernels


def _ce_program(seed, n_classes=5, **kw):
    def prog(C):
        model = mlp(4, 8, n_classes)
        opt = tt.optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y, **kw)
            if loss.dim() > 0:
                loss = loss.sum()
            loss.backward()
            opt.step()
            return loss
        step = C(step)
        rs = np.random.RandomState(seed)
        for i in range(5):
            n = 6 if i < 4 else 3  # a smaller last batch
            y = rs.randint(0, n_classes, n)
            if "ignore_index" in kw:
                y[::3] = kw["ignore_index"]
            yield {"out": attempt(step, T(seed + i, n, 4), tt.tensor(y)), "model": model}
    return prog


for _name, _kw in {
    "ce_mean": {}, "ce_sum": {"reduction": "sum"}, "ce_none": {"reduction": "none"},
    "ce_ignore": {"ignore_index": 2}, "ce_ignore_neg": {"ignore_index": -100},
    "ce_weight": {"weight": tt.tensor([0.5, 1.0, 2.0, 0.1, 3.0])},
    "ce_weight_ignore": {"weight": tt.tensor([0.5, 1.0, 2.0, 0.1, 3.0]), "ignore_index": 1},
    "ce_smooth": {"label_smoothing": 0.1},
    "ce_smooth_weight_ignore": {"label_smoothing": 0.2, "weight": tt.tensor([0.5, 1.0, 2.0, 0.1, 3.0]),
                                "ignore_index": 0},
    "ce_smooth_sum_ignore": {"label_smoothing": 0.3, "reduction": "sum", "ignore_index": 4},
    "ce_weight_none": {"weight": tt.tensor([0.5, 1.0, 2.0, 0.1, 3.0]), "reduction": "none"},
}.items():
    _p = _ce_program(hash(_name) % 1000, **_kw)
    _p.__name__ = _name
    program(_p)


@program
def ce_probability_targets(C):
    w = T(30, 4, 5, requires_grad=True)
    cw = tt.tensor([1.0, 2.0, 0.5, 1.0, 1.5])

    def f(x, p, s):
        logits = x @ w
        a = F.cross_entropy(logits, p)
        b = F.cross_entropy(logits, p, weight=cw, label_smoothing=s, reduction="sum")
        c = F.cross_entropy(logits, p, reduction="none")
        loss = a + b + c.mean()
        loss.backward()
        return a, b, c
    f = C(f)
    for i, s in enumerate([0.0, 0.1, 0.1, 0.25]):
        w.grad = None
        p = F.softmax(T(31 + i, 6, 5), dim=1)
        yield {"out": attempt(f, T(40 + i, 6, 4), p, s), "w": w}


@program
def ce_spatial_ignore(C):
    conv = nn.Conv2d(2, 3, 1)

    def f(x, y):
        loss = F.cross_entropy(conv(x), y, ignore_index=1, label_smoothing=0.05)
        loss.backward()
        return loss
    f = C(f)
    rs = np.random.RandomState(3)
    for i in range(4):
        conv.zero_grad()
        yield {"out": attempt(f, T(50 + i, 2, 2, 3, 3), tt.tensor(rs.randint(0, 3, (2, 3, 3)))), "conv": conv}


@program
def ce_nll_log_softmax(C):
    w = T(60, 4, 6, requires_grad=True)

    def f(x, y):
        lp = F.log_softmax(x @ w, dim=1)
        a = F.nll_loss(lp, y, ignore_index=3)
        b = F.nll_loss(lp, y, weight=tt.linspace(0.5, 2, 6), reduction="sum")
        (a + b).backward()
        return a, b
    f = C(f)
    rs = np.random.RandomState(4)
    for i in range(4):
        w.grad = None
        yield {"out": attempt(f, T(61 + i, 5, 4), tt.tensor(rs.randint(0, 6, 5))), "w": w}


@program
def act_tanh_sigmoid_chain(C):
    w = T(70, 5, 5, requires_grad=True)

    def f(x):
        h = tt.tanh(x @ w)
        h = tt.sigmoid(h * 2) * tt.tanh(h)
        h = F.silu(h) + tt.sigmoid(-h)
        loss = (h ** 2).mean()
        loss.backward()
        return loss, h
    f = C(f)
    for x in batches(71, 4, 3, 5, scale=3.0):
        w.grad = None
        yield {"out": attempt(f, x), "w": w}


@program
def act_softmax_dims(C):
    w = T(80, 3, 4, 5, requires_grad=True)

    def f(x):
        out = []
        for d in (0, 1, 2, -1):
            out.append(F.softmax(x * w, dim=d))
            out.append(F.log_softmax(x + w, dim=d))
        loss = sum((o * o).sum() for o in out[::2]) + sum(o.sum() for o in out[1::2])
        loss.backward()
        return out
    f = C(f)
    for x in batches(81, 3, 3, 4, 5):
        w.grad = None
        yield {"out": attempt(f, x), "w": w}


@program
def act_softmax_large_values(C):
    w = T(90, 6, requires_grad=True)

    def f(x):
        s = F.softmax(x * w, dim=0)
        t = F.log_softmax(x - w, dim=0)
        (s[0] + t[-1]).backward()
        return s, t
    f = C(f)
    # (an infinite input makes NaN gradients from two paths, whose sum's sign bit the generated
    # code does not promise: LLVM may swap an addition's operands)
    for x in [T(91, 6, scale=1e3), T(92, 6, scale=50), T(93, 6, scale=1e-30)]:
        w.grad = None
        yield {"out": attempt(f, x), "w": w}


@program
def act_bce_and_with_logits(C):
    w = T(95, 4, requires_grad=True)

    def f(x, y):
        a = F.binary_cross_entropy(tt.sigmoid(x * w), y)
        b = F.binary_cross_entropy_with_logits(x * w, y, pos_weight=tt.tensor([1.0, 2.0, 0.5, 1.0]))
        (a + b).backward()
        return a, b
    f = C(f)
    for i in range(4):
        w.grad = None
        yield {"out": attempt(f, T(96 + i, 3, 4), tt.tensor((np.arange(12).reshape(3, 4) % (i + 2) == 0)
                                                         .astype(np.float32))), "w": w}


# --------------------------------------------------------------- 3. optimizers


_OPTS = {
    "sgd_mom": lambda p: tt.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=1e-3),
    "sgd_nesterov": lambda p: tt.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    "adam": lambda p: tt.optim.Adam(p, lr=0.01, weight_decay=1e-2),
    "adam_amsgrad": lambda p: tt.optim.Adam(p, lr=0.01, amsgrad=True),
    "adamw_amsgrad": lambda p: tt.optim.AdamW(p, lr=0.01, amsgrad=True),
    "rmsprop": lambda p: tt.optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
    "adagrad": lambda p: tt.optim.Adagrad(p, lr=0.1, lr_decay=0.01),
}
_SCHEDS = {
    "step": lambda o: tt.optim.lr_scheduler.StepLR(o, 2, gamma=0.5),
    "exp": lambda o: tt.optim.lr_scheduler.ExponentialLR(o, 0.9),
    "cosine": lambda o: tt.optim.lr_scheduler.CosineAnnealingLR(o, 5),
    "lambda": lambda o: tt.optim.lr_scheduler.LambdaLR(o, lambda e: 1 / (e + 1)),
    "onecycle": lambda o: tt.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=10),
    "cyclic": lambda o: tt.optim.lr_scheduler.CyclicLR(o, 0.001, 0.1, step_size_up=2, cycle_momentum=False),
    "linear": lambda o: tt.optim.lr_scheduler.LinearLR(o, start_factor=0.2, total_iters=4),
    "plateau": lambda o: tt.optim.lr_scheduler.ReduceLROnPlateau(o, patience=0, factor=0.5),
    "warm_restarts": lambda o: tt.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, 2),
}


def _opt_program(opt_name, sched_name, inside=False):
    def prog(C):
        tt.manual_seed(1)
        model = mlp(3, 6, 2)
        opt = _OPTS[opt_name](model.parameters())
        sched = _SCHEDS[sched_name](opt)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            if inside:
                sched.step()
            return loss
        step = C(step)
        for i in range(7):
            loss = attempt(step, T(200 + i, 4, 3), T(300 + i, 4, 2))
            if not inside:
                if sched_name == "plateau":
                    sched.step(float(loss.detach()) if isinstance(loss, tt.Tensor) else 0.0)
                else:
                    sched.step()
            yield {"out": loss, "model": model, "opt": opt}
    return prog


for _o in _OPTS:
    for _s in _SCHEDS:
        if (list(_OPTS).index(_o) + list(_SCHEDS).index(_s)) % 3:
            continue
        _p = _opt_program(_o, _s)
        _p.__name__ = f"opt_{_o}_{_s}"
        program(_p)
_p = _opt_program("adam", "cosine", inside=True)
_p.__name__ = "opt_adam_cosine_inside"
program(_p)
_p = _opt_program("sgd_mom", "onecycle", inside=True)
_p.__name__ = "opt_sgd_onecycle_inside"
program(_p)


@program
def opt_group_added_mid_run(C):
    tt.manual_seed(2)
    a, b = nn.Linear(3, 3), nn.Linear(3, 2)
    opt = tt.optim.Adam(a.parameters(), lr=0.01)

    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(b(a(x)), y)
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    for i in range(7):
        if i == 3:
            opt.add_param_group({"params": b.parameters(), "lr": 0.05, "betas": (0.8, 0.9)})
        yield {"out": attempt(step, T(400 + i, 4, 3), T(410 + i, 4, 2)), "a": a, "b": b, "opt": opt}


@program
def opt_state_dict_load_mid_run(C):
    tt.manual_seed(3)
    model = mlp(3, 4, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    saved = {}

    def step(x, y):
        opt.zero_grad(set_to_none=False)
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    for i in range(8):
        if i == 2:
            saved = {"m": {k: v.clone() for k, v in model.state_dict().items()}, "o": opt.state_dict()}
            import copy
            saved["o"] = copy.deepcopy(saved["o"])
        if i == 5:
            model.load_state_dict(saved["m"])
            opt.load_state_dict(saved["o"])
        yield {"out": attempt(step, T(420 + i, 4, 3), T(430 + i, 4, 2)), "model": model, "opt": opt}


@program
def opt_adamw_lr_changed_by_hand(C):
    tt.manual_seed(4)
    model = mlp(3, 4, 2)
    opt = tt.optim.AdamW(model.parameters(), lr=0.01, amsgrad=True)

    def step(x, y):
        opt.zero_grad(set_to_none=False)
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    for i in range(7):
        for g in opt.param_groups:
            g["lr"] = 0.01 * (i + 1)
            g["weight_decay"] = 0.01 if i % 2 else 0.1
            if i == 4:
                g["betas"] = (0.5, 0.99)
        yield {"out": attempt(step, T(440 + i, 4, 3), T(450 + i, 4, 2)), "model": model, "opt": opt}


@program
def opt_momentum_toggled_and_state_cleared(C):
    tt.manual_seed(5)
    model = mlp(3, 4, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    for i in range(8):
        if i == 3:
            opt.state.clear()
        if i == 5:
            opt.param_groups[0]["nesterov"] = True
        yield {"out": attempt(step, T(460 + i, 4, 3), T(470 + i, 4, 2)), "model": model, "opt": opt}


@program
def opt_lr_as_argument(C):
    tt.manual_seed(6)
    model = mlp(3, 4, 2)
    opt = tt.optim.RMSprop(model.parameters(), lr=0.01)

    def step(x, y, lr):
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    for i in range(6):
        yield {"out": attempt(step, T(480 + i, 4, 3), T(490 + i, 4, 2), 0.01 / (i + 1)), "model": model,
               "opt": opt}


# --------------------------------------------------------------- 4. random streams


@program
def rnd_dropout_train_calls(C):
    tt.manual_seed(7)
    model = mlp(4, 8, 2, dropout=0.3)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)
    step = C(sgd_step_local(model, opt))
    for i in range(5):
        yield {"out": attempt(step, T(500 + i, 5, 4), T(510 + i, 5, 2)), "model": model, "rng": tt.rand(2)}


def sgd_step_local(model, opt):
    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


@program
def rnd_manual_seed_between_calls(C):
    def f(x):
        return F.dropout(x, 0.5) + tt.randn(3), tt.rand_like(x), tt.randint(0, 10, (4,))
    f = C(f)
    for i in range(6):
        if i % 2 == 0:
            tt.manual_seed(i // 2 if i != 4 else 0)
        yield {"out": attempt(f, T(520 + i, 3))}


@program
def rnd_generator_argument(C):
    g1, g2 = tt.Generator().manual_seed(1), tt.Generator().manual_seed(2)

    def f(x, g):
        return x + tt.randn(3, generator=g), tt.rand(2, generator=g), tt.randperm(5, generator=g)
    f = C(f)
    for i, g in enumerate([g1, g1, g2, g1, g2, g2]):
        if i == 4:
            g1.manual_seed(1)
        yield {"out": attempt(f, T(530 + i, 3), g), "g1": g1.get_state(), "g2": g2.get_state()}


@program
def rnd_generator_state_set(C):
    g = tt.Generator().manual_seed(3)

    def f(x):
        return x * tt.rand(3, generator=g), tt.bernoulli(tt.full((4,), 0.5), generator=g)
    f = C(f)
    saved = g.get_state()
    for i in range(6):
        if i == 3:
            g.set_state(saved)
        yield {"out": attempt(f, T(540 + i, 3))}


@program
def rnd_global_state_restore(C):
    def f(x):
        return F.dropout(x, 0.2, training=True), tt.normal(0.0, 1.0, (3,)), tt.multinomial(tt.ones(5), 3)
    f = C(f)
    tt.manual_seed(0)
    saved = tt.get_rng_state()
    for i in range(6):
        if i == 3:
            tt.set_rng_state(saved)
        yield {"out": attempt(f, T(550 + i, 4))}


@program
def rnd_dropout_p_argument(C):
    def f(x, p):
        return F.dropout(x, p), x.bernoulli(p) if hasattr(x, "bernoulli") else x
    f = C(f)
    tt.manual_seed(1)
    for i, p in enumerate([0.1, 0.2, 0.2, 0.5, 0.0, 1.0]):
        yield {"out": attempt(f, T(560 + i, 6), p)}


@program
def rnd_python_random_and_numpy(C):
    import random

    def f(x):
        return x * random.random() + float(np.random.rand())
    f = C(f)
    random.seed(0)
    np.random.seed(0)
    for i in range(4):
        yield {"out": attempt(f, T(570 + i, 3))}


@program
def rnd_eval_train_toggle(C):
    tt.manual_seed(8)
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5), nn.Linear(4, 1))

    def f(x):
        return model(x)
    f = C(f)
    for i in range(6):
        model.train(i % 3 != 2)
        yield {"out": attempt(f, T(580 + i, 3, 4))}


# --------------------------------------------------------------- 5. integer tensors and indexing


@program
def ix_int_floordiv_mod(C):
    def f(a, b):
        return a // b, a % b, a // 3, a % -3, (a * 7) // b, tt.remainder(a, b), tt.fmod(a, b)
    f = C(f)
    rs = np.random.RandomState(9)
    for i in range(5):
        a = tt.tensor(rs.randint(-50, 50, 8))
        b = tt.tensor(rs.choice([-7, -3, -1, 1, 2, 5], 8))
        yield {"out": attempt(f, a, b)}
    yield {"out": attempt(f, tt.tensor([1, 2]), tt.tensor([0, 1]))}


@program
def ix_float_floordiv_mod(C):
    def f(a, b):
        return a // b, a % b, tt.fmod(a, b), a // 0.5, a % -1.5
    f = C(f)
    for i in range(4):
        yield {"out": attempt(f, T(600 + i, 6, scale=5), T(610 + i, 6))}
    yield {"out": attempt(f, tt.tensor([1.0, -1.0, 0.0, np.inf]), tt.tensor([0.0, 0.0, -0.0, 2.0]))}


@program
def ix_mask_indexing(C):
    w = T(620, 8, requires_grad=True)

    def f(x):
        m = x > 0
        y = (x * w)[m]
        z = w.clone()
        z[m] = 0.0
        z[~m] += y.sum()
        loss = y.sum() + z.sum()
        loss.backward()
        return y, z
    f = C(f)
    for i in range(5):
        w.grad = None
        yield {"out": attempt(f, T(621 + i, 8)), "w": w}


@program
def ix_index_put_accumulate(C):
    w = T(630, 6, requires_grad=True)

    def f(idx, v):
        z = tt.zeros(6)
        z = z.index_put((idx,), v * w[:3], accumulate=True)
        y = w.clone().index_put_((idx,), v)
        (z.sum() + (y * y).sum()).backward()
        return z, y
    f = C(f)
    for i, idx in enumerate([[0, 1, 2], [1, 1, 1], [5, 0, 5], [2, 2, 3]]):
        w.grad = None
        yield {"out": attempt(f, tt.tensor(idx), T(631 + i, 3)), "w": w}


@program
def ix_scatter_add_gather(C):
    w = T(640, 4, 3, requires_grad=True)

    def f(idx):
        s = tt.zeros(5, 3).scatter_add(0, idx, w)
        g = s.gather(0, idx)
        s2 = tt.zeros(5, 3).scatter(0, idx, w * 2)
        (g.sum() + (s2 * s).sum()).backward()
        return s, g
    f = C(f)
    rs = np.random.RandomState(10)
    for i in range(4):
        w.grad = None
        yield {"out": attempt(f, tt.tensor(rs.randint(0, 5, (4, 3)))), "w": w}


@program
def ix_embedding_padding_idx(C):
    tt.manual_seed(9)
    emb = nn.Embedding(10, 4, padding_idx=0)
    opt = tt.optim.SGD(emb.parameters(), lr=0.5, momentum=0.5)

    def f(idx):
        opt.zero_grad()
        loss = (emb(idx) ** 2).sum()
        loss.backward()
        opt.step()
        return loss
    f = C(f)
    rs = np.random.RandomState(11)
    for i in range(5):
        idx = rs.randint(0, 10, (3, 4))
        idx[0, 0] = 0
        yield {"out": attempt(f, tt.tensor(idx)), "emb": emb}


@program
def ix_embedding_functional_max_norm(C):
    w = T(650, 10, 3, scale=3)

    def f(idx):
        return F.embedding(idx, w, padding_idx=2, max_norm=1.0)
    f = C(f)
    rs = np.random.RandomState(12)
    for i in range(4):
        yield {"out": attempt(f, tt.tensor(rs.randint(0, 10, 5))), "w": w}


@program
def ix_cumsum_chunk_split_cat(C):
    w = T(660, 6, 4, requires_grad=True)

    def f(x):
        c = tt.cumsum(x * w, dim=0)
        a, b, d = c.chunk(3, dim=0)
        p, q = tt.split(c, [1, 5], dim=0)
        r = tt.cat([d, a, b * 2, p, q.cumprod(1)], dim=0)
        s = tt.stack(list(x.split(2)), 0)
        (r.sum() + s.sum() + c.cumsum(1).sum()).backward()
        return r, s, c.unbind(1)
    f = C(f)
    for i in range(4):
        w.grad = None
        yield {"out": attempt(f, T(661 + i, 6, 4)), "w": w}


@program
def ix_int_cumsum_dtype(C):
    def f(a, b):
        return a.cumsum(0), tt.cumsum(b, 0), a.sum(), b.sum(), (a > 2).sum(), b.prod()
    f = C(f)
    rs = np.random.RandomState(13)
    for i in range(4):
        yield {"out": attempt(f, tt.tensor(rs.randint(-5, 5, 7)), tt.tensor(rs.randint(0, 2, 7).astype(bool)))}


@program
def ix_advanced_index_grad_dup(C):
    w = T(670, 5, 3, requires_grad=True)

    def f(i, j):
        y = w[i, j] * 2
        z = w[i][:, j]
        (y.sum() + z.sum()).backward()
        return y, z
    f = C(f)
    for i in range(4):
        w.grad = None
        yield {"out": attempt(f, tt.tensor([0, 4, 0, i % 5]), tt.tensor([1, 1, 2, 0])), "w": w}
    yield {"out": attempt(f, tt.tensor([0, 5, 0, 1]), tt.tensor([1, 1, 2, 0]))}


# --------------------------------------------------------------- 6. hooks, grad modes, views


@program
def hk_hook_registered_between_calls(C):
    w = T(700, 4, requires_grad=True)
    handles = []

    def f(x):
        loss = (x * w).sum()
        loss.backward()
        return loss
    f = C(f)
    for i in range(6):
        if i == 2:
            handles.append(w.register_hook(lambda g: g * 3))
        if i == 4:
            handles.pop().remove()
        w.grad = None
        yield {"out": attempt(f, T(701 + i, 4)), "w": w}


@program
def hk_module_forward_hook_added(C):
    tt.manual_seed(10)
    m = nn.Linear(3, 3)
    calls = []

    def f(x):
        return m(x).sum().item() if False else m(x).detach()
    f = C(f)
    for i in range(6):
        if i == 2:
            h = m.register_forward_hook(lambda mod, inp, out: out * 2)
        if i == 4:
            h.remove()
        yield {"out": attempt(f, T(710 + i, 2, 3)), "calls": list(calls)}


@program
def hk_requires_grad_toggled(C):
    w = T(720, 4, requires_grad=True)
    v = T(721, 4, requires_grad=True)

    def f(x):
        loss = (x * w + v * v).sum()
        loss.backward()
        return loss.detach()
    f = C(f)
    for i in range(6):
        w.grad, v.grad = None, None
        if i == 2:
            v.requires_grad_(False)
        if i == 4:
            v.requires_grad_(True)
            w.requires_grad_(False)
        yield {"out": attempt(f, T(722 + i, 4)), "w": w, "v": v}


@program
def hk_no_grad_enable_grad_inside(C):
    w = T(730, 4, requires_grad=True)

    def f(x):
        with tt.no_grad():
            a = x * w
            with tt.enable_grad():
                b = (x * w).sum()
        b.backward()
        with tt.no_grad():
            w.sub_(w.grad * 0.1)
        return a, b.detach()
    f = C(f)
    for i in range(5):
        w.grad = None
        yield {"out": attempt(f, T(731 + i, 4)), "w": w}


@program
def hk_data_and_detach_alias(C):
    w = T(740, 5, requires_grad=True)

    def f(x):
        d = w.detach()
        loss = (x * w).sum()
        loss.backward()
        d.mul_(0.5)
        w.data.add_(1.0)
        return d, w.data, loss.detach()
    f = C(f)
    for i in range(5):
        w.grad = None
        out = attempt(f, T(741 + i, 5))
        yield {"out": out, "w": w}


@program
def hk_view_of_input_mutated(C):
    def f(x, y):
        v = x[1:]
        v.mul_(2)
        y.view(-1)[0] = 7.0
        t = x.t() if x.dim() == 2 else x
        return v, t, y.reshape(-1)[:2]
    f = C(f)
    for i in range(4):
        x, y = T(750 + i, 4, 3), T(760 + i, 2, 2)
        out = attempt(f, x, y)
        if i == 2:
            x.add_(1)
        yield {"out": out, "x": x, "y": y}


@program
def hk_input_is_view_of_other(C):
    base = T(770, 6)

    def f(a, b):
        a.add_(1)
        return b * 2
    f = C(f)
    for i in range(5):
        if i < 2:
            yield {"out": attempt(f, base[:3], base[3:]), "base": base}
        else:
            yield {"out": attempt(f, base[:4], base[2:]), "base": base}


@program
def hk_same_tensor_twice(C):
    def f(a, b):
        a.mul_(2)
        return a + b
    f = C(f)
    for i in range(5):
        x, y = T(780 + i, 3), T(790 + i, 3)
        yield {"out": attempt(f, x, x if i >= 2 else y), "x": x}


@program
def hk_last_batch_smaller_dtype_change(C):
    tt.manual_seed(11)
    model = mlp(3, 5, 2)
    opt = tt.optim.Adam(model.parameters(), lr=0.01)
    step = C(sgd_step_local(model, opt))
    for i in range(6):
        n = 4 if i < 4 else 1
        x, y = T(800 + i, n, 3), T(810 + i, n, 2)
        if i == 5:
            x = x.double()
        yield {"out": attempt(step, x, y), "model": model, "opt": opt}


@program
def hk_grad_not_none_accumulates(C):
    w = T(820, 3, requires_grad=True)

    def f(x):
        (x * w).sum().backward()
        return w.grad
    f = C(f)
    for i in range(5):
        if i == 3:
            w.grad = tt.zeros(3)
        if i == 4:
            w.grad = None
        out = attempt(f, T(821 + i, 3))
        yield {"out": out, "w": w}


@program
def hk_returns_view_of_param(C):
    w = T(830, 4, 3)

    def f(x):
        w.add_(x)
        return w[0], w.t(), w.view(12)[2:5]
    f = C(f)
    for i in range(4):
        out = attempt(f, T(831 + i, 4, 3))
        yield {"out": out, "w": w}
        if isinstance(out, tuple):
            out[0].mul_(0)
            yield {"w": w}


# --------------------------------------------------------------- 7. numbers a trace leaves behind


_CONFIG = {}


@program
def sc_number_kept_in_tuple_used_by_another_function(C):
    # a number argument kept in a tuple (a config) by one compiled function, multiplied in
    # another's trace next to that function's own number argument: the kept number is
    # the one eager uses, not the other function's argument at the same position
    cfg = _CONFIG
    cfg.clear()

    def remember(x, a):
        _CONFIG["scale"] = (a, "unit")
        return x * 2

    def use(x, b):
        return x * _CONFIG["scale"][0] * b
    remember, use = C(remember), C(use)
    x = T(900, 3)
    yield {"out": attempt(remember, x, 2.0), "kind": type(cfg["scale"][0]).__name__}
    for b in [2.0, 3.0, 5.0, 2.0]:
        yield {"out": attempt(use, x, b), "kind": type(cfg["scale"][0]).__name__,
               "sum": cfg["scale"][0] + 1, "sum_kind": type(cfg["scale"][0] + 1).__name__}


@program
def sc_number_kept_in_closure_default_and_set(C):
    keep = {"seen": set()}

    def f(x, a, b):
        keep["fn"] = lambda: a
        keep["g"] = eval("lambda y=(b, 1): y")  # noqa: S307  (a default holding the number)
        keep["seen"].add(a)
        return x * 2
    f = C(f)
    for a, b in [(1.5, 2.5), (1.5, 2.5), (2.5, 3.5)]:
        out = attempt(f, T(901, 3), a, b)
        yield {"out": out, "fn": type(keep["fn"]()).__name__, "g": type(keep["g"]()[0]).__name__,
               "seen": sorted(type(v).__name__ for v in keep["seen"]), "vals": (keep["fn"](), keep["g"]()[0])}


_KEPT = {}


def _remember(x, a):
    _KEPT["scale"] = (a, "unit")
    _KEPT["fn"] = lambda: a
    return x * 2


def _use(x, b):
    return x * _KEPT["scale"][0] * b


def test_numbers_a_trace_kept_are_plain_numbers():
    """A number argument a function keeps (in a tuple, a closure) is the number after the
    trace: its type is the number's, and another function's trace that multiplies by it
    takes it as a constant, not as an expression of its own arguments."""
    x = tt.tensor(np.arange(1.0, 4.0, dtype=np.float32))
    remember, use = tt.compile(_remember), tt.compile(_use)
    remember(x, 2.0)
    assert type(_KEPT["scale"][0]) is float and type(_KEPT["fn"]()) is float
    assert type(_KEPT["scale"][0] + 1) is float
    for b in [2.0, 3.0, 5.0]:
        assert np.array_equal(use(x, b).numpy(), (x * 2.0 * b).numpy()), b


class _Slotted:
    __slots__ = ("lr",)


def test_numbers_kept_in_slots_deques_and_keys_are_plain_numbers():
    import collections
    obj, queue, keys = _Slotted(), collections.deque(), {"first": 0}

    def f(x, a, b):
        obj.lr = a
        queue.append(b)
        keys[a] = 1
        keys["last"] = 2
        return x * 2
    tt.compile(f)(tt.ones(2), 1.5, 2)
    assert type(obj.lr) is float and type(queue[0]) is int
    assert list(keys) == ["first", 1.5, "last"] and type(list(keys)[1]) is float


_NUMBER_OPS = {
    "pow": lambda x, y, a: (x.abs() ** a, a ** x, tt.pow(x, a)),
    "clamp": lambda x, y, a: (x.clamp(min=a), x.clamp(max=a), x.clamp(-abs(a), abs(a))),
    "act": lambda x, y, a: (F.leaky_relu(x, a), F.elu(x, alpha=a), F.hardtanh(x, -abs(a) - 1, abs(a) + 1),
                            F.softplus(x, beta=abs(a) + 1, threshold=abs(a) + 1), F.celu(x, alpha=abs(a) + 0.5)),
    "fill": lambda x, y, a: (x.clone().fill_(a), tt.full_like(x, a), x.masked_fill(x > 0, a),
                             tt.where(x > 0, x, a), tt.where(x > 0, a, y)),
    "lerp": lambda x, y, a: (x.lerp(y, a), tt.addcmul(x, x, y, value=a), tt.addcdiv(x, x, y.abs() + 1, value=a),
                             x.add(y, alpha=a), x.sub(y, alpha=a)),
    "norm": lambda x, y, a: (x.norm(p=abs(a) + 1), F.normalize(x, p=abs(a) + 1, dim=0)),
    "compare": lambda x, y, a: (x > a, x == a, x.ne(a), tt.maximum(x, tt.tensor(a)), x.max() > a if False else x < a),
    "thresh": lambda x, y, a: (F.threshold(x, a, -a), F.hardshrink(x, abs(a)), F.softshrink(x, abs(a))),
    "div": lambda x, y, a: (x / a, a / x, x // a, x % a, tt.remainder(a, x) if False else x.fmod(a),
                            tt.true_divide(x, a), x.div(a, rounding_mode="floor"), x.div(a, rounding_mode="trunc")),
}
_NUMBER_VALUES = [2.0, 0.5, 3.0, 1.0, -1.0, 0.0, -2.0, -0.0, 1e-45, 1e38, float("inf"), float("nan"), 2.0]


def _number_op_program(op):
    def prog(C):
        w = T(950, 6, requires_grad=True)

        def f(x, y, a):
            outs = _NUMBER_OPS[op](x * w, y, a)
            loss = sum(o.float().sum() for o in outs if o.dtype.is_floating_point)
            if loss.requires_grad:
                loss.backward()
            return tuple(o.detach() for o in outs)
        f = C(f)
        for i, a in enumerate(_NUMBER_VALUES):
            w.grad = None
            yield {"out": attempt(f, T(951 + i % 2, 6), T(960, 6), a), "w": w}
    prog.__name__ = f"sc_number_op_{op}"
    return prog


for _op in _NUMBER_OPS:
    program(_number_op_program(_op))


@program
def hk_grad_identity_and_layout(C):
    w = T(970, 3, 2, requires_grad=True)
    prev = [None]

    def f(x):
        (x * w).sum().backward()
        return x.sum()
    f = C(f)
    for i in range(8):
        if i == 3:
            w.grad = tt.zeros(2, 3).t()  # a transposed .grad
        if i == 5:
            w.grad = None
        if i == 6:
            w.grad = tt.ones(3, 2) * 0.5
        out = attempt(f, T(971 + i, 3, 2))
        same = w.grad is prev[0]
        prev[0] = w.grad
        yield {"out": out, "w": w, "same_grad_object": same,
               "grad_strides": None if w.grad is None else tuple(w.grad.stride())}


@program
def hk_zero_grad_modes_mixed(C):
    tt.manual_seed(12)
    model = mlp(3, 4, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.05, momentum=0.5)
    prev = {}

    def step(x, y, none):
        opt.zero_grad(set_to_none=none)
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    for i in range(8):
        none = i in (0, 1, 4)
        out = attempt(step, T(980 + i, 4, 3), T(990 + i, 4, 2), none)
        ids = [p.grad is prev.get(n) for n, p in model.named_parameters()]
        prev = {n: p.grad for n, p in model.named_parameters()}
        yield {"out": out, "model": model, "opt": opt, "ids": ids}


@program
def hk_backward_twice_retain_graph(C):
    w = T(1000, 4, requires_grad=True)

    def f(x, k):
        y = (x * w).tanh().sum()
        y.backward(retain_graph=True)
        for _ in range(k):
            y.backward(retain_graph=True)
        (y * 2).backward()
        return y.detach()
    f = C(f)
    for i, k in enumerate([0, 1, 1, 2, 0]):
        w.grad = None
        yield {"out": attempt(f, T(1001 + i, 4), k), "w": w}


@program
def hk_autograd_grad_create_graph(C):
    w = T(1010, 4, requires_grad=True)

    def f(x):
        y = (x * w).sigmoid().sum()
        (g,) = tt.autograd.grad(y, w, create_graph=True)
        pen = (g ** 2).sum()
        pen.backward()
        return g.detach(), pen.detach()
    f = C(f)
    for i in range(4):
        w.grad = None
        yield {"out": attempt(f, T(1011 + i, 4)), "w": w}


@program
def hk_param_swapped_in_module(C):
    tt.manual_seed(13)
    lin = nn.Linear(3, 2)
    other = nn.Parameter(tt.ones(2, 3))

    def f(x):
        loss = lin(x).pow(2).sum()
        loss.backward()
        return loss.detach()
    f = C(f)
    for i in range(6):
        if i == 3:
            lin.weight = other
        if i == 4:
            lin.weight.data = tt.full((2, 3), 0.25)
        lin.zero_grad()
        yield {"out": attempt(f, T(1020 + i, 2, 3)), "lin": lin}


@program
def hk_inplace_on_leaf_view_under_no_grad(C):
    w = T(1030, 4, 3, requires_grad=True)

    def f(x, lr):
        loss = (x @ w.t()).sum()
        loss.backward()
        with tt.no_grad():
            w[0].sub_(w.grad[0], alpha=lr)
            w[1:].mul_(1 - lr)
        w.grad.zero_()
        return loss.detach()
    f = C(f)
    for i in range(5):
        yield {"out": attempt(f, T(1031 + i, 2, 3), 0.1 * (i + 1)), "w": w}


class _ScaleFn(tt.autograd.Function):
    @staticmethod
    def forward(ctx, x, a):
        ctx.a = a
        ctx.save_for_backward(x)
        return x * a

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * ctx.a + x * 0, None


@program
def sc_custom_function_number(C):
    w = T(1100, 4, requires_grad=True)

    def f(x, a):
        y = _ScaleFn.apply(x * w, a)
        y.sum().backward()
        return y.detach()
    f = C(f)
    for i, a in enumerate([2.0, 3.0, -0.5, 2.0, float("inf")]):
        w.grad = None
        yield {"out": attempt(f, T(1101 + i % 2, 4), a), "w": w}


@program
def sc_setitem_and_masked_fill_inplace(C):
    buf = T(1110, 6)

    def f(x, a, i):
        buf[i] = a
        buf[1:3] = a * 2
        buf.masked_fill_(x > 0.5, a - 1)
        buf[4:5].fill_(-a)
        return buf * 1
    f = C(f)
    for k, (a, i) in enumerate([(1.5, 0), (2.5, 0), (3.5, 5), (-0.0, 0), (float("nan"), 0)]):
        yield {"out": attempt(f, T(1111 + k, 6), a, i), "buf": buf}


@program
def rnd_dropout_p_argument_and_module_p(C):
    tt.manual_seed(14)
    model = nn.Sequential(nn.Linear(4, 6), nn.Dropout(0.2), nn.Linear(6, 1))
    opt = tt.optim.SGD(model.parameters(), lr=0.1)

    def step(x, p):
        opt.zero_grad()
        h = F.dropout(model(x), p)
        loss = h.pow(2).mean()
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    for i, p in enumerate([0.1, 0.1, 0.3, 0.3, 0.0, 0.3]):
        if i == 3:
            model[1].p = 0.5
        yield {"out": attempt(step, T(1120 + i, 5, 4), p), "model": model, "rng": tt.rand(2)}


@program
def rnd_seed_argument_inside(C):
    w = T(1130, 6, requires_grad=True)

    def f(x, seed):
        tt.manual_seed(seed)
        y = F.dropout(x * w, 0.5)
        y.sum().backward()
        return y.detach(), tt.initial_seed()
    f = C(f)
    for i, s in enumerate([1, 2, 1, 3, 2 ** 40, 1]):
        w.grad = None
        yield {"out": attempt(f, T(1131, 6), s), "w": w, "after": tt.rand(3)}


@program
def rnd_generator_seeded_inside(C):
    g = tt.Generator()
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.3))

    def f(x, seed):
        g.manual_seed(seed)
        noise = tt.randn(x.shape, generator=g)
        return model(x + noise).detach()
    f = C(f)
    tt.manual_seed(0)
    for i, s in enumerate([5, 5, 6, 5]):
        yield {"out": attempt(f, T(1140, 2, 3), s), "g": g.initial_seed()}


@program
def rnd_fork_rng_inside(C):
    w = T(1150, 5, requires_grad=True)

    def f(x):
        state = tt.get_rng_state()
        tt.manual_seed(3)
        a = F.dropout(x * w, 0.4)
        tt.set_rng_state(state)
        b = F.dropout(x * w, 0.4)
        (a + b).sum().backward()
        return a.detach(), b.detach()
    f = C(f)
    tt.manual_seed(1)
    for i in range(4):
        w.grad = None
        yield {"out": attempt(f, T(1151 + i, 5)), "w": w}


def _bad_index_program(bad_call, set_to_none, inplace_first):
    def prog(C):
        tt.manual_seed(15)
        emb = nn.Embedding(6, 3)
        head = nn.Linear(3, 4)
        opt = tt.optim.SGD(list(emb.parameters()) + list(head.parameters()), lr=0.1, momentum=0.9)
        counter = tt.zeros(1)

        def step(idx, y):
            if inplace_first:
                counter.add_(1)
            opt.zero_grad(set_to_none=set_to_none)
            loss = F.cross_entropy(head(emb(idx)), y)
            loss.backward()
            opt.step()
            return loss
        step = C(step)
        rs = np.random.RandomState(16)
        for i in range(5):
            idx = rs.randint(0, 6, 4)
            if i == bad_call:
                idx[2] = 6  # out of range: an IndexError in the middle of the step
            yield {"out": attempt(step, tt.tensor(idx), tt.tensor(rs.randint(0, 4, 4))), "emb": emb,
                   "head": head, "opt": opt, "counter": counter}
    prog.__name__ = f"ix_error_mid_step_{bad_call}_{'none' if set_to_none else 'zero'}{'_inplace' if inplace_first else ''}"
    return prog


for _args in [(3, True, False), (3, False, True), (2, True, True)]:
    program(_bad_index_program(*_args))


@program
def ix_error_target_out_of_range_mid_step(C):
    tt.manual_seed(17)
    model = mlp(3, 4, 3)
    opt = tt.optim.Adam(model.parameters(), lr=0.01)
    step = C(lambda x, y: _ce_step(model, opt, x, y))
    for i in range(5):
        y = [0, 1, 2, 1] if i != 3 else [0, 1, 3, 1]
        yield {"out": attempt(step, T(1160 + i, 4, 3), tt.tensor(y)), "model": model, "opt": opt}


def _ce_step(model, opt, x, y):
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss


@program
def ix_error_after_writing_a_view_of_a_parameter(C):
    tt.manual_seed(18)
    emb = nn.Embedding(5, 3)
    w = T(1170, 4, 3)

    def f(idx):
        w[0].mul_(0.5)  # a write into a view of a tensor it reads, before the index
        return (emb(idx) * w[1:].sum()).detach()
    f = C(f)
    for i in range(5):
        idx = [0, 1, 2] if i != 3 else [0, 5, 2]
        yield {"out": attempt(f, tt.tensor(idx)), "w": w, "emb": emb}


@program
def ix_error_from_a_float_kernel_after_a_write(C):
    acc = tt.zeros(3, 3)

    def f(a):
        acc.add_(a)
        return tt.linalg.cholesky(a) * 2
    f = C(f)
    good = tt.tensor(np.eye(3, dtype=np.float32) * 2)
    bad = tt.tensor(-np.eye(3, dtype=np.float32))
    for i in range(5):
        yield {"out": attempt(f, good * (i + 1) if i != 3 else bad), "acc": acc}


@program
def ix_error_multinomial_bad_probs(C):
    counter = tt.zeros(1)

    def f(p):
        counter.add_(1)
        return tt.multinomial(p, 2)
    f = C(f)
    tt.manual_seed(0)
    for i in range(4):
        p = tt.tensor([0.2, 0.3, 0.5]) if i != 2 else tt.tensor([0.2, -0.3, 0.5])
        yield {"out": attempt(f, p), "counter": counter}


@program
def ix_error_caught_inside_the_function(C):
    tt.manual_seed(19)
    emb = nn.Embedding(5, 3)

    def f(idx):
        try:
            return emb(idx).detach().sum(0)
        except IndexError:
            return tt.zeros(3)
    f = C(f)
    for i in range(5):
        yield {"out": attempt(f, tt.tensor([0, 1, 2] if i != 3 else [0, 7, 2]))}


@program
def ce_smoothing_and_ignore_as_arguments(C):
    tt.manual_seed(20)
    model = mlp(4, 6, 5)
    opt = tt.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)

    def step(x, y, ls, ignore, scale):
        opt.zero_grad()
        loss = F.cross_entropy(model(x) * scale, y, label_smoothing=ls, ignore_index=ignore)
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    rs = np.random.RandomState(21)
    for i, (ls, ig, sc) in enumerate([(0.1, 1, 1.0), (0.1, 1, 2.0), (0.2, 1, 2.0), (0.0, 3, 0.5), (0.1, 1, -1.0),
                                      (0.1, -100, 1.0)]):
        y = rs.randint(0, 5, 6)
        y[0] = ig if ig >= 0 else 0
        yield {"out": attempt(step, T(1180 + i, 6, 4), tt.tensor(y), ls, ig, sc), "model": model}


@program
def act_log_softmax_temperature_argument(C):
    w = T(1190, 4, 5, requires_grad=True)

    def f(x, t, d):
        z = (x @ w) / t
        a = F.log_softmax(z, dim=d)
        b = F.softmax(z * t, dim=1 - d)
        s = tt.sigmoid(z - t).tanh()
        (a.sum() + (b * b).sum() + s.mean()).backward()
        return a.detach(), b.detach(), s.detach()
    f = C(f)
    for i, (t, d) in enumerate([(1.0, 1), (2.0, 1), (0.5, 0), (0.5, 1), (1e-3, 1)]):
        w.grad = None
        yield {"out": attempt(f, T(1191 + i, 3, 4), t, d), "w": w}

@program
def sc_half_and_bfloat16_with_numbers(C):
    def f(x, y, a, b):
        return x * a + b, (y * a).float(), x.add(x, alpha=b), y.clamp(max=a)
    f = C(f)
    for i, (a, b) in enumerate([(0.1, 3), (0.3, 5), (1e-5, 70000), (65504.0, -1), (0.1, 3)]):
        yield {"out": attempt(f, T(1200 + i % 2, 5).half(), T(1210, 5).bfloat16(), a, b)}


@program
def sc_star_args_and_kwargs(C):
    def f(x, *scales, **opts):
        y = x
        for s in scales:
            y = y * s
        return y + opts.get("shift", 0.0) * opts.get("gain", 1)
    f = C(f)
    calls = [((0.5, 2.0), {"shift": 1.0}), ((0.5, 3.0), {"shift": 2.0}), ((0.5,), {"shift": 2.0}),
             ((0.5, 3.0), {"shift": 2.0, "gain": 3}), ((0.5, 3.0), {"gain": 2, "shift": 2.0}), ((1, 2.0), {"shift": 1})]
    for i, (sc, kw) in enumerate(calls):
        yield {"out": attempt(f, T(1220, 4), *sc, **kw)}


@program
def opt_step_outside_after_accumulating(C):
    tt.manual_seed(22)
    model = mlp(3, 4, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)

    def grads(x, y, weight):
        loss = F.mse_loss(model(x), y) * weight
        loss.backward()
        return loss.detach()
    grads = C(grads)
    for i in range(6):
        a = attempt(grads, T(1230 + i, 4, 3), T(1240 + i, 4, 2), 0.5)
        b = attempt(grads, T(1250 + i, 4, 3), T(1260 + i, 4, 2), 0.25 * (i + 1))
        opt.step()
        if i % 2:
            opt.zero_grad()
        yield {"out": (a, b), "model": model, "opt": opt}


@program
def opt_sgd_closure(C):
    tt.manual_seed(23)
    model = mlp(3, 4, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.05, momentum=0.5)

    def step(x, y):
        def closure():
            opt.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            return loss
        return opt.step(closure).detach()
    step = C(step)
    for i in range(5):
        yield {"out": attempt(step, T(1270 + i, 4, 3), T(1280 + i, 4, 2)), "model": model, "opt": opt}


class _Config:
    lr = 0.0
    pair = (0.0, 1)


class _SubConfig(_Config):
    pass


def test_numbers_kept_as_class_attributes_are_plain_numbers():
    """A number kept in a class attribute is put back through the class, so that Python's
    attribute cache (filled by the reads during the trace) sees the number too."""
    def f(x, a, b):
        _Config.lr = a
        _Config.pair = (b, 1)
        for _ in range(3):
            _SubConfig.lr, _SubConfig.pair, _Config.lr, _Config.pair  # noqa: B018
        return x * 2
    tt.compile(f)(tt.ones(2), 1.5, 2.5)
    assert type(_Config.lr) is float and type(_SubConfig.lr) is float
    assert _Config.pair == (2.5, 1) and type(_Config.pair[0]) is float and type(_SubConfig.pair[0]) is float


@program
def ix_error_after_a_dropout_draw(C):
    tt.manual_seed(24)
    emb = nn.Embedding(5, 3)
    w = T(1290, 3, requires_grad=True)

    def f(x, idx):
        h = F.dropout(x * w, 0.5)
        loss = (emb(idx) * h).sum()
        loss.backward()
        return loss.detach()
    f = C(f)
    for i in range(5):
        w.grad = None
        idx = [0, 1, 4] if i != 3 else [0, 9, 4]
        yield {"out": attempt(f, T(1291 + i, 3), tt.tensor(idx)), "w": w, "emb": emb, "next": tt.rand(2)}


@program
def ce_all_targets_ignored(C):
    w = T(1300, 4, 3, requires_grad=True)

    def f(x, y):
        a = F.cross_entropy(x @ w, y, ignore_index=1)
        b = F.cross_entropy(x @ w, y, ignore_index=1, weight=tt.tensor([1.0, 2.0, 0.0]))
        c = F.nll_loss(F.log_softmax(x @ w, 1), y, ignore_index=1, reduction="sum")
        (a + b + c).backward()
        return a.detach(), b.detach(), c.detach()
    f = C(f)
    for i, y in enumerate([[0, 2, 1], [0, 0, 2], [1, 1, 1], [2, 2, 2], [0, 1, 1]]):
        w.grad = None
        yield {"out": attempt(f, T(1301 + i, 3, 4), tt.tensor(y)), "w": w}


_SIGN = {"s": 0.0}


def test_nan_and_zero_signs_are_told_apart():
    """A read float, a guarded global and a number in a tuple argument are keyed by their
    bits: a nan is not a nan of the other sign (``math.copysign`` tells them apart)."""
    nan = float("nan")

    def by_argument(x, a):
        return x * math.copysign(1.0, a)

    def by_global(x):
        return x * math.copysign(1.0, _SIGN["s"])

    def by_tuple(x, c):
        return x * math.copysign(1.0, c[0])
    fa, fg, ft = tt.compile(by_argument), tt.compile(by_global), tt.compile(by_tuple)
    x = tt.ones(2)
    for v in (nan, -nan, nan, -nan, 0.0, -0.0, 0.0):
        _SIGN["s"] = v
        want = math.copysign(1.0, v)
        assert fa(x, v).tolist() == [want] * 2 and fg(x).tolist() == [want] * 2, v
        assert ft(x, (v,)).tolist() == [want] * 2, v


_HOST = np.array([0.0, 1.0])


def test_zero_and_nan_signs_in_a_numpy_array_it_reads():
    def f(x):
        return x * math.copysign(1.0, float(_HOST[0]))
    f = tt.compile(f)
    for v in (0.0, -0.0, 0.0, -0.0, float("nan"), -float("nan")):
        _HOST[0] = v
        assert f(tt.ones(1)).tolist() == [math.copysign(1.0, v)], v


_DEFAULT = {"sc_inplace_with_numbers", "sc_changes_type_in_expression", "sc_divide_by_zero_exception",
            "sc_number_kept_in_tuple_used_by_another_function", "ce_weight_ignore", "act_tanh_sigmoid_chain",
            "opt_state_dict_load_mid_run", "rnd_dropout_train_calls", "hk_requires_grad_toggled",
            "hk_same_tensor_twice", "ix_error_mid_step_3_zero_inplace", "ix_error_target_out_of_range_mid_step",
            "ix_error_after_writing_a_view_of_a_parameter", "ix_error_caught_inside_the_function"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=() if n in _DEFAULT else pytest.mark.slow) for n in PROGRAMS])
def test_program(name):
    outcome, detail = run_program(name)
    assert outcome in ("same", "refused"), f"{name}: {outcome} ({detail})"
