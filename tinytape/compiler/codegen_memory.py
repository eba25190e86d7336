"""The fused generator's rules for memory: views of any layout (a transpose, an N-D permute,
a reshape, a slice, any strided view as numba's ``as_strided``), writes through a view
(``x[slices] = value``), and the flat C-contiguous operands the eager indexing kernels take.
``codegen._Generator`` inherits them; ``NotFusable`` and ``_Buffer`` live here for both."""
import numpy as np


class NotFusable(Exception):
    call = None  # the index of the call the generator could not take, where it is one


class _Buffer:
    """What the code generator knows about one buffer."""
    __slots__ = ("shape", "dtype", "kind", "base", "view", "const", "group", "stored", "reads",
                 "uses")

    def __init__(self, arr):
        self.shape, self.dtype = tuple(arr.shape), arr.dtype
        self.kind = None  # 'ext' | 'const' | 'view' | 'value'
        self.base = None  # for a view: the buffer it reads
        # for a view: ('T',) | ('reshape',) | ('broadcast',) | ('same',) | ('offset', n) |
        # ('perm', axes) | ('strided', start, shape, strides)
        self.view = None
        self.const = None  # a uniform value
        self.group = None  # the statement that produces it
        self.stored = False  # needs memory (read outside its loop, returned, written in place)
        self.uses = []  # statement indices that read it (through views too)


class MemoryRules:
    """The ``_Generator`` methods that place buffers in memory (see the module's docstring)."""

    # ---- views and constants: no statement ----
    def _alias(self, out, x, view):
        buf = self.buffers[out]
        if out == x:
            return
        if self.buffers[x].kind == "const":
            buf.kind, buf.const = "const", self.buffers[x].const
            return
        if view == ("T",) and self.buffers[x].view == ("T",):  # a transpose's transpose
            x, view = self.buffers[x].base, ("same",)
        buf.kind, buf.base, buf.view = "view", x, view

    def _k_scalar(self, out, value, dtype):
        buf = self.buffers[out]
        buf.kind, buf.const = "const", np.dtype(dtype).type(value)

    def _k_full(self, out, shape, value, dtype):
        self._k_scalar(out, value, dtype)

    def _k_broadcast_to(self, out, x, shape):
        self._alias(out, self._buf(x), ("broadcast",))

    def _k_swapaxes(self, out, x, d0, d1):
        axes = list(range(len(self.buffers[self._buf(x)].shape)))
        axes[d0], axes[d1] = axes[d1], axes[d0]
        self._k_permute(out, x, axes)

    def _k_permute(self, out, x, dims):
        dims, x = tuple(int(d) for d in dims), self._buf(x)
        if dims == (1, 0):
            return self._alias(out, x, ("T",))
        if dims == tuple(range(len(dims))):
            return self._alias(out, x, ("reshape",))
        base = self.buffers[x]
        if base.kind == "view" and base.view[0] == "perm":  # a permutation of a permutation
            x, dims = base.base, tuple(base.view[1][d] for d in dims)
        self._alias(out, x, ("perm", dims))  # numba's ``transpose(axes)``: a strided view

    def _reshape(self, out, x, *_):
        x = self._buf(x)
        if out == x:
            return
        if self.buffers[x].kind != "const" and (not self._plain(self.buffers[x]) or
                                                not self.arrays[x].flags.c_contiguous):
            if np.shares_memory(self.arrays[out], self.arrays[x]):  # eager's reshape was a view of it
                return self._strided_alias(out, x, "reshape of a strided view")
            x = self._contiguous_copy(x)  # as eager's: a copy in C order, then reshaped
        self._alias(out, x, ("reshape",))

    _k_reshape = _k_view = _k_expand_dims = _k_squeeze = _reshape

    def _k_strided_view(self, out, x, offset, shape, strides):
        x = self._buf(x)
        arr, base = self.arrays[out], self.arrays[x]
        if offset == 0 and arr.flags.c_contiguous and base.flags.c_contiguous and arr.size == base.size:
            return self._reshape(out, ("buf", x))
        if offset == 0 and arr.ndim == 2 and arr.T.flags.c_contiguous and arr.size == base.size \
                and base.flags.c_contiguous and arr.T.shape == base.shape:
            return self._alias(out, x, ("T",))
        self._strided_alias(out, x, "strided view")

    def _strided_alias(self, out, x, what):
        """``out``, a view eager made of ``x``'s memory, as the same strides over the C-contiguous
        buffer ``x`` is a view of (numba's ``as_strided``: any view a trace recorded)."""
        root = self.root(x)
        arr, base = self.arrays[out], self.arrays[root]
        item = arr.itemsize
        start, rest = divmod(arr.__array_interface__["data"][0] - base.__array_interface__["data"][0], item)
        last = start + sum((n - 1) * s // item for n, s in zip(arr.shape, arr.strides))
        if base.flags.c_contiguous:
            inside = 0 <= start <= last < base.size
        else:  # a strided argument (a part's result): views starting where it starts
            inside = start == 0 and all(s >= 0 for s in base.strides) and \
                last * item <= sum((n - 1) * s for n, s in zip(base.shape, base.strides))
            start = None
        if self.buffers[root].kind not in ("value", "ext") or rest or arr.dtype != base.dtype \
                or any(s < 0 or s % item for s in arr.strides) or (arr.size and not inside) \
                or (start is None and self.buffers[root].kind != "ext"):
            raise NotFusable(what)
        buf = self.buffers[out]
        buf.kind, buf.base, buf.view = "view", root, ("strided", start, tuple(arr.shape), tuple(arr.strides))

    def _k_index(self, out, x, index):
        """Basic indexing: a view, fused where it is a C-contiguous block of contiguous
        memory (``xs[t]`` of a sequence): an offset into its base."""
        x = self._buf(x)
        arr, base = self.arrays[out], self.arrays[x]
        if not (arr.flags.c_contiguous and base.flags.c_contiguous and self._plain(self.buffers[x])):
            return self._strided_alias(out, x, "index")
        start = (arr.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // max(arr.itemsize, 1)
        if arr.size and not 0 <= start <= base.size - arr.size:
            raise NotFusable("index")
        self._alias(out, x, ("offset", int(start)))

    def _k_contiguous(self, out, x):
        if out != self._buf(x):
            self._elementwise(out, "copy", None, [self._buf(x)])

    def _k_setitem(self, out, x, index, value):
        """``x[index] = value`` with a basic ``index``: ``value`` copied (broadcast, cast) into
        the view of ``x`` eager's numpy assignment writes, in a loop of its own."""
        x, value = self._buf(x), self._buf(value)
        if self.buffers[x].kind not in ("value", "ext"):
            raise NotFusable("setitem into a view or constant")
        try:
            target = self.arrays[x][index]
        except (IndexError, TypeError, ValueError):
            raise NotFusable("setitem") from None
        if not isinstance(target, np.ndarray) or not target.size or not np.shares_memory(target, self.arrays[x]):
            raise NotFusable("setitem with an index that copies")  # advanced indexing: not a view
        if self.root(value) == x:
            value = self._contiguous_copy(value)  # numpy reads an overlapping source before writing
        view = len(self.buffers)
        self.buffers.append(_Buffer(target))
        self.arrays.append(target)
        self._strided_alias(view, x, "setitem")
        self._close()  # earlier reads of x see it whole, before the write
        self._elementwise(view, "copy", None, [value], inplace=True)

    def _plain(self, buf):
        """Whether ``buf`` is C-contiguous memory: a value, an argument, a reshape of one or
        a contiguous block of one."""
        while buf.kind == "view" and (buf.view in (("same",), ("reshape",)) or buf.view[0] == "offset"):
            buf = self.buffers[buf.base]
        return buf.kind in ("value", "ext")

    # ---- indexing: the eager kernels, called on flat C-contiguous buffers ----
    def _flat_operand(self, ref):
        """A buffer an indexing kernel reads flat: ``ref``'s, or a contiguous copy of it (a
        broadcast gradient, a constant) made by a fused loop first."""
        b = self._buf(ref)
        buf = self.buffers[b]
        if buf.kind == "const" or not self._plain(buf) or not self.arrays[b].flags.c_contiguous:
            b = self._contiguous_copy(b)
        self._use(b)
        return b

    def _contiguous_copy(self, b):
        """A new buffer holding ``b``'s values in C order, written by a fused loop."""
        buf = self.buffers[b]
        copy = len(self.buffers)
        arr = np.empty(buf.shape, buf.dtype)
        self.buffers.append(_Buffer(arr))
        self.arrays.append(arr)
        if buf.kind == "const":  # a uniform value: a fill
            self._close()
            value = buf.const
            literal = repr(bool(value)) if buf.dtype.kind == "b" else \
                f"np.{buf.dtype.name}(float({repr(float(value))!r}))" if buf.dtype.kind == "f" else \
                f"np.{buf.dtype.name}({int(value)})"
            out = self.buffers[copy]
            out.kind, out.group, out.stored = "value", len(self.statements), True
            self.statements.append(("fill", copy, literal))
            return copy
        self._elementwise(copy, "copy", None, [b])
        self._close()
        return copy

    def _indexing_statement(self, out, kind, operands, *statics):
        self._close()
        bs = [self._flat_operand(x) for x in operands]
        self._close()
        buf = self.buffers[out]
        buf.kind, buf.group, buf.stored = "value", len(self.statements), True
        self.statements.append((kind, out, *bs, *statics))

    def _k_gather(self, out, x, index):
        self._indexing_statement(out, "gather", [x, index])

    def _k_scatter_add(self, out, shape, index, src):
        self._indexing_statement(out, "scatter_add", [index, src])

    def _k_positions(self, out, base, index, where, stride, size, wrap, error):
        self._indexing_statement(out, "positions", [base, index, where], stride, size, wrap, error)

    def _k_zeros(self, out, shape, dtype):
        self._close()
        buf = self.buffers[out]
        buf.kind, buf.group, buf.stored = "value", len(self.statements), True
        self.statements.append(("fill", out, 0))

    def _k_empty(self, out, shape, dtype):
        self._close()
        buf = self.buffers[out]
        buf.kind, buf.group, buf.stored = "value", len(self.statements), True
        self.statements.append(("fill", out, None))
