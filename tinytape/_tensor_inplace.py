"""In-place operations on tensors (``add_``, ``copy_``, ``x[i] = v``...): the version
counter, the refusal on leaves and read-only memory, and recording through views.
Written as a class body and attached to ``Tensor`` by ``tinytape._methods``."""
import numpy as np

from . import _dtype
from ._grad_mode import _state
from ._inplace_in_order import write_result, writes_in_order
from ._mirror_views import MIRRORED, after_write, bits as mirror_bits
from ._memory import OVERLAP_MESSAGE, writable_alias, repeats_elements  # noqa: F401
from ._tensor import Tensor
from .backend.cpu import cpu as _CPU
from .backend.opcodes import ADD as _ADD, DIV as _DIV, MUL as _MUL, SUB as _SUB
from .ops import complex as complex_ops
from .ops import elementwise as elementwise_ops
from .ops import indexing as indexing_ops
from .ops import shape as shape_ops
from .ops import view_history


_REDUCED = (_dtype.float16.np, _dtype.bfloat16.np)
_FUSED = (_dtype.float32.np, _dtype.float64.np)  # dtypes whose alpha= updates are fused multiply-adds


def _can_cast(source, target):
    """PyTorch's canCast: an in-place result may not go from floating to integral, or from
    non-bool to bool (it would truncate silently)."""
    if target.name == "bool":
        return source.name == "bool"
    return target.is_floating_point or not source.is_floating_point


class TensorInPlace:
    # ------------------------------------------------------------------ in place
    def detach_(self):
        if self._view is not None:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using DistributedDataParallel (DDP) "
                "for training, and gradient_as_bucket_view is set as True, gradients are views of DDP buckets, and "
                "hence detach_() cannot be called on these gradients. To fix this error, please refer to the "
                "Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution.")
        self._grad_fn, self._requires_grad, self._output_nr = None, False, 0
        return self

    def _check_inplace(self, op, view=False):
        if self._backend is not _CPU and self._view is not None and repeats_elements(self._data):
            raise RuntimeError(OVERLAP_MESSAGE)  # (device arrays: expand's views are writeable there)
        flags = getattr(self._data, "flags", None)
        if flags is not None and flags.writeable and self._view is not None and repeats_elements(self._data):
            raise RuntimeError(OVERLAP_MESSAGE)  # (``as_strided`` with a zero stride)
        if flags is not None and not flags.writeable:
            if self._view is not None and repeats_elements(self._data):  # expand's views
                raise RuntimeError(OVERLAP_MESSAGE)
            # a view of an expanded view that repeats nothing (``x.expand(2, 3)[0]``): PyTorch writes
            # through it to the expanded tensor's memory, and so does this tensor from now on
            alias = writable_alias(self._data, repeats_only=False) if self._view is not None else None
            if alias is not None:
                self._data = alias
                return self._check_inplace(op, view)
            raise RuntimeError(f"{op}: the tensor's memory is read-only (it shares a non-writable numpy "
                               f"array, shape {list(self.shape)}); make a writable copy first (.clone())")
        if self._grad_fn is None and self._requires_grad and _state.enabled:
            raise RuntimeError(
                f"a {'view of a ' if view else ''}leaf Variable that requires grad is being used in an "
                "in-place operation.")

    def _inplace(self, op_name, fn, *args, region=None):
        """Run ``fn(self, *args)`` and write the result into this tensor's storage.

        Untracked (no grad mode, or nothing requires grad): the result is computed and
        copied in.  Tracked: ``fn`` runs on a snapshot of the old value, so entries that
        saved it keep a valid copy, and this tensor takes the new entry as its history.
        Through a view, the write is also recorded on the view's base (as PyTorch's
        CopySlices), and the view's history is re-derived from the base's new one, as are
        those of the storage's other views (``region``: the part of this tensor's array
        the write changes, where it is not all of it).
        """
        self._check_inplace(op_name)
        tracked = _state.enabled and (self._requires_grad or any(
            isinstance(a, Tensor) and a._requires_grad for a in args))
        base = ids = None
        if tracked and writes_in_order(self, op_name):
            raise RuntimeError(
                f"{op_name}: an in-place write recorded by autograd into a view whose elements overlap in memory "
                f"(shape {list(self.shape)}, strides {list(self.stride())}) is not supported: its values are "
                "computed element by element, which the recorded gradient would not follow. clone() the view "
                "first, or write under no_grad()")
        # a conjugate/negative view: its values go to the base transformed back, and its history is
        # re-derived as that view of the base's new one
        mirrored = complex_ops.recorded_mirror_write(self, op_name) if tracked and MIRRORED and any(
            mirror_bits(self)) else None
        if tracked and self._view is not None:
            view_history.check_piece_write(self)
            base, ids = shape_ops.view_base_and_ids(self)
            base._check_inplace(op_name, view=True)
        source = self
        if tracked:
            source = Tensor._make(self._backend.copy(self._data), self._requires_grad, self._grad_fn,
                                  self._output_nr, None, self._backend)
        result = fn(source, *args)
        if not _can_cast(result.dtype, self.dtype):
            raise RuntimeError(f"result type {_dtype.scalar_type_name(result.dtype)} can't be cast to the "
                               f"desired output type {_dtype.scalar_type_name(self.dtype)}")
        if result.shape != self.shape:
            raise RuntimeError(
                f"output with shape {list(self.shape)} doesn't match the broadcast shape {list(result.shape)}")
        if base is not None:  # recorded (it copies the old base) before the storage changes
            new_base = indexing_ops.CopySlices.apply(base._alias(), ids, result if mirrored is None else
                                                     mirrored[0](result))
        if writes_in_order(self, op_name):  # (elements sharing memory: one by one, as PyTorch's)
            write_result(self, op_name, fn, args, result)
        else:
            self._backend.copy_into(self._data, result._data)
        self._version_counter[0] += 1
        if MIRRORED:
            after_write(self)
        if base is not None:
            base._grad_fn, base._output_nr, base._requires_grad = new_base._grad_fn, 0, True
            # the view's history, re-derived from its base
            result = shape_ops.ViewFromBase.apply(base, ids) if mirrored is None else mirrored[1](base)
        if tracked:
            self._grad_fn, self._output_nr, self._requires_grad = result._grad_fn, result._output_nr, True
            # the storage's other views see the write: their histories, re-derived from the base's
            view_history.rederive_views(self if base is None else base, self, region)
        return self

    def _add_into(self, other):
        """``self += other`` on raw storage: the gradient-accumulation fast path."""
        self._backend.binary(_ADD, self._data, (other._data if other._data.dtype == self._data.dtype
                                                    else self._backend.astype(other._data, self._data.dtype)), out=self._data)
        self._version_counter[0] += 1
        if MIRRORED:
            after_write(self)

    def _inplace_binary(self, op_name, code, fn, other, *extra):
        """In-place arithmetic.  Untracked, it runs the kernel straight into this
        tensor's storage (the optimizer-update path); tracked, through ``_inplace``."""
        other_t = isinstance(other, Tensor)
        if _state.enabled and (self._requires_grad or (other_t and other._requires_grad)) or (
                self._view is not None and writes_in_order(self, op_name)):
            return self._inplace(op_name, fn, other, *extra)
        backend, data = self._backend, self._data
        if backend is _CPU and (not data.flags.writeable or 0 in data.strides):
            self._check_inplace(op_name)
            data = self._data  # (now a writeable alias of a view's memory)
        elif backend is not _CPU and self._view is not None and repeats_elements(data):
            raise RuntimeError(OVERLAP_MESSAGE)
        # (a compiled function's number argument scaling a float tensor of this dtype: a factor, 1 exact)
        if extra and (isinstance(extra[0], Tensor) or _dtype.runtime_number(extra[0]) and data.dtype.kind == "f"
                      and other_t and other._data.dtype is data.dtype or extra[0] != 1):
            alpha = extra[0]
            number = isinstance(alpha, (int, float))
            if (other_t and data.dtype in _FUSED and other._data.dtype is data.dtype and other._backend is backend
                    and (number or isinstance(alpha, Tensor) and not alpha.shape and alpha._backend is backend)
                    and not backend.may_alias(data, other._data) and _broadcasts_to(other._data.shape, data.shape)):
                # ``self + alpha * other`` with one rounding, as PyTorch's kernel (vec::fmadd); alpha
                # rounded to this dtype (a 0-d tensor: an optimizer's step size inside a trace)
                if code == _SUB:
                    alpha = -alpha
                factor = backend.scalar(alpha, data.dtype) if number else alpha.to(self.dtype)._data
                backend.fma(other._data, factor, data, out=data)
                self._version_counter[0] += 1
                if MIRRORED:
                    after_write(self)
                return self
            if other_t and not isinstance(alpha, Tensor) and _dtype.result_type(self, other).is_floating_point:
                # promoted first, then scaled in that dtype with one rounding (elementwise ``add``)
                return self._inplace(op_name, fn, other, alpha)
            other = other * alpha
        if other_t:
            value = other._data
            # the same dtype (numpy's builtin dtypes are singletons), device, no overlap
            # with this storage, and broadcasting to this shape: the kernel runs in place
            fits = (value.dtype is data.dtype and other._backend is backend and not backend.may_alias(data, value)
                    and (value.shape == data.shape or _broadcasts_to(value.shape, data.shape)))
        else:
            # mul_/div_ keep a number float32 beside float16/bfloat16, as ``elementwise_ops._opmath_operands``
            opmath = code in (_MUL, _DIV) and data.dtype in _REDUCED
            value = backend.scalar(other if opmath else _dtype.wrapped_int(other, data.dtype),
                                   np.float32 if opmath else data.dtype)
            # a number of this tensor's kind (a float only into floats, an int not into bools);
            # otherwise the general path, which refuses what PyTorch can't cast back
            fits = self.dtype.is_floating_point or not isinstance(other, float) and (
                data.dtype.kind != "b" or isinstance(other, (bool, np.bool_)))
        if fits:
            backend.binary(code, data, value, out=data)
            self._version_counter[0] += 1
            if MIRRORED:
                after_write(self)
            return self
        return self._inplace(op_name, fn, other)

    def add_(self, other, alpha=1):
        return self._inplace_binary("add_", _ADD, elementwise_ops.add, other, alpha)

    def sub_(self, other, alpha=1):
        elementwise_ops.check_bool_sub(self, other)
        return self._inplace_binary("sub_", _SUB, elementwise_ops.sub, other, alpha)

    def mul_(self, other):
        return self._inplace_binary("mul_", _MUL, elementwise_ops.mul, other)

    def div_(self, other, *, rounding_mode=None):
        if rounding_mode is not None:
            return self._inplace("div_", lambda x, o: elementwise_ops.div(x, o, rounding_mode=rounding_mode), other)
        if not self.dtype.is_floating_point:
            return self._inplace("div_", elementwise_ops.div, other)  # refused: true division gives floats
        return self._inplace_binary("div_", _DIV, elementwise_ops.div, other)

    def pow_(self, exponent):
        return self._inplace("pow_", elementwise_ops.pow, exponent)

    def clamp_(self, min=None, max=None):
        return self._inplace("clamp_", elementwise_ops.clamp, min, max)

    def relu_(self):
        return self._inplace("relu_", elementwise_ops.relu)

    def exp_(self):
        return self._inplace("exp_", elementwise_ops.exp)

    def neg_(self):
        return self._inplace("neg_", elementwise_ops.neg)

    def _fill_number(self, op_name, value):
        """``fill_`` with a number.  Untracked (the ``grad.zero_()`` of a training loop),
        the number is written straight into the storage: no fill op, no copy of its
        result (a 100 000-element float32 zero_ in the seed step: 21 us before, 7 us)."""
        if not _state.enabled or not self._requires_grad:
            data = self._data
            if self._backend is _CPU and data.flags.writeable and data.flags.c_contiguous and (
                    type(value) is int or type(value) is float) and data.dtype.kind == "f":
                _CPU.fill(data, value)  # ``grad.zero_()``: nothing left to check, no 0-d array to build
            else:
                # an expanded view (or as_strided's repeats): every element takes the one value, as
                # PyTorch's fill_ (device arrays are writeable; a CPU one gets a writeable alias)
                if self._backend is _CPU and not data.flags.writeable:
                    alias = writable_alias(data)
                    if alias is None:
                        self._check_inplace(op_name)
                        alias = self._data
                    data = alias
                self._backend.copy_into(data, self._backend.scalar(value, data.dtype))
            self._version_counter[0] += 1
            if MIRRORED:
                after_write(self)
            return self
        op = indexing_ops.Zero if op_name == "zero_" else indexing_ops.FillNumber
        return self._inplace(op_name, lambda x, v: indexing_ops.fill(x, v, op), value)

    def zero_(self):
        return self._fill_number("zero_", 0)

    def fill_(self, value):
        if isinstance(value, Tensor):
            if value.ndim:
                raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                                   f"{value.ndim} dimensions.")
            return self._inplace("fill_", lambda x, v: indexing_ops.fill(x, v, indexing_ops.FillTensor), value)
        return self._fill_number("fill_", value)

    def apply_(self, callable):
        """Each element replaced by ``callable(element)`` (a Python function, element by element:
        CPU tensors only, as PyTorch)."""
        if self._requires_grad and _state.enabled:
            raise RuntimeError("Can't call apply_() on Variable that requires grad. Use var.detach().apply_() instead.")
        return self._map_elements("apply_", lambda a: callable(a), self)

    def map_(self, tensor, callable):
        """Each element replaced by ``callable(element, other)`` with ``tensor`` broadcast to this shape."""
        if self._requires_grad and _state.enabled:
            raise RuntimeError("Can't call map_() on Variable that requires grad. Use var.detach().map_() instead.")
        return self._map_elements("map_", lambda a, b: callable(a, b), self, tensor.expand(self.shape))

    def _map_elements(self, op, fn, *tensors):
        if self.device.type != "cpu":
            raise TypeError(f"{op}() is only implemented on CPU tensors")
        data = self._data
        alias = writable_alias(data) if self._view is not None else None
        if alias is None:  # (PyTorch runs these element by element, repeated elements too)
            self._check_inplace(op)
            data = self._data
        else:
            data = alias
        arrays = [np.asarray(t._backend.to_numpy(t._data)) for t in tensors]
        for pos in np.ndindex(*data.shape):
            data[pos] = fn(*(a[pos].item() for a in arrays))
        if MIRRORED:
            after_write(self)
        return self  # (PyTorch's version counter does not move)

    def copy_(self, src):
        return self._inplace("copy_", lambda x, v: indexing_ops.fill(x, v, indexing_ops.Copy), src)

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def __ifloordiv__(self, other):
        return self.floor_divide_(other)

    def __imod__(self, other):
        return self.remainder_(other)

    def __ipow__(self, other):
        return self.pow_(other)


def _broadcasts_to(shape, target):
    """Whether ``shape`` broadcasts to exactly ``target``."""
    if len(shape) > len(target):
        return False
    return all(s == 1 or s == t for s, t in zip(shape[::-1], target[::-1]))


def _methods(namespace):
    """The methods a class body defined (its own dunders included)."""
    return {k: v for k, v in vars(namespace).items() if k not in ("__module__", "__qualname__", "__doc__",
                                                                 "__dict__", "__weakref__", "__hash__")}


METHODS = _methods(TensorInPlace)
