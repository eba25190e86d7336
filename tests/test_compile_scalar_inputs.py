"""Number arguments of a compiled function: used as data for tensor ops they are program
inputs (a new value replays the same program, bit for bit as eager); read as values
(a branch, ``float(s)``, a size) they are constants of the program, guarded by value."""
import math
import warnings

import numpy as np
import pytest

import tinytape as torch
import tinytape.nn.functional as F


def _bits(t):
    return np.ascontiguousarray(t.detach().cpu().numpy()).view(np.uint8).tobytes()


def _same(a, b, nan_bits=True):
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape
        if not nan_bits:  # a nan's sign and payload: the fused loops' own (as for tensor arguments)
            a, b = (t.detach().nan_to_num(nan=7.0, posinf=math.inf, neginf=-math.inf) for t in (a, b))
        assert _bits(a) == _bits(b)
    elif isinstance(a, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y, nan_bits)
    else:
        assert type(a) is type(b) and (a == b or a != a and b != b), (a, b)


def _run(fn, calls, *, programs=None, nan_bits=True, kwargs=False):
    """Each call's arguments to ``fn`` compiled and eager: the same results, bit for bit;
    returns the compiled function."""
    compiled = torch.compile(fn, fullgraph=True)
    for args in calls:
        args, kw = args if kwargs else (args, {})
        _same(compiled(*args, **kw), fn(*args, **kw), nan_bits)
    if programs is not None:
        assert compiled.traces == programs
        assert sum(len(v) for v in compiled.programs.values()) == programs
    return compiled


def _values(n=24):
    return [0.3 + 0.173 * i * (-1) ** i for i in range(n)]


def test_learning_rate_argument_replays_one_program():
    torch.manual_seed(0)
    x, y = torch.randn(8, 5), torch.randn(8, 2)
    w_c = torch.randn(5, 2, requires_grad=True)
    w_e = w_c.detach().clone().requires_grad_(True)

    def make(w):
        def step(x, y, lr):
            loss = (x.mm(w) - y).pow(2).mean()
            loss.backward()
            with torch.no_grad():
                for p in (w,):
                    p -= lr * p.grad
            w.grad = None
            return loss
        return step

    compiled, eager = torch.compile(make(w_c), fullgraph=True), make(w_e)
    for lr in _values():
        _same(compiled(x, y, lr), eager(x, y, lr))
        _same(w_c, w_e)
    assert compiled.traces == 1 and sum(len(v) for v in compiled.programs.values()) == 1
    assert compiled.value_args == set()


def test_expressions_of_arguments():
    torch.manual_seed(1)
    x = torch.randn(4, 6)

    def f(x, s, beta):
        a = x * (s * 0.5) + (1 - beta) * x - s ** 2 + (-s) / 3
        b = torch.clamp(x, max=s) - x.clamp(min=-beta) * beta ** 3
        return a + b / (2 + abs(s)), x.sub(x, alpha=s) + s // 0.25 + s % 0.3

    _run(f, [(x, s, 0.9 + s / 10) for s in _values()], programs=1)


def test_in_place_updates_with_alpha_and_backward_through_scalars():
    torch.manual_seed(2)
    p_c = torch.randn(3, 4, requires_grad=True)
    p_e = p_c.detach().clone().requires_grad_(True)
    x = torch.randn(3, 4)

    def make(p):
        def step(x, lr, t):
            loss = ((p * t).clamp(max=t) * x - t).sum()
            loss.backward()
            with torch.no_grad():
                p.add_(p.grad, alpha=-lr)
                p.mul_(1 - lr * 0.01)
            p.grad = None
            return loss
        return step

    compiled, eager = torch.compile(make(p_c), fullgraph=True), make(p_e)
    for i, lr in enumerate(_values()):
        t = 0.5 + 0.01 * i
        _same(compiled(x, lr, t), eager(x, lr, t))
        _same(p_c, p_e)
    assert compiled.traces == 1


@pytest.mark.filterwarnings("ignore:overflow encountered in cast")  # (1e300 into float32: eager's warning too)
def test_special_values_replay_as_eager():
    x = torch.tensor([1.0, -2.0, 0.0, 3.5])

    def f(x, s):
        return x * s, s - x, x / (s + 1)

    _run(f, [(x, s) for s in (0.5, -0.0, 0.0, math.inf, -math.inf, math.nan, 1e300, -1.0, 2.5)], programs=1,
         nan_bits=False)


def test_int_and_float_arguments_are_different_signatures():
    x = torch.tensor([1.5, -2.0, 3.0])
    xi = torch.tensor([1, -2, 3])

    def f(x, n):
        return x * n + n, x - n * 2

    compiled = _run(f, [(x, 2), (x, 3), (x, 2.0), (x, 3.0), (x, -7), (x, 0.5)])
    assert compiled.traces == 2  # one program for int, one for float
    # an integer tensor with an int: integer arithmetic, the value a constant where it wraps
    _run(f, [(xi, 2), (xi, 3), (xi, -4), (xi, 2.5)])


def test_expression_that_fails_or_changes_type_runs_eagerly():
    x = torch.tensor([1.0, 2.0])

    def f(x, s):
        return x * (1 / s), x * (s ** 0.5)

    compiled = torch.compile(f)
    _same(compiled(x, 4.0), f(x, 4.0))
    _same(compiled(x, 9.0), f(x, 9.0))
    with pytest.raises(ZeroDivisionError):
        compiled(x, 0.0)  # eager's error, from eager's line
    _same(compiled(x, -1.0), f(x, -1.0))  # (-1) ** 0.5 is complex: a complex product, as eager's
    _same(compiled(x, 16.0), f(x, 16.0))
    assert compiled.traces == 1


def _reads(kind):
    def branch(x, s):
        if s > 0.6:
            return x * s
        return x - s

    def as_float(x, s):
        return x * float(s) + float(s)

    def with_math(x, s):
        return x * math.exp(s)

    def formatted(x, s):
        return x * len(f"{s}")

    def type_check(x, s):
        return x * s if isinstance(s, float) else x

    def as_dim(x, n):
        return x.sum(n % 2)

    def as_shape(x, n):
        return x.view(n, -1).sum(0)

    def as_range(x, n):
        out = x
        for _ in range(n):
            out = out * 2
        return out

    def with_numpy(x, s):
        return x * float(np.float32(2) * s), x + np.sqrt(s)

    def returned(x, s):
        return x * s, s * 2

    return {"branch": branch, "float": as_float, "math": with_math, "format": formatted,
            "isinstance": type_check, "dim": as_dim, "shape": as_shape, "range": as_range,
            "numpy": with_numpy, "returned": returned}[kind]


@pytest.mark.parametrize("kind", ["branch", "float", "math", "format", "numpy", "returned", "isinstance"])
def test_read_values_are_guarded_constants(kind):
    fn = _reads(kind)
    x = torch.tensor([[1.0, -2.0], [0.5, 4.0]])
    compiled = _run(fn, [(x, s) for s in (0.25, 0.75, 1.5, 0.25, 0.75)])
    if kind == "isinstance":  # the type is part of the signature: not a read
        assert compiled.value_args == set() and compiled.traces == 1
    else:
        assert compiled.value_args == {1} and compiled.traces == 3


def test_a_number_kept_by_the_function_is_the_number():
    class Box:
        pass
    box_c, box_e, obj_c, obj_e = [], [], Box(), Box()

    def make(box, obj):
        def f(x, s):
            box.append(s)
            obj.last = s * 2
            return x * s
        return f

    x = torch.tensor([1.0, 2.0])
    compiled = torch.compile(make(box_c, obj_c))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (Python state changed on every call: eager)
        for s in (0.5, 0.7, 0.9):
            _same(compiled(x, s), make(box_e, obj_e)(x, s))
            assert type(obj_c.last) is float and obj_c.last == obj_e.last
    assert box_c == box_e and all(type(v) is float for v in box_c)


@pytest.mark.parametrize("kind", ["dim", "shape", "range"])
def test_ints_used_as_sizes_are_guarded_constants(kind):
    fn = _reads(kind)
    x = torch.arange(12.0)
    if kind == "dim":
        x = x.view(3, 4)
    compiled = _run(fn, [(x, n) for n in (2, 3, 4, 2, 3)])
    assert compiled.value_args == {1} and compiled.traces == 3


def test_type_in_the_code_keeps_plain_numbers():
    def f(x, s):
        return x * s if type(s) is float else x  # type() can't be hooked: constants

    x = torch.tensor([1.0, 3.0])
    compiled = _run(f, [(x, 0.5), (x, 1.5), (x, 0.5)])
    assert compiled.traces == 2 and not compiled.scalar_inputs


def test_keyword_arguments_are_inputs_and_bools_constants():
    x = torch.tensor([1.0, 3.0])

    def f(x, flag, s=1.0):
        return x * s if flag else x - s

    compiled = _run(f, [(x, True), (x, False), (x, True)])
    assert compiled.traces == 2  # a bool is a constant
    c2 = torch.compile(f, fullgraph=True)
    for s in (0.5, 0.25, 0.5, 2.0, -1.0):
        _same(c2(x, True, s=s), f(x, True, s=s))
        _same(c2(x, False, s=s), f(x, False, s=s))
    _same(c2(x, True), f(x, True))  # the default: a constant of the function
    assert c2.traces == 3 and c2.value_args == set()

    def g(x, *, beta):
        return x * (1 - beta) if beta < 0.9 else x

    c3 = _run(g, [((x,), {"beta": b}) for b in (0.5, 0.95, 0.5)], kwargs=True)
    assert c3.value_args == {"beta"} and c3.traces == 2


def test_numbers_in_a_namedtuple_result_are_numbers():
    import collections
    Out = collections.namedtuple("Out", "y scale")

    def f(x, s):
        return Out(x * s, s * 2)

    x = torch.tensor([1.0, 2.0])
    compiled = _run(f, [(x, 0.5), (x, 0.25), (x, 0.5)])
    result = compiled(x, 0.25)
    assert type(result) is Out and type(result.scale) is float and result.scale == 0.5
    assert compiled.value_args == {1}


def test_no_warning_over_many_values():
    x = torch.randn(3)

    def f(x, temperature):
        return (x / temperature).softmax(0)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _run(f, [(x, 0.1 + 0.05 * i) for i in range(30)], programs=1)


@pytest.mark.gpu
def test_cuda_programs_keep_numbers_as_guarded_constants():
    # on CUDA a number travels in the generated kernel's code: a constant of the program
    x = torch.tensor([1.0, -2.0, 3.0]).cuda()

    def f(x, lr):
        return (x * lr + 1 - lr).clamp(max=lr)

    compiled = _run(f, [(x, s) for s in (0.5, 1.5, 0.5, 2.0)])
    assert compiled.value_args == {1} and compiled.traces == 3


_X = torch.tensor([[0.5, -1.25, 2.0], [-0.75, 3.0, 0.0]])
_Y = torch.tensor([[1.0, 0.25, -2.0], [0.5, -0.5, 1.5]])
_OPS = {
    "add_alpha": lambda x, s: torch.add(x, _Y, alpha=s) + x.sub(_Y, alpha=1 - s),
    "where_fill": lambda x, s: torch.where(x > 0, x, s) + x.masked_fill(x < 0, -s),
    "activations": lambda x, s: F.leaky_relu(x, s) + F.elu(x, alpha=s) + F.threshold(x, s, 0.0),
    "power_of_number": lambda x, s: s ** x,
    "in_place": lambda x, s: x.clone().mul_(s).div_(s + 1).add_(s).sub_(s * 2).clamp_(min=-s),
    "fill": lambda x, s: x.clone().fill_(s) * x,
    "compare": lambda x, s: (x > s).float() + x.lt(s).float() + (x == s).float(),
    "softmax_mse": lambda x, s: F.softmax(x / s, dim=1) + F.mse_loss(x * s, _Y),
    "nan_to_num": lambda x, s: (x / 0).nan_to_num(nan=s, posinf=s * 2),
    "half": lambda x, s: (x.half() * s + s).float(),
    "integer_tensor": lambda x, s: torch.tensor([3, -4, 5]) / s + torch.tensor([1, 2, 3]) * s,
}


@pytest.mark.parametrize("name", sorted(_OPS))
def test_ops_taking_a_number_replay_one_program(name):
    _run(_OPS[name], [(_X, s) for s in (0.5, 1.5, 0.75, 2.0, 1.0)], programs=1)


def test_alpha_where_it_is_not_a_factor_of_a_tensor_is_read():
    x, x64 = torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0], dtype=torch.float64)

    def f(x, s):
        return x.clone().add_(2.0, alpha=s), x.clone().sub_(x64, alpha=s)

    compiled = _run(f, [(x, s) for s in (2.0, 3.0, 1.0, 2.0)])
    assert compiled.value_args == {1} and compiled.traces == 3


def test_long_program_in_parts_reads_its_number_inputs():
    torch.manual_seed(3)
    w_c = torch.randn(8, requires_grad=True)
    w_e = w_c.detach().clone().requires_grad_(True)
    x = torch.randn(8)

    def make(w):
        def f(x, s, t):  # a time step repeated: compiled in parts (more than 300 calls)
            h = x
            for _ in range(30):
                h = (h * w * s + t).tanh() * (1 - s * 0.01)
            loss = h.sum()
            loss.backward()
            with torch.no_grad():
                w.add_(w.grad, alpha=-s)
            w.grad = None
            return loss
        return f

    compiled, eager = torch.compile(make(w_c), fullgraph=True), make(w_e)
    for i in range(5):
        s, t = 0.3 + 0.1 * i, 0.05 * i
        _same(compiled(x, s, t), eager(x, s, t))
        _same(w_c, w_e)
    assert compiled.traces == 1 and len(next(iter(compiled.programs.values()))[0].program.capture.calls) > 300


@pytest.mark.parametrize("with_number", [False, True])
def test_program_is_kept_under_the_signature_before_its_trace(with_number):
    """The trace's backward makes the argument's ``.grad``: the program (which sets ``.grad``)
    belongs to the calls without one, and the next call (with one, which it must accumulate
    into) traces its own."""
    def make(w):
        def f(p, s=1.0):
            loss = (p @ w * s).sum()
            loss.backward()
            return loss
        return f

    w_c, w_e = (torch.tensor(np.arange(9.0, dtype=np.float32).reshape(3, 3) / 7, requires_grad=True) for _ in "ce")
    compiled, eager = torch.compile(make(w_c)), make(w_e)
    for s in (0.5, 1.5, 2.5):
        args_c, args_e = ((w_c, s), (w_e, s)) if with_number else ((w_c,), (w_e,))
        _same(compiled(*args_c), eager(*args_e))
        _same(w_c.grad, w_e.grad)
