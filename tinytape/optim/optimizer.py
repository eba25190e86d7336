"""``Optimizer``: parameter groups, per-parameter state, ``zero_grad`` and the state
dict, as PyTorch's.  Algorithms (``SGD``, ``Adam``, ``RMSprop``) subclass it and give
``step``; their updates run in place under ``no_grad``, so they go straight to the
backend's in-place kernels."""
import copy
import warnings
from collections import defaultdict

from .. import _dtype
from .._grad_mode import enable_grad
from .._tensor import Tensor
from ..compiler.capture import number_input, refuse, standing_in, tracing
from .optimizer_hooks import (OptimizerHooks, register_optimizer_step_post_hook,  # noqa: F401
                              register_optimizer_step_pre_hook)


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()


class Optimizer(OptimizerHooks):
    def __init__(self, params, defaults):
        self._init_hooks()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors "
                            f"or dicts, but got {params.type()}")
        defaults = {**defaults, **{k: v for k, v in self._extra_options().items() if k not in defaults}}
        order = self._OPTION_ORDER.get(type(self).__name__, ()) if type(self).__module__.startswith("tinytape.") else ()
        self.defaults = {**{k: v for k, v in defaults.items() if k not in order},  # PyTorch's keys, in its order
                         **{k: defaults[k] for k in order if k in defaults}}
        self.state = defaultdict(dict)  # parameter -> its state (tensors and numbers)
        self.param_groups = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Add a group (a dict with ``params`` and any option overriding the defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the "
                            "ordering of tensors in sets will change between runs. Please use a list instead.")
        group["params"] = list(params)
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            group.setdefault(name, default)
        for name, default in self._extra_options().items():
            group.setdefault(name, default)  # listed in the group as PyTorch lists them
        order = self._OPTION_ORDER.get(type(self).__name__) if type(self).__module__.startswith("tinytape.") else None
        if order:  # PyTorch's order of the options, where its defaults interleave the extra ones
            group = {**{k: group[k] for k in group if k not in order}, **{k: group[k] for k in order if k in group}}
        if len({id(p) for p in group["params"]}) != len(group["params"]):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, "
                          "this will cause an error", UserWarning, stacklevel=3)
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in existing for p in group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def _params(self):
        return [p for g in self.param_groups for p in g["params"]]

    def zero_grad(self, set_to_none=True):
        for p in self._params():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                if p.grad.grad_fn is not None:
                    p.grad.detach_()
                else:
                    p.grad.requires_grad_(False)
                p.grad.zero_()

    def _closure_loss(self, closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # ------------------------------------------------------------------ state dict
    def state_dict(self):
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [index, ...]}]}``:
        parameters are numbered in group order, as PyTorch numbers them."""
        self._run_state_dict_pre_hooks()
        index = {}
        groups = []
        for g in self.param_groups:
            for p in g["params"]:
                index.setdefault(id(p), len(index))
            groups.append({**{k: v for k, v in g.items() if k != "params"},
                           "params": [index[id(p)] for p in g["params"]]})
        state = {index[id(p)]: s for p, s in self.state.items() if id(p) in index}
        return self._run_state_dict_post_hooks({"state": state, "param_groups": groups})

    def load_state_dict(self, state_dict):
        """Take the state and group options of ``state_dict`` (as ``state_dict()`` made
        it); its tensors are cast to each parameter's dtype and device — not copied where
        they already match: as PyTorch's, the loaded state then shares them."""
        state_dict = self._run_load_state_dict_pre_hooks(dict(state_dict))
        groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(mine["params"]) for g, mine in zip(groups, self.param_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size "
                             "of optimizer's group")
        by_index = {i: p for g, mine in zip(groups, self.param_groups) for i, p in zip(g["params"], mine["params"])}
        self.state = defaultdict(dict)
        for i, saved in state_dict["state"].items():
            i = int(i)  # keys may have been through JSON
            if i not in by_index:
                continue
            p = by_index[i]
            self.state[p] = {key: self._cast_state(key, value, p) for key, value in saved.items()}
        self.param_groups = [{**{k: v for k, v in mine.items() if k != "params"},
                              **{k: v for k, v in g.items() if k != "params"}, "params": mine["params"]}
                             for g, mine in zip(groups, self.param_groups)]
        self._run_load_state_dict_post_hooks()

    @staticmethod
    def _cast_state(key, value, param):
        if isinstance(value, dict):
            return {k: Optimizer._cast_state(k, v, param) for k, v in value.items()}
        if isinstance(value, (list, tuple)):  # a new container of the cast tensors (LBFGS's histories)
            return type(value)(Optimizer._cast_state(None, v, param) for v in value)
        if not isinstance(value, Tensor):
            return value
        if key == "step":  # a step count: kept as it was saved
            return value
        if value.dtype.is_floating_point and param.dtype.is_floating_point:
            return value.to(param.device, param.dtype)
        return value.to(param.device)

    # the options PyTorch 2.14's groups list beyond the ones these optimizers take (implementation
    # choices: foreach/fused kernels, graph capture, differentiable steps), shown with PyTorch's
    # defaults so that a printed optimizer and its param_groups read as PyTorch's; a group's own
    # entry wins
    _REPR_OPTIONS = {
        "SGD": {"foreach": None, "differentiable": False, "fused": None},
        "Adam": {"foreach": None, "capturable": False, "differentiable": False, "fused": None,
                 "decoupled_weight_decay": False},
        "AdamW": {"foreach": None, "capturable": False, "differentiable": False, "fused": None,
                  "decoupled_weight_decay": True},
        "RMSprop": {"foreach": None, "capturable": False, "differentiable": False},
        "Adagrad": {"foreach": None, "differentiable": False, "fused": None},
    }

    _OPTION_ORDER = {
        "RMSprop": ("lr", "momentum", "alpha", "eps", "centered", "weight_decay", "capturable", "foreach",
                    "maximize", "differentiable"),
        "Adagrad": ("lr", "lr_decay", "eps", "weight_decay", "initial_accumulator_value", "foreach", "maximize",
                    "differentiable", "fused"),
    }

    def _extra_options(self):
        return next((self._REPR_OPTIONS[c.__name__] for c in type(self).__mro__
                     if c.__name__ in self._REPR_OPTIONS and c.__module__.startswith("tinytape.")), {})

    def __repr__(self):
        extra = self._extra_options()
        text = type(self).__name__ + " ("
        for i, g in enumerate(self.param_groups):
            shown = {**extra, **g}
            text += f"\nParameter Group {i}\n"
            text += "".join(f"    {k}: {shown[k]}\n" for k in sorted(shown) if k != "params")
        return text + ")"

    def step(self, closure=None):
        raise NotImplementedError


def implementation_options(foreach=None, capturable=False, differentiable=False, fused=None):
    """PyTorch's options that choose how a step runs (its foreach and fused kernels, graph
    capture, a step autograd records), kept in the groups as PyTorch keeps them; the update is
    the same. PyTorch's refusals of the combinations it refuses."""
    if fused and differentiable:
        raise RuntimeError("`fused` does not support `differentiable`")
    if fused and foreach:
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
    return {"foreach": foreach, "capturable": capturable, "differentiable": differentiable, "fused": fused}


def check_step_options(group):
    """At a step, as PyTorch's: ``capturable`` needs parameters on an accelerator, and a
    ``differentiable`` step writes into leaves that require grad (which autograd refuses)."""
    params = [p for p in group["params"] if p.grad is not None]
    if group.get("capturable") and any(p.device.type == "cpu" for p in params):
        raise AssertionError("If capturable=True, params and state_steps must be on supported devices: "
                             "['cuda', 'xpu', 'hpu', 'privateuseone', 'xla'].")
    if group.get("differentiable") and any(p.requires_grad for p in params):
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")


def refuse_sparse(optimizer, p):
    """PyTorch's refusal of a sparse gradient (``Embedding(sparse=True)``) by an optimizer that
    has no sparse update."""
    if getattr(p.grad, "is_sparse", False):
        name = type(optimizer).__name__
        raise RuntimeError("Adam does not support sparse gradients, please consider SparseAdam instead"
                           if name in ("Adam", "AdamW") else f"{name} does not support sparse gradients")


def learning_rate(group):
    """``group['lr']``: a number eagerly; inside a trace an input of the compiled program
    (a 0-d float64 tensor each replay fills from the group), so a schedule that changes it
    every step replays the same program."""
    return number_input(group, "lr")


def momentum_of(group):
    """``group['momentum']``: a number eagerly; inside a trace, where it is not 0, an input
    of the program as the rate is (``OneCycleLR`` and ``CyclicLR`` move it every step),
    the program kept for calls where it is still not 0."""
    return number_input(group, "momentum", truth=True) if group["momentum"] else group["momentum"]


def first_beta(group):
    """``group['betas'][0]``: a number eagerly; inside a trace an input of the program
    (``OneCycleLR`` and ``CyclicLR`` move it every step), the second beta kept as it is."""
    return number_input(group, "betas", 0)


def refuse_tensor_betas(group):
    """Eagerly ``beta ** step`` raises a tensor beta to a number (powf, a cube multiplied
    out); a trace's step count is a tensor, and another kernel would round it otherwise.
    Called before the group's numbers are read: the refused trace then computes with
    the numbers themselves (``standing_in``), as eager does."""
    if tracing() and any(isinstance(beta, Tensor) for beta in group["betas"]):
        refuse("tensor betas: a replay would round beta ** step otherwise than eager")


_HALF = (_dtype.float16, _dtype.bfloat16)


def scale(factor, t):
    """``factor * t`` for a number ``factor`` — or, inside a trace, a 0-d float64 tensor
    holding one — rounded as a Python number is: to ``t``'s dtype, or for half
    precisions to float32 with the product rounded once to ``t``'s dtype."""
    if not isinstance(factor, Tensor):
        return factor * t
    factor = factor.to(t.device)  # a step count kept on the CPU, as PyTorch keeps it
    if t.dtype in _HALF:
        return (t.float() * factor.float()).to(t.dtype)
    return factor.to(t.dtype) * t


def divide(t, divisor):
    """``t / divisor``, rounded as ``scale`` rounds."""
    if not isinstance(divisor, Tensor):
        return t / divisor
    divisor = divisor.to(t.device)
    if t.dtype in _HALF:
        return (t.float() / divisor.float()).to(t.dtype)
    return t / divisor.to(t.dtype)


def scale_(t, factor):
    """``t.mul_(factor)`` as ``scale`` rounds it."""
    if not isinstance(factor, Tensor):
        return t.mul_(factor)
    return t.copy_(scale(factor, t)) if t.dtype in _HALF else t.mul_(factor.to(t.device).to(t.dtype))


def lerp_(t, end, weight):
    """``t.lerp_(end, weight)``, ``weight`` a number or, inside a trace, a 0-d float64
    tensor holding one, rounded as the number is: to ``t``'s dtype, or for half
    precisions to float32, the lerp computed in float32 and rounded once."""
    if not isinstance(weight, Tensor):
        return t.lerp_(end, weight)
    weight = weight.to(t.device)
    if t.dtype in _HALF:
        return t.copy_(t.float().lerp_(end.float(), weight.float()).to(t.dtype))
    return t.lerp_(end, weight.to(t.dtype))


def add_(t, other, alpha):
    """``t.add_(other, alpha=alpha)``: ``t + alpha * other`` rounded once, as PyTorch's kernel,
    ``alpha`` a number or, inside a trace, a 0-d float64 tensor (rounded to ``t``'s dtype)."""
    if isinstance(alpha, Tensor):
        if t.dtype in _HALF:  # alpha and its product rounded to the dtype, as ``add``'s own
            return t.add_(other * alpha.to(t.device).to(t.dtype))
        alpha = alpha.to(t.device)
    return t.add_(other, alpha=alpha)


def addcdiv_(t, t1, t2, value):
    """``t.addcdiv_(t1, t2, value=value)``: ``t + (value * t1) / t2`` in PyTorch's kernel's
    order, ``value`` a number or, inside a trace, a 0-d float64 tensor."""
    if not isinstance(value, Tensor):
        return t.addcdiv_(t1, t2, value=value)
    return t.add_(scale(value, t1) / t2)


def step_count(state):
    """The step count ``state['step']`` (a 0-d float32 tensor, as PyTorch's) as a number
    eagerly, as a 0-d float64 tensor inside a trace (no host read: a replay advances it)."""
    step = state["step"]
    if not isinstance(step, Tensor):
        return float(step)
    return step.to(_dtype.float64) if standing_in() else step.item()


def number_like(x, lr):
    """``x``, a number (in a trace, a 0-d float64 tensor standing for one), as it meets a
    rate ``lr`` eagerly: a tensor rate (``lr=torch.tensor(0.01)``) rounds a Python number to
    its own dtype, where two 0-d tensors would promote to float64."""
    if isinstance(x, Tensor) and isinstance(lr, Tensor) and x.dtype != lr.dtype:
        return x.to(lr.dtype)
    return x


def like(x, t):
    """A number as it is; a 0-d tensor (a traced scalar) cast to ``t``'s dtype and device, so
    that it meets ``t`` as a Python number would (rounded to ``t``'s dtype)."""
    return x.to(t.device).to(t.dtype) if isinstance(x, Tensor) else x


def scalar_value(t):
    """A 0-d state tensor's value (``_get_value`` in PyTorch's optimizers): a number eagerly,
    the tensor in float64 inside a trace (no host read: a replay reads it afresh)."""
    return t.to(_dtype.float64) if standing_in() else t.item()


def scalar_state(value=0.0):
    """A 0-d float32 tensor (PyTorch's step counts and per-parameter scalars)."""
    from .._creation import tensor
    return tensor(float(value), dtype=_dtype.float32)


def check_range(name, value, low=0.0):
    if not low <= value:
        raise ValueError(f"Invalid {name}: {value}")
