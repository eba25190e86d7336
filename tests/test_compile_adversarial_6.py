"""Adversarial programs for ``tinytape.compile``, round 6 (same harness as
``test_compile_adversarial``): the library's own settings a function reads through library
calls (deterministic and matmul flags, the thread count, a generator's seed and state),
hooks registered in library-wide tables (global optimizer step hooks, post-accumulate-grad
hooks), calls made inside ``saved_tensors_hooks``, the strides of returned views of
intermediates; and a sample of outputs, data-dependent shapes, mutations, optimizer state
and autograd calls that replay as eager does.  A compiled call must give eager's answer bit
for bit, or run eagerly."""
import numpy as np
import pytest

import tinytape as tt
import tinytape.nn as nn
import tinytape.nn.functional as F
from tinytape.optim.optimizer_hooks import register_optimizer_step_post_hook
from tinytape.utils.checkpoint import checkpoint
from test_compile_adversarial import ProgramSet, T, attempt, batches, layout

PROGRAMS = ProgramSet()
program, run_program = PROGRAMS.register, PROGRAMS.run


# ------------------------------------------------ 1. library settings

@program
def lib_deterministic_flag_branch(C):
    x = T(1, 3, 4)

    def f(x):
        return x * (2.0 if tt.are_deterministic_algorithms_enabled() else 3.0)
    f = C(f)
    for i in range(5):
        tt.use_deterministic_algorithms(i % 2 == 1)
        yield {"out": attempt(f, x)}
    tt.use_deterministic_algorithms(False)


@program
def lib_matmul_precision_branch(C):
    x = T(2, 3, 4)

    def f(x):
        return x * (1.0 if tt.get_float32_matmul_precision() == "highest" else 0.5)
    f = C(f)
    for p in ["highest", "high", "highest", "medium"]:
        tt.set_float32_matmul_precision(p)
        yield {"out": attempt(f, x)}
    tt.set_float32_matmul_precision("highest")


@program
def lib_initial_seed_branch(C):
    x = T(3, 3)

    def f(x):
        return x + tt.initial_seed() % 7
    f = C(f)
    for s in [0, 3, 3, 5]:
        tt.manual_seed(s)
        yield {"out": attempt(f, x)}


@program
def lib_global_optimizer_post_hook_after_trace(C):
    tt.manual_seed(4)
    model = nn.Linear(3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = model(x).pow(2).sum()
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    handle = None
    for i, x in enumerate(batches(4, 5, 4, 3)):
        if i == 2:
            def hook(o, a, k):
                with tt.no_grad():
                    for p in model.parameters():
                        p.mul_(0.5)
            handle = register_optimizer_step_post_hook(hook)
        yield {"out": attempt(step, x), "m": model}
    handle.remove()


@program
def lib_optimizer_pre_hook_after_trace(C):
    tt.manual_seed(5)
    model = nn.Linear(3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = model(x).pow(2).sum()
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    for i, x in enumerate(batches(5, 5, 4, 3)):
        if i == 2:
            def hook(o, a, k):
                with tt.no_grad():
                    for p in model.parameters():
                        p.grad.mul_(3.0)
            opt.register_step_pre_hook(hook)
        yield {"out": attempt(step, x), "m": model}


@program
def lib_saved_tensors_hooks_outside(C):
    w = T(6, 4, requires_grad=True)

    def step(x):
        loss = (x * w).tanh().pow(2).sum()
        loss.backward()
        return loss
    step = C(step)
    for i, x in enumerate(batches(6, 5, 4)):
        w.grad = None
        if i >= 2:
            with tt.autograd.graph.saved_tensors_hooks(lambda t: t * 2, lambda t: t):
                out = attempt(step, x)
        else:
            out = attempt(step, x)
        yield {"out": out, "w": w}


@program
def lib_saved_tensors_hooks_inside_counts(C):
    w = T(7, 4, requires_grad=True)
    packed = []

    def step(x):
        def pack(t):
            packed.append(tuple(t.shape))
            return t
        with tt.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            loss = (x * w).sigmoid().sum()
        loss.backward()
        return loss
    step = C(step)
    for x in batches(7, 4, 4):
        w.grad = None
        yield {"out": attempt(step, x), "w": w, "n": len(packed)}


@program
def lib_grad_fn_register_hook_inside(C):
    w = T(8, 4, requires_grad=True)
    scale = [1.0]

    def step(x):
        h = x * w
        h.grad_fn.register_hook(lambda gi, go: tuple(None if g is None else g * scale[0] for g in gi))
        loss = h.sum()
        loss.backward()
        return loss
    step = C(step)
    for i, x in enumerate(batches(8, 5, 4)):
        w.grad = None
        scale[0] = 1.0 + i
        yield {"out": attempt(step, x), "w": w}


@program
def lib_post_accumulate_grad_hook_after_trace(C):
    w = T(9, 4, requires_grad=True)

    def step(x):
        loss = (x * w).sum()
        loss.backward()
        return loss
    step = C(step)
    for i, x in enumerate(batches(9, 5, 4)):
        w.grad = None
        if i == 2:
            def hook(p):
                p.grad.mul_(2.0)
            w.register_post_accumulate_grad_hook(hook)
        yield {"out": attempt(step, x), "w": w}


@program
def lib_module_full_backward_hook_after_trace(C):
    tt.manual_seed(10)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))

    def step(x):
        model.zero_grad()
        loss = model(x).sum()
        loss.backward()
        return loss
    step = C(step)
    for i, x in enumerate(batches(10, 5, 2, 3)):
        if i == 2:
            model[1].register_full_backward_hook(lambda m, gi, go: (gi[0] * 0.5,))
        yield {"out": attempt(step, x), "m": model}


@program
def lib_parametrize_after_trace(C):
    tt.manual_seed(11)
    lin = nn.Linear(3, 3)

    def f(x):
        return lin(x).sum(1)
    f = C(f)

    class Sym(nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(0, 1)
    for i, x in enumerate(batches(11, 5, 2, 3)):
        if i == 2:
            nn.utils.parametrize.register_parametrization(lin, "weight", Sym())
        yield {"out": attempt(f, x)}


@program
def lib_num_threads_branch(C):
    x = T(12, 4)

    def f(x):
        return x * tt.get_num_threads()
    f = C(f)
    n0 = tt.get_num_threads()
    for n in [1, n0, 1]:
        tt.set_num_threads(n)
        yield {"out": attempt(f, x)}
    tt.set_num_threads(n0)


@program
def lib_rng_state_read_inside(C):
    x = T(13, 4)

    def f(x):
        s = tt.get_rng_state()
        return x + s[:4].float()
    f = C(f)
    for s in [1, 2, 1]:
        tt.manual_seed(s)
        yield {"out": attempt(f, x)}

# ------------------------------------------------ 2. outputs


@program
def out_transposed_result(C):
    w = T(20, 3, 4)

    def f(x):
        return (x @ w).t(), (x @ w).permute(1, 0)[1:], x.t()
    f = C(f)
    for x in batches(20, 4, 2, 3):
        out = attempt(f, x)
        yield {"out": out, "layout": layout(out)}


@program
def out_expanded_result(C):
    def f(x):
        s = x.sum(0, keepdim=True)
        return s.expand(3, -1), x[:1].expand(2, 4), s.unsqueeze(0).expand(2, 1, 4)
    f = C(f)
    for x in batches(21, 4, 3, 4):
        yield {"out": attempt(f, x)}


@program
def out_same_dtype_conversions_identity(C):
    def f(x):
        return x.float(), x.contiguous(), x.to(tt.float32), x.type_as(x), x.to(x), x.view_as(x), x.reshape(x.shape)
    f = C(f)
    for x in batches(22, 3, 3, 4):
        yield {"out": attempt(f, x), "x": x}


@program
def out_detach_and_data_of_arg(C):
    w = T(23, 4, requires_grad=True)

    def f(x):
        return x.detach(), w.data, w.detach()[1:], (x * w).detach()
    f = C(f)
    for x in batches(23, 3, 4):
        out = attempt(f, x)
        yield {"out": out, "w": w}
        out[1].add_(1.0)


@program
def out_version_of_inplace_result(C):
    def f(x):
        y = x * 2
        y.add_(1)
        y.mul_(3)
        z = y.clone()
        z[0] = 5.0
        return y, z
    f = C(f)
    for x in batches(24, 3, 4):
        out = attempt(f, x)
        yield {"out": out, "v": [t._version for t in out]}


@program
def out_noncontiguous_arg_elementwise(C):
    def f(x):
        return x * 2, x + x, x.exp(), x.clone(), x.sum(1)
    f = C(f)
    for i in range(4):
        x = T(25 + i, 4, 3).t()
        yield {"out": attempt(f, x)}


@program
def out_channels_last_like_permute_clone(C):
    def f(x):
        y = x.permute(0, 2, 3, 1)
        return y.clone(), y * 1.0, (y + 1).contiguous(), tt.empty_like(y).copy_(y)
    f = C(f)
    for x in batches(26, 3, 2, 3, 2, 2):
        yield {"out": attempt(f, x)}


@program
def out_requires_grad_under_no_grad_inside(C):
    w = T(27, 4, requires_grad=True)

    def f(x):
        with tt.no_grad():
            a = x * w
        b = x * w
        with tt.enable_grad():
            c = a * w
        return a, b.detach(), c.detach(), a.requires_grad
    f = C(f)
    for x in batches(27, 3, 4):
        yield {"out": attempt(f, x)}


@program
def out_int_bool_results(C):
    def f(x):
        return x.argmax(1), x > 0, (x > 0).sum(), x.long(), x.to(tt.int32) * 3, (x > 0).any(1)
    f = C(f)
    for x in batches(28, 4, 3, 4, scale=3):
        yield {"out": attempt(f, x)}


@program
def out_nested_views_dict(C):
    def f(x):
        y = x * 2
        return {"a": [y, y[0], (y.t(), y[:, 1])], "b": y.view(-1), "c": x[::2]}
    f = C(f)
    for x in batches(29, 3, 4, 3):
        out = attempt(f, x)
        yield {"out": out, "x": x}

# ------------------------------------------------ 3. data-dependent shapes


@program
def dd_nonzero(C):
    def f(x):
        return tt.nonzero(x > 0), x.nonzero(as_tuple=True)[0] * 2
    f = C(f)
    for x in batches(30, 4, 6):
        yield {"out": attempt(f, x)}


@program
def dd_masked_select(C):
    def f(x):
        return tt.masked_select(x, x > 0).sum() + x.masked_select(x < 0).numel()
    f = C(f)
    for x in batches(31, 4, 6):
        yield {"out": attempt(f, x)}


@program
def dd_unique(C):
    def f(x):
        u, c = tt.unique(x, return_counts=True)
        return u, c
    f = C(f)
    for i in range(4):
        x = tt.tensor(np.random.RandomState(32 + i).randint(0, 3 + i, size=8))
        yield {"out": attempt(f, x)}


@program
def dd_bincount(C):
    def f(x):
        return tt.bincount(x)
    f = C(f)
    for i in range(4):
        x = tt.tensor(np.random.RandomState(33 + i).randint(0, 3 + 2 * i, size=8))
        yield {"out": attempt(f, x)}


@program
def dd_repeat_interleave_tensor(C):
    def f(x, r):
        return x.repeat_interleave(r, dim=0)
    f = C(f)
    x = T(34, 3, 2)
    for i in range(4):
        r = tt.tensor(np.random.RandomState(34 + i).randint(0, 3, size=3))
        yield {"out": attempt(f, x, r)}


@program
def dd_argwhere_and_where_single(C):
    def f(x):
        return tt.argwhere(x > 0.5), tt.where(x < 0)[1]
    f = C(f)
    for x in batches(35, 4, 3, 3):
        yield {"out": attempt(f, x)}


@program
def dd_topk_scalar_k(C):
    x = T(36, 8)

    def f(x, k):
        v, i = x.topk(k)
        return v, i
    f = C(f)
    for k in [2, 3, 2, 5]:
        yield {"out": attempt(f, x, k)}


@program
def dd_bool_index_backward(C):
    w = T(37, 6, requires_grad=True)

    def step(x):
        y = (w * x)[x > 0]
        loss = y.sum()
        loss.backward()
        return loss
    step = C(step)
    for x in batches(37, 4, 6):
        w.grad = None
        yield {"out": attempt(step, x), "w": w}

# ------------------------------------------------ 4. mutations


@program
def mu_arg_data_assigned_inside(C):
    def f(x):
        x.data = x.data * 2
        return x + 1
    f = C(f)
    for x in batches(40, 4, 3):
        yield {"out": attempt(f, x), "x": x}


@program
def mu_arg_grad_assigned_inside(C):
    g = T(41, 3)

    def f(x):
        x.grad = g * 2
        return x * 3
    f = C(f)
    for x in batches(41, 4, 3):
        x.requires_grad_(True)
        yield {"out": attempt(f, x), "x": x}


@program
def mu_param_requires_grad_toggled_inside(C):
    w = T(42, 4, requires_grad=True)
    v = T(43, 4, requires_grad=True)

    def step(x):
        v.requires_grad_(False)
        loss = (x * w * v).sum()
        loss.backward()
        v.requires_grad_(True)
        return loss
    step = C(step)
    for x in batches(42, 4, 4):
        w.grad = None
        yield {"out": attempt(step, x), "w": w, "v": v}


@program
def mu_out_kwarg_into_param_data(C):
    p = T(44, 4, requires_grad=True)

    def f(a, b):
        tt.add(a, b, out=p.data)
        return p * 2
    f = C(f)
    for a, b in zip(batches(44, 4, 4), batches(45, 4, 4)):
        yield {"out": attempt(f, a, b), "p": p}


@program
def mu_index_ops_into_arg(C):
    idx = tt.tensor([0, 2, 2])

    def f(x, s):
        x.index_add_(0, idx, s)
        x.index_fill_(1, tt.tensor([1]), -1.0)
        return x.sum()
    f = C(f)
    for x, s in zip(batches(46, 4, 4, 3), batches(47, 4, 3, 3)):
        yield {"out": attempt(f, x, s), "x": x}


@program
def mu_scatter_reduce_and_put(C):
    idx = tt.tensor([[0, 1, 0], [1, 1, 0]])

    def f(x, s):
        x.scatter_reduce_(1, idx, s, reduce="amax")
        x.put_(tt.tensor([0, 5]), tt.tensor([9.0, -9.0]), accumulate=True)
        return x * 1
    f = C(f)
    for x, s in zip(batches(48, 4, 2, 3), batches(49, 4, 2, 3)):
        yield {"out": attempt(f, x, s), "x": x}


@program
def mu_masked_scatter_into_arg(C):
    def f(x, m, src):
        x.masked_scatter_(m, src)
        return x.sum(0)
    f = C(f)
    for i, (x, src) in enumerate(zip(batches(50, 4, 3, 3), batches(51, 4, 9))):
        m = tt.tensor(np.random.RandomState(50 + i).rand(3, 3) > 0.5)
        yield {"out": attempt(f, x, m, src), "x": x}


@program
def mu_numpy_view_of_param_changes(C):
    w = T(52, 4, requires_grad=True)
    view = w.detach().numpy()

    def f(x):
        return (x * w).sum()
    f = C(f)
    for i, x in enumerate(batches(52, 5, 4)):
        view[i % 4] = float(i)
        yield {"out": attempt(f, x)}


@program
def mu_lerp_ema_weight_arg(C):
    ema = T(53, 4)

    def f(x, a):
        ema.lerp_(x, a)
        return ema * 1
    f = C(f)
    for i, x in enumerate(batches(53, 5, 4)):
        yield {"out": attempt(f, x, 0.1 * (i + 1)), "ema": ema}


@program
def mu_addcmul_addcdiv_on_arg(C):
    def f(x, a, b, v):
        x.addcmul_(a, b, value=v)
        x.addcdiv_(a, b.abs() + 1, value=-v)
        return x
    f = C(f)
    for i, (x, a, b) in enumerate(zip(batches(54, 4, 4), batches(55, 4, 4), batches(56, 4, 4))):
        yield {"out": attempt(f, x, a, b, 0.5 + i), "x": x}


@program
def mu_unsqueeze_view_inplace_arg(C):
    def f(x):
        v = x.unsqueeze(0)
        v.mul_(2)
        return v.squeeze(0) + 1
    f = C(f)
    for x in batches(57, 4, 3, 2):
        yield {"out": attempt(f, x), "x": x}


@program
def mu_grad_zero_inplace_inside(C):
    w = T(58, 4, requires_grad=True)

    def step(x):
        if w.grad is not None:
            w.grad.zero_()
        loss = (x * w).pow(2).sum()
        loss.backward()
        return loss
    step = C(step)
    for i, x in enumerate(batches(58, 5, 4)):
        if i == 3:
            w.grad = None
        yield {"out": attempt(step, x), "w": w}


@program
def mu_transpose_inplace_arg(C):
    def f(x):
        x.t_()
        return x * 2
    f = C(f)
    for x in batches(59, 4, 3, 2):
        yield {"out": attempt(f, x), "x": x, "shape": tuple(x.shape)}


@program
def mu_squeeze_unsqueeze_inplace_arg(C):
    def f(x):
        x.unsqueeze_(0)
        y = x * 2
        x.squeeze_(0)
        return y
    f = C(f)
    for x in batches(60, 4, 3, 2):
        yield {"out": attempt(f, x), "x": x, "shape": tuple(x.shape)}


@program
def mu_as_strided_view_write(C):
    def f(x):
        v = x.as_strided((2, 2), (1, 2), 1)
        v.add_(10)
        return v * 1
    f = C(f)
    for x in batches(61, 4, 8):
        yield {"out": attempt(f, x), "x": x}

# ------------------------------------------------ 5. module and optimizer state


@program
def st_batchnorm_momentum_none(C):
    tt.manual_seed(70)
    bn = nn.BatchNorm1d(3, momentum=None)

    def f(x):
        return bn(x).sum(0)
    f = C(f)
    for x in batches(70, 5, 4, 3):
        yield {"out": attempt(f, x), "bn": bn, "n": bn.num_batches_tracked}


@program
def st_batchnorm_track_stats_toggled(C):
    tt.manual_seed(71)
    bn = nn.BatchNorm1d(3)

    def f(x):
        return bn(x).sum(0)
    f = C(f)
    for i, x in enumerate(batches(71, 6, 4, 3)):
        if i == 2:
            bn.eval()
        if i == 4:
            bn.track_running_stats = False
        yield {"out": attempt(f, x), "bn": bn}


@program
def st_modulelist_entry_swapped(C):
    tt.manual_seed(72)
    layers = nn.ModuleList([nn.Linear(3, 3), nn.Linear(3, 3)])
    spare = nn.Linear(3, 3)

    def f(x):
        for l in layers:
            x = l(x).tanh()
        return x
    f = C(f)
    for i, x in enumerate(batches(72, 5, 2, 3)):
        if i == 2:
            layers[1] = spare
        yield {"out": attempt(f, x)}


@program
def st_optimizer_maximize_toggled(C):
    tt.manual_seed(73)
    model = nn.Linear(3, 1)
    opt = tt.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)

    def step(x):
        opt.zero_grad()
        loss = model(x).pow(2).mean()
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    for i, x in enumerate(batches(73, 6, 4, 3)):
        if i == 3:
            opt.param_groups[0]["maximize"] = True
        yield {"out": attempt(step, x), "m": model, "opt": opt}


@program
def st_adam_betas_and_amsgrad_changed(C):
    tt.manual_seed(74)
    model = nn.Linear(3, 1)
    opt = tt.optim.Adam(model.parameters(), lr=0.01)

    def step(x):
        opt.zero_grad()
        loss = model(x).pow(2).mean()
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    for i, x in enumerate(batches(74, 6, 4, 3)):
        if i == 2:
            opt.param_groups[0]["betas"] = (0.8, 0.99)
        yield {"out": attempt(step, x), "m": model, "opt": opt}


@program
def st_sgd_dampening_nesterov_changed(C):
    tt.manual_seed(75)
    model = nn.Linear(3, 1)
    opt = tt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def step(x):
        opt.zero_grad()
        loss = model(x).pow(2).mean()
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    for i, x in enumerate(batches(75, 6, 4, 3)):
        if i == 2:
            opt.param_groups[0]["dampening"] = 0.5
        if i == 4:
            opt.param_groups[0]["dampening"] = 0.0
            opt.param_groups[0]["nesterov"] = True
        yield {"out": attempt(step, x), "m": model, "opt": opt}


@program
def st_lr_tensor_in_group(C):
    tt.manual_seed(76)
    model = nn.Linear(3, 1)
    lr = tt.tensor(0.1)
    opt = tt.optim.SGD(model.parameters(), lr=lr)

    def step(x):
        opt.zero_grad()
        loss = model(x).pow(2).mean()
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    for i, x in enumerate(batches(76, 6, 4, 3)):
        if i >= 2:
            lr.fill_(0.01 * i)
        yield {"out": attempt(step, x), "m": model}


@program
def st_embedding_max_norm_renorm(C):
    tt.manual_seed(77)
    emb = nn.Embedding(6, 3, max_norm=1.0)

    def f(i):
        return emb(i).sum(0)
    f = C(f)
    for k in range(5):
        i = tt.tensor(np.random.RandomState(77 + k).randint(0, 6, size=4))
        yield {"out": attempt(f, i), "emb": emb}


@program
def st_lstm_module_step(C):
    tt.manual_seed(78)
    lstm = nn.LSTM(3, 4, batch_first=True)
    opt = tt.optim.SGD(lstm.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        out, (h, c) = lstm(x)
        loss = out.pow(2).mean() + h.sum()
        loss.backward()
        opt.step()
        return loss, c
    step = C(step)
    for x in batches(78, 4, 2, 3, 3):
        yield {"out": attempt(step, x), "m": lstm}


@program
def st_forward_hook_with_kwargs_global_scale(C):
    tt.manual_seed(79)
    lin = nn.Linear(3, 3)
    cfg = {"s": 1.0}
    lin.register_forward_hook(lambda m, args, kwargs, out: out * cfg["s"], with_kwargs=True)

    def f(x):
        return lin(x).sum(1)
    f = C(f)
    for i, x in enumerate(batches(79, 5, 2, 3)):
        cfg["s"] = float(i % 2 + 1)
        yield {"out": attempt(f, x)}


@program
def st_default_dtype_changed_list_tensor(C):
    coefs = [1.5, 2.5]

    def f(x):
        c = tt.tensor(coefs)
        return x[:2] * c, c.dtype
    f = C(f)
    for i, x in enumerate(batches(80, 4, 3, dtype=np.float64)):
        tt.set_default_dtype(tt.float64 if i % 2 else tt.float32)
        yield {"out": attempt(f, x)}
    tt.set_default_dtype(tt.float32)


@program
def st_clip_grad_norm_nonfinite(C):
    w = T(81, 4, requires_grad=True)

    def step(x):
        w.grad = None
        loss = (x * w).sum()
        loss.backward()
        n = nn.utils.clip_grad_norm_([w], 1.0)
        return loss, n
    step = C(step)
    xs = batches(81, 5, 4)
    xs[3] = tt.tensor(np.array([np.inf, 1, 2, 3], np.float32))
    for x in xs:
        yield {"out": attempt(step, x), "w": w}


@program
def st_grad_scaler_step(C):
    tt.manual_seed(82)
    model = nn.Linear(3, 1)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)
    scaler = tt.amp.GradScaler("cpu", init_scale=4.0, growth_interval=2)

    def step(x):
        opt.zero_grad()
        loss = model(x).pow(2).mean()
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        return loss
    step = C(step)
    xs = batches(82, 6, 4, 3)
    xs[3] = xs[3] * float("inf")
    for x in xs:
        yield {"out": attempt(step, x), "m": model, "scale": scaler.get_scale()}

# ------------------------------------------------ 6. autograd


@program
def ag_hvp_create_graph(C):
    w = T(90, 4, requires_grad=True)

    def f(x, v):
        loss = (x * w).tanh().pow(2).sum()
        g, = tt.autograd.grad(loss, w, create_graph=True)
        hv, = tt.autograd.grad((g * v).sum(), w)
        return loss.detach(), hv
    f = C(f)
    for x, v in zip(batches(90, 4, 4), batches(91, 4, 4)):
        yield {"out": attempt(f, x, v), "w": w}


@program
def ag_backward_gradient_argument(C):
    w = T(92, 3, requires_grad=True)

    def step(x, g):
        y = x * w
        y.backward(gradient=g)
        return y.detach()
    step = C(step)
    for x, g in zip(batches(92, 4, 3), batches(93, 4, 3)):
        w.grad = None
        yield {"out": attempt(step, x, g), "w": w}


@program
def ag_backward_inputs_subset(C):
    w = T(94, 3, requires_grad=True)
    v = T(95, 3, requires_grad=True)

    def step(x):
        loss = (x * w * v).sum()
        loss.backward(inputs=[w])
        return loss
    step = C(step)
    for x in batches(94, 4, 3):
        yield {"out": attempt(step, x), "w": w, "v": v}


@program
def ag_retain_grad_on_arg_view(C):
    def step(x):
        h = x[1:] * 2
        h.retain_grad()
        loss = h.pow(2).sum()
        loss.backward()
        return h.grad, x.grad
    step = C(step)
    for x in batches(96, 4, 4):
        x.requires_grad_(True)
        yield {"out": attempt(step, x), "x": x}


@program
def ag_allow_unused_grad(C):
    w = T(97, 3, requires_grad=True)
    u = T(98, 3, requires_grad=True)

    def f(x):
        loss = (x * w).sum()
        gw, gu = tt.autograd.grad(loss, [w, u], allow_unused=True, materialize_grads=False)
        return gw, gu
    f = C(f)
    for x in batches(97, 4, 3):
        yield {"out": attempt(f, x)}


@program
def ag_grad_accum_two_losses_retain(C):
    w = T(99, 3, requires_grad=True)

    def step(x):
        h = (x * w).exp()
        a = h.sum()
        b = (h * h).sum()
        a.backward(retain_graph=True)
        g1 = w.grad.clone()
        b.backward()
        return g1, w.grad * 1
    step = C(step)
    for x in batches(99, 4, 3):
        w.grad = None
        yield {"out": attempt(step, x), "w": w}

# ------------------------------------------------ 7. reentrance


@program
def re_recursive_compiled(C):
    def f(x, n):
        if n == 0:
            return x
        return f(x * 2, n - 1) + 1
    f = C(f)
    for n, x in zip([2, 2, 3, 2], batches(100, 4, 3)):
        yield {"out": attempt(f, x, n)}


@program
def re_compiled_in_hook(C):
    w = T(101, 3, requires_grad=True)

    def scale(g):
        return g * 2
    scale = C(scale)

    def step(x):
        h = x * w
        h.register_hook(lambda g: scale(g))
        loss = h.sum()
        loss.backward()
        return loss
    step = C(step)
    for x in batches(101, 4, 3):
        w.grad = None
        yield {"out": attempt(step, x), "w": w}


@program
def re_compiled_called_from_compiled_module(C):
    tt.manual_seed(102)

    def act(h):
        return h.tanh() * 2
    act = C(act)

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.l = nn.Linear(3, 3)

        def forward(self, x):
            return act(self.l(x))
    m = C(M())
    for x in batches(102, 4, 2, 3):
        yield {"out": attempt(m, x), "direct": attempt(act, x)}


@program
def re_exception_then_state(C):
    w = T(103, 3, requires_grad=True)

    def step(x, fail):
        loss = (x * w).sum()
        loss.backward()
        if fail:
            raise ValueError("bad")
        return loss
    step = C(step)
    for i, x in enumerate(batches(103, 5, 3)):
        yield {"out": attempt(step, x, i == 3), "w": w}

# ------------------------------------------------ more of the classes above


@program
def lib_global_optimizer_hook_reads_a_global(C):
    tt.manual_seed(110)
    model = nn.Linear(3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)
    cfg = {"shrink": 1.0}

    def hook(o, a, k):
        with tt.no_grad():
            for p in model.parameters():
                p.mul_(cfg["shrink"])
    handle = register_optimizer_step_post_hook(hook)

    def step(x):
        opt.zero_grad()
        loss = model(x).pow(2).sum()
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    try:
        for i, x in enumerate(batches(110, 5, 4, 3)):
            if i == 2:
                cfg["shrink"] = 0.5
            yield {"out": attempt(step, x), "m": model}
    finally:
        handle.remove()


@program
def lib_global_optimizer_hook_removed_after_trace(C):
    tt.manual_seed(111)
    model = nn.Linear(3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)

    def hook(o, a, k):
        with tt.no_grad():
            for p in model.parameters():
                p.mul_(0.5)
    handle = register_optimizer_step_post_hook(hook)

    def step(x):
        opt.zero_grad()
        loss = model(x).pow(2).sum()
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    try:
        for i, x in enumerate(batches(111, 5, 4, 3)):
            if i == 2:
                handle.remove()
            yield {"out": attempt(step, x), "m": model}
    finally:
        handle.remove()


@program
def lib_post_accumulate_grad_hook_removed_after_trace(C):
    w = T(112, 4, requires_grad=True)
    handle = w.register_post_accumulate_grad_hook(lambda p: p.grad.mul_(2.0))

    def step(x):
        loss = (x * w).sum()
        loss.backward()
        return loss
    step = C(step)
    for i, x in enumerate(batches(112, 5, 4)):
        w.grad = None
        if i == 2:
            handle.remove()
        yield {"out": attempt(step, x), "w": w}


@program
def lib_saved_tensors_hooks_outside_from_the_first_call(C):
    w = T(113, 4, requires_grad=True)

    def step(x):
        loss = (x * w).exp().sum()
        loss.backward()
        return loss
    step = C(step)
    for i, x in enumerate(batches(113, 5, 4)):
        w.grad = None
        if i % 2 == 0:
            with tt.autograd.graph.saved_tensors_hooks(lambda t: t + 1, lambda t: t):
                out = attempt(step, x)
        else:
            out = attempt(step, x)
        yield {"out": out, "w": w}


@program
def out_unbind_and_chunk_views_of_an_intermediate(C):
    w = T(114, 6, 4)

    def f(x):
        c = (x * w).cumsum(0)
        return c.unbind(1), c.chunk(2, dim=1), c.split([2, 4])[1].t()
    f = C(f)
    for i in range(4):
        out = attempt(f, T(115 + i, 6, 4))
        yield {"out": out, "layout": layout(out)}


@program
def out_diagonal_and_strided_slices_of_an_intermediate(C):
    def f(x):
        y = x @ x.t()
        return y.diagonal(), y[::2, 1::2], y[:, 0], y.t()[1]
    f = C(f)
    for x in batches(116, 4, 4, 3):
        out = attempt(f, x)
        yield {"out": out, "layout": layout(out)}


@program
def out_flipped_and_expanded_views_of_an_intermediate(C):
    def f(x):
        y = x.exp()
        return y.flip(0), y.sum(0, keepdim=True).expand(3, 4), y.unsqueeze(1).expand(3, 2, 4)
    f = C(f)
    for x in batches(117, 4, 3, 4):
        out = attempt(f, x)
        yield {"out": out, "layout": layout(out)}


# ------------------------------------------------ 8. argument kinds, library classes, mirrors


@program
def inf_inference_tensor_arg_saved(C):
    w = T(200, 4, requires_grad=True)

    def step(x):
        loss = (x * w).sigmoid().sum()
        loss.backward()
        return loss
    step = C(step)
    for i, x in enumerate(batches(200, 5, 4)):
        w.grad = None
        if i >= 2:
            with tt.inference_mode():
                x = x.clone()
        yield {"out": attempt(step, x), "w": w}


@program
def inf_inference_tensor_arg_inplace(C):
    def f(x):
        x.add_(1)
        return x * 2
    f = C(f)
    for i, x in enumerate(batches(201, 5, 4)):
        if i >= 2:
            with tt.inference_mode():
                x = x.clone()
        yield {"out": attempt(f, x)}


@program
def dist_validate_args_switched(C):
    def f(loc, scale, v):
        d = tt.distributions.Normal(loc, scale)
        return d.log_prob(v)
    f = C(f)
    tt.distributions.Distribution.set_default_validate_args(False)
    try:
        for i in range(5):
            if i == 2:
                tt.distributions.Distribution.set_default_validate_args(True)
            loc, v = T(202 + i, 3), T(210 + i, 3)
            scale = T(220 + i, 3).abs() * (-1 if i >= 2 else 1)
            yield {"out": attempt(f, loc, scale, v)}
    finally:
        tt.distributions.Distribution.set_default_validate_args(True)


@program
def cls_tensor_method_added_and_replaced(C):
    tt.Tensor.adv6_scale = lambda self: self * 2

    def f(x):
        return x.adv6_scale() + 1
    f = C(f)
    try:
        for i, x in enumerate(batches(203, 4, 3)):
            if i == 2:
                tt.Tensor.adv6_scale = lambda self: self * 3
            yield {"out": attempt(f, x)}
    finally:
        del tt.Tensor.adv6_scale


@program
def cls_tensor_method_monkeypatched(C):
    orig = tt.Tensor.tanh

    def f(x):
        return x.tanh() * 2
    f = C(f)
    try:
        for i, x in enumerate(batches(204, 4, 3)):
            if i == 2:
                tt.Tensor.tanh = lambda self: orig(self) + 1
            yield {"out": attempt(f, x)}
    finally:
        tt.Tensor.tanh = orig


@program
def fwad_dual_inside(C):
    import tinytape.autograd.forward_ad as fwAD

    def f(x, t):
        with fwAD.dual_level():
            d = fwAD.make_dual(x, t)
            y = (d * d).sin()
            p, tan = fwAD.unpack_dual(y)
        return p, tan
    f = C(f)
    for x, t in zip(batches(205, 4, 3), batches(206, 4, 3)):
        yield {"out": attempt(f, x, t)}


@program
def cf_materialize_grads_and_mark_dirty(C):
    class Double(tt.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return None if g is None else g * 2
    w = T(207, 3, requires_grad=True)

    def step(x):
        h = x * w
        y = Double.apply(h)
        loss = y.sum()
        loss.backward()
        return loss
    step = C(step)
    for x in batches(207, 4, 3):
        w.grad = None
        yield {"out": attempt(step, x), "w": w}


@program
def opt_foreach_toggled(C):
    tt.manual_seed(208)
    model = nn.Linear(3, 2)
    opt = tt.optim.Adam(model.parameters(), lr=0.01, foreach=False)

    def step(x):
        opt.zero_grad()
        loss = model(x).pow(2).mean()
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    for i, x in enumerate(batches(208, 5, 4, 3)):
        if i == 2:
            opt.param_groups[0]["foreach"] = True
        yield {"out": attempt(step, x), "m": model, "opt": opt}


@program
def grad_noncontiguous_on_param_between_calls(C):
    w = T(209, 3, 4, requires_grad=True)

    def step(x):
        loss = (x @ w).pow(2).sum()
        loss.backward()
        with tt.no_grad():
            w.sub_(0.01 * w.grad)
        return loss
    step = C(step)
    for i, x in enumerate(batches(209, 5, 2, 3)):
        if i == 2:
            w.grad = T(230, 4, 3).t()
        elif i == 3:
            w.grad = None
        yield {"out": attempt(step, x), "w": w}


@program
def dsh_disabled_saved_hooks_outside(C):
    w = T(211, 3, requires_grad=True)

    def step(x):
        with tt.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            loss = (x * w).exp().sum()
        loss.backward()
        return loss
    step = C(step)
    for i, x in enumerate(batches(211, 4, 3)):
        w.grad = None
        if i >= 2:
            with tt.autograd.graph.disable_saved_tensors_hooks("no hooks here"):
                out = attempt(step, x)
        else:
            out = attempt(step, x)
        yield {"out": out, "w": w}


@program
def mir_conj_view_of_arg_written_inside(C):
    def f(x):
        x.mul_(2)
        return x.real * 1
    f = C(f)
    for i in range(4):
        x = tt.tensor((np.random.RandomState(212 + i).randn(3) + 1j * np.random.RandomState(213 + i).randn(3)).astype(np.complex64))
        xc = x.conj()
        out = attempt(f, x)
        yield {"out": out, "xc": xc.real * 1, "xci": xc.imag * 1}


@program
def mir_neg_view_of_param_written_inside(C):
    w = T(214, 4)
    wn = w._neg_view()

    def f(x):
        w.add_(x)
        return w * 1
    f = C(f)
    for x in batches(214, 4, 4):
        yield {"out": attempt(f, x), "wn": wn * 1}


@program
def mir_conj_view_arg(C):
    def f(x):
        return x * 2
    f = C(f)
    for i in range(4):
        x = tt.tensor((np.random.RandomState(215 + i).randn(3) + 1j).astype(np.complex64))
        if i >= 2:
            x = x.conj()
        yield {"out": attempt(f, x)}


@program
def mir_neg_view_arg_inplace(C):
    def f(x):
        x.add_(1)
        return x * 2
    f = C(f)
    for i, x in enumerate(batches(216, 4, 3)):
        base = x
        if i >= 2:
            x = x._neg_view()
        yield {"out": attempt(f, x), "base": base}


@program
def ck_checkpoint_inside(C):
    tt.manual_seed(240)
    lin = nn.Linear(3, 3)

    def step(x):
        lin.zero_grad()
        y = checkpoint(lambda h: lin(h).tanh(), x, use_reentrant=False)
        loss = y.sum()
        loss.backward()
        return loss
    step = C(step)
    for x in batches(240, 4, 2, 3):
        yield {"out": attempt(step, x), "m": lin}


@program
def ck_fork_rng_inside_without_draws(C):
    w = T(241, 4, requires_grad=True)

    def step(x):
        with tt.random.fork_rng():
            tt.manual_seed(7)
            loss = (x * w).tanh().sum()
        loss.backward()
        return loss
    step = C(step)
    tt.manual_seed(1)
    for x in batches(241, 4, 4):
        w.grad = None
        yield {"out": attempt(step, x), "w": w, "after": tt.rand(2)}


# ------------------------------------------------ 9. tensor bookkeeping reads, settings left changed


@program
def meta_parameter_vs_tensor_arg(C):
    def f(x):
        return x * (2.0 if isinstance(x, nn.Parameter) else 3.0)
    f = C(f)
    for i, x in enumerate(batches(300, 4, 3)):
        if i % 2:
            x = nn.Parameter(x, requires_grad=False)
        yield {"out": attempt(f, x)}


@program
def meta_version_read(C):
    def f(x):
        return x * x._version
    f = C(f)
    x = T(301, 3)
    for i in range(4):
        x.add_(1)
        yield {"out": attempt(f, x)}


@program
def meta_storage_offset_read(C):
    base = T(302, 10)

    def f(x):
        return x * x.storage_offset()
    f = C(f)
    for i in range(4):
        yield {"out": attempt(f, base[i:i + 3])}


@program
def meta_base_is_none_read(C):
    def f(x):
        return x * (1.0 if x._base is None else 2.0)
    f = C(f)
    for i, x in enumerate(batches(303, 4, 3)):
        if i % 2:
            x = x.view(3)
        yield {"out": attempt(f, x)}


@program
def meta_grad_fn_name_under_no_grad(C):
    w = T(304, 3, requires_grad=True)

    def f(h):
        return h * (2.0 if type(h.grad_fn).__name__ == "MulBackward0" else 3.0)
    f = C(f)
    for i in range(4):
        h = w * 2 if i % 2 == 0 else w + 2
        with tt.no_grad():
            out = attempt(f, h)
        yield {"out": out}


@program
def set_default_dtype_left_inside(C):
    def f(x):
        tt.set_default_dtype(tt.float64)
        return x * 2
    f = C(f)
    try:
        for x in batches(305, 4, 3):
            tt.set_default_dtype(tt.float32)
            out = attempt(f, x)
            yield {"out": out, "dt": str(tt.get_default_dtype()), "made": tt.tensor([1.5])}
    finally:
        tt.set_default_dtype(tt.float32)


@program
def set_deterministic_left_inside(C):
    def f(x):
        tt.use_deterministic_algorithms(True)
        return x * 2
    f = C(f)
    try:
        for x in batches(306, 4, 3):
            tt.use_deterministic_algorithms(False)
            yield {"out": attempt(f, x), "flag": tt.are_deterministic_algorithms_enabled()}
    finally:
        tt.use_deterministic_algorithms(False)


@program
def set_anomaly_left_inside(C):
    def f(x):
        tt.autograd.set_detect_anomaly(True)
        return x * 2
    f = C(f)
    try:
        for x in batches(307, 4, 3):
            tt.autograd.set_detect_anomaly(False)
            yield {"out": attempt(f, x), "flag": tt.autograd.anomaly.is_anomaly_enabled()}
    finally:
        tt.autograd.set_detect_anomaly(False)


@program
def set_validate_args_left_inside(C):
    def f(x):
        tt.distributions.Distribution.set_default_validate_args(False)
        return x * 2
    f = C(f)
    try:
        for x in batches(308, 4, 3):
            tt.distributions.Distribution.set_default_validate_args(True)
            yield {"out": attempt(f, x), "flag": tt.distributions.Distribution._validate_args}
    finally:
        tt.distributions.Distribution.set_default_validate_args(True)


@program
def global_opt_hook_registered_inside(C):
    from tinytape.optim.optimizer_hooks import _global_optimizer_post_hooks, register_optimizer_step_post_hook
    handles = []

    def f(x):
        handles.append(register_optimizer_step_post_hook(lambda o, a, k: None))
        return x * 2
    f = C(f)
    try:
        for x in batches(309, 4, 3):
            yield {"out": attempt(f, x), "n": len(_global_optimizer_post_hooks)}
    finally:
        for h in handles:
            h.remove()


@program
def module_hook_registered_and_removed_inside(C):
    tt.manual_seed(310)
    lin = nn.Linear(3, 3)

    def f(x):
        h = lin.register_forward_hook(lambda m, a, o: o * 2)
        y = lin(x).detach()
        h.remove()
        return y
    f = C(f)
    for x in batches(310, 4, 2, 3):
        yield {"out": attempt(f, x)}


@program
def matmul_precision_set_inside(C):
    def f(x):
        tt.set_float32_matmul_precision("high")
        return x @ x.t()
    f = C(f)
    try:
        for x in batches(311, 4, 2, 3):
            tt.set_float32_matmul_precision("highest")
            yield {"out": attempt(f, x), "p": tt.get_float32_matmul_precision()}
    finally:
        tt.set_float32_matmul_precision("highest")


# ------------------------------------------------ 10. hooks and storage changed on arguments inside


@program
def gen_compiled_generator_function(C):
    def f(x):
        yield x * 2
        yield x + 1
    f = C(f)
    for x in batches(400, 4, 3):
        g = attempt(f, x)
        yield {"out": list(g) if not hasattr(g, "type") else g}


@program
def hook_registered_inside_on_argument(C):
    def f(x):
        x.register_hook(lambda g: g * 2)
        loss = (x * x).sum()
        loss.backward()
        return loss.detach()
    f = C(f)
    for x in batches(401, 4, 3):
        x.requires_grad_(True)
        out = attempt(f, x)
        x.grad = None
        (x * 3).sum().backward()
        yield {"out": out, "x": x, "nhooks": len(x._hooks or ())}


@program
def hook_registered_inside_on_argument_no_backward(C):
    def f(x):
        x.register_hook(lambda g: g * 5)
        return x.detach() * 2
    f = C(f)
    for x in batches(402, 4, 3):
        x.requires_grad_(True)
        out = attempt(f, x)
        (x * 3).sum().backward()
        yield {"out": out, "x": x}


@program
def resize_argument_inside(C):
    def f(x):
        x.resize_(2, 2)
        return x * 2
    f = C(f)
    for x in batches(403, 4, 6):
        yield {"out": attempt(f, x), "x": x, "shape": tuple(x.shape)}


@program
def detach_inplace_argument_inside(C):
    def f(x):
        y = (x * 2).sum()
        x.detach_()
        return y.detach()
    f = C(f)
    for x in batches(404, 4, 3):
        x.requires_grad_(True)
        yield {"out": attempt(f, x), "x": x}


@program
def retain_grad_inside_on_leaf_arg_then_outside(C):
    def f(x):
        h = x * 2
        h.retain_grad()
        s = h.sum()
        s.backward()
        return h.grad
    f = C(f)
    for x in batches(405, 4, 3):
        x.requires_grad_(True)
        yield {"out": attempt(f, x), "x": x}


@program
def post_accumulate_hook_registered_inside(C):
    w = T(406, 3, requires_grad=True)
    handles = []

    def step(x):
        handles.append(w.register_post_accumulate_grad_hook(lambda p: p.grad.mul_(2)))
        loss = (x * w).sum()
        loss.backward()
        return loss
    step = C(step)
    try:
        for x in batches(406, 4, 3):
            w.grad = None
            yield {"out": attempt(step, x), "w": w}
    finally:
        for h in handles:
            h.remove()


@program
def module_hook_registered_inside_never_removed(C):
    tt.manual_seed(407)
    lin = nn.Linear(3, 3)

    def f(x):
        lin.register_forward_hook(lambda m, a, o: o * 2)
        return lin(x).detach()
    f = C(f)
    for x in batches(407, 4, 2, 3):
        yield {"out": attempt(f, x), "n": len(lin._forward_hooks)}


@program
def swap_tensors_inside(C):
    a = T(408, 3)
    b = T(409, 3)

    def f(x):
        tt.utils.swap_tensors(a, b)
        return a * x
    f = C(f)
    for x in batches(408, 4, 3):
        yield {"out": attempt(f, x), "a": a, "b": b}


@program
def grad_of_arg_set_to_other_arg(C):
    def f(x, g):
        x.grad = g
        return x * 1
    f = C(f)
    for x, g in zip(batches(410, 4, 3), batches(411, 4, 3)):
        x.requires_grad_(True)
        out = attempt(f, x, g)
        g.add_(1)
        yield {"out": out, "x": x, "same": x.grad is g}


# ------------------------------------------------ 11. the class of a tensor argument


@program
def meta_parameter_position_swapped(C):
    def f(a, b):
        return a * (2.0 if isinstance(b, nn.Parameter) else 3.0) + b
    f = C(f)
    for i, (a, b) in enumerate(zip(batches(500, 4, 3), batches(501, 4, 3))):
        if i % 2:
            b = nn.Parameter(b, requires_grad=False)
        else:
            a = nn.Parameter(a, requires_grad=False)
        yield {"out": attempt(f, a, b)}


@program
def meta_parameter_in_list_arg(C):
    def f(xs):
        return [x * (2.0 if type(x) is tt.Tensor else 3.0) for x in xs]
    f = C(f)
    for i, (a, b) in enumerate(zip(batches(502, 4, 3), batches(503, 4, 3))):
        if i % 2:
            b = nn.Parameter(b, requires_grad=False)
        else:
            a = nn.Parameter(a, requires_grad=False)
        yield {"out": attempt(f, [a, b])}


# ------------------------------------------------ 12. models that replay as eager does


@program
def mdl_conv_bn_pool_train_eval(C):
    tt.manual_seed(600)
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(12, 2))
    opt = tt.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    for i, x in enumerate(batches(600, 5, 2, 2, 4, 4)):
        if i == 3:
            model.eval()
        y = tt.tensor(np.array([i % 2, (i + 1) % 2]))
        yield {"out": attempt(step, x, y), "m": model, "opt": opt}


@program
def mdl_gru_step(C):
    tt.manual_seed(601)
    gru = nn.GRU(3, 4, batch_first=True)
    head = nn.Linear(4, 1)
    opt = tt.optim.Adam(list(gru.parameters()) + list(head.parameters()), lr=0.01)

    def step(x):
        opt.zero_grad()
        out, h = gru(x)
        loss = head(out[:, -1]).pow(2).mean()
        loss.backward()
        opt.step()
        return loss, h.detach()
    step = C(step)
    for x in batches(601, 4, 2, 3, 3):
        yield {"out": attempt(step, x), "g": gru, "h": head}


@program
def mdl_multihead_attention_weights(C):
    tt.manual_seed(602)
    mha = nn.MultiheadAttention(4, 2, batch_first=True)

    def f(q, k):
        with tt.no_grad():
            out, w = mha(q, k, k, need_weights=True)
            out2, w2 = mha(q, k, k, need_weights=False)
        return out, w, out2, w2
    f = C(f)
    for q, k in zip(batches(602, 4, 1, 3, 4), batches(603, 4, 1, 5, 4)):
        yield {"out": attempt(f, q, k)}


@program
def mdl_functional_call_params_dict(C):
    tt.manual_seed(604)
    lin = nn.Linear(3, 2)
    params = {k: v.detach().clone() for k, v in lin.named_parameters()}

    def f(x):
        return tt.func.functional_call(lin, params, (x,))
    f = C(f)
    for i, x in enumerate(batches(604, 4, 2, 3)):
        if i == 2:
            params["weight"].mul_(2)
        yield {"out": attempt(f, x)}


@program
def mdl_embedding_padding_idx_sgd(C):
    tt.manual_seed(605)
    emb = nn.Embedding(5, 3, padding_idx=0)
    opt = tt.optim.SGD(emb.parameters(), lr=0.5)

    def step(i):
        opt.zero_grad()
        loss = emb(i).pow(2).sum()
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    for k in range(4):
        i = tt.tensor(np.random.RandomState(605 + k).randint(0, 5, size=(2, 3)))
        yield {"out": attempt(step, i), "e": emb}


# --------------------------------------------------------------------------- pytest

_DEFAULT = {"lib_deterministic_flag_branch", "lib_matmul_precision_branch", "lib_initial_seed_branch",
            "lib_global_optimizer_post_hook_after_trace", "lib_saved_tensors_hooks_outside",
            "lib_post_accumulate_grad_hook_after_trace", "lib_num_threads_branch", "lib_rng_state_read_inside",
            "lib_global_optimizer_hook_reads_a_global", "out_unbind_and_chunk_views_of_an_intermediate",
            "out_diagonal_and_strided_slices_of_an_intermediate", "dd_nonzero", "mu_arg_data_assigned_inside",
            "st_lr_tensor_in_group", "ag_hvp_create_graph", "re_compiled_in_hook", "inf_inference_tensor_arg_saved",
            "dist_validate_args_switched", "cls_tensor_method_monkeypatched", "dsh_disabled_saved_hooks_outside",
            "mir_neg_view_arg_inplace", "ck_checkpoint_inside", "meta_version_read", "meta_storage_offset_read",
            "meta_grad_fn_name_under_no_grad", "set_default_dtype_left_inside", "set_anomaly_left_inside",
            "hook_registered_inside_on_argument", "hook_registered_inside_on_argument_no_backward",
            "meta_parameter_position_swapped"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=() if n in _DEFAULT else pytest.mark.slow) for n in PROGRAMS])
def test_program(name):
    outcome, detail = run_program(name)
    assert outcome in ("same", "refused"), f"{name}: {outcome} ({detail})"
