"""Adversarial programs for ``tinytape.compile``, round 7 (same harness as
``test_compile_adversarial``): modules and optimizers edited between calls (train/eval of one
submodule, buffers and submodules added or deleted, param_groups settings, state dicts),
tensors resized or re-pointed between calls, arguments that alias each other in new ways,
Python containers, numbers and numpy arrays as arguments, exceptions and early returns part
way through a step, grad modes and ``detach_`` inside, double backward, custom autograd
functions keeping state on ``ctx``, schedulers, scalers and clipping, dtypes and empty
tensors per call.  A compiled call must give eager's answer bit for bit, or run eagerly."""
import dataclasses
from collections import namedtuple

import numpy as np
import pytest

import tinytape as tt
import tinytape.nn as nn
import tinytape.nn.functional as F
from test_compile_adversarial import ProgramSet, T, arr, attempt, batches, layout, mlp, sgd_step

PROGRAMS = ProgramSet()
program, run_program = PROGRAMS.register, PROGRAMS.run


def seen(out):
    return {"out": out, "layout": layout(out)}


def trainer(model, opt, loss_fn=None):
    return sgd_step(model, opt, loss_fn or (lambda p, y: (p - y).pow(2).mean()))


def net(seed, *sizes, dropout=None):
    tt.manual_seed(seed)
    return mlp(*sizes, act=nn.Tanh, dropout=dropout)


def xy(seed, n, i=3, o=2, b=4):
    return list(zip(batches(seed, n, b, i), batches(seed + 50, n, b, o)))


# ------------------------------------------------ 1. modules edited between calls


@program
def mod_submodule_eval_only(C):
    model = net(701, 3, 5, 2, dropout=0.5)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)
    step = C(trainer(model, opt))
    for i, (x, y) in enumerate(xy(701, 5)):
        model[2].train(i % 2 == 0)
        yield {"out": attempt(step, x, y), "m": model}


@program
def mod_nested_eval_then_train_parent(C):
    inner = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.3))
    tt.manual_seed(702)
    model = nn.Sequential(inner, nn.Tanh(), nn.Linear(4, 2), nn.Dropout(0.2))
    opt = tt.optim.SGD(model.parameters(), lr=0.1)
    step = C(trainer(model, opt))
    for i, (x, y) in enumerate(xy(702, 6)):
        if i == 1:
            inner.eval()
        if i == 3:
            model.train()
        if i == 4:
            model[3].eval()
        yield {"out": attempt(step, x, y), "m": model}


@program
def mod_buffer_registered_after_trace(C):
    tt.manual_seed(703)
    lin = nn.Linear(3, 2)

    def f(x):
        out = lin(x)
        if hasattr(lin, "shift"):
            out = out + lin.shift
        return out.sum().detach()
    f = C(f)
    for i, x in enumerate(batches(703, 4, 2, 3)):
        if i == 2:
            lin.register_buffer("shift", tt.ones(2) * 0.5)
        yield {"out": attempt(f, x), "m": lin}


@program
def mod_buffer_replaced_other_shape(C):
    tt.manual_seed(704)
    m = nn.Linear(3, 3)
    m.register_buffer("scale", tt.ones(3))

    def f(x):
        return (m(x) * m.scale).sum(0).detach()
    f = C(f)
    for i, x in enumerate(batches(704, 4, 2, 3)):
        if i == 2:
            m.scale = tt.full((1,), 2.0)
        yield {"out": attempt(f, x)}


@program
def mod_buffer_set_to_none(C):
    tt.manual_seed(705)
    m = nn.Linear(3, 3)
    m.register_buffer("bias2", tt.ones(3))

    def f(x):
        y = m(x)
        if m.bias2 is not None:
            y = y + m.bias2
        return y.detach()
    f = C(f)
    for i, x in enumerate(batches(705, 4, 2, 3)):
        if i == 2:
            m.bias2 = None
        yield {"out": attempt(f, x)}


@program
def mod_submodule_setattr_new(C):
    tt.manual_seed(706)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(3, 3)

        def forward(self, x):
            x = self.a(x)
            if hasattr(self, "b"):
                x = self.b(x)
            return x
    model = Net()
    opt = tt.optim.SGD(model.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = model(x).pow(2).sum()
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    for i, x in enumerate(batches(706, 5, 2, 3)):
        if i == 2:
            model.b = nn.ReLU()
        yield {"out": attempt(step, x), "m": model}


@program
def mod_submodule_deleted(C):
    tt.manual_seed(707)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(3, 3)
            self.b = nn.Tanh()

        def forward(self, x):
            x = self.a(x)
            b = getattr(self, "b", None)
            return x if b is None else b(x)
    model = Net()
    f = C(lambda x: model(x).sum().detach())
    for i, x in enumerate(batches(707, 4, 2, 3)):
        if i == 2:
            del model.b
        yield {"out": attempt(f, x)}


@program
def mod_param_requires_grad_off_with_adam(C):
    model = net(708, 3, 4, 2)
    opt = tt.optim.Adam(model.parameters(), lr=0.05)
    step = C(trainer(model, opt))
    for i, (x, y) in enumerate(xy(708, 6)):
        if i == 2:
            model[0].weight.requires_grad_(False)
        if i == 4:
            model[0].weight.requires_grad_(True)
        yield {"out": attempt(step, x, y), "m": model, "o": opt}


@program
def mod_param_replaced_not_in_optimizer(C):
    model = net(709, 3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    step = C(trainer(model, opt))
    for i, (x, y) in enumerate(xy(709, 5)):
        if i == 2:
            model[0].bias = nn.Parameter(tt.zeros(2))
        yield {"out": attempt(step, x, y), "m": model, "o": opt}


@program
def mod_param_deleted_and_plain_tensor_set(C):
    tt.manual_seed(710)
    m = nn.Linear(3, 2)
    f = C(lambda x: m(x).sum().detach())
    for i, x in enumerate(batches(710, 4, 2, 3)):
        if i == 2:
            del m.bias
            m.bias = tt.ones(2)
        yield {"out": attempt(f, x)}


@program
def mod_forward_pre_hook_removed(C):
    tt.manual_seed(711)
    m = nn.Linear(3, 2)
    h = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
    f = C(lambda x: m(x).sum().detach())
    for i, x in enumerate(batches(711, 4, 2, 3)):
        if i == 2:
            h.remove()
        yield {"out": attempt(f, x)}


@program
def mod_full_backward_hook_removed(C):
    model = net(712, 3, 3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)

    def hook(mod, gin, gout):
        return tuple(None if g is None else g * 0.5 for g in gin)
    h = model[2].register_full_backward_hook(hook)
    step = C(trainer(model, opt))
    for i, (x, y) in enumerate(xy(712, 5)):
        if i == 2:
            h.remove()
        yield {"out": attempt(step, x, y), "m": model}


@program
def mod_module_apply_reinit_between(C):
    model = net(713, 3, 3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)
    step = C(trainer(model, opt))

    def reinit(mod):
        if isinstance(mod, nn.Linear):
            with tt.no_grad():
                mod.weight.fill_(0.1)
    for i, (x, y) in enumerate(xy(713, 4)):
        if i == 2:
            model.apply(reinit)
        yield {"out": attempt(step, x, y), "m": model}


@program
def mod_to_float64_between(C):
    tt.manual_seed(714)
    m = nn.Linear(3, 2)
    f = C(lambda x: m(x).sum().detach())
    for i in range(4):
        if i == 2:
            m.double()
        x = T(714 + i, 2, 3, dtype=np.float64 if i >= 2 else np.float32)
        yield {"out": attempt(f, x), "m": m}


@program
def mod_zero_grad_mixed_none_and_zero(C):
    model = net(715, 3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        loss = (model(x) - y).pow(2).sum()
        loss.backward()
        return loss
    step = C(step)
    for i, (x, y) in enumerate(xy(715, 6)):
        yield {"out": attempt(step, x, y), "m": model}
        if i % 3 == 0:
            opt.zero_grad(set_to_none=False)
        elif i % 3 == 1:
            opt.zero_grad(set_to_none=True)


@program
def mod_state_dict_loaded_other_model(C):
    model = net(716, 3, 4, 2)
    other = net(717, 3, 4, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)
    step = C(trainer(model, opt))
    for i, (x, y) in enumerate(xy(716, 5)):
        if i == 2:
            model.load_state_dict(other.state_dict())
        yield {"out": attempt(step, x, y), "m": model}


@program
def mod_requires_grad_false_whole_model_forward(C):
    model = net(718, 3, 2)
    f = C(lambda x: (lambda o: (o.detach(), o.requires_grad))(model(x).sum()))
    for i, x in enumerate(batches(718, 4, 2, 3)):
        model.requires_grad_(i % 2 == 1)
        out = attempt(f, x)
        yield {"out": out, "rg": getattr(out, "requires_grad", None), "layout": layout(out)}


# ------------------------------------------------ 2. optimizer settings edited between calls


def _opt_program(seed, make, edit, n=6):
    model = net(seed, 3, 3, 2)
    opt = make(model.parameters())
    step = trainer(model, opt)
    return model, opt, step, xy(seed, n), edit


def _run_opt(C, seed, make, edit, n=6):
    model, opt, step, data, edit = _opt_program(seed, make, edit, n)
    step = C(step)
    for i, (x, y) in enumerate(data):
        edit(i, opt)
        yield {"out": attempt(step, x, y), "m": model, "o": opt}


def _set(i_at, key, value):
    def edit(i, opt):
        if i == i_at:
            for g in opt.param_groups:
                g[key] = value
    return edit


@program
def opt_sgd_momentum_zero_to_nonzero(C):
    yield from _run_opt(C, 720, lambda p: tt.optim.SGD(p, lr=0.1), _set(2, "momentum", 0.9))


@program
def opt_sgd_weight_decay_set(C):
    yield from _run_opt(C, 721, lambda p: tt.optim.SGD(p, lr=0.1, momentum=0.5), _set(2, "weight_decay", 0.1))


@program
def opt_adam_eps_changed(C):
    yield from _run_opt(C, 722, lambda p: tt.optim.Adam(p, lr=0.01), _set(2, "eps", 0.5))


@program
def opt_adam_weight_decay_changed(C):
    yield from _run_opt(C, 723, lambda p: tt.optim.Adam(p, lr=0.01), _set(3, "weight_decay", 0.2))


@program
def opt_adamw_amsgrad_toggled(C):
    yield from _run_opt(C, 724, lambda p: tt.optim.AdamW(p, lr=0.01), _set(2, "amsgrad", True))


@program
def opt_rmsprop_alpha_changed(C):
    yield from _run_opt(C, 725, lambda p: tt.optim.RMSprop(p, lr=0.01), _set(2, "alpha", 0.5))


@program
def opt_adagrad_lr_decay_changed(C):
    yield from _run_opt(C, 726, lambda p: tt.optim.Adagrad(p, lr=0.1), _set(2, "lr_decay", 0.5))


@program
def opt_lr_int_then_float(C):
    yield from _run_opt(C, 727, lambda p: tt.optim.SGD(p, lr=1), _set(2, "lr", 0.5))


@program
def opt_lr_changed_in_one_group_only(C):
    tt.manual_seed(728)
    a, b = nn.Linear(3, 3), nn.Linear(3, 2)
    model = nn.Sequential(a, b)
    opt = tt.optim.SGD([{"params": a.parameters()}, {"params": b.parameters(), "lr": 0.01}], lr=0.1)
    step = C(trainer(model, opt))
    for i, (x, y) in enumerate(xy(728, 5)):
        if i == 2:
            opt.param_groups[1]["lr"] = 0.3
        yield {"out": attempt(step, x, y), "m": model, "o": opt}


@program
def opt_params_moved_between_groups(C):
    tt.manual_seed(729)
    a, b = nn.Linear(3, 3), nn.Linear(3, 2)
    model = nn.Sequential(a, b)
    opt = tt.optim.SGD([{"params": list(a.parameters())}, {"params": list(b.parameters()), "lr": 0.01}], lr=0.1)
    step = C(trainer(model, opt))
    for i, (x, y) in enumerate(xy(729, 5)):
        if i == 2:
            moved = opt.param_groups[1]["params"].pop()
            opt.param_groups[0]["params"].append(moved)
        yield {"out": attempt(step, x, y), "m": model, "o": opt}


@program
def opt_param_group_params_replaced(C):
    model = net(730, 3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)
    step = C(trainer(model, opt))
    for i, (x, y) in enumerate(xy(730, 5)):
        if i == 2:
            opt.param_groups[0]["params"] = [model[0].weight]
        yield {"out": attempt(step, x, y), "m": model, "o": opt}


@program
def opt_adam_state_step_edited(C):
    model = net(731, 3, 2)
    opt = tt.optim.Adam(model.parameters(), lr=0.05)
    step = C(trainer(model, opt))
    for i, (x, y) in enumerate(xy(731, 5)):
        if i == 3:
            for st in opt.state.values():
                st["step"].fill_(100.0) if isinstance(st["step"], tt.Tensor) else None
        yield {"out": attempt(step, x, y), "m": model, "o": opt}


@program
def opt_momentum_buffer_edited(C):
    model = net(732, 3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    step = C(trainer(model, opt))
    for i, (x, y) in enumerate(xy(732, 5)):
        if i == 2:
            for st in opt.state.values():
                st["momentum_buffer"].mul_(0.0)
        if i == 3:
            for st in opt.state.values():
                st["momentum_buffer"] = None
        yield {"out": attempt(step, x, y), "m": model, "o": opt}


@program
def opt_state_dict_from_other_optimizer(C):
    model = net(733, 3, 2)
    opt = tt.optim.Adam(model.parameters(), lr=0.05)
    step = C(trainer(model, opt))
    other = tt.optim.Adam(model.parameters(), lr=0.2, betas=(0.5, 0.6))
    for i, (x, y) in enumerate(xy(733, 5)):
        if i == 2:
            opt.load_state_dict(other.state_dict())
        yield {"out": attempt(step, x, y), "m": model, "o": opt}


@program
def opt_replaced_by_new_optimizer_same_name(C):
    model = net(734, 3, 2)
    holder = {"opt": tt.optim.SGD(model.parameters(), lr=0.1)}

    def step(x, y):
        opt = holder["opt"]
        opt.zero_grad()
        loss = (model(x) - y).pow(2).mean()
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    for i, (x, y) in enumerate(xy(734, 5)):
        if i == 2:
            holder["opt"] = tt.optim.Adam(model.parameters(), lr=0.01)
        yield {"out": attempt(step, x, y), "m": model}


@program
def opt_grad_set_float64_externally(C):
    model = net(735, 3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)

    def step():
        opt.step()
        return model[0].weight.detach().sum()
    step = C(step)
    for i in range(4):
        if i == 2:
            model.double()
        for p in model.parameters():
            p.grad = tt.ones(p.shape, dtype=tt.float64 if i >= 2 else tt.float32)
        yield {"out": attempt(step), "m": model}


@program
def opt_grad_set_noncontiguous_externally(C):
    model = net(736, 3, 3)
    opt = tt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def step():
        opt.step()
        return model[0].weight.detach() * 1
    step = C(step)
    for i in range(4):
        g = T(736 + i, 3, 3)
        model[0].weight.grad = g.t() if i % 2 else g
        model[0].bias.grad = T(746 + i, 3)
        out = attempt(step)
        yield {"out": out, "m": model, "o": opt, "layout": layout(out)}


@program
def opt_grad_is_none_for_some_calls(C):
    model = net(737, 3, 2)
    opt = tt.optim.Adam(model.parameters(), lr=0.05)

    def step():
        opt.step()
        return model[0].bias.detach().sum()
    step = C(step)
    for i in range(5):
        for p in model.parameters():
            p.grad = None if (i == 2 and p.dim() == 1) else tt.ones(p.shape)
        yield {"out": attempt(step), "m": model, "o": opt}


# ------------------------------------------------ 3. tensors resized, re-pointed or swapped between calls


@program
def rs_arg_resized_between_calls(C):
    x = T(740, 2, 3)
    f = C(lambda x: (x * 2).sum(0))
    for i in range(4):
        if i == 2:
            x.resize_(3, 2)
        yield {"out": attempt(f, x)}


@program
def rs_closure_resized_between_calls(C):
    buf = T(741, 4)
    f = C(lambda x: x + buf)
    for i in range(4):
        if i == 2:
            buf.resize_(1)
        yield {"out": attempt(f, T(741 + i, 4))}


@program
def rs_closure_set_to_other_storage(C):
    buf = T(742, 4)
    other = T(743, 2, 2)
    f = C(lambda x: x * buf)
    for i in range(4):
        if i == 2:
            buf.data = other.reshape(-1)
        yield {"out": attempt(f, T(742 + i, 4)), "buf": buf}


@program
def rs_param_data_resized_shape(C):
    tt.manual_seed(744)
    m = nn.Linear(3, 2)
    f = C(lambda x: m(x).sum().detach())
    for i, x in enumerate(batches(744, 4, 2, 3)):
        if i == 2:
            m.bias.data = tt.ones(1)
        yield {"out": attempt(f, x)}


@program
def rs_data_swapped_to_other_dtype_in_training(C):
    model = net(745, 3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)
    step = C(trainer(model, opt))
    for i, (x, y) in enumerate(xy(745, 4)):
        if i == 2:
            model[0].weight.data = model[0].weight.data.double()
        yield {"out": attempt(step, x, y), "m": model}


@program
def rs_closure_transposed_in_place(C):
    w = T(746, 3, 3)
    f = C(lambda x: x @ w)
    for i in range(4):
        if i == 2:
            w.t_()
        out = attempt(f, T(746 + i, 2, 3))
        yield {"out": out, "w": w}


@program
def rs_closure_unsqueezed_in_place(C):
    w = T(747, 3)
    f = C(lambda x: x + w)
    for i in range(4):
        if i == 2:
            w.unsqueeze_(1)
        yield {"out": attempt(f, T(747 + i, 3))}


@program
def rs_closure_as_strided_in_place(C):
    w = T(748, 6)
    f = C(lambda x: x * w)
    for i in range(4):
        if i == 2:
            w.as_strided_((6,), (0,))
        yield {"out": attempt(f, T(748 + i, 6))}


# ------------------------------------------------ 4. arguments aliasing each other in new ways


@program
def al7_view_and_base_inplace_on_view(C):
    def f(a, b):
        b.mul_(2)
        return a.sum() + b.sum()
    f = C(f)
    for i in range(4):
        base = T(750 + i, 4, 3)
        out = attempt(f, base, base[1:3]) if i % 2 else attempt(f, base, T(760 + i, 2, 3))
        yield {"out": out, "base": base}


@program
def al7_base_and_flat_view(C):
    def f(a, b):
        a.add_(1)
        return b * 2
    f = C(f)
    for i in range(4):
        base = T(751 + i, 2, 3)
        other = T(761 + i, 6)
        out = attempt(f, base, base.view(-1) if i >= 2 else other)
        yield {"out": out, "base": base}


@program
def al7_overlapping_slices_inplace(C):
    def f(a, b):
        a.copy_(b * 3)
        return a + b
    f = C(f)
    for i in range(4):
        base = T(752 + i, 6)
        if i < 2:
            out = attempt(f, base[:4], T(770 + i, 4))
        else:
            out = attempt(f, base[:4], base[2:])
        yield {"out": out, "base": base}


@program
def al7_transpose_alias_written(C):
    def f(a, b):
        a.add_(b)
        return a
    f = C(f)
    for i in range(4):
        x = T(753 + i, 3, 3)
        out = attempt(f, x, x.t() if i >= 2 else T(780 + i, 3, 3))
        yield {"out": out, "x": x, "layout": layout(out)}


@program
def al7_same_tensor_in_list_and_arg(C):
    def f(xs, y):
        y.mul_(2)
        return xs[0] + xs[1]
    f = C(f)
    for i in range(4):
        a, b = T(754 + i, 3), T(790 + i, 3)
        out = attempt(f, [a, b], b if i >= 2 else T(800 + i, 3))
        yield {"out": out, "a": a, "b": b}


@program
def al7_expanded_arg_inplace_raises(C):
    def f(x):
        x.add_(1)
        return x
    f = C(f)
    for i in range(4):
        x = T(755 + i, 1, 3)
        arg = x.expand(2, 3) if i >= 2 else T(810 + i, 2, 3)
        yield {"out": attempt(f, arg), "x": x}


@program
def al7_param_and_grad_as_args(C):
    tt.manual_seed(756)
    m = nn.Linear(3, 2)

    def f(w, g):
        with tt.no_grad():
            w.sub_(g * 0.1)
        return w.detach().sum()
    f = C(f)
    for i in range(4):
        (m(T(756 + i, 2, 3)).sum()).backward()
        g = m.weight.grad if i >= 2 else m.weight.grad.clone()
        yield {"out": attempt(f, m.weight, g), "m": m}


@program
def al7_real_and_imag_views(C):
    def f(a, b):
        a.mul_(2)
        return b + 1
    f = C(f)
    for i in range(4):
        z = tt.complex(T(757 + i, 3), T(767 + i, 3))
        b = z.imag if i >= 2 else T(777 + i, 3)
        yield {"out": attempt(f, z.real, b), "z": z}


@program
def al7_diagonal_and_row(C):
    def f(d, r):
        d.zero_()
        return r * 1
    f = C(f)
    for i in range(4):
        x = T(758 + i, 3, 3)
        r = x[0] if i >= 2 else T(788 + i, 3)
        yield {"out": attempt(f, x.diagonal(), r), "x": x}


@program
def al7_unfold_overlapping_windows_written(C):
    def f(w):
        w.add_(1)
        return w.sum()
    f = C(f)
    for i in range(4):
        x = T(759 + i, 6)
        w = x.unfold(0, 3, 1) if i >= 2 else T(799 + i, 4, 3)
        yield {"out": attempt(f, w), "x": x}


# ------------------------------------------------ 5. Python containers, numbers and arrays as arguments


@dataclasses.dataclass
class Cfg:
    scale: float
    clip: object = None
    names: tuple = ()


Pair = namedtuple("Pair", "a b")


@program
def ct_list_arg_tensor_replaced_other_shape(C):
    f = C(lambda xs: sum(x.sum() for x in xs))
    for i in range(4):
        xs = [T(820 + i, 3), T(830 + i, 2 if i < 2 else 4)]
        yield {"out": attempt(f, xs)}


@program
def ct_list_arg_grows(C):
    f = C(lambda xs: tt.stack(xs).sum(0))
    for i in range(5):
        yield {"out": attempt(f, [T(821 + k, 3) for k in range(2 + i % 3)])}


@program
def ct_list_arg_mutated_inside(C):
    def f(xs):
        xs.append(xs[0] * 2)
        return xs[-1] + 1
    f = C(f)
    for i in range(4):
        xs = [T(822 + i, 3)]
        yield {"out": attempt(f, xs), "xs": xs}


@program
def ct_same_list_object_mutated_between(C):
    xs = [T(823, 3), 2.0]
    f = C(lambda xs: xs[0] * xs[1])
    for i in range(5):
        if i == 2:
            xs[1] = 3.0
        if i == 3:
            xs[1] = 3
        if i == 4:
            xs[0] = T(824, 3, dtype=np.float64)
        yield {"out": attempt(f, xs)}


@program
def ct_dict_arg_value_kinds(C):
    f = C(lambda d: d["x"] * d["k"] + (d["b"] if "b" in d else 0))
    for i in range(5):
        d = {"x": T(825 + i, 3), "k": [1.0, 2, True, 0.5, -0.0][i]}
        if i >= 3:
            d["b"] = T(835 + i, 3)
        yield {"out": attempt(f, d)}


@program
def ct_dataclass_arg_field_changes(C):
    def f(x, cfg):
        y = x * cfg.scale
        if cfg.clip is not None:
            y = y.clamp(-cfg.clip, cfg.clip)
        return y
    f = C(f)
    cfg = Cfg(2.0)
    for i in range(5):
        if i == 2:
            cfg.clip = 0.5
        if i == 3:
            cfg = Cfg(1.5, 0.25)
        if i == 4:
            cfg.scale = 2
        yield {"out": attempt(f, T(826 + i, 3, 3), cfg)}


@program
def ct_namedtuple_arg_vs_tuple(C):
    f = C(lambda p: p[0] * 2 + p[1])
    for i in range(4):
        a, b = T(827 + i, 3), T(837 + i, 3)
        yield {"out": attempt(f, Pair(a, b) if i % 2 else (a, b))}


@program
def ct_namedtuple_field_by_name_number_changes(C):
    f = C(lambda x, p: x * p.a + p.b)
    for i in range(4):
        yield {"out": attempt(f, T(828 + i, 3), Pair([1.0, 2.0, 2.0, -1.0][i], [0, 0, 1, 1][i]))}


@program
def ct_nested_tuple_in_dict_arg(C):
    f = C(lambda d: d["ab"][0] @ d["ab"][1])
    for i in range(4):
        a = T(829 + i, 2, 3)
        b = T(839 + i, 3, 2) if i < 2 else T(839 + i, 3, 4)
        yield {"out": attempt(f, {"ab": (a, b)})}


@program
def num_bool_then_int_then_float(C):
    f = C(lambda x, k: x * k)
    for k in [True, 1, 1.0, False, 0]:
        out = attempt(f, T(840, 3), k)
        yield {"out": out}


@program
def num_int_arg_used_as_dim(C):
    f = C(lambda x, d: x.sum(d))
    for d in [0, 1, -1, 0, True]:
        yield {"out": attempt(f, T(841, 2, 3), d)}


@program
def num_float_nan_arg(C):
    f = C(lambda x, v: x.clamp(max=v))
    for v in [1.0, float("nan"), 0.5, float("inf"), float("nan")]:
        yield {"out": attempt(f, T(842, 4), v)}


@program
def num_numpy_scalar_types(C):
    f = C(lambda x, k: x * k)
    for k in [2.0, np.float32(2.0), np.float64(2.0), np.int64(2), np.float16(2.0), np.bool_(True)]:
        out = attempt(f, T(843, 3), k)
        yield {"out": out}


@program
def num_zero_d_tensor_vs_float(C):
    f = C(lambda x, k: x * k)
    for i in range(5):
        k = [2.0, tt.tensor(2.0), tt.tensor(2.0, dtype=tt.float64), 3.0, tt.tensor(3)][i]
        yield {"out": attempt(f, T(844, 3), k)}


@program
def num_numpy_array_arg_values_change(C):
    f = C(lambda x, a: x * tt.from_numpy(a))
    a = np.ones(3, dtype=np.float32)
    for i in range(5):
        if i == 2:
            a[1] = 5.0
        if i == 3:
            a = np.arange(3, dtype=np.float64)
        if i == 4:
            a = np.arange(6, dtype=np.float32)[::2]
        yield {"out": attempt(f, T(845 + i, 3), a)}


@program
def num_numpy_array_arg_as_index(C):
    f = C(lambda x, idx: x[tt.tensor(idx)])
    for idx in [np.array([0, 1]), np.array([2, 0]), np.array([1]), np.array([True, False, True])]:
        yield {"out": attempt(f, T(846, 3, 2), idx)}


@program
def num_python_list_arg_to_tensor(C):
    f = C(lambda x, v: x + tt.tensor(v))
    for v in [[1.0, 2.0, 3.0], [1.0, 2.0, 4.0], [1, 2, 3], [True, False, True], [[1.0], [2.0], [3.0]]]:
        yield {"out": attempt(f, T(847, 3), v)}


@program
def num_kwarg_default_vs_passed(C):
    def f(x, scale=2.0, *, shift=0):
        return x * scale + shift
    f = C(f)
    for kw in [{}, {"scale": 2.0}, {"shift": 1}, {"scale": 3}, {}]:
        yield {"out": attempt(f, T(848, 3), **kw)}


@program
def num_default_argument_list_mutated_between(C):
    def f(x, coefs=[1.0, 2.0]):
        return x * coefs[0] + coefs[1]
    fc = C(f)
    for i in range(4):
        if i == 2:
            f.__defaults__[0][1] = 5.0
        yield {"out": attempt(fc, T(849, 3))}


@program
def num_defaults_tuple_replaced(C):
    def f(x, k=2.0):
        return x * k
    fc = C(f)
    for i in range(4):
        if i == 2:
            f.__defaults__ = (7.0,)
        yield {"out": attempt(fc, T(850, 3))}


@program
def num_kwdefaults_replaced(C):
    def f(x, *, k=2.0):
        return x * k
    fc = C(f)
    for i in range(4):
        if i == 2:
            f.__kwdefaults__ = {"k": 7.0}
        yield {"out": attempt(fc, T(851, 3))}


_G7 = {"k": 2.0}
_G7_SCALE = 2.0


@program
def gl_global_rebound_to_tensor(C):
    global _G7_SCALE
    _G7_SCALE = 2.0
    f = C(lambda x: x * _G7_SCALE)
    for i in range(5):
        if i == 2:
            _G7_SCALE = tt.tensor([1.0, 2.0, 3.0])
        if i == 3:
            _G7_SCALE.mul_(2)
        yield {"out": attempt(f, T(852, 3))}
    _G7_SCALE = 2.0


@program
def gl_closure_cell_rebound_nonlocal_tensor(C):
    w = T(853, 3)

    def set_w(v):
        nonlocal w
        w = v
    f = C(lambda x: x * w)
    for i in range(4):
        if i == 2:
            set_w(T(854, 3, dtype=np.float64))
        yield {"out": attempt(f, T(855, 3))}


@program
def gl_closure_cell_modified_via_cell_contents(C):
    k = 2.0
    f = lambda x: x * k  # noqa: E731
    fc = C(f)
    for i in range(4):
        if i == 2:
            f.__closure__[0].cell_contents = 5.0
        yield {"out": attempt(fc, T(856, 3))}


@program
def gl_function_globals_dict_key_deleted(C):
    f = C(lambda x: x * _G7.get("k", 1.0))
    for i in range(4):
        if i == 2:
            del _G7["k"]
        yield {"out": attempt(f, T(857, 3))}
    _G7["k"] = 2.0


# ------------------------------------------------ 6. exceptions and early returns part way through a step


@program
def ex_python_index_error_after_step(C):
    model = net(860, 3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)
    log = []

    def step(x, y, slot):
        opt.zero_grad()
        loss = (model(x) - y).pow(2).mean()
        loss.backward()
        opt.step()
        return [loss.detach(), loss.detach() * 2][slot]
    step = C(step)
    for i, (x, y) in enumerate(xy(860, 5)):
        log.append(attempt(step, x, y, [0, 1, 2, 0, 5][i]))
        yield {"out": log[-1], "m": model, "o": opt}


@program
def ex_key_error_before_step(C):
    model = net(861, 3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    weights = {"a": 1.0, "b": 2.0}

    def step(x, y, key):
        opt.zero_grad()
        loss = (model(x) - y).pow(2).mean()
        loss.backward()
        loss = loss * weights[key]
        opt.step()
        return loss.detach()
    step = C(step)
    for i, (x, y) in enumerate(xy(861, 5)):
        yield {"out": attempt(step, x, y, ["a", "b", "c", "a", "zz"][i]), "m": model, "o": opt}


@program
def ex_assert_on_loss_value(C):
    model = net(862, 3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        opt.zero_grad()
        loss = (model(x) - y).pow(2).mean()
        loss.backward()
        assert loss.item() < 1.0, "loss too large"
        opt.step()
        return loss.detach()
    step = C(step)
    for i, (x, y) in enumerate(xy(862, 6)):
        yield {"out": attempt(step, x, y * (3.0 if i in (2, 4) else 0.3)), "m": model}


@program
def ex_early_return_on_item(C):
    model = net(863, 3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        opt.zero_grad()
        loss = (model(x) - y).pow(2).mean()
        if loss.item() > 1.0:
            return None
        loss.backward()
        opt.step()
        return loss.detach()
    step = C(step)
    for i, (x, y) in enumerate(xy(863, 6)):
        yield {"out": attempt(step, x, y * (3.0 if i % 2 else 0.3)), "m": model}


@program
def ex_early_return_on_bool_tensor(C):
    def f(x):
        if (x > 0).all():
            return x.log()
        return x.abs()
    f = C(f)
    for i in range(5):
        yield {"out": attempt(f, T(864 + i, 3).abs() if i % 2 else T(864 + i, 3))}


@program
def ex_error_in_side_effect_list_partially_filled(C):
    seen_losses = []

    def f(xs):
        for x in xs:
            seen_losses.append(float(x.sum()))
            if x.shape[0] > 2:
                raise ValueError("too long")
        return len(seen_losses)
    f = C(f)
    for i in range(4):
        xs = [T(865 + i, 2), T(866 + i, 3 if i == 2 else 2)]
        yield {"out": attempt(f, xs), "log": list(seen_losses)}


@program
def ex_raise_after_inplace_on_arg(C):
    def f(x, k):
        x.mul_(2)
        if k < 0:
            raise ValueError("negative")
        return x + k
    f = C(f)
    for i in range(4):
        x = T(867 + i, 3)
        yield {"out": attempt(f, x, [1, 1, -1, 2][i]), "x": x}


@program
def ex_index_out_of_range_tensor_list(C):
    def f(x, i):
        parts = list(x.unbind(0))
        return parts[i] * 2
    f = C(f)
    for i in [0, 1, 3, 1, -4]:
        yield {"out": attempt(f, T(868, 3, 2), i)}


@program
def ex_stop_iteration_from_next(C):
    def f(it, x):
        return x * next(it)
    f = C(f)
    it = iter([1.0, 2.0, 3.0])
    for i in range(5):
        yield {"out": attempt(f, it, T(869, 3))}


# ------------------------------------------------ 7. arguments sharing memory that numpy does not link by .base


@program
def np_as_strided_view_and_its_array(C):
    def f(x, y):
        x.add_(1)
        return y * 2
    f = C(f)
    for i in range(4):
        a = np.arange(6, dtype=np.float32) + i
        v = np.lib.stride_tricks.as_strided(a, (3,), (8,))
        other = np.arange(6, dtype=np.float32) * 2
        y = tt.from_numpy(a if i >= 2 else other)
        x = tt.from_numpy(v)
        yield {"out": attempt(f, x, y), "a": a.copy()}


@program
def np_two_frombuffer_arrays_one_buffer(C):
    def f(x, y):
        x.mul_(3)
        return y + 1
    f = C(f)
    for i in range(4):
        buf = bytearray(np.arange(4, dtype=np.float32).tobytes())
        x = tt.from_numpy(np.frombuffer(buf, dtype=np.float32).copy() if False else np.frombuffer(buf, dtype=np.float32))
        src = buf if i >= 2 else bytearray(buf)
        y = tt.from_numpy(np.frombuffer(src, dtype=np.float32))
        yield {"out": attempt(f, x, y), "buf": np.frombuffer(bytes(buf), dtype=np.float32)}


@program
def np_as_strided_view_read_after_write_of_arg(C):
    def f(x, y):
        x.zero_()
        return (y * 1).sum()
    f = C(f)
    for i in range(4):
        a = np.arange(8, dtype=np.float32) + 1
        x = tt.from_numpy(a[:4])
        w = np.lib.stride_tricks.as_strided(a, (4,), (4,)) if i >= 2 else np.ones(4, np.float32)
        yield {"out": attempt(f, x, tt.from_numpy(w))}


@program
def np_closure_from_numpy_and_arg_as_strided(C):
    a = np.arange(6, dtype=np.float32)
    w = tt.from_numpy(a)

    def f(x):
        x.add_(10)
        return w * 1
    f = C(f)
    for i in range(4):
        src = a if i >= 2 else np.zeros(6, np.float32)
        x = tt.from_numpy(np.lib.stride_tricks.as_strided(src, (2,), (4,)))
        yield {"out": attempt(f, x), "w": w}


# ------------------------------------------------ 8. autograd inside: modes, detach_, double backward, Functions


@program
def ag7_nonleaf_arg_backward_into_outside_graph(C):
    w = T(870, 3, requires_grad=True)

    def f(x):
        loss = (x * w).sum()
        loss.backward()
        return loss.detach()
    f = C(f)
    for i in range(4):
        a = T(871 + i, 3, requires_grad=True)
        x = a * (2.0 + i)
        yield {"out": attempt(f, x), "a": a, "w": w}


@program
def ag7_arg_view_of_leaf_backward(C):
    w = T(872, 3, requires_grad=True)

    def f(x):
        loss = (x * w).pow(2).sum()
        loss.backward()
        return loss.detach()
    f = C(f)
    for i in range(4):
        a = T(873 + i, 2, 3, requires_grad=True)
        yield {"out": attempt(f, a[i % 2]), "a": a, "w": w}


@program
def ag7_nonleaf_arg_retains_grad_outside(C):
    w = T(874, 3, requires_grad=True)

    def f(x):
        (x * w).sum().backward()
        return w.grad.clone()
    f = C(f)
    for i in range(4):
        a = T(875 + i, 3, requires_grad=True)
        x = a * 2
        if i >= 2:
            x.retain_grad()
        out = attempt(f, x)
        yield {"out": out, "xg": x.grad, "a": a}
        w.grad = None


@program
def ag7_no_grad_then_enable_grad_nested(C):
    w = T(876, 3, requires_grad=True)

    def f(x):
        with tt.no_grad():
            y = x * w
            with tt.enable_grad():
                z = (y * w).sum()
        z.backward()
        return y.requires_grad, z.detach()
    f = C(f)
    for i in range(3):
        yield {"out": attempt(f, T(877 + i, 3)), "w": w}


@program
def ag7_detach_inplace_on_intermediate(C):
    w = T(878, 3, requires_grad=True)

    def f(x):
        h = x * w
        h2 = h * 2
        h.detach_()
        loss = (h2 + h).sum()
        loss.backward()
        return loss.detach(), h.requires_grad
    f = C(f)
    for i in range(3):
        yield {"out": attempt(f, T(879 + i, 3)), "w": w}


@program
def ag7_requires_grad_inplace_on_fresh_tensor(C):
    def f(x):
        t = x.clone()
        t.requires_grad_()
        loss = (t * t).sum()
        loss.backward()
        return t.grad
    f = C(f)
    for i in range(3):
        out = attempt(f, T(880 + i, 3))
        yield {"out": out}


@program
def ag7_double_backward_gradient_penalty_training(C):
    model = net(881, 3, 4, 1)
    opt = tt.optim.SGD(model.parameters(), lr=0.05)

    def step(x):
        opt.zero_grad()
        x = x.detach().requires_grad_()
        out = model(x).sum()
        (g,) = tt.autograd.grad(out, x, create_graph=True)
        loss = out + g.pow(2).sum()
        loss.backward()
        opt.step()
        return loss.detach()
    step = C(step)
    for x in batches(881, 4, 2, 3):
        yield {"out": attempt(step, x), "m": model}


@program
def ag7_retain_graph_two_losses_different_weights(C):
    w = T(882, 3, requires_grad=True)

    def f(x, k):
        y = (x * w).tanh()
        y.sum().backward(retain_graph=True)
        (y.pow(2).sum() * k).backward()
        return w.grad.clone()
    f = C(f)
    for i in range(4):
        yield {"out": attempt(f, T(883 + i, 3), [1.0, 2.0, 0.5, 1.0][i]), "w": w}
        w.grad = None


@program
def ag7_backward_with_inputs_changing(C):
    a = T(884, 3, requires_grad=True)
    b = T(885, 3, requires_grad=True)

    def f(x, which):
        loss = (x * a * b).sum()
        loss.backward(inputs=[a] if which else [a, b])
        return loss.detach()
    f = C(f)
    for i in range(4):
        yield {"out": attempt(f, T(886 + i, 3), i % 2 == 0), "a": a, "b": b}


class Scale7(tt.autograd.Function):
    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        ctx.shape = x.shape
        ctx.save_for_backward(x)
        return x * k

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * ctx.k + x * 0, None


@program
def cf_ctx_number_changes_per_call(C):
    w = T(887, 3, requires_grad=True)

    def f(x, k):
        loss = Scale7.apply(x * w, k).sum()
        loss.backward()
        return loss.detach()
    f = C(f)
    for i in range(4):
        yield {"out": attempt(f, T(888, 3), [2.0, 3.0, 3.0, -1.0][i]), "w": w}


class CountingFn7(tt.autograd.Function):
    calls = 0

    @staticmethod
    def forward(ctx, x):
        CountingFn7.calls += 1
        ctx.mark_non_differentiable
        return x.exp()

    @staticmethod
    def backward(ctx, g):
        CountingFn7.calls += 10
        return g * 2


@program
def cf_class_counter_in_forward_and_backward(C):
    CountingFn7.calls = 0
    w = T(889, 3, requires_grad=True)

    def f(x):
        loss = CountingFn7.apply(x * w).sum()
        loss.backward()
        return loss.detach()
    f = C(f)
    for i in range(4):
        yield {"out": attempt(f, T(890 + i, 3)), "calls": CountingFn7.calls, "w": w}


class NonDiff7(tt.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        idx = x.argmax()
        ctx.mark_non_differentiable(idx)
        ctx.save_for_backward(x)
        return x * 2, idx

    @staticmethod
    def backward(ctx, g, gidx):
        return g * 2


@program
def cf_mark_non_differentiable_output(C):
    w = T(891, 4, requires_grad=True)

    def f(x):
        y, idx = NonDiff7.apply(x * w)
        (y * y).sum().backward()
        return idx, idx.requires_grad
    f = C(f)
    for i in range(4):
        yield {"out": attempt(f, T(892 + i, 4)), "w": w}


class BackwardReadsGlobal7(tt.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 1

    @staticmethod
    def backward(ctx, g):
        return g * _G7["k"]


@program
def cf_backward_reads_global_dict(C):
    _G7["k"] = 2.0
    w = T(893, 3, requires_grad=True)

    def f(x):
        BackwardReadsGlobal7.apply(x * w).sum().backward()
        return w.grad.clone()
    f = C(f)
    for i in range(4):
        if i == 2:
            _G7["k"] = -3.0
        yield {"out": attempt(f, T(894, 3)), "w": w}
        w.grad = None
    _G7["k"] = 2.0


# ------------------------------------------------ 9. schedulers, scalers and clipping


@program
def sch_step_inside_function(C):
    model = net(900, 3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)
    sched = tt.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)

    def step(x, y):
        opt.zero_grad()
        loss = (model(x) - y).pow(2).mean()
        loss.backward()
        opt.step()
        sched.step()
        return loss.detach()
    step = C(step)
    for x, y in xy(900, 6):
        yield {"out": attempt(step, x, y), "m": model, "o": opt}


@program
def sch_plateau_outside_with_item(C):
    model = net(901, 3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)
    sched = tt.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    step = C(trainer(model, opt))
    for x, y in xy(901, 6):
        loss = attempt(step, x, y)
        sched.step(1.0)
        yield {"out": loss, "m": model, "o": opt}


@program
def sch_onecycle_momentum_outside(C):
    model = net(902, 3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = tt.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=8)
    step = C(trainer(model, opt))
    for x, y in xy(902, 6):
        yield {"out": attempt(step, x, y), "m": model, "o": opt}
        sched.step()


@program
def sch_cyclic_adam_betas_cycled(C):
    model = net(903, 3, 2)
    opt = tt.optim.Adam(model.parameters(), lr=0.01)
    sched = tt.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=8)
    step = C(trainer(model, opt))
    for x, y in xy(903, 6):
        yield {"out": attempt(step, x, y), "m": model, "o": opt}
        sched.step()


@program
def clip_norm_inf_grads_some_calls(C):
    model = net(904, 3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        opt.zero_grad()
        loss = (model(x) - y).pow(2).mean()
        loss.backward()
        n = nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.detach(), n
    step = C(step)
    for i, (x, y) in enumerate(xy(904, 5)):
        if i in (2, 4):
            x = x * float("inf")
        yield {"out": attempt(step, x, y), "m": model}


@program
def clip_norm_max_norm_argument_and_type(C):
    model = net(905, 3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)

    def step(x, y, mx, nt):
        opt.zero_grad()
        loss = (model(x) - y).pow(2).mean()
        loss.backward()
        n = nn.utils.clip_grad_norm_(model.parameters(), mx, norm_type=nt)
        opt.step()
        return n
    step = C(step)
    for i, (x, y) in enumerate(xy(905, 5)):
        yield {"out": attempt(step, x, y, [0.1, 0.1, 1, 0.05, 0.1][i], [2.0, 1.0, 2.0, float("inf"), 2][i]),
               "m": model}


@program
def clip_error_if_nonfinite_raises_some_calls(C):
    model = net(906, 3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        opt.zero_grad()
        loss = (model(x) - y).pow(2).mean()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0, error_if_nonfinite=True)
        opt.step()
        return loss.detach()
    step = C(step)
    for i, (x, y) in enumerate(xy(906, 5)):
        yield {"out": attempt(step, x * (float("nan") if i == 2 else 1.0), y), "m": model}


@program
def scaler_inf_grads_skip_step(C):
    model = net(907, 3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)
    scaler = tt.amp.GradScaler(init_scale=4.0, growth_interval=2)

    def step(x, y):
        opt.zero_grad()
        loss = (model(x) - y).pow(2).mean()
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        return loss.detach()
    step = C(step)
    for i, (x, y) in enumerate(xy(907, 6)):
        yield {"out": attempt(step, x * (float("inf") if i == 3 else 1.0), y), "m": model,
               "scale": scaler.get_scale()}


@program
def scaler_unscale_then_clip(C):
    model = net(908, 3, 2)
    opt = tt.optim.Adam(model.parameters(), lr=0.01)
    scaler = tt.amp.GradScaler(init_scale=8.0, growth_interval=1)
    step_fn = None

    def step(x, y):
        opt.zero_grad()
        loss = (model(x) - y).pow(2).mean()
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        scaler.step(opt)
        scaler.update()
        return loss.detach()
    step_fn = C(step)
    for i, (x, y) in enumerate(xy(908, 5)):
        yield {"out": attempt(step_fn, x * (float("nan") if i == 2 else 1.0), y), "m": model, "o": opt,
               "scale": scaler.get_scale()}


# ------------------------------------------------ 10. dtypes, empty tensors, layouts per call


@program
def dt_float16_float32_float64_per_call(C):
    f = C(lambda x, y: (x * y + 1).sum(0))
    for i, dt in enumerate([np.float32, np.float16, np.float64, np.float32, np.float16]):
        yield seen(attempt(f, T(910 + i, 3, 2, dtype=dt), T(920 + i, 2, dtype=np.float32)))


@program
def dt_int_and_float_args_promote(C):
    f = C(lambda x, y: x / y + x // 2)
    for i, (a, b) in enumerate([(np.int64, np.int64), (np.int64, np.float32), (np.int32, np.int64),
                                (np.float32, np.int64), (np.int64, np.int64)]):
        x = tt.tensor((np.arange(6).reshape(2, 3) + 1).astype(a))
        y = tt.tensor((np.arange(3) + 2).astype(b))
        yield seen(attempt(f, x, y))


@program
def dt_bfloat16_arg_after_float32(C):
    w = T(911, 3, requires_grad=True)

    def f(x):
        loss = (x.float() * w).sum()
        loss.backward()
        return loss.detach()
    f = C(f)
    for i in range(4):
        x = T(912 + i, 3)
        yield {"out": attempt(f, x.bfloat16() if i % 2 else x), "w": w}


@program
def empty_batch_mid_training(C):
    model = net(913, 3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def step(x, y):
        opt.zero_grad()
        loss = (model(x) - y).pow(2).sum()
        loss.backward()
        opt.step()
        return loss.detach()
    step = C(step)
    for i in range(5):
        n = 0 if i == 2 else 3
        yield {"out": attempt(step, T(913 + i, n, 3), T(923 + i, n, 2)), "m": model, "o": opt}


@program
def empty_mean_and_max(C):
    def f(x):
        return x.mean(), x.sum(), x.amax(0) if x.shape[0] else x.sum(0)
    f = C(f)
    for n in [2, 0, 3, 0]:
        yield seen(attempt(f, T(914, n, 3)))


@program
def empty_max_raises_only_when_empty(C):
    f = C(lambda x: x.max() * 2)
    for n in [3, 3, 0, 3]:
        yield {"out": attempt(f, T(915, n))}


@program
def lay_permuted_arg_elementwise_and_reduce_strides(C):
    f = C(lambda x: (x.exp() + 1, x.sum(-1), x.softmax(0)))
    for i in range(4):
        x = T(916 + i, 2, 3, 4)
        yield seen(attempt(f, x.permute(2, 0, 1) if i % 2 else x.reshape(4, 2, 3)))


@program
def lay_storage_offset_arg_same_strides(C):
    def f(x):
        x.mul_(2)
        return x.view(-1)
    f = C(f)
    for i in range(4):
        base = T(917 + i, 4, 3)
        x = base[1:3] if i % 2 else base[0:2]
        out = attempt(f, x)
        yield {"out": out, "base": base, "layout": layout(out)}


@program
def lay_expand_then_contiguous_result(C):
    f = C(lambda x: (x.expand(3, 4) * 1, x.expand(3, 4).contiguous(), x.expand(3, 4).clone()))
    for i in range(4):
        x = T(918 + i, 1, 4) if i % 2 else T(918 + i, 3, 4)
        yield seen(attempt(f, x))


@program
def drop_p_changes_seeded_each_call(C):
    def f(x, p):
        tt.manual_seed(7)
        return F.dropout(x, p, training=True)
    f = C(f)
    for p in [0.5, 0.5, 0.25, 0.0, 1.0, 0.5]:
        yield {"out": attempt(f, T(919, 4, 4), p)}


@program
def drop_module_p_attribute_edited(C):
    tt.manual_seed(930)
    d = nn.Dropout(0.5)
    f = C(lambda x: d(x))
    for i, p in enumerate([0.5, 0.5, 0.2, 0.0, 0.9]):
        d.p = p
        yield {"out": attempt(f, T(930, 4, 4)), "rng": tt.get_rng_state()}


@program
def drop_inplace_flag_toggled(C):
    tt.manual_seed(931)
    d = nn.Dropout(0.5)

    def f(x):
        y = x * 1
        d(y)
        return y
    f = C(f)
    for i in range(4):
        d.inplace = i >= 2
        yield {"out": attempt(f, T(931, 3, 3))}


# ------------------------------------------------ 11. recursion and re-entrancy


@program
def rec_compiled_inside_module_forward_of_other_compiled(C):
    tt.manual_seed(933)
    inner = nn.Linear(3, 3)
    g = C(lambda x: inner(x).tanh())
    opt = tt.optim.SGD(inner.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = g(g(x)).sum()
        loss.backward()
        opt.step()
        return loss.detach()
    step = C(step)
    for x in batches(933, 4, 2, 3):
        yield {"out": attempt(step, x), "m": inner}


# ------------------------------------------------ 12. a number argument reaching an op, values that ops treat specially


def _number_program(name, fn, values, *shape, seed=940, grad=False):
    """``fn(x, k)`` compiled, called with the number ``k`` taking ``values`` (an op may take
    another path for 0, 1, 2, 0.5, a negative, an int): the result, and the gradient."""
    def prog(C):
        w = T(seed, *shape, requires_grad=grad)

        def f(x, k):
            out = fn(x * w if grad else x, k)
            if grad:
                out.sum().backward()
                return out.detach(), w.grad.clone()
            return out
        f = C(f)
        for i, k in enumerate(values):
            yield seen(attempt(f, T(seed + 1 + i % 2, *shape), k))
            w.grad = None
    prog.__name__ = name
    program(prog)


_number_program("nb_pow_exponent_special_values", lambda x, k: x.abs().pow(k),
                [2.0, 3.0, 2.0, 0.5, 0.0, -1.0, 1.0, 2, 3, -2, 0], 5, grad=True)
_number_program("nb_rpow_base_special_values", lambda x, k: k ** x, [2.0, 1.0, 0.5, 0.0, 2, 1, -0.0], 5, grad=True)
_number_program("nb_leaky_relu_slope", lambda x, k: F.leaky_relu(x, k), [0.1, 0.0, -0.5, 1.0, 2], 6, grad=True)
_number_program("nb_hardtanh_bounds", lambda x, k: F.hardtanh(x, -k, k), [1.0, 0.5, 0.0, -1.0, 2], 6, grad=True)
_number_program("nb_elu_alpha", lambda x, k: F.elu(x, k), [1.0, 0.5, 0.0, 2.0], 6, grad=True)
_number_program("nb_softplus_beta", lambda x, k: F.softplus(x * 10, beta=k), [1.0, 2.0, 0.5, 100.0], 6, grad=True)
_number_program("nb_softplus_threshold", lambda x, k: F.softplus(x * 10, threshold=k), [20.0, 1.0, 0.0, 5], 6,
                grad=True)
_number_program("nb_smooth_l1_beta", lambda x, k: F.smooth_l1_loss(x, x * 0.3, beta=k), [1.0, 0.5, 0.0, 2],
                6, grad=True)
_number_program("nb_huber_delta", lambda x, k: F.huber_loss(x, x * 0.3, delta=k), [1.0, 0.1, 2.0, 1], 6, grad=True)
_number_program("nb_lerp_weight", lambda x, k: x.lerp(x.exp(), k), [0.5, 0.0, 1.0, 0.25, 0.75, 1], 5, grad=True)
_number_program("nb_add_alpha", lambda x, k: x.add(x.exp(), alpha=k), [1.0, 0.0, -1.0, 2.0, 1, 3], 5, grad=True)
_number_program("nb_addcmul_value", lambda x, k: x.addcmul(x, x.exp(), value=k), [1.0, 0.0, -2.0, 1], 5, grad=True)
_number_program("nb_div_rounding_floor", lambda x, k: (x * 5).div(k, rounding_mode="floor"),
                [2.0, 0.5, -3.0, 1.0, 2, -0.0], 6)
_number_program("nb_div_by_number_trunc", lambda x, k: (x * 5).div(k, rounding_mode="trunc"), [2.0, -3.0, 1.0, 0.0],
                6)
_number_program("nb_clamp_min_above_max", lambda x, k: x.clamp(min=k, max=0.5), [-1.0, 0.0, 1.0, 0.5, 2], 6,
                grad=True)
_number_program("nb_normalize_p", lambda x, k: F.normalize(x, p=k, dim=-1), [2.0, 1.0, 3.0, float("inf"), 2],
                2, 3, grad=True)
_number_program("nb_norm_p", lambda x, k: x.norm(p=k), [2.0, 1.0, float("inf"), 0.0, 3, 2], 4, grad=True)
_number_program("nb_std_correction", lambda x, k: x.std(correction=k), [1, 0, 2, 1, 5], 4, grad=True)
_number_program("nb_var_dim_correction", lambda x, k: x.var(dim=0, correction=k), [1, 0, 3, 1], 3, 2, grad=True)
_number_program("nb_threshold_value", lambda x, k: F.threshold(x, k, -k), [0.0, 0.5, -0.5, 1.0, 0], 6, grad=True)
_number_program("nb_where_scalar_other", lambda x, k: tt.where(x > 0, x, k), [0.0, -1.0, 2.0, 0, -0.0], 6,
                grad=True)
_number_program("nb_masked_fill_number", lambda x, k: x.masked_fill(x < 0, k), [0.0, float("-inf"), -0.0, 1],
                6, grad=True)
_number_program("nb_full_like_number", lambda x, k: x + tt.full_like(x, k), [1.0, 2.0, -0.0, 3, 0], 4)
_number_program("nb_tensor_of_number", lambda x, k: x * tt.tensor(k), [2.0, 3.0, 2, 0.5, 7], 4)
_number_program("nb_tensor_of_list_of_numbers", lambda x, k: x * tt.tensor([k, 1.0, k * 2]),
                [2.0, 3.0, 2, 0.5], 3)
_number_program("nb_pad_value", lambda x, k: F.pad(x, (1, 2), value=k), [0.0, 1.5, -0.0, 2], 2, 3, grad=True)
_number_program("nb_fill_inplace_number", lambda x, k: x.clone().fill_(k) + x, [1.0, 2.0, -0.0, 3], 4, grad=True)
_number_program("nb_celu_alpha", lambda x, k: F.celu(x, k), [1.0, 0.5, 2.0, 3], 6, grad=True)
_number_program("nb_rrelu_eval_bounds", lambda x, k: F.rrelu(x, k, k * 2, training=False), [0.1, 0.2, 0.0, 1],
                6, grad=True)
_number_program("nb_log_softmax_scaled_by_number", lambda x, k: F.log_softmax(x * k, -1), [1.0, 0.0, -1.0, 100.0, 2],
                2, 3, grad=True)
_number_program("nb_cosine_similarity_eps", lambda x, k: F.cosine_similarity(x, x * 0 + 1, dim=-1, eps=k),
                [1e-8, 1.0, 100.0], 2, 3, grad=True)
_number_program("nb_round_decimals", lambda x, k: (x * 100).round(decimals=k), [0, 1, 2, -1, 0], 5)
_number_program("nb_int_tensor_times_number", lambda x, k: (x * 10).long() * k, [2, 3, 2.5, -1, 0.0], 4)
_number_program("nb_int_tensor_floordiv_number", lambda x, k: (x * 10).long() // k, [2, 3, -2, 1, 2.0], 4)
_number_program("nb_bool_tensor_plus_number", lambda x, k: (x > 0) + k, [1, 2, 0.5, 0, -1], 4)
_number_program("nb_number_minus_tensor_rsub", lambda x, k: k - x * 2, [1.0, 0.0, 1, -0.0], 4, grad=True)
_number_program("nb_number_divided_by_tensor", lambda x, k: k / x, [1.0, 0.0, -1.0, 2, 0], 4, grad=True)
_number_program("nb_fmod_remainder_number", lambda x, k: (x * 5).fmod(k) + (x * 5).remainder(k),
                [2.0, -2.0, 0.5, 3, 1], 6)
_number_program("nb_clamp_min_only_int_on_float", lambda x, k: x.clamp(min=k), [0, 1, -1, 0.5], 6, grad=True)
_number_program("nb_logit_eps", lambda x, k: x.sigmoid().logit(eps=k), [1e-6, 0.1, 0.0, 0.4], 6, grad=True)
_number_program("nb_quantile_q", lambda x, k: x.quantile(k), [0.5, 0.0, 1.0, 0.25], 7)
_number_program("nb_topk_k", lambda x, k: x.topk(k)[0], [2, 3, 1, 2], 6, grad=True)


# ------------------------------------------------ 13. an int argument meeting a float in Python (the int's own method declines)


def _int_meets_float_program(name, fn, values):
    def prog(C):
        f = C(fn)
        for k in values:
            yield {"out": attempt(f, T(950, 3), k)}
    prog.__name__ = name
    program(prog)


_int_meets_float_program("if_int_arg_equals_float_literal", lambda x, k: x * (2.0 if k == 1.0 else 3.0), [1, 1, 2, 1])
_int_meets_float_program("if_int_arg_not_equal_float_literal", lambda x, k: x * (2.0 if k != 0.0 else 3.0),
                         [0, 0, 2, 0])
_int_meets_float_program("if_int_arg_at_least_float", lambda x, k: x * (2.0 if k >= 0.5 else 3.0), [1, 1, 0, 2])
_int_meets_float_program("if_float_literal_below_int_arg", lambda x, k: x * (2.0 if 0.5 < k else 3.0), [1, 0, 1, 2])
_int_meets_float_program("if_int_arg_in_tuple_of_floats", lambda x, k: x * (2.0 if k in (1.0, 2.0) else 3.0),
                         [1, 3, 2, 1])
_int_meets_float_program("if_int_arg_as_float_dict_key", lambda x, k: x * {1.0: 2.0, 2.0: 5.0}.get(k, 3.0),
                         [1, 2, 3, 1])
_int_meets_float_program("if_max_of_float_and_int_arg", lambda x, k: x * max(0.0, k - 1), [1, 3, 0, 2])
_int_meets_float_program("if_int_arg_clamped_by_min_float", lambda x, k: x.pow(min(k, 2.5)), [1, 3, 2, 4])



# ------------------------------------------------ 14. errors a compiled path raises in other words than eager's


@program
def err_one_hot_class_too_large_on_a_later_call(C):
    f = C(lambda t, k: F.one_hot(t, num_classes=k))
    for t, k in [([0, 1, 1], 2), ([1, 0, 0], 2), ([0, 2, 1], 2), ([0, 1, 1], 1), ([1, 1, 0], 2)]:
        yield {"out": attempt(f, tt.tensor(t), k)}


@program
def err_one_hot_negative_class_on_a_later_call(C):
    f = C(lambda t: F.one_hot(t, num_classes=3) * 2)
    for t in [[[0, 1], [2, 1]], [[2, 2], [0, 1]], [[0, -1], [1, 5]], [[1, 0], [2, 2]]]:
        yield {"out": attempt(f, tt.tensor(t))}


@program
def err_one_hot_in_training_step_bad_label(C):
    model = net(960, 3, 4)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)

    def step(x, labels):
        opt.zero_grad()
        loss = (model(x).softmax(-1) - F.one_hot(labels, 4).float()).pow(2).sum()
        loss.backward()
        opt.step()
        return loss.detach()
    step = C(step)
    for i, x in enumerate(batches(960, 5, 3, 3)):
        labels = tt.tensor([[0, 3, 1], [2, 2, 0], [1, 4, 0], [3, 0, 1], [-2, 0, 0]][i])
        yield {"out": attempt(step, x, labels), "m": model}



# ------------------------------------------------ 15. optimizer updates whose traced step sizes meet a tensor


def _optimizer_program(name, make, dtype, seed, steps=6):
    """A training step of ``make(params)`` on a model of ``dtype``: inside a trace the step
    count is a float64 tensor where eager has a Python number, and it must round as one."""
    def prog(C):
        tt.manual_seed(seed)
        model = nn.Linear(4, 3).to(dtype)
        opt = make(model.parameters())

        def step(x):
            opt.zero_grad()
            loss = model(x).float().pow(2).sum()
            loss.backward()
            opt.step()
            return loss.detach()
        step = C(step)
        for x in batches(seed, steps, 5, 4):
            yield {"out": attempt(step, x.to(dtype)), "m": model, "o": opt}
    prog.__name__ = name
    program(prog)


O = tt.optim
_optimizer_program("opth_nadam_float16", lambda p: O.NAdam(p, lr=0.01), tt.float16, 970)
_optimizer_program("opth_nadam_bfloat16", lambda p: O.NAdam(p, lr=0.01), tt.bfloat16, 971)
_optimizer_program("opth_nadam_decoupled_float16",
                   lambda p: O.NAdam(p, lr=0.01, decoupled_weight_decay=True, weight_decay=0.1), tt.float16, 972)
_optimizer_program("opth_adamax_float16", lambda p: O.Adamax(p, lr=0.01), tt.float16, 974)
_optimizer_program("opth_adamax_bfloat16", lambda p: O.Adamax(p, lr=0.01), tt.bfloat16, 975, steps=8)
_optimizer_program("opth_adam_float16", lambda p: O.Adam(p, lr=0.01), tt.float16, 975)
_optimizer_program("opth_radam_bfloat16", lambda p: O.RAdam(p, lr=0.01), tt.bfloat16, 976)
_optimizer_program("optlr_adam_tensor_lr_float64_params", lambda p: O.Adam(p, lr=tt.tensor(0.01)), tt.float64, 977)
_optimizer_program("optlr_adamw_tensor_lr_float64_params",
                   lambda p: O.AdamW(p, lr=tt.tensor(0.013), weight_decay=0.1), tt.float64, 978)
_optimizer_program("optlr_nadam_tensor_lr", lambda p: O.NAdam(p, lr=tt.tensor(0.01)), tt.float32, 979)
_optimizer_program("optlr_nadam_tensor_lr_float64_params", lambda p: O.NAdam(p, lr=tt.tensor(0.01)), tt.float64, 980)
_optimizer_program("optlr_adamax_tensor_lr", lambda p: O.Adamax(p, lr=tt.tensor(0.01)), tt.float32, 981)
_optimizer_program("optlr_adagrad_tensor_lr_decay", lambda p: O.Adagrad(p, lr=tt.tensor(0.1), lr_decay=0.01),
                   tt.float32, 982)
_optimizer_program("optlr_adam_float64_tensor_lr", lambda p: O.Adam(p, lr=tt.tensor(0.01, dtype=tt.float64)),
                   tt.float32, 983)
_optimizer_program("optlr_rmsprop_tensor_lr", lambda p: O.RMSprop(p, lr=tt.tensor(0.01), momentum=0.5), tt.float32, 984)



# ------------------------------------------------ 16. tensors inside Python objects passed as arguments


@dataclasses.dataclass
class Batch7:
    x: object
    y: object
    weight: float = 1.0


@program
def obj_dataclass_tensor_field_changes_dtype_and_shape(C):
    model = net(990, 3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)

    def step(b):
        opt.zero_grad()
        loss = (model(b.x.float()) - b.y).pow(2).mean() * b.weight
        loss.backward()
        opt.step()
        return loss.detach()
    step = C(step)
    b = Batch7(T(990, 4, 3), T(991, 4, 2))
    for i in range(6):
        if i == 2:
            b.x = T(992, 4, 3, dtype=np.float64)
        if i == 3:
            b.x, b.y = T(993, 2, 3), T(994, 2, 2)
        if i == 4:
            b.weight = 2
        yield {"out": attempt(step, b), "m": model}


@program
def obj_same_dataclass_tensor_written_in_place_between(C):
    b = Batch7(T(995, 3), T(996, 3))
    f = C(lambda b: b.x * b.y + b.weight)
    for i in range(4):
        if i == 2:
            b.x.mul_(-1)
            b.y = b.x
        yield {"out": attempt(f, b)}


@program
def obj_namedtuple_of_tensors_swapped_fields(C):
    f = C(lambda p: p.a - p.b * 2)
    a, b = T(997, 3), T(998, 3)
    for i in range(4):
        yield {"out": attempt(f, Pair(b, a) if i % 2 else Pair(a, b))}


@program
def obj_dict_of_modules_argument_entry_swapped(C):
    tt.manual_seed(999)
    heads = {"a": nn.Linear(3, 2), "b": nn.Linear(3, 2)}
    f = C(lambda hs, x: hs["main"](x).sum().detach())
    for i in range(4):
        yield {"out": attempt(f, {"main": heads["a" if i < 2 else "b"]}, T(999, 2, 3))}



# ------------------------------------------------ 17. a value-dependent error after the step's writes


def _spd(seed, bad):
    a = arr(seed, 3, 3)
    m = a @ a.T + 3 * np.eye(3, dtype=np.float32)
    if bad:
        m[0, 0] = -5.0
    return tt.tensor(m)


@program
def exv_cholesky_fails_after_optimizer_step(C):
    model = net(1001, 3, 3)
    opt = tt.optim.Adam(model.parameters(), lr=0.05)

    def step(x, a):
        opt.zero_grad()
        loss = model(x).pow(2).sum()
        loss.backward()
        opt.step()
        return tt.linalg.cholesky(a) @ loss.detach().reshape(1, 1).expand(3, 3)
    step = C(step)
    for i, x in enumerate(batches(1001, 6, 2, 3)):
        yield {"out": attempt(step, x, _spd(1001 + i, i in (2, 4))), "m": model, "o": opt}


@program
def exv_inverse_of_singular_after_inplace_on_arg(C):
    def f(x, a):
        x.mul_(2)
        return tt.linalg.inv(a) + x.sum()
    f = C(f)
    for i in range(5):
        a = T(1002 + i, 3, 3)
        if i in (2, 3):
            a = tt.zeros(3, 3)
        x = T(1010 + i, 4)
        yield {"out": attempt(f, x, a), "x": x}


@program
def exv_gather_index_out_of_range_after_step(C):
    model = net(1003, 3, 4)
    opt = tt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def step(x, idx):
        opt.zero_grad()
        out = model(x)
        loss = out.gather(1, idx).sum()
        loss.backward()
        opt.step()
        return loss.detach()
    step = C(step)
    for i, x in enumerate(batches(1003, 5, 2, 3)):
        idx = tt.tensor([[1], [7 if i == 2 else 3]])
        yield {"out": attempt(step, x, idx), "m": model, "o": opt}


# --------------------------------------------------------------------------- pytest

_DEFAULT = {"mod_submodule_eval_only", "mod_buffer_registered_after_trace", "mod_param_requires_grad_off_with_adam",
            "opt_sgd_momentum_zero_to_nonzero", "opt_params_moved_between_groups", "opt_grad_set_noncontiguous_externally",
            "rs_arg_resized_between_calls", "rs_closure_transposed_in_place", "al7_overlapping_slices_inplace",
            "al7_transpose_alias_written", "ct_dataclass_arg_field_changes", "num_numpy_scalar_types",
            "num_default_argument_list_mutated_between", "gl_closure_cell_modified_via_cell_contents",
            "ex_python_index_error_after_step", "ex_raise_after_inplace_on_arg", "np_two_frombuffer_arrays_one_buffer",
            "ag7_detach_inplace_on_intermediate", "cf_ctx_number_changes_per_call", "clip_norm_inf_grads_some_calls",
            "empty_batch_mid_training", "lay_storage_offset_arg_same_strides", "drop_module_p_attribute_edited",
            "nb_std_correction", "nb_clamp_min_above_max", "nb_int_tensor_times_number",
            "if_int_arg_equals_float_literal", "if_int_arg_at_least_float", "if_int_arg_in_tuple_of_floats",
            "if_max_of_float_and_int_arg", "err_one_hot_class_too_large_on_a_later_call",
            "opth_nadam_float16", "opth_adamax_bfloat16", "optlr_adam_tensor_lr_float64_params", "optlr_nadam_tensor_lr",
            "optlr_adagrad_tensor_lr_decay", "mod_zero_grad_mixed_none_and_zero", "opt_adam_eps_changed", "ct_list_arg_grows",
            "num_bool_then_int_then_float", "gl_global_rebound_to_tensor", "ex_key_error_before_step",
            "ag7_backward_with_inputs_changing", "cf_mark_non_differentiable_output", "dt_float16_float32_float64_per_call",
            "nb_where_scalar_other", "nb_pad_value", "obj_dataclass_tensor_field_changes_dtype_and_shape",
            "opth_nadam_bfloat16"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=() if n in _DEFAULT else pytest.mark.slow) for n in PROGRAMS])
def test_program(name):
    outcome, detail = run_program(name)
    assert outcome in ("same", "refused"), f"{name}: {outcome} ({detail})"
