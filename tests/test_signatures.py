"""Call signatures as PyTorch's: keyword names (``input=``, ``other=``, ``dims=``, ``size=``...),
what PyTorch refuses (unknown keywords, extra or missing positionals), ``out=`` on the functions
that take it, the dtypes an op refuses (``abs`` of a bool tensor...), odd shapes (0-d and empty
tensors), ``torch.__version__``, ``Tensor._version`` and ``F.softmax``'s ``_stacklevel``.

Each test evaluates a list of calls under tinytape and compares each outcome with PyTorch's
recorded one: a tensor by shape, dtype and values; an exception by its type and the start of
its message."""
import warnings

import numpy as np
import pytest

import tinytape
from pytorch_answers import pytorch


def _describe(r):
    if hasattr(r, "shape") and hasattr(r, "dtype") and hasattr(r, "detach"):
        values = r.detach().double().reshape(-1)[:6].tolist()
        return ["tensor", list(r.shape), str(r.dtype).split(".")[-1], [repr(round(v, 5)) for v in values]]
    if isinstance(r, (tuple, list)):
        return [type(r).__name__, [_describe(t) for t in r][:4]]
    return ["value", repr(r)[:60].replace("tinytape.", "torch.")]


def _outcomes(torch, calls, setup):
    """{call: what it gives} for each expression in ``calls``, evaluated with ``setup``'s names."""
    out = {}
    for call in calls:
        names = setup(torch)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                out[call] = _describe(eval(call, names))
            except Exception as e:  # noqa: BLE001  (the outcome compared is the exception)
                out[call] = ["raises", type(e).__name__, str(e).split("\n")[0]]
    return out


def _compare(ours, theirs):
    """The calls whose outcome differs: another result, or another exception type or a message
    without PyTorch's first 40 characters (ours may name the op before PyTorch's words and the
    shapes after them)."""
    differ = {}
    for call, want in theirs.items():
        got = ours[call]
        if want[0] == "raises" and got[0] == "raises":
            if got[1] != want[1] or want[2][:40] not in got[2]:
                differ[call] = (got, want)
        elif got != want:
            differ[call] = (got, want)
    return differ


def _setup(torch):
    x = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    return {"torch": torch, "F": torch.nn.functional, "x": x, "y": torch.tensor([[1.0, 2.0, -1.0], [0.5, -0.5, 3.0]]),
            "v": torch.tensor([1.0, -2.0, 3.0]), "w": torch.tensor([0.5, 1.0, -1.0]),
            "m": torch.tensor([[1.0, 2.0], [3.0, 4.0]]), "b3": torch.ones(2, 2, 2), "msk": x > 0,
            "idx": torch.tensor([[0, 1, 0], [1, 0, 1]]), "li": torch.tensor([0, 2, 1]),
            "b": torch.tensor([[True, False, True], [False, True, True]]), "b0": torch.tensor(True),
            "i": torch.tensor([[1, -2, 3], [4, 0, -6]]), "s0": torch.tensor(2.5),
            "e": lambda *s, **k: torch.empty(0, **k)}


KEYWORDS = [
    # the functions' names
    "torch.add(input=x, other=y)", "torch.add(x, other=y, alpha=2)", "torch.sub(input=x, other=y)",
    "torch.mul(input=x, other=2)", "torch.div(input=x, other=y)", "torch.pow(input=x, exponent=2)",
    "torch.pow(self=2, exponent=x)", "torch.sum(input=x)", "torch.sum(input=x, dim=0)", "torch.mean(input=x, dim=1)",
    "torch.max(input=x)", "torch.max(input=x, dim=1)", "torch.max(input=x, other=y)", "torch.argmax(input=x, dim=1)",
    "torch.unsqueeze(input=x, dim=0)", "torch.squeeze(input=x)", "torch.reshape(input=x, shape=(3, 2))",
    "torch.flatten(input=x, start_dim=0)", "torch.mm(input=x, mat2=x.t())", "torch.bmm(input=b3, mat2=b3)",
    "torch.matmul(input=x, other=x.t())", "torch.clamp(input=x, min=0)", "torch.norm(input=x)",
    "torch.transpose(input=x, dim0=0, dim1=1)", "torch.permute(x, dims=(1, 0))", "torch.cat(tensors=[x, y], dim=0)",
    "torch.stack(tensors=[x, y])", "torch.where(condition=msk, input=x, other=y)",
    "torch.split(x, split_size_or_sections=1)",
    "torch.split(tensor=x, split_size_or_sections=1)", "torch.gather(input=x, dim=1, index=idx)",
    "torch.topk(input=v, k=2)", "torch.sort(input=v, dim=0, descending=True)", "torch.cumsum(input=x, dim=1)",
    "torch.softmax(input=x, dim=1)", "torch.exp(input=x)", "torch.abs(input=x)", "torch.relu(input=x)",
    "torch.zeros(size=(2, 3))", "torch.ones(size=(2,))", "torch.full(size=(2,), fill_value=3.0)",
    "torch.arange(start=0, end=5, step=2)", "torch.eye(n=2)", "torch.zeros_like(input=x)", "torch.numel(input=x)",
    "torch.add(x1=x, x2=y)", "torch.add(x=x, other=y)", "torch.sum(a=x)", "torch.sum(x, axis=0, keepdims=True)",
    "torch.chunk(input=x, chunks=2, dim=1)", "torch.index_select(input=x, dim=1, index=li)",
    "torch.dot(input=v, tensor=w)",
    "torch.outer(input=v, vec2=w)", "torch.mv(input=x, vec=v)", "torch.einsum('ij->ji', x)",
    "torch.lerp(input=x, end=y, weight=0.5)",
    # the Tensor methods' names
    "x.add(other=y)", "x.add(y, alpha=2)", "x.permute(dims=(1, 0))", "x.permute(1, 0)", "x.expand(size=(2, 2, 3))",
    "x.view(size=(3, 2))", "x.reshape(shape=(3, 2))", "x.new_zeros(size=(2,))", "x.new_ones(size=(2,))",
    "x.new_full(size=(2,), fill_value=3.0)", "x.new_empty(size=(2,)).shape", "x.split(split_size=1)",
    "x.mm(mat2=x.t())",
    "x.unsqueeze(dim=0)", "x.sum(dim=0, keepdim=True)", "x.max(dim=0)", "x.pow(exponent=2)", "x.clamp(min=0, max=1)",
    "x.transpose(dim0=0, dim1=1)", "x.chunk(chunks=2, dim=1)", "x.gather(dim=1, index=idx)",
    "x.masked_fill(mask=msk, value=0.0)",
    "x.repeat(repeats=(2, 1))", "x.flip(dims=(0,))", "x.matmul(other=x.t())", "x.index_select(dim=1, index=li)",
    "x.requires_grad_(requires_grad=True).requires_grad", "x.type_as(other=li)", "x.view_as(other=y)",
    "x.softmax(dim=1)",
    "x.clone().uniform_(**{'from': 0, 'to': 1}).shape",
    # what PyTorch refuses
    "x.permute()", "x.reshape()", "x.expand()", "x.view()", "torch.zeros()", "x.add(x, 2)", "torch.add(x, x, 2)",
    "x.sum(input=x)", "x.sum(zzz=1)", "torch.sum(x, zzz=1)", "F.relu(x, zzz=1)", "F.one_hot(tensor=li)",
    "F.one_hot(input=li)", "torch.sort(x, 0, stable=True)", "torch.sort(x, stable=True, dim=0)",
    "x.uniform_(from_=0, to=1)",
    "x.requires_grad_(mode=True)", "torch.numel(self=x)", "torch.add(input=x, zz=y)",
]

OUT = [
    "torch.zeros(2, out=e())", "torch.zeros(2, 3, out=e(dtype=torch.int64))",
    "torch.ones(3, out=e(dtype=torch.float64))",
    "torch.arange(5, out=e(dtype=torch.float64))", "torch.arange(1, 4, out=e(dtype=torch.int64))",
    "torch.full((2,), 7., out=e(dtype=torch.float64))", "torch.linspace(0, 1, 5, out=e())", "torch.eye(2, out=e())",
    "torch.empty(2, out=e()).shape", "torch.max(x, 1, out=(e(), e(dtype=torch.int64)))",
    "type(torch.max(x, 1, out=(e(), e(dtype=torch.int64)))).__name__",
    "type(torch.sort(x, out=(e(), e(dtype=torch.int64)))).__name__",
    "type(torch.topk(v, 2, out=(e(), e(dtype=torch.int64)))).__name__",
    "torch.sort(x, 1, out=(e(), e(dtype=torch.int64)))",
    "torch.kthvalue(v, 1, 0, out=(e(), e(dtype=torch.int64)))", "torch.median(x, 1, out=(e(), e(dtype=torch.int64)))",
    "torch.cummax(x, 1, out=(e(), e(dtype=torch.int64)))", "torch.std(x, 1, out=e())", "torch.abs(x, out=e())",
    "torch.softmax(x, 1, out=e()).shape", "torch.floor_divide(x, 2, out=e())",
    "torch.logical_not(x, out=e(dtype=torch.bool))",
    "torch.all(x, 1, out=e(dtype=torch.bool))", "torch.diag(x, out=e())", "torch.linalg.norm(x, out=e())",
    "torch.relu(x, out=e())", "torch.isnan(x, out=e())", "torch.flatten(x, out=e())",
    "torch.reshape(x, (3, 2), out=e())",
    "torch.trace(m, out=e())", "torch.roll(x, 1, out=e())", "x.add(x, out=e())", "torch.median(x, out=e())",
]

DTYPES = [f"torch.{name}({t})" for t in ("b", "b0") for name in (
    "abs", "floor", "ceil", "round", "trunc", "relu", "argmax", "argmin", "median", "nanmedian", "trace", "square",
    "neg", "std_mean", "var_mean", "sort", "msort")] + [
    "torch.topk(b.flatten(), 1)", "torch.kthvalue(b.flatten(), 1)", "torch.mm(b, b.t())", "torch.matmul(b, b.t())",
    "b[0] @ b[0]", "b @ b.t()", "torch.bmm(b[None], b.t()[None])", "torch.dot(b[0], b[0])", "torch.mv(b, b[0])",
    "torch.cross(b, b, 1)", "torch.bincount(b.flatten())", "torch.trace(b[:, :2])", "abs(b)", "-b",
    "F.relu(b)", "F.gelu(b)", "F.gelu(i)", "F.silu(b)", "F.silu(i)", "F.hardtanh(b)", "F.relu6(b)", "F.dropout(b)",
    "F.dropout(i)", "F.layer_norm(i, (3,))", "F.softmax(b, 0)", "F.softmax(i, 1)", "torch.mean(i)",
    "torch.det(i[:, :2])",
    "torch.std_mean(i)", "torch.frac(b)", "torch.histc(b)", "torch.histc(i)"] + [
    f"{a} {op} {c}" for op in ("-", "//", "**", "%", "/", "+", "*")
    for a, c in (("b", "b"), ("b", "True"), ("True", "b"), ("b", "b0"), ("b0", "b"), ("b0", "b0"), ("b", "2"),
                 ("b", "i"))
    if not (op == "**" and c == "i")] + [  # an integer 0 ** -2 is 0 in PyTorch, 1 here: not a dtype rule
    f"torch.{name}(b, {c})" for name in ("pow", "floor_divide", "remainder", "fmod", "sub", "maximum")
    for c in ("b", "b0", "i")
    if not (name == "pow" and c == "i")]

SHAPES = [
    "s0.gather(-1, torch.zeros_like(s0, dtype=torch.long))", "s0.gather(0, torch.zeros(1, dtype=torch.long))",
    "torch.arange(3.).gather(0, torch.tensor(1))", "s0.index_select(0, torch.tensor([0]))",
    "torch.take_along_dim(s0, torch.zeros_like(s0, dtype=torch.long), 0)", "torch.zeros(2, 0).chunk(2, -1)",
    "torch.zeros(2, 0).chunk(3, 1)", "torch.zeros(0).chunk(3)", "torch.arange(5).chunk(3)",
    "torch.tensor(3.).chunk(1)",
    "torch.zeros(2, 0)[:, [0]]", "torch.tensor(1.)[[0]]", "torch.zeros(2, 3)[:, 5]", "torch.zeros(2, 3)[[5]]",
    "torch.zeros(3)[torch.tensor([True, False])]", "torch.unique(torch.tensor([float('nan'), 1.0, float('nan')]))",
    "torch.unique(torch.tensor([float('nan'), 1.0, float('nan'), 1.0]), return_counts=True, return_inverse=True)",
    "torch.kthvalue(torch.arange(3.), 0)", "torch.kthvalue(torch.arange(3.), 4)", "torch.topk(torch.arange(3.), 4)",
    "torch.outer(torch.ones(2, 1), torch.ones(3))", "torch.tensor(3.).cumsum(1)", "torch.tensor(3.).softmax(1)",
    "torch.tensor(3.).select(0, 0)", "torch.tensor(3.).unbind()", "torch.tensor(3.).split(1)",
    "torch.cat([torch.tensor(3.), torch.tensor(3.)])", "torch.zeros(2, 0).max(1)", "torch.zeros(0, 3).min(0)",
    "torch.ones(2, 3).scatter(0, torch.tensor([[0, 1, 0]]), torch.ones(1, 2))", "x.__setitem__(0, torch.ones(2))",
    "x.__setitem__(torch.tensor([0]), torch.ones(2))", "x.__setitem__((slice(None),), torch.ones(4))",
    "torch.__version__[:1]", "torch.__version__ >= '2.0'", "torch.__version__ < (3,)", "isinstance(x._version, int)",
    "x.add_(1)._version", "F.softmax(x, 1, torch.float64).dtype", "F.log_softmax(x, 1, torch.float64).dtype",
    "F.softmin(x, 1, torch.float64).dtype", "F.softmax(x, 1, dtype=torch.float64).dtype",
    "torch.softmax(x, 1, torch.float64).dtype",
]


@pytest.mark.parametrize("calls", [KEYWORDS, OUT, DTYPES, SHAPES], ids=["keywords", "out", "dtypes", "shapes"])
def test_calls_give_what_pytorch_gives(calls):
    def run(torch):
        return _outcomes(torch, calls, _setup)
    assert _compare(run(tinytape), pytorch(run)) == {}


def _inplace_shape_changes(torch):
    outcomes = []
    for name, args in (("t_", ()), ("transpose_", (0, 1)), ("unsqueeze_", (0,))):
        a = torch.ones(2, 3, requires_grad=True)
        for target in ("leaf", "view of the leaf", "non-leaf"):
            t = (a if target == "leaf" else a[0:1] if target == "view of the leaf"
                 else a * torch.arange(6.).reshape(2, 3))
            try:
                r = getattr(t, name)(*args)
                r.sum().backward()
                outcomes.append([name, target, list(r.shape), a.grad.tolist()])
            except RuntimeError as e:
                outcomes.append([name, target, str(e)[:60]])
            a.grad = None
    return outcomes


def test_shape_changes_in_place_follow_pytorch():
    """A leaf that requires grad (or a view of it) is refused; a recorded non-leaf takes the
    transposed view's history and its gradient flows back (PyTorch names that entry
    ``TBackward1``, an in-place form's; here it is the out-of-place ``TBackward0``)."""
    assert _inplace_shape_changes(tinytape) == pytorch(_inplace_shape_changes)


def _scatter_gradients(torch):
    x = torch.zeros(3, requires_grad=True)
    src = torch.ones(5, requires_grad=True)
    y = x.scatter(0, torch.tensor([0, 1, 2]), src)
    try:
        y.sum().backward()
        return ["no error", src.grad]
    except RuntimeError as e:
        return ["RuntimeError", str(e)]


def test_scatter_with_a_source_larger_than_index_fails_in_backward_as_pytorch():
    assert _scatter_gradients(tinytape) == pytorch(_scatter_gradients)


def test_version_string_compares_by_release_numbers():
    v = tinytape.__version__
    assert v.startswith("2.14.1+tinytape.") and v.split("+tinytape.")[1] == tinytape._version.__version__
    assert v >= "2.0" and v < "2.15" and v >= (2, 14) and not v < (2, 14, 1) and v == "2.14.1+tinytape.0.1.0"
    assert tinytape.version.__version__ == v and tinytape.version.cuda is None


def test_signature_table_covers_the_common_functions_and_methods():
    """The recorded table names PyTorch's parameters for the common functions, and the
    functions whose names differ from PyTorch's are bound through it."""
    from tinytape import _signature_table as table
    for name in ("add", "sum", "max", "permute", "where", "split", "zeros", "matmul", "gather", "softmax"):
        assert name in table.TORCH
    for name in ("permute", "expand", "view", "new_zeros", "split", "sum", "add", "mm"):
        assert name in table.TENSOR
    assert ("condition", "input", "other") in [positional for positional, _, _, _ in table.TORCH["where"][1]]
    assert table.TENSOR["permute"][1][-1][2]  # *dims
    ours = np.asarray(tinytape.permute(tinytape.arange(6).reshape(2, 3), dims=(1, 0)).tolist())
    np.testing.assert_array_equal(ours, np.arange(6).reshape(2, 3).T)
