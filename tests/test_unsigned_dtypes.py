"""uint16, uint32 and uint64 as PyTorch has them: every op of ``ops/unsigned_support.py``'s table
called as the table was recorded (values, dtypes, errors' types and words against PyTorch's
answers), type promotion, ``iinfo``, ``tensor(...)``'s range errors, printing, numpy round trips,
``save``/``load``, ``item()`` beyond 2**63 and a compiled step on uint32 tensors."""
import io
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import tinytape
from helpers import assert_close_to, assert_same, outcome_of
from pytorch_answers import pytorch

LIMITED = ("uint16", "uint32", "uint64")
CALLS = json.loads((Path(__file__).parent / "data" / "unsigned_calls.json").read_text())
# float32 math whose last bit tinytape rounds apart from PyTorch's on any integer input (int64 too)
LAST_BIT = {"cos", "cosh", "sinh", "tan", "log", "mvlgamma", "pinverse"}
NO_VALUES = {"empty_like", "new_empty", "sparse_coo_tensor"}  # uninitialised or sparse: shape and dtype only
# where tinytape parts from PyTorch on every integer dtype, not these three only: an output size of 0 (an
# empty result, no kernel run) refused as any integer input
APART = {("function", "adaptive_avg_pool1d")}
OTHERS = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64",
          "complex64", "complex128", "uint16", "uint32", "uint64")


def _inputs(torch, dtype, one_d, device="cpu"):
    """The tensors ``tools/survey_unsigned.py`` calls the ops with (on ``device``)."""
    if one_d:
        x, y = torch.tensor([3, 1, 2], dtype=dtype), torch.tensor([1, 2, 2], dtype=dtype)
        index, gather_index = torch.tensor([0, 2]), torch.tensor([0, 2, 1])
    else:
        x = torch.tensor([[3, 1, 2], [6, 5, 4], [2, 7, 1]], dtype=dtype)
        y = torch.tensor([[1, 1, 2], [2, 5, 3], [1, 2, 4]], dtype=dtype)
        index, gather_index = torch.tensor([0, 2, 1]), torch.tensor([[0, 2, 1], [1, 0, 2], [2, 1, 0]])
    found = {"x": x, "y": y, "i": index, "g": gather_index, "m": x.to(torch.int64) % 2 == 1}
    return {key: value.to(device) for key, value in found.items()}


def _summary(value, torch):
    """A result as the answers record it: tensors, numbers, strings and containers of them; a
    Size as a tuple, a dtype by name, anything else by its type's name."""
    if isinstance(value, torch.Tensor):
        return value.detach()
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, torch.dtype):
        return str(value).split(".")[1]
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return tuple(_summary(v, torch) for v in value)
    if isinstance(value, (list, tuple)):
        return [_summary(v, torch) for v in value]
    return type(value).__name__


def _call(torch, kind, name, shape, dtype_name, one_d, device="cpu"):
    dtype = getattr(torch, dtype_name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "factory":
            result = eval(f"torch.{name}({shape}, dtype=dtype)", {"torch": torch, "dtype": dtype})
            return list(result.shape) if name in ("empty", "randint") else result  # values of no interest
        args = eval(f"({shape},)", _inputs(torch, dtype, one_d, device))
        result = getattr(torch, name)(*args) if kind == "function" else getattr(args[0], name)(*args[1:])
        if name.endswith("_") or name.startswith("__i"):
            result = (result, args[0])  # what an in-place op wrote, too
        if name == "const_data_ptr":
            return type(result).__name__  # an address
        if name in NO_VALUES:
            return [str(result.dtype).split(".")[1], list(result.shape)]
        return _summary(result, torch)


@pytest.mark.parametrize("kind,name,shape,one_d", [
    pytest.param(*c, marks=pytest.mark.xfail(strict=True, reason="apart on every integer dtype"))
    if tuple(c[:2]) in APART else c for c in CALLS], ids=[f"{c[0]}-{c[1]}" for c in CALLS])
def test_every_op_of_the_table_does_what_pytorch_does(kind, name, shape, one_d):
    for dtype_name in LIMITED:
        def run(torch):
            return outcome_of(lambda: _call(torch, kind, name, shape, dtype_name, one_d))
        compare = assert_close_to if name in LAST_BIT else assert_same
        compare(run(tinytape), pytorch(run), f"{kind} {name} on {dtype_name}")


def _same_on_both_devices(cuda, cpu, path):
    """A CUDA result equals the CPU one: dtype, shape, integer values exactly, float ones to the
    last bits (the two backends' float32 math rounds apart); errors word for word."""
    if isinstance(cpu, tinytape.Tensor):
        assert isinstance(cuda, tinytape.Tensor) and cuda.device.type == "cuda", path
        assert cuda.dtype is cpu.dtype and cuda.shape == cpu.shape, path
        ours, want = cuda.cpu().float() if cpu.dtype is tinytape.bfloat16 else cuda.cpu(), cpu
        if cpu.dtype.is_floating_point:
            np.testing.assert_allclose(ours.numpy(), want.float().numpy(), rtol=1e-6, err_msg=path)
        else:
            np.testing.assert_array_equal(ours.numpy(), want.numpy(), err_msg=path)
    elif isinstance(cpu, (list, tuple)):
        assert isinstance(cuda, (list, tuple)) and len(cuda) == len(cpu), path
        for k, (a, b) in enumerate(zip(cuda, cpu)):
            _same_on_both_devices(a, b, f"{path}[{k}]")
    elif isinstance(cpu, str) and cpu.startswith("tinytape.") and cpu.endswith("Tensor"):
        assert cuda == cpu.replace("tinytape.", "tinytape.cuda."), path  # a legacy type name names the device
    else:
        assert cuda == cpu, path


@pytest.mark.gpu
@pytest.mark.parametrize("dtype_name", LIMITED)
def test_the_cuda_backend_computes_and_refuses_as_the_cpu_one(dtype_name):
    for kind, name, shape, one_d in CALLS:
        if kind == "factory" or (kind, name) in APART:
            continue
        cuda = outcome_of(lambda: _call(tinytape, kind, name, shape, dtype_name, one_d, "cuda"))
        cpu = outcome_of(lambda: _call(tinytape, kind, name, shape, dtype_name, one_d))
        _same_on_both_devices(cuda, cpu, f"{kind} {name} on cuda")


def test_every_refused_method_is_gated_or_checks_inside():
    from tinytape.ops import dtype_rules, unsigned_gate, unsigned_support
    refused = set(dtype_rules.UNSIGNED_REFUSED)
    assert refused and not refused & unsigned_support.COMPUTED and unsigned_gate.CHECKED_INSIDE <= refused
    for key in refused - unsigned_gate.CHECKED_INSIDE:
        owner, _, name = key.rpartition(".")
        if owner in ("", "Tensor") and name in tinytape.Tensor.__dict__:
            assert getattr(tinytape.Tensor.__dict__[name], "_unsigned_gate", False), key
    for key in unsigned_gate.CHECKED_INSIDE:  # no gate's call in front of the operators
        assert not hasattr(tinytape.Tensor.__dict__.get(key), "_unsigned_gate"), key


def test_promotion_and_result_type_as_pytorch():
    def run(torch):
        table = {}
        for a in LIMITED:
            for b in OTHERS:
                table[f"{a}+{b}"] = outcome_of(lambda: str(torch.promote_types(getattr(torch, a), getattr(torch, b))))
            for b in OTHERS:
                table[f"can_cast {a} {b}"] = (torch.can_cast(getattr(torch, a), getattr(torch, b)),
                                              torch.can_cast(getattr(torch, b), getattr(torch, a)))
        x = torch.tensor([1, 2], dtype=torch.uint32)
        for other in (5, 2.5, True, 1j, torch.tensor(3), torch.tensor([3]), torch.tensor([1.5])):
            table[repr(other)] = outcome_of(lambda: str(torch.result_type(x, other)))
        return table
    assert_same(run(tinytape), pytorch(run))


def test_mixed_dtype_arithmetic_refuses_or_computes_as_pytorch():
    def run(torch):
        x = torch.tensor([3, 1, 2], dtype=torch.uint32)
        return [outcome_of(lambda: x * torch.tensor([2])), outcome_of(lambda: x * torch.tensor([2], dtype=torch.uint16)),
                outcome_of(lambda: x * torch.tensor([1.5])), outcome_of(lambda: x + 1.5), outcome_of(lambda: x + 1),
                outcome_of(lambda: x * 2 ** 33), outcome_of(lambda: x / torch.tensor([2.0], dtype=torch.float64)),
                outcome_of(lambda: x == torch.tensor([3])), outcome_of(lambda: x.to(torch.int64) + 1),
                outcome_of(lambda: x.max()), outcome_of(lambda: x.sum(0)), outcome_of(lambda: torch.max(input=x)),
                outcome_of(lambda: torch.add(input=x, other=x)), outcome_of(lambda: x.lt(other=x)),
                outcome_of(lambda: torch.atan2(x, other=torch.tensor([1.0]))), outcome_of(lambda: torch.cat([x, x])),
                torch.tensor([[65535, 1]], dtype=torch.uint16).index_add(1, torch.tensor([0, 0]),
                                                                          torch.tensor([[3, 2]], dtype=torch.uint16)),
                torch.tensor([[2 ** 64 - 2]], dtype=torch.uint64).index_add(0, torch.tensor([0]),
                                                                             torch.tensor([[5]], dtype=torch.uint64)),
                outcome_of(lambda: torch.tensor([5], dtype=torch.uint32).index_add(0, torch.tensor([0]), x[:1])),
                outcome_of(lambda: x[None].index_add(0, torch.tensor([0]), x[None], alpha=2)),
                torch.tensor([40000], dtype=torch.uint16) * 3, torch.tensor([2 ** 63 + 1], dtype=torch.uint64) * 2]
    assert_same(run(tinytape), pytorch(run))


def test_the_forms_of_clamp_max_and_min_refuse_in_their_kernels_words():
    def run(torch):
        x, t = torch.tensor([3, 1, 2], dtype=torch.uint64), torch.tensor([2], dtype=torch.uint64)
        calls = (lambda: x.clamp(0), lambda: x.clamp(0, 1), lambda: torch.clamp(x, max=1), lambda: x.clamp(t, t),
                 lambda: x.clamp(min=t), lambda: x.clip(max=t), lambda: x.clone().clamp_(0, 1), lambda: x.clamp(0.5),
                 lambda: torch.max(x, t), lambda: x.min(t), lambda: x.max(dim=0), lambda: torch.min(x, 0),
                 lambda: x.amax(), lambda: x.clamp(min=0.5, max=2.5))
        return [outcome_of(call) for call in calls]
    assert_same(run(tinytape), pytorch(run))


def test_iinfo_printing_and_casts_as_pytorch():
    def run(torch):
        out = []
        for name in LIMITED:
            dtype = getattr(torch, name)
            info = torch.iinfo(dtype)
            x = torch.tensor([[0, 1, 65535], [7, 300, 2]], dtype=dtype)
            out += [info.min, info.max, info.bits, repr(info), str(dtype), repr(x), str(x[0, 2]), x.type(),
                    x.tolist(), x.to(torch.float32), x.to(torch.int8), torch.tensor([-1.5, 7.9]).to(dtype),
                    x.element_size(), x.is_signed(), x.is_floating_point()]
        return out
    assert_same(run(tinytape), pytorch(run))


@pytest.mark.parametrize("dtype_name", LIMITED)
def test_tensor_range_errors_as_pytorch(dtype_name):
    def run(torch):
        dtype = getattr(torch, dtype_name)
        return [outcome_of(lambda: torch.tensor(v, dtype=dtype)) for v in
                ([-1], [-2], [2 ** 16], [2 ** 32], [2 ** 63], [2 ** 64 - 1], [2 ** 64], [1.7], [True, 3], 2 ** 40)]
    for ours, theirs in zip(run(tinytape), pytorch(run)):
        if isinstance(theirs, str):  # PyTorch's words first; tinytape's name the call and the value after them
            assert isinstance(ours, str) and ours.startswith(theirs), (ours, theirs)
        else:
            assert_same(ours, theirs)


def test_uint64_item_and_tolist_beyond_two_to_the_63():
    def run(torch):
        x = torch.tensor([2 ** 64 - 1, 2 ** 63 + 5, 0], dtype=torch.uint64)
        return [x[0].item(), x[1].item(), x.tolist(), outcome_of(lambda: int(x[0])), int(x[1] * 0), repr(x), x.numpy().dtype.name, x.numpy().tolist()]
    assert_same(run(tinytape), pytorch(run), exact_types=True)


@pytest.mark.parametrize("dtype_name", LIMITED)
def test_numpy_round_trip_and_from_numpy_share_memory(dtype_name):
    array = np.array([[1, 2, np.iinfo(dtype_name).max]], dtype=dtype_name)
    t = tinytape.from_numpy(array)
    assert t.dtype is getattr(tinytape, dtype_name) and t.numpy().dtype == array.dtype
    t[0, 0] = 9  # a view of the array: the write shows there
    assert array[0, 0] == 9 and np.array_equal(t.numpy(), array)
    assert tinytape.tensor(array).dtype is t.dtype and tinytape.as_tensor(array).data_ptr() == array.ctypes.data

    def run(torch):
        return torch.from_numpy(np.array([[1, 2, np.iinfo(dtype_name).max]], dtype=dtype_name))
    assert_same(tinytape.from_numpy(np.array([[1, 2, np.iinfo(dtype_name).max]], dtype=dtype_name)), pytorch(run))


@pytest.mark.parametrize("dtype_name", LIMITED)
def test_save_and_load_keep_dtype_and_values(dtype_name):
    x = tinytape.tensor([[0, 1], [2, int(np.iinfo(dtype_name).max)]], dtype=getattr(tinytape, dtype_name))
    buffer = io.BytesIO()
    tinytape.save({"x": x, "view": x.t()}, buffer)
    buffer.seek(0)
    back = tinytape.load(buffer)
    for key, want in (("x", x), ("view", x.t())):
        assert back[key].dtype is x.dtype and back[key].tolist() == want.tolist()


def _masked_scale(x, mask, scale, torch=tinytape):
    return (x * scale * mask.to(x.dtype)).to(torch.float32).sum() * 0.5


@pytest.mark.parametrize("dtype_name", LIMITED)
def test_a_compiled_step_on_unsigned_tensors_equals_eager_bit_for_bit(dtype_name):
    dtype = getattr(tinytape, dtype_name)
    big = int(np.iinfo(dtype_name).max) // 3  # products wrap around the type's range
    x = tinytape.tensor([[3, 1, 2], [6, 5, big]], dtype=dtype)
    scale = tinytape.tensor([[2, 3, 4], [5, 6, 7]], dtype=dtype)
    mask = tinytape.tensor([[True, False, True], [False, True, True]])
    compiled = tinytape.compile(_masked_scale)
    for _ in range(3):  # traced, then replayed
        ours, eager = compiled(x, mask, scale), _masked_scale(x, mask, scale)
        assert ours.dtype is eager.dtype and ours.numpy().tobytes() == eager.numpy().tobytes()
    assert len(compiled.programs) == 1 and not compiled.eager_signatures  # traced into one program, not run eagerly
    x = x * 2
    assert compiled(x, mask, scale).numpy().tobytes() == _masked_scale(x, mask, scale).numpy().tobytes()

    def run(torch):
        d = getattr(torch, dtype_name)
        return _masked_scale(torch.tensor([[3, 1, 2], [6, 5, big]], dtype=d) * 2,
                             torch.tensor([[True, False, True], [False, True, True]]),
                             torch.tensor([[2, 3, 4], [5, 6, 7]], dtype=d), torch)
    assert_same(compiled(x, mask, scale), pytorch(run))


def test_a_compiled_step_refused_on_uint32_raises_pytorchs_error_every_call():
    x = tinytape.tensor([3, 1, 2], dtype=tinytape.uint32)
    compiled = tinytape.compile(lambda a, b: (a + b).sum())
    for _ in range(2):
        with pytest.raises(NotImplementedError, match="\"add_stub\" not implemented for 'UInt32'"):
            compiled(x, x)
