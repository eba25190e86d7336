"""tinytape.utils.data against PyTorch's torch.utils.data: collation (values, dtypes,
structures), the DataLoader's batches, lengths and errors, the samplers and splits.

Every check of a random order comes in three parts:
- its structure (each index once per pass, batch sizes, ranges), which holds for any stream;
- the draws: the loader or sampler draws from the generator exactly what PyTorch's source
  draws, in that order — checked by replaying those draws by hand with the library's own
  ``randperm``/``randint``/``multinomial``/``random_`` and asking both PyTorch and tinytape
  whether the two agree;
- the order itself, against PyTorch's recorded order: equal once tinytape's generator
  produces PyTorch's stream (until then an expected failure)."""
import collections
import math
import re
import warnings

import numpy as np
import pytest

import tinytape as tt
import tinytape.utils.data as tud
from helpers import assert_same
from pytorch_answers import pytorch
from tinytape.utils.data import (
    BatchSampler, ConcatDataset, DataLoader, Dataset, IterableDataset, RandomSampler, SequentialSampler, Subset,
    SubsetRandomSampler, TensorDataset, WeightedRandomSampler, default_collate, default_convert, random_split,
)

Point = collections.namedtuple("Point", ["x", "y"])


def same(ours, theirs, where="result"):
    """``ours`` (tinytape's result) has ``theirs``' structure, types, dtypes and values."""
    assert_same(ours, theirs, where, exact_types=True)


def same_error(fn, contains=None):
    """``fn(tinytape)`` raises PyTorch's error type with PyTorch's message (or, where
    ``contains`` is given, a message containing that part of PyTorch's)."""
    with pytest.raises(Exception) as theirs:
        pytorch(fn)
    assert contains is None or contains in str(theirs.value)
    pattern = re.escape(contains) if contains else "^" + re.escape(str(theirs.value)) + "$"
    with pytest.raises(type(theirs.value), match=pattern):
        fn(tt)


def _utils(lib):
    return lib.utils.data


# ---------------------------------------------------------------- the module


# PyTorch's names left out: the DataPipes (being removed from PyTorch)
NOT_PROVIDED = {"DFIterDataPipe", "DataChunk", "IterDataPipe", "MapDataPipe",
                "argument_validation", "functional_datapipe", "guaranteed_datapipes_determinism", "non_deterministic",
                "runtime_validation", "runtime_validation_disabled"}


def test_names_and_import_paths():
    import tinytape.utils.data as again
    assert again is tud is tt.utils.data
    assert tt.utils.data.DataLoader is DataLoader and tt.utils.data.dataloader.DataLoader is DataLoader
    assert tud.get_worker_info() is None
    names = pytorch(lambda torch: sorted(torch.utils.data.__all__))
    assert NOT_PROVIDED < set(names)
    assert [n for n in names if n not in NOT_PROVIDED and not hasattr(tud, n)] == []
    assert sorted(tud.__all__) == sorted(set(names) - NOT_PROVIDED - {"_DatasetKind"})


# ---------------------------------------------------------------- collation

COLLATE = {
    "ints": lambda lib: [0, 1, 2, 3],
    "floats": lambda lib: [0.5, 1.5],
    "bools": lambda lib: [True, False],
    "int_then_float": lambda lib: [1, 2.5],
    "float_then_int": lambda lib: [1.0, 2],
    "strings": lambda lib: ["a", "bc"],
    "np_float32": lambda lib: [np.float32(1.5), np.float32(2)],
    "np_float64": lambda lib: [np.float64(1.5), np.float64(2)],
    "np_int16": lambda lib: [np.int16(3), np.int16(-4)],
    "np_bool": lambda lib: [np.bool_(True), np.bool_(False)],
    "np_arrays_float32": lambda lib: [np.arange(3, dtype=np.float32), np.ones(3, np.float32)],
    "np_arrays_int64_2d": lambda lib: [np.arange(4).reshape(2, 2), np.eye(2, dtype=np.int64)],
    "np_arrays_float64": lambda lib: [np.linspace(0, 1, 3)] * 2,
    "tensors": lambda lib: [lib.arange(6.).reshape(2, 3), lib.ones(2, 3)],
    "int_tensors": lambda lib: [lib.tensor([1, 2]), lib.tensor([3, 4])],
    "0d_tensors": lambda lib: [lib.tensor(1.5), lib.tensor(2.5)],
    "grad_tensors": lambda lib: [lib.ones(2, requires_grad=True), lib.zeros(2)],
    "dicts": lambda lib: [{"x": lib.tensor([1., 2.]), "y": 1, "name": "a"}, {"x": lib.tensor([3., 4.]), "y": 2,
                                                                          "name": "b"}],
    "namedtuples": lambda lib: [Point(lib.tensor(1.), 2), Point(lib.tensor(3.), 4)],
    "tuples": lambda lib: [(lib.tensor([1.]), 0), (lib.tensor([2.]), 1)],
    "lists": lambda lib: [[0, 1], [2, 3]],
    "nested": lambda lib: [({"a": np.array([1.])}, ["s", 3], 0.5), ({"a": np.array([2.])}, ["t", 4], 1.5)],
    "ordered_dict": lambda lib: [collections.OrderedDict(b=1, a=2.0)] * 3,
}


@pytest.mark.parametrize("case", sorted(COLLATE))
def test_default_collate_matches_pytorch(case):
    make = COLLATE[case]
    theirs = pytorch(lambda torch: torch.utils.data.default_collate(make(torch)))
    ours = default_collate(make(tt))
    same(ours, theirs)
    if case == "ordered_dict":
        assert type(ours) is collections.OrderedDict
    if case == "namedtuples":
        assert type(ours) is Point


def test_default_collate_keeps_the_container_types():
    class Row(dict):
        pass

    batch = default_collate([Row(a=1), Row(a=2)])
    assert type(batch) is Row and batch["a"].tolist() == [1, 2]
    out = default_collate([(1, "a"), (2, "b")])
    assert type(out) is list and out[0].dtype is tt.int64 and out[1] == ("a", "b")  # the strings as zip gave them


COLLATE_ERRORS = {
    "uneven_lists": (lambda lib: [[0, 1], [2]], None),
    "object": (lambda lib: [object()], "default_collate: batch must contain tensors, numpy arrays, numbers, "
                                       "dicts or lists; found <class 'object'>"),
    "string_array": (lambda lib: [np.array(["a"]), np.array(["b"])], None),
    "unequal_tensors": (lambda lib: [lib.ones(2), lib.ones(3)], "stack expects each tensor to be equal size"),
}


@pytest.mark.parametrize("case", sorted(COLLATE_ERRORS))
def test_default_collate_errors_match_pytorch(case):
    make, prefix = COLLATE_ERRORS[case]
    same_error(lambda lib: _utils(lib).default_collate(make(lib)), prefix)


CONVERT = {
    "int": lambda lib: 3,
    "string": lambda lib: "word",
    "np_array": lambda lib: np.array([0, 1]),
    "np_float32_array": lambda lib: np.ones((2, 2), np.float32),
    "np_scalar": lambda lib: np.float32(2.5),
    "tuple": lambda lib: (np.array([1.5]), "a", 2),
    "namedtuple": lambda lib: Point(np.array(0), np.array([1., 2.])),
    "dict": lambda lib: {"a": np.array([1]), "b": [np.int16(2), 3]},
    "tensor": lambda lib: lib.tensor([1, 2]),
}


@pytest.mark.parametrize("case", sorted(CONVERT))
def test_default_convert_matches_pytorch(case):
    make = CONVERT[case]
    same(default_convert(make(tt)), pytorch(lambda torch: torch.utils.data.default_convert(make(torch))))


def test_default_convert_leaves_string_arrays():
    words = np.array(["a", "b"])
    assert default_convert(words) is words


# ---------------------------------------------------------------- the DataLoader, without randomness


def batches(loader):
    """A pass's batches as plain data (tensors kept, for ``same``)."""
    return [b for b in loader]


def _tensor_data(lib, n=10):
    return _utils(lib).TensorDataset(lib.arange(2. * n).reshape(n, 2), lib.arange(n))


class Stream:
    """An IterableDataset class for both libraries: ``range(n)``, with a length."""

    @staticmethod
    def make(lib, n, with_len=True):
        base = _utils(lib).IterableDataset

        class RangeStream(base):
            def __iter__(self):
                return iter(range(n))

            if with_len:
                def __len__(self):
                    return n

        return RangeStream()


LOADERS = {
    "bs1": lambda lib: _utils(lib).DataLoader(_tensor_data(lib)),
    "bs3": lambda lib: _utils(lib).DataLoader(_tensor_data(lib), batch_size=3),
    "bs3_drop_last": lambda lib: _utils(lib).DataLoader(_tensor_data(lib), batch_size=3, drop_last=True),
    "bs5_drop_last": lambda lib: _utils(lib).DataLoader(_tensor_data(lib), batch_size=5, drop_last=True),
    "bs11": lambda lib: _utils(lib).DataLoader(_tensor_data(lib), batch_size=11),
    "bs11_drop_last": lambda lib: _utils(lib).DataLoader(_tensor_data(lib), batch_size=11, drop_last=True),
    "bs_none": lambda lib: _utils(lib).DataLoader(_tensor_data(lib, 4), batch_size=None),
    "bs_none_range": lambda lib: _utils(lib).DataLoader(range(4), batch_size=None),
    "list_of_numbers": lambda lib: _utils(lib).DataLoader([1.5, 2.5, 3.5], batch_size=2),
    "list_of_dicts": lambda lib: _utils(lib).DataLoader([{"x": np.ones(2) * i, "i": i} for i in range(5)],
                                                        batch_size=2),
    "sampler_list": lambda lib: _utils(lib).DataLoader(_tensor_data(lib), batch_size=2, sampler=[7, 1, 4]),
    "sequential_sampler": lambda lib: _utils(lib).DataLoader(
        _tensor_data(lib), sampler=_utils(lib).SequentialSampler(range(4)), batch_size=3),
    "batch_sampler": lambda lib: _utils(lib).DataLoader(_tensor_data(lib), batch_sampler=[[0, 1, 9], [4], [2, 2]]),
    "batch_sampler_object": lambda lib: _utils(lib).DataLoader(
        _tensor_data(lib), batch_sampler=_utils(lib).BatchSampler(range(9, 2, -1), 3, False)),
    "collate_fn": lambda lib: _utils(lib).DataLoader(range(5), batch_size=2, collate_fn=lambda b: [x * 10 for x in b]),
    "collate_fn_no_batching": lambda lib: _utils(lib).DataLoader(range(3), batch_size=None, collate_fn=lambda x: -x),
    "subset": lambda lib: _utils(lib).DataLoader(_utils(lib).Subset(_tensor_data(lib), [5, 0, 3]), batch_size=2),
    "concat": lambda lib: _utils(lib).DataLoader(_utils(lib).ConcatDataset([range(3), [10, 11]]), batch_size=4),
    "dataset_sum": lambda lib: _utils(lib).DataLoader(_tensor_data(lib, 2) + _tensor_data(lib, 3), batch_size=4),
    "stack_dataset": lambda lib: _utils(lib).DataLoader(
        _utils(lib).StackDataset(range(3), [4., 5., 6.]), batch_size=2),
    "stack_dataset_dict": lambda lib: _utils(lib).DataLoader(
        _utils(lib).StackDataset(a=range(3), b=["x", "y", "z"]), batch_size=2),
    "iterable_bs3": lambda lib: _utils(lib).DataLoader(Stream.make(lib, 7), batch_size=3),
    "iterable_bs3_drop_last": lambda lib: _utils(lib).DataLoader(Stream.make(lib, 7), batch_size=3, drop_last=True),
    "iterable_bs_none": lambda lib: _utils(lib).DataLoader(Stream.make(lib, 3), batch_size=None),
    "chain": lambda lib: _utils(lib).DataLoader(Stream.make(lib, 2) + Stream.make(lib, 3), batch_size=4),
}


@pytest.mark.parametrize("case", sorted(LOADERS))
def test_batches_and_length_match_pytorch(case):
    make = LOADERS[case]

    def passes(lib):
        loader = make(lib)
        first, second = batches(loader), batches(loader)  # a loader can be walked again
        try:
            length = len(loader)
        except TypeError as e:  # a sampler without a length
            length = str(e)
        return first, second, length

    theirs = pytorch(passes)
    ours = passes(tt)
    same(ours, theirs)


def test_the_iterator_has_the_loaders_length_and_stops():
    loader = DataLoader(_tensor_data(tt), batch_size=4)
    it = iter(loader)
    assert iter(it) is it and len(it) == len(loader) == 3
    assert [len(b[1]) for b in it] == [4, 4, 2]
    with pytest.raises(StopIteration):
        next(it)


def test_an_iterable_longer_than_its_length_warns_as_pytorch():
    def walk(lib):
        class Liar(_utils(lib).IterableDataset):
            def __iter__(self):
                return iter(range(3))

            def __len__(self):
                return 2

            def __repr__(self):
                return "Liar"

        loader = _utils(lib).DataLoader(Liar(), batch_size=None)
        return len(loader), [int(x) for x in loader]

    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        expected = pytorch(walk)
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        got = walk(tt)
    assert got == expected == (2, [0, 1, 2])
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs] != []


# ---------------------------------------------------------------- errors


ERRORS = {
    "shuffle_and_sampler": lambda lib: _utils(lib).DataLoader(range(4), shuffle=True, sampler=[0, 1]),
    "batch_sampler_and_batch_size": lambda lib: _utils(lib).DataLoader(range(4), batch_size=2,
                                                                        batch_sampler=[[0]]),
    "batch_sampler_and_shuffle": lambda lib: _utils(lib).DataLoader(range(4), shuffle=True, batch_sampler=[[0]]),
    "batch_sampler_and_sampler": lambda lib: _utils(lib).DataLoader(range(4), sampler=[0], batch_sampler=[[0]]),
    "batch_sampler_and_drop_last": lambda lib: _utils(lib).DataLoader(range(4), drop_last=True, batch_sampler=[[0]]),
    "no_batching_and_drop_last": lambda lib: _utils(lib).DataLoader(range(4), batch_size=None, drop_last=True),
    "iterable_and_shuffle": lambda lib: _utils(lib).DataLoader(Stream.make(lib, 3), shuffle=True),
    "iterable_and_sampler": lambda lib: _utils(lib).DataLoader(Stream.make(lib, 3), sampler=[0]),
    "iterable_and_batch_sampler": lambda lib: _utils(lib).DataLoader(Stream.make(lib, 3), batch_sampler=[[0]]),
    "batch_size_0": lambda lib: _utils(lib).DataLoader(range(4), batch_size=0),
    "batch_size_negative": lambda lib: _utils(lib).DataLoader(range(4), batch_size=-2),
    "batch_size_float": lambda lib: _utils(lib).DataLoader(range(4), batch_size=2.0),
    "drop_last_not_bool": lambda lib: _utils(lib).DataLoader(range(4), batch_size=2, drop_last=1),
    "num_workers_negative": lambda lib: _utils(lib).DataLoader(range(4), num_workers=-1),
    "timeout_negative": lambda lib: _utils(lib).DataLoader(range(4), timeout=-1),
    "prefetch_without_workers": lambda lib: _utils(lib).DataLoader(range(4), prefetch_factor=2),
    "persistent_without_workers": lambda lib: _utils(lib).DataLoader(range(4), persistent_workers=True),
    "context_without_workers": lambda lib: _utils(lib).DataLoader(range(4), multiprocessing_context="spawn"),
    "timeout_on_iteration": lambda lib: iter(_utils(lib).DataLoader(range(4), timeout=1)),
    "set_batch_size": lambda lib: setattr(_utils(lib).DataLoader(range(4)), "batch_size", 2),
    "set_sampler": lambda lib: setattr(_utils(lib).DataLoader(range(4)), "sampler", [0]),
    "len_of_stream_without_len": lambda lib: len(_utils(lib).DataLoader(Stream.make(lib, 3, with_len=False))),
    "len_of_sampler_without_len": lambda lib: len(_utils(lib).Sampler()),
    "dataset_getitem": lambda lib: _utils(lib).Dataset()[0],
    "random_sampler_replacement": lambda lib: _utils(lib).RandomSampler(range(3), replacement=1),
    "random_sampler_num_samples": lambda lib: _utils(lib).RandomSampler(range(3), num_samples=0),
    "random_sampler_empty": lambda lib: _utils(lib).RandomSampler([]),
    "weighted_num_samples": lambda lib: _utils(lib).WeightedRandomSampler([1., 2.], 0),
    "weighted_num_samples_bool": lambda lib: _utils(lib).WeightedRandomSampler([1., 2.], True),
    "weighted_replacement": lambda lib: _utils(lib).WeightedRandomSampler([1., 2.], 2, replacement=None),
    "weighted_2d": lambda lib: _utils(lib).WeightedRandomSampler([[1., 2.]], 2),
    "batch_sampler_size": lambda lib: _utils(lib).BatchSampler(range(3), 0, False),
    "batch_sampler_drop_last": lambda lib: _utils(lib).BatchSampler(range(3), 2, None),
    "tensor_dataset_sizes": lambda lib: _utils(lib).TensorDataset(lib.ones(3), lib.ones(4)),
    "concat_empty": lambda lib: _utils(lib).ConcatDataset([]),
    "concat_iterable": lambda lib: _utils(lib).ConcatDataset([range(2), Stream.make(lib, 2)]),
    "concat_negative_index": lambda lib: _utils(lib).ConcatDataset([range(2)])[-3],
    "chain_of_map_style": lambda lib: list(_utils(lib).ChainDataset([range(2)])),
    "stack_sizes": lambda lib: _utils(lib).StackDataset(range(2), range(3)),
    "stack_empty": lambda lib: _utils(lib).StackDataset(),
    "split_sum": lambda lib: _utils(lib).random_split(range(10), [3, 6]),
    "split_fraction": lambda lib: _utils(lib).random_split(range(10), [1.5, -0.5]),
    "subset_overriding_getitem": lambda lib: type("Strict", (_utils(lib).Subset,),
                                                  {"__getitem__": lambda self, i: 0})(range(3), [0]),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_errors_match_pytorch(case):
    same_error(ERRORS[case])


def test_multinomial_errors_come_through():
    same_error(lambda lib: list(_utils(lib).WeightedRandomSampler([1., 2.], 3, replacement=False)),
               "cannot sample n_sample > prob_dist.size(-1) samples without replacement")


def test_pin_memory_is_accepted_and_warns_as_pytorch_without_a_gpu(monkeypatch):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        monkeypatch.setattr(tt.cuda, "is_available", lambda: True)
        assert [b.tolist() for b in DataLoader(range(3), batch_size=2, pin_memory=True)] == [[0, 1], [2]]
    monkeypatch.setattr(tt.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="'pin_memory' argument is set as true but no accelerator is found"):
        assert [b.tolist() for b in DataLoader(range(3), batch_size=2, pin_memory=True)] == [[0, 1], [2]]


# ---------------------------------------------------------------- datasets


def test_tensor_subset_and_concat_datasets():
    x, y = tt.arange(12.).reshape(6, 2), tt.arange(6)
    data = TensorDataset(x, y)
    assert len(data) == 6 and data[2][0].tolist() == [4., 5.] and data[2][1].item() == 2
    part = Subset(data, [4, 1])
    assert len(part) == 2 and part[0][1].item() == 4 and [s[1].item() for s in part.__getitems__([1, 0])] == [1, 4]
    both = ConcatDataset([part, range(100, 103)])
    assert len(both) == 5 and both.cumulative_sizes == [2, 5] and both[3] == 101 and both[-1] == 102
    assert isinstance(part + data, ConcatDataset) and len(part + data) == 8


def test_user_datasets_subclass_the_generic_bases():
    class Squares(Dataset[int]):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return {"i": i, "square": float(i * i)}

    class Countdown(IterableDataset[int]):
        def __iter__(self):
            return iter(range(4, 0, -1))

    batch = next(iter(DataLoader(Squares(), batch_size=5)))
    assert batch["square"].dtype is tt.float64 and batch["square"].tolist() == [0., 1., 4., 9., 16.]
    assert [b.tolist() for b in DataLoader(Countdown(), batch_size=3)] == [[4, 3, 2], [1]]
    assert [b.tolist() for b in DataLoader(Countdown() + Countdown(), batch_size=5)] == [[4, 3, 2, 1, 4], [3, 2, 1]]


# ---------------------------------------------------------------- randomness: structure


def order(loader):
    return [i for b in loader for i in (b[1] if isinstance(b, list) else b).reshape(-1).tolist()]


@pytest.mark.parametrize("batch_size,drop_last", [(4, False), (4, True), (1, False), (None, False), (25, False)])
def test_shuffled_passes_cover_each_index_once(batch_size, drop_last):
    n = 22
    tt.manual_seed(0)
    loader = DataLoader(TensorDataset(tt.zeros(n, 3), tt.arange(n)), batch_size=batch_size, shuffle=True,
                        drop_last=drop_last)
    size = batch_size or 1
    expected_sizes = [size] * (n // size) + ([n % size] if n % size and not drop_last else [])
    assert len(loader) == len(expected_sizes)
    passes = []
    for _ in range(3):
        got = list(loader)
        sizes = [len(b[1]) if batch_size else 1 for b in got]
        assert sizes == expected_sizes
        seen = order(got)
        if drop_last:
            assert len(set(seen)) == len(seen) == n - n % size
        else:
            assert sorted(seen) == list(range(n))
        passes.append(seen)
    assert passes[0] != passes[1] != passes[2]  # reshuffled each pass (22! orders: never by chance)


def test_a_seeded_generator_repeats_its_order():
    def one_pass(seed):
        g = tt.Generator().manual_seed(seed)
        return order(DataLoader(range(30), batch_size=7, shuffle=True, generator=g))

    assert one_pass(5) == one_pass(5) != one_pass(6)
    tt.manual_seed(3)
    a = order(DataLoader(range(30), batch_size=7, shuffle=True))
    tt.manual_seed(3)
    assert order(DataLoader(range(30), batch_size=7, shuffle=True)) == a and sorted(a) == list(range(30))


def test_random_sampler_structure():
    g = tt.Generator().manual_seed(0)
    with_replacement = list(RandomSampler(range(5), replacement=True, num_samples=70, generator=g))
    assert len(with_replacement) == 70 and set(with_replacement) <= set(range(5))
    assert len(RandomSampler(range(5), replacement=True, num_samples=70)) == 70
    longer = list(RandomSampler(range(4), num_samples=10, generator=g))
    assert sorted(longer[:4]) == sorted(longer[4:8]) == [0, 1, 2, 3] and len(set(longer[8:])) == 2
    shorter = list(RandomSampler(range(6), num_samples=3, generator=g))
    assert len(set(shorter)) == 3 and set(shorter) <= set(range(6))
    grows = list(range(3))
    sampler = RandomSampler(grows)
    grows.append(3)  # the length is read at each pass
    assert len(sampler) == 4 and sorted(sampler) == [0, 1, 2, 3]


def test_subset_and_weighted_sampler_structure():
    g = tt.Generator().manual_seed(1)
    picked = list(SubsetRandomSampler([10, 20, 30, 40], generator=g))
    assert sorted(picked) == [10, 20, 30, 40] and len(SubsetRandomSampler([1, 2])) == 2
    weighted = list(WeightedRandomSampler([0., 1., 0., 3.], 50, generator=g))
    assert len(weighted) == 50 and set(weighted) <= {1, 3}
    distinct = list(WeightedRandomSampler([1., 0., 2., 5., 1.], 4, replacement=False, generator=g))
    assert len(set(distinct)) == 4 and 1 not in distinct
    assert WeightedRandomSampler([1, 2], 3).weights.dtype is tt.float64


def test_batch_sampler_and_sequential_sampler():
    assert list(BatchSampler(SequentialSampler(range(10)), 3, False)) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert list(BatchSampler(SequentialSampler(range(10)), 3, True)) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert len(BatchSampler(range(10), 3, False)) == 4 and len(BatchSampler(range(10), 3, True)) == 3


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.3, 0.4], [0.5, 0.5], [0.34, 0.33, 0.33], [10, 0], [1.0]])
def test_random_split_structure(lengths):
    n = 10
    g = tt.Generator().manual_seed(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parts = random_split(range(n), lengths, generator=g)
    sizes = [len(p) for p in parts]
    if all(isinstance(v, int) for v in lengths):
        assert sizes == lengths
    else:
        floors = [math.floor(n * f) for f in lengths]
        assert sum(sizes) == n and all(s - f in (0, 1) for s, f in zip(sizes, floors))
    assert sorted(i for p in parts for i in p) == list(range(n))
    assert all(isinstance(p, Subset) for p in parts)
    fractions = isinstance(lengths[0], float)
    assert len(caught) == (sizes.count(0) if fractions else 0)


def test_random_split_lengths_and_warnings_match_pytorch():
    def split(lib):
        lib.manual_seed(0)
        return [len(p) for p in _utils(lib).random_split(range(11), [0.34, 0.33, 0.33])] + \
            [len(p) for p in _utils(lib).random_split(range(2), [0.1, 0.1, 0.8])]

    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        expected = pytorch(split)
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        assert split(tt) == expected
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs] != []


# ---------------------------------------------------------------- randomness: PyTorch's draws, in PyTorch's order

def _int64_draw(lib, generator=None):
    return int(lib.empty((), dtype=lib.int64).random_(generator=generator).item())


def _seeded(lib, seed):
    g = lib.Generator()
    g.manual_seed(seed)
    return g


def _draws_plain_pass(lib):
    """A pass without shuffling draws one int64 (the workers' base seed) and nothing else."""
    lib.manual_seed(11)
    list(_utils(lib).DataLoader(range(5), batch_size=2))
    after = lib.rand(3).tolist()
    lib.manual_seed(11)
    _int64_draw(lib)
    return after == lib.rand(3).tolist()


def _draws_shuffle_default(lib):
    """shuffle=True, no generator: the base seed, then a seed for the sampler's own generator,
    then its randperm; the default generator moves by the two int64 draws only.  (A pass that
    runs to its end also draws the permutation PyTorch's sampler cuts to ``num_samples % n``
    entries: an empty cut, but a draw.)"""
    lib.manual_seed(12)
    got = [i for b in _utils(lib).DataLoader(range(9), batch_size=4, shuffle=True) for i in b.tolist()]
    after = lib.rand(2).tolist()
    lib.manual_seed(12)
    _int64_draw(lib)
    expected = lib.randperm(9, generator=_seeded(lib, _int64_draw(lib))).tolist()
    return got == expected and after == lib.rand(2).tolist()


def _draws_shuffle_generator(lib):
    """shuffle=True with generator=g: the base seed and the permutation both from g, and the
    default generator untouched."""
    lib.manual_seed(13)
    g = _seeded(lib, 99)
    loader = _utils(lib).DataLoader(range(9), batch_size=4, shuffle=True, generator=g)
    got = [[i for b in loader for i in b.tolist()] for _ in range(2)]
    after = lib.rand(2).tolist()
    g = _seeded(lib, 99)
    expected = []
    for _ in range(2):
        _int64_draw(lib, g)
        expected.append(lib.randperm(9, generator=g).tolist())
        lib.randperm(9, generator=g)  # the empty last cut
    lib.manual_seed(13)
    return got == expected and after == lib.rand(2).tolist()


def _draws_interrupted_pass(lib):
    """A pass left after its first batch has drawn its base seed and one permutation only."""
    g = _seeded(lib, 21)
    loader = _utils(lib).DataLoader(range(9), batch_size=4, shuffle=True, generator=g)
    first = next(iter(loader)).tolist()
    second = [i for b in loader for i in b.tolist()]
    g = _seeded(lib, 21)
    _int64_draw(lib, g)
    expected_first = lib.randperm(9, generator=g).tolist()[:4]
    _int64_draw(lib, g)
    return first == expected_first and second == lib.randperm(9, generator=g).tolist()


def _draws_unbatched_shuffle(lib):
    lib.manual_seed(14)
    got = [int(x) for x in _utils(lib).DataLoader(range(6), batch_size=None, shuffle=True)]
    lib.manual_seed(14)
    _int64_draw(lib)
    return got == lib.randperm(6, generator=_seeded(lib, _int64_draw(lib))).tolist()


def _draws_replacement(lib):
    """With replacement: randint in chunks of 32, then the rest."""
    g = _seeded(lib, 5)
    got = list(_utils(lib).RandomSampler(range(7), replacement=True, num_samples=70, generator=g))
    g = _seeded(lib, 5)
    expected = sum((lib.randint(0, 7, (k,), dtype=lib.int64, generator=g).tolist() for k in (32, 32, 6)), [])
    return got == expected


def _draws_more_than_n(lib):
    g = _seeded(lib, 6)
    got = list(_utils(lib).RandomSampler(range(4), num_samples=10, generator=g))
    g = _seeded(lib, 6)
    expected = sum((lib.randperm(4, generator=g).tolist() for _ in range(3)), [])[:10]
    return got == expected


def _draws_subset_sampler(lib):
    lib.manual_seed(15)
    got = list(_utils(lib).SubsetRandomSampler([10, 20, 30, 40, 50]))
    lib.manual_seed(15)
    return got == [[10, 20, 30, 40, 50][i] for i in lib.randperm(5).tolist()]


def _draws_weighted(lib):
    lib.manual_seed(16)
    weights = [0.5, 1.0, 0.0, 2.0, 0.25]
    got = [list(_utils(lib).WeightedRandomSampler(weights, 6)),
           list(_utils(lib).WeightedRandomSampler(weights, 3, replacement=False))]
    lib.manual_seed(16)
    w = lib.tensor(weights, dtype=lib.float64)
    return got == [lib.multinomial(w, 6, True).tolist(), lib.multinomial(w, 3, False).tolist()]


def _draws_random_split(lib):
    lib.manual_seed(17)
    parts = _utils(lib).random_split(range(10), [0.3, 0.7])
    lib.manual_seed(17)
    perm = lib.randperm(10).tolist()
    return [list(p) for p in parts] == [perm[:3], perm[3:]]


DRAWS = {f.__name__[len("_draws_"):]: f for f in (
    _draws_plain_pass, _draws_shuffle_default, _draws_shuffle_generator, _draws_interrupted_pass,
    _draws_unbatched_shuffle,
    _draws_replacement, _draws_more_than_n, _draws_subset_sampler, _draws_weighted, _draws_random_split)}


@pytest.mark.parametrize("case", sorted(DRAWS))
def test_draws_are_pytorchs_draws(case):
    """PyTorch agrees that its loader draws what the hand-written sequence draws, and so
    does tinytape (with its own stream)."""
    assert pytorch(DRAWS[case]) is True
    assert DRAWS[case](tt) is True


# ---------------------------------------------------------------- randomness: PyTorch's orders

def _order_shuffle_default(lib):
    lib.manual_seed(0)
    loader = _utils(lib).DataLoader(_tensor_data(lib, 12), batch_size=5, shuffle=True)
    return [[b[1].tolist() for b in loader] for _ in range(2)]


def _order_shuffle_generator(lib):
    g = _seeded(lib, 42)
    return [[b.tolist() for b in _utils(lib).DataLoader(range(10), batch_size=3, shuffle=True, generator=g)]
            for _ in range(2)]


def _order_random_sampler_replacement(lib):
    return list(_utils(lib).RandomSampler(range(7), replacement=True, num_samples=40, generator=_seeded(lib, 1)))


def _order_random_sampler_longer(lib):
    return list(_utils(lib).RandomSampler(range(4), num_samples=10, generator=_seeded(lib, 2)))


def _order_subset_sampler(lib):
    return list(_utils(lib).SubsetRandomSampler([10, 20, 30, 40, 50], generator=_seeded(lib, 3)))


def _order_weighted(lib):
    g = _seeded(lib, 4)
    weights = [0.1, 0.9, 0.4, 0.7, 3.0, 0.6]
    return [list(_utils(lib).WeightedRandomSampler(weights, 5, replacement=True, generator=g)),
            list(_utils(lib).WeightedRandomSampler(weights, 5, replacement=False, generator=g))]


def _order_random_split(lib):
    return [list(p) for p in _utils(lib).random_split(range(10), [3, 7], generator=_seeded(lib, 42))] + \
        [list(p) for p in _utils(lib).random_split(range(30), [0.3, 0.3, 0.4], generator=_seeded(lib, 42))]


def _order_random_split_default(lib):
    lib.manual_seed(7)
    return [list(p) for p in _utils(lib).random_split(range(8), [0.5, 0.5])]


ORDERS = {f.__name__[len("_order_"):]: f for f in (
    _order_shuffle_default, _order_shuffle_generator, _order_random_sampler_replacement,
    _order_random_sampler_longer, _order_subset_sampler, _order_weighted, _order_random_split,
    _order_random_split_default)}


@pytest.mark.parametrize("case", sorted(ORDERS))
def test_seeded_order_is_pytorchs(case):
    theirs = pytorch(ORDERS[case])
    assert ORDERS[case](tt) == theirs


# ---------------------------------------------------------------- on the GPU


@pytest.mark.gpu
def test_batches_of_cuda_tensors_stay_on_the_device():
    x = tt.arange(12.).reshape(6, 2).to("cuda")
    y = tt.arange(6).to("cuda")
    got = list(DataLoader(TensorDataset(x, y), batch_size=4, sampler=[5, 0, 3, 1, 2]))
    assert [b[0].device.type for b in got] == ["cuda", "cuda"] and got[1][1].device.type == "cuda"
    assert got[0][0].cpu().tolist() == [[10., 11.], [0., 1.], [6., 7.], [2., 3.]] and got[1][1].cpu().tolist() == [2]
