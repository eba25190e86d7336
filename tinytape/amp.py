"""``torch.amp``: ``autocast`` (mixed precision: matrix products, linear layers and
convolutions in bfloat16 or float16, losses in float32; ``_autocast.py``) and
``GradScaler`` (the loss scaled up, gradients unscaled before the step, a step with
non-finite gradients skipped, the scale backed off then grown)."""
from . import _autocast
from ._dtype import as_dtype, bfloat16, float16
from ._grad_mode import no_grad


class autocast:  # noqa: N801  (PyTorch's name)
    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.device = device_type
        self.fast_dtype = as_dtype(dtype) if dtype is not None else (bfloat16 if device_type == "cpu" else float16)
        self._enabled = enabled
        self._previous = []

    def __enter__(self):
        self._previous.append(_autocast._set(self.device, self.fast_dtype if self._enabled else None))
        return self

    def __exit__(self, *exc):
        _autocast._set(self.device, self._previous.pop())
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with autocast(self.device, self.fast_dtype, self._enabled):
                return fn(*args, **kwargs)
        return wrapper


def is_autocast_available(device_type):
    return device_type in ("cpu", "cuda")


class GradScaler:
    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        self._device, self._enabled = device, enabled
        self._init_scale, self._growth_factor = init_scale, growth_factor
        self._backoff_factor, self._growth_interval = backoff_factor, growth_interval
        self._scale, self._growth_tracker = float(init_scale), 0
        self._unscaled, self._found_inf = set(), False

    def is_enabled(self):
        return self._enabled

    def scale(self, outputs):
        """``outputs`` times the scale (tensors, or sequences of them)."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        return outputs * self._scale

    def unscale_(self, optimizer):
        """The optimizer's gradients divided by the scale, once before its step."""
        if not self._enabled:
            return
        if id(optimizer) in self._unscaled:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        inv = 1.0 / self._scale
        with no_grad():
            for group in optimizer.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.grad.mul_(inv)
                        if not bool(p.grad.isfinite().all()):
                            self._found_inf = True
        self._unscaled.add(id(optimizer))

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step()``, unless a gradient is not finite (then skipped)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if id(optimizer) not in self._unscaled:
            self.unscale_(optimizer)
        return None if self._found_inf else optimizer.step(*args, **kwargs)

    def update(self, new_scale=None):
        """The scale for the next step: backed off after non-finite gradients, grown after
        ``growth_interval`` steps without."""
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = float(new_scale)
        elif self._found_inf:
            self._scale *= self._backoff_factor
            self._growth_tracker = 0
        else:
            self._growth_tracker += 1
            if self._growth_tracker == self._growth_interval:
                self._scale *= self._growth_factor
                self._growth_tracker = 0
        self._unscaled.clear()
        self._found_inf = False

    def get_scale(self):
        return self._scale if self._enabled else 1.0

    def get_growth_factor(self):
        return self._growth_factor

    def get_backoff_factor(self):
        return self._backoff_factor

    def get_growth_interval(self):
        return self._growth_interval

    def state_dict(self):
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor, "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval, "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved from a disabled "
                               "instance of GradScaler.")
        self._scale = float(state_dict["scale"])
        self._growth_factor, self._backoff_factor = state_dict["growth_factor"], state_dict["backoff_factor"]
        self._growth_interval, self._growth_tracker = state_dict["growth_interval"], state_dict["_growth_tracker"]



def is_autocast_enabled(device_type="cuda"):
    """Whether autocast is on for ``device_type`` (PyTorch's default question: cuda)."""
    return _autocast.active(device_type) is not None


def get_autocast_dtype(device_type):
    """The dtype autocast casts to on ``device_type``: the one in force, else its default."""
    return _autocast.active(device_type) or (bfloat16 if device_type == "cpu" else float16)


def _deprecated(kind, device, make):
    import warnings

    def make_with_warning(*args, **kwargs):
        warnings.warn(f"`torch.{device}.amp.{kind}(args...)` is deprecated. Please use `torch.amp.{kind}('{device}', "
                      f"args...)` instead.", FutureWarning, stacklevel=2)
        return make(device, *args, **kwargs)
    return make_with_warning


def device_namespaces():
    """``torch.cuda.amp`` and ``torch.cpu.amp``: the deprecated spellings, warning as PyTorch's."""
    import types
    cuda = types.SimpleNamespace(autocast=_deprecated("autocast", "cuda", autocast),
                                 GradScaler=_deprecated("GradScaler", "cuda", GradScaler))
    cpu = types.SimpleNamespace(autocast=_deprecated("autocast", "cpu", autocast))
    return cuda, cpu
