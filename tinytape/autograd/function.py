"""Function: one differentiable operation, forward and backward side by side.

``Function.apply`` runs ``forward`` with recording off and, when grad mode is on and
some input requires grad, appends one entry to the tape: a ``BackwardNode`` that is
both the ``ctx`` the op saw and the ``grad_fn`` of its outputs.  Built-in ops and
user-defined Functions go through this one path.
"""
import itertools
import warnings

from .._grad_mode import _state
from .._tensor import NumberVersion, Tensor
from . import anomaly as _anomaly
from .tape import _local as _tape_local
from .._dual import carries_tangent, state as _dual
from .graph import Packed, current_hooks, open_hooks, pack
from .node_hooks import NodeHooks
from .tape import note_op
from .accumulate_grad import _accumulator
from .outputs import _FIRST_INPUT, _FIRST_OUTPUT, _SECOND_INPUT, _among, _saved, _take_dirty_inputs, _wire_outputs

_UNCHECKED = [0]  # the version counter of a packed saved tensor: never moves
_next_seq = itertools.count().__next__  # the Wengert list's order: one number per entry

FREED_GRAPH = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward.")


class BackwardNode(NodeHooks):
    """A tape entry ``v_seq = op(inputs...)``: what backward needs to run this op in reverse.

    The gradient of input ``i`` goes to output ``next_nrs[i]`` of ``next_nodes[i]``: the
    node that recorded the input, the input itself for a leaf that requires grad (output 0),
    or None (``next_edges`` pairs them as PyTorch's edges).  Two flat tuples, not a pair per
    input: a tuple of ints the garbage collector untracks, no pair kept per edge.
    ``input_shapes[i]``/``input_dtypes[i]`` are input ``i``'s shape and numpy dtype (None
    for a non-tensor), ``output_shapes``/``output_dtypes`` the outputs'; a recorded input's
    are its producer's own tuples, as PyTorch keeps them once on the producer.  Flat tuples,
    not one ``(shape, dtype)`` pair per tensor: the garbage collector untracks a tuple of
    untracked objects once it has untracked what it holds, one level per collection, and a
    tuple of pairs outlives two collections, promoted with every entry alive meanwhile.
    """

    _function = None  # the Function class this node belongs to (set per subclass)
    # per-entry state; class-level defaults keep recording an entry cheap
    _saved = None  # [(tensor, data, backend, version counter, version, output_nr, role), ...] once wired
    _to_save = ()  # what forward asked to save, until the outputs are known
    _released = False  # saved tensors freed by a backward without retain_graph
    _non_differentiable = ()
    _dirty = ()  # inputs forward modified in place (mark_dirty): they become its outputs
    _materialize_grads = True  # backward sees zeros (not None) for outputs no gradient reached
    _hooks = None  # {output_nr: [hook, ...]}: tensor hooks of the outputs
    _retained = None  # {output_nr: weakref to the output}: retain_grad()

    # ---- the ctx API seen by forward/backward ----
    def save_for_backward(self, *tensors):
        self._to_save = tensors

    def mark_non_differentiable(self, *tensors):
        self._non_differentiable = tensors

    def mark_dirty(self, *tensors):
        self._dirty = tensors

    def set_materialize_grads(self, value):
        self._materialize_grads = bool(value)

    @property
    def saved_tensors(self):
        if self._released:
            raise RuntimeError(FREED_GRAPH)
        saved = self._saved
        if saved is None:
            return ()
        out = []
        for entry in saved:  # (tensor, data, backend, version counter, version, output_nr, role) or None
            if entry is None:
                out.append(None)
            elif entry[3][0] != entry[4]:
                raise _modified(entry, self)
            elif type(entry[0]) is Packed:
                out.append(entry[0].unpack())
            elif entry[0] is not None:
                out.append(entry[0])
            else:  # an output, kept as its data: re-wrapped (no output -> grad_fn -> output cycle)
                out.append(Tensor._make(entry[1], True, self, entry[5], entry[3], entry[2]))
        return tuple(out)

    # ---- introspection, as PyTorch's grad_fn ----
    def name(self):
        name = type(self).__name__
        return _NAMESPACED.get(name, name)

    @property
    def next_edges(self):
        """``(node, output_nr)`` per input (``(leaf, 0)`` for a leaf), or None."""
        return tuple(None if target is None else (target, nr) for target, nr in zip(self.next_nodes, self.next_nrs))

    @property
    def next_functions(self):
        """``(node, output_nr)`` per tensor input, in operand order; a leaf's node is its
        ``AccumulateGrad`` (``.variable`` is the leaf), an input not requiring grad ``(None, 0)``;
        integer and bool inputs (class indices, masks) are not differentiable and not listed."""
        numbers = getattr(self._function, "number_inputs", ())  # a scalar overload's number: not an input
        return tuple((None, 0) if target is None else ((target, nr) if isinstance(target, BackwardNode)
                                                       else (_accumulator(target), 0))
                     for i, (target, nr, dtype) in enumerate(zip(self.next_nodes, self.next_nrs, self.input_dtypes))
                     if dtype is not None and (dtype.kind in "fc" or dtype.name == "bfloat16")  # ml_dtypes' kind is "V"
                     and i not in numbers)

    def __getattr__(self, name):
        """``_saved_self``, ``_saved_other``, ``_saved_result``: the tensors backward saved."""
        role = _SAVED_ROLES.get(name)
        if role is not None:
            if self._released:
                raise RuntimeError(FREED_GRAPH)
            for entry in self._saved or ():
                if entry is not None and entry[6] == role:
                    return _unpack(entry, self)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __repr__(self):  # a user Function's node is PyTorch's torch.autograd.function.<Name>Backward
        user = not type(self).__module__.startswith("tinytape")
        return f"<{'tinytape.autograd.function.' if user else ''}{type(self).__name__} object at {hex(id(self))}>"


class _UnrecordedCtx:
    """The ctx forward sees when nothing is recorded: saves nothing, needs no grads."""

    def __init__(self, n):
        self.needs_input_grad = (False,) * n

    def save_for_backward(self, *tensors):
        pass

    def mark_non_differentiable(self, *tensors):
        pass

    def mark_dirty(self, *tensors):
        pass

    def set_materialize_grads(self, value):
        pass


# per number of arguments, a subclass whose needs_input_grad is a class attribute: an
# unrecorded op then builds its ctx without an __init__ call (0.15 us of every op)
_UNRECORDED = [type("_UnrecordedCtx", (_UnrecordedCtx,), {"__init__": object.__init__,
                                                          "needs_input_grad": (False,) * n}) for n in range(8)]


# A tensor saved for backward is a tuple ``(tensor, data, backend, version counter,
# version when saved, output_nr, role)`` (a tuple: no object to build per saved tensor).
# An input is kept as the tensor; an output of the saving node as its data only
# (``tensor`` None), re-wrapped on unpack, so ``output -> grad_fn -> saved output``
# never forms a reference cycle.  ``role`` is ("input", i) or ("output", i), for
# ``grad_fn._saved_self`` and kin; None where the saved tensor is neither.


def _unpack(entry, node):
    if entry[3][0] != entry[4]:
        raise _modified(entry, node)
    if type(entry[0]) is Packed:
        return entry[0].unpack()
    if entry[0] is not None:
        return entry[0]
    return Tensor._make(entry[1], True, node, entry[5], entry[3], entry[2])


def _modified(entry, node):
    """The error for a saved tensor that an in-place op changed since it was saved."""
    t, data, _, counter, version, output_nr, _ = entry
    shape = list(t.shape) if t is not None else list(data.shape)
    # PyTorch names the node whose output the tensor is: the saving node for its own output,
    # the tensor's grad_fn now for an input (none: a leaf, or a tensor outside the graph),
    # without the "Backward0" of its class name
    producer, number = (node, output_nr) if t is None else (t.grad_fn, t._output_nr)
    which = "" if producer is None else f", which is output {number or 0} of {_op_name(producer)},"
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: [{_type_name(t, data)} {shape}]{which} is at version {counter[0]}; expected "
        f"version {version} instead. Hint: enable anomaly detection to find the operation that failed to "
        "compute its gradient, with tinytape.autograd.set_detect_anomaly(True, check_nan=False).")


# nodes whose name() PyTorch gives with their C++ namespace (their class name is without it)
_NAMESPACED = {"CopyBackwards": "torch::autograd::CopyBackwards", "CopySlices": "torch::autograd::CopySlices",
               "Error": "torch::autograd::Error"}


def _op_name(node):
    name = node.name()
    cut = name.rfind("Backward")
    return name[:cut] if cut > 0 and name[cut + len("Backward"):].isdigit() else name


def _type_name(tensor, data):
    from .._tensor import type_name
    return type_name(tensor.dtype if tensor is not None else data.dtype)


class FunctionMeta(type):
    """Gives each Function its own BackwardNode subclass, named as PyTorch names it:
    ``grad_fn_name`` for built-ins (``MulBackward0``), ``<Name>Backward`` for user ones."""

    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        node_name = attrs.get("grad_fn_name", name + "Backward")
        if "vjp" in attrs and "backward" not in attrs:  # vjp is backward's other name
            cls.backward = attrs["vjp"]
        # forward(*args) with a separate setup_context(ctx, inputs, output), or forward(ctx, *args)
        cls._setup_context_style = "setup_context" in attrs or any(
            getattr(base, "_setup_context_style", False) for base in bases)
        cls._backward_cls = type(node_name, (BackwardNode,), {"_function": cls, "__module__": cls.__module__})


class Function(metaclass=FunctionMeta):
    """Subclass with ``@staticmethod forward(ctx, *args)`` and ``backward(ctx, *grads)``;
    call with ``MyFunction.apply(*args)``."""

    # True where forward calls backend kernels only, never an op that would record itself
    # (the op table's, mm, sum...): grad mode then needs no switching off around it
    _forward_runs_kernels_only = False

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        raise NotImplementedError("You must implement the jvp function for custom autograd.Function to use it "
                                  "with forward mode AD.")

    def __call__(self, *args):
        """The pre-0.4 style: ``relu = MyReLU(); relu(x)`` with ``forward(self, input)`` and
        ``backward(self, grad_output)``.  The instance's attributes are copied onto the tape
        entry, which is the ``self`` that forward and backward then see."""
        warnings.warn(
            f"{type(self).__name__}: calling an autograd.Function instance is the pre-0.4 style; "
            "make forward/backward @staticmethods taking ctx and call "
            f"{type(self).__name__}.apply(...)", DeprecationWarning, stacklevel=2)
        return type(self)._run(args, vars(self))

    @classmethod
    def apply(cls, *args):
        return cls._run(args, None)

    @classmethod
    def _run(cls, args, state):
        tapes = _tape_local.stack
        if tapes:
            outer_label = tapes[-1].label  # (put back after: code between ops is not this op's)
            note_op(cls)  # labels the kernels an open Tape records next
        if _dual.active and carries_tangent(args):  # forward-mode AD: the outputs' tangents too
            from .forward_ad import run_dual
            return run_dual(cls, args, state)
        enabled = _state.enabled
        if enabled:  # record when some input requires grad (up to three operands: no loop, no generator)
            n = len(args)
            if n == 2:
                a, b = args
                needs = _NEEDS_2[not (isinstance(a, Tensor) and a._requires_grad)][
                    not (isinstance(b, Tensor) and b._requires_grad)]
                record = needs is not _NEEDS_NONE
            elif n == 1:
                a = args[0]
                record = isinstance(a, Tensor) and a._requires_grad
                needs = _NEEDS_1[not record]
            elif n == 3:  # clamp, where, a loss with its target and weight
                a, b, c = args
                needs = (isinstance(a, Tensor) and a._requires_grad, isinstance(b, Tensor) and b._requires_grad,
                         isinstance(c, Tensor) and c._requires_grad)
                record = needs[0] or needs[1] or needs[2]
            else:
                needs = tuple([isinstance(a, Tensor) and a._requires_grad for a in args])
                record = True in needs
            if record:
                ctx = cls._backward_cls()
                ctx.needs_input_grad = needs
            else:
                ctx = _UNRECORDED[n]() if n < 8 else _UnrecordedCtx(n)
        else:
            ctx = _UNRECORDED[len(args)]() if len(args) < 8 else _UnrecordedCtx(len(args))
        if state:
            ctx.__dict__.update(state)
        if not enabled or cls._forward_runs_kernels_only:  # nothing inside to keep off the tape
            outputs = cls.forward(ctx, *args) if not cls._setup_context_style else _forward_then_setup(cls, ctx, args)
        else:
            _state.enabled = False
            try:
                outputs = (cls.forward(ctx, *args) if not cls._setup_context_style
                           else _forward_then_setup(cls, ctx, args))
            finally:
                _state.enabled = enabled
        if enabled and record:
            outputs = _record(ctx, args, outputs)
        if tapes:
            tapes[-1].label = outer_label
        return outputs


def _forward_then_setup(cls, ctx, args):
    outputs = cls.forward(*args)
    cls.setup_context(ctx, args, outputs)
    return outputs


# needs_input_grad of one and two operands, shared by every entry (no tuple kept per entry),
# indexed by ``not`` of each operand's flag (a bool, whatever true value requires_grad holds)
_NEEDS_1 = ((True,), (False,))
_NEEDS_2 = (((True, True), (True, False)), ((False, True), (False, False)))
_NEEDS_NONE = _NEEDS_2[True][True]
_NO_OUTPUT_NRS = (0, 0)  # the next_nrs of two operands that are each their producer's output 0 (or leaves)
_OUTPUT_NR = tuple((nr,) for nr in range(8))  # the next_nrs of one operand


def _record(node, args, outputs):
    """Wire ``node`` into the tape: edges to the inputs, ``grad_fn`` on the outputs.
    Runs once per recorded op: plain loops, no generator expressions or helper calls
    per operand (each costs ~0.3 us)."""
    node.seq = _next_seq()
    if len(args) == 2:  # most ops: the two operands' edges and metadata without building lists
        a, b = args
        if isinstance(a, Tensor):
            target_a = a._grad_fn
            if target_a is not None:  # a recorded tensor: its producer's record of its shape
                nr_a = a._output_nr
                shape_a, dtype_a = target_a.output_shapes[nr_a], target_a.output_dtypes[nr_a]
            else:
                data = a._data
                target_a, nr_a, shape_a, dtype_a = (a if a._requires_grad else None), 0, data.shape, data.dtype
        else:
            target_a = shape_a = dtype_a = None
            nr_a = 0
        if isinstance(b, Tensor):
            target_b = b._grad_fn
            if target_b is not None:
                nr_b = b._output_nr
                shape_b, dtype_b = target_b.output_shapes[nr_b], target_b.output_dtypes[nr_b]
            else:
                data = b._data
                target_b, nr_b, shape_b, dtype_b = (b if b._requires_grad else None), 0, data.shape, data.dtype
        else:
            target_b = shape_b = dtype_b = None
            nr_b = 0
        node.next_nodes, node.next_nrs = (target_a, target_b), (nr_a, nr_b) if nr_a or nr_b else _NO_OUTPUT_NRS
        node.input_shapes, node.input_dtypes = (shape_a, shape_b), (dtype_a, dtype_b)
    elif len(args) == 1:  # unary ops: the same, for one operand
        a = args[0]
        target = a._grad_fn
        if target is not None:
            nr = a._output_nr
            node.next_nodes, node.next_nrs = (target,), _OUTPUT_NR[nr] if nr < 8 else (nr,)
            node.input_shapes, node.input_dtypes = (target.output_shapes[nr],), (target.output_dtypes[nr],)
        else:  # a leaf (``_run`` records only for a tensor input that requires grad)
            data = a._data
            node.next_nodes, node.next_nrs = (a,), _OUTPUT_NR[0]
            node.input_shapes, node.input_dtypes = (data.shape,), (data.dtype,)
    elif len(args) == 3 and not isinstance(args[1], Tensor) and not isinstance(args[2], Tensor):
        # a tensor and two settings (a reduction's dims and keepdim, split's dim and pieces)
        a = args[0]
        target = a._grad_fn
        if target is not None:
            nr = a._output_nr
            node.next_nodes, node.next_nrs = (target, None, None), (nr, 0, 0)
            node.input_shapes, node.input_dtypes = (target.output_shapes[nr], None, None), \
                (target.output_dtypes[nr], None, None)
        else:
            data = a._data
            node.next_nodes, node.next_nrs = (a, None, None), (0, 0, 0)
            node.input_shapes, node.input_dtypes = (data.shape, None, None), (data.dtype, None, None)
    else:
        targets, nrs, shapes, dtypes = [], [], [], []
        for a in args:
            if isinstance(a, Tensor):
                producer = a._grad_fn
                if producer is not None:
                    nr = a._output_nr
                    targets.append(producer)
                    nrs.append(nr)
                    shapes.append(producer.output_shapes[nr])
                    dtypes.append(producer.output_dtypes[nr])
                else:
                    targets.append(a if a._requires_grad else None)
                    nrs.append(0)
                    shapes.append(a._data.shape)
                    dtypes.append(a._data.dtype)
            else:
                targets.append(None)
                nrs.append(0)
                shapes.append(None)
                dtypes.append(None)
        node.next_nodes, node.next_nrs = tuple(targets), tuple(nrs)
        node.input_shapes, node.input_dtypes = tuple(shapes), tuple(dtypes)
    if node._dirty:
        _take_dirty_inputs(node, args, outputs)
    if type(outputs) is Tensor and not node._non_differentiable and not node._dirty:  # one output: most ops
        out = outputs
        for a in args:
            if a is out:
                out = out._alias()  # forward returned an input: the output is a new tensor
                break
        out._grad_fn, out._output_nr, out._requires_grad = node, 0, True
        data = out._data
        node.output_shapes, node.output_dtypes = (data.shape,), (data.dtype,)
        node.device = out._backend.device
        wired = (out,)
    else:
        wired = _wire_outputs(node, args, outputs)
    to_save = node._to_save
    if to_save:
        saved = []
        first_out = wired[0] if wired else None
        for t in to_save:  # most saves are the output or the first operands: tested first
            if t is None:
                saved.append(None)
            elif t is first_out and t._grad_fn is node:
                saved.append((None, t._data, t._backend, t._version_counter, t._version_counter[0], 0, _FIRST_OUTPUT))
            elif args and t is args[0]:
                saved.append((t, None, None, t._version_counter, t._version_counter[0], None, _FIRST_INPUT))
            elif len(args) > 1 and t is args[1]:
                saved.append((t, None, None, t._version_counter, t._version_counter[0], None, _SECOND_INPUT))
            else:
                saved.append(_saved(t, args, wired))
        hooks = current_hooks() if open_hooks[0] else None
        if hooks is not None:  # each saved tensor through the pack hook, its version no longer checked
            saved = [e if e is None or type(e[3]) is NumberVersion else
                     (Packed(pack(hooks[0], t if e[0] is not None else wired[e[5]]), hooks[1]),
                      None, None, _UNCHECKED, 0, e[5], e[6]) for e, t in zip(saved, to_save)]
        node._saved = saved
        node._to_save = ()
    if _anomaly._state.enabled:
        node._forward_stack = _anomaly.forward_stack()
    return wired[0] if type(outputs) is not tuple else tuple(wired)


_SAVED_ROLES = {"_saved_self": ("input", 0), "_saved_input": ("input", 0), "_saved_other": ("input", 1),
                "_saved_mat2": ("input", 1), "_saved_vec": ("input", 1), "_saved_result": ("output", 0)}



from .once_differentiable import once_differentiable  # noqa: E402,F401  (PyTorch's home for it)
