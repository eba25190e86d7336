"""``num_workers > 0``: the batches PyTorch's worker processes would load, loaded in the main
process in the order PyTorch delivers them.

PyTorch hands batch ``k`` to worker ``k % num_workers`` (an ``IterableDataset``: each worker
walks its own copy, the batches interleaved round-robin until each copy runs out), and seeds
each worker's random streams from the pass's base seed: ``torch.manual_seed(base + id)``,
``random.seed(base + id)``, numpy's from a hash of both.  Each worker here keeps those three
streams (and its shallow copy of the dataset) apart from the main process's: swapped in to
load its batch, swapped out after, so the main process's streams move as PyTorch's do and a
dataset drawing random augmentations draws what PyTorch's workers draw."""
import collections
import copy
import os
import random
import warnings

import numpy as np

from ... import _creation, _dtype

_current = [None]  # the WorkerInfo of the worker whose code is running


class WorkerInfo:
    """What ``get_worker_info()`` tells a dataset (or ``worker_init_fn``) in a worker."""
    __initialized = False

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs.keys())
        self.__initialized = True

    def __setattr__(self, key, val):
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {self.__class__.__name__} objects")
        return super().__setattr__(key, val)

    def __repr__(self):
        return f"{self.__class__.__name__}({', '.join(f'{k}={getattr(self, k)}' for k in self.__keys)})"


def check_worker_count(num_workers, stacklevel):
    """PyTorch's warning for more workers than the CPUs this process may run on."""
    if not num_workers:
        return
    suggest = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if suggest is None or num_workers > suggest:
        checked = "" if hasattr(os, "sched_getaffinity") else " (`cpuset` is not taken into account)"
        suggestion = (f"Our suggested max number of worker in current system is {suggest}{checked}, which is smaller "
                      "than what this DataLoader is going to create." if suggest is not None else
                      "DataLoader is not able to compute a suggested max number of worker in current system.")
        warnings.warn(f"This DataLoader will create {num_workers} worker processes in total. {suggestion} Please be "
                      "aware that excessive worker creation might get DataLoader running slow or even freeze, lower "
                      "the worker number to avoid potential slowness/freeze if necessary.", stacklevel=stacklevel + 1)


def get_worker_info():
    """The current worker's ``WorkerInfo`` while a worker's code runs; None in the main process."""
    return _current[0]


def numpy_seed(base_seed, worker_id):
    """The state PyTorch seeds a worker's numpy with: four 32-bit words hashed from the base seed
    and the worker's id (numpy's SeedSequence hashing, as PyTorch spells it out)."""
    mask = 0xFFFFFFFF
    entropy = [worker_id, base_seed & mask, base_seed >> 32, 0]
    hash_a = [0x43B0D7E5]

    def hashed(value):
        value = (value ^ hash_a[0]) & mask
        hash_a[0] = (hash_a[0] * 0x931E8875) & mask
        value = (value * hash_a[0]) & mask
        return (value ^ (value >> 16)) & mask

    def mix(x, y):
        result = ((0xCA01F9DD * x) & mask) - ((0x4973F715 * y) & mask) & mask
        result &= mask
        return (result ^ (result >> 16)) & mask
    pool = [hashed(e) for e in entropy]
    for source in range(4):
        for target in range(4):
            if source != target:
                pool[target] = mix(pool[target], hashed(pool[source]))
    hash_b, state = 0x8B51F9DD, []
    for value in pool:
        value = (value ^ hash_b) & mask
        hash_b = (hash_b * 0x58F38DED) & mask
        value = (value * hash_b) & mask
        state.append((value ^ (value >> 16)) & mask)
    return state


class _Worker:
    """One emulated worker: its id, dataset copy, random streams and (iterable) data iterator."""

    def __init__(self, worker_id, loader, base_seed):
        self.id = worker_id
        self.dataset = copy.copy(loader.dataset)
        seed = base_seed + worker_id
        self.info = WorkerInfo(id=worker_id, num_workers=loader.num_workers, seed=seed, dataset=self.dataset,
                               rng=None, worker_method="multiprocessing")
        self.streams = None
        with self.running():
            random.seed(seed)
            _creation.manual_seed(seed)
            np.random.seed(numpy_seed(base_seed, worker_id))
        self.done = False

    def running(self):
        return _Running(self)


class _Running:
    """Within it, the worker's streams are the process's (the main process's put aside)."""

    def __init__(self, worker):
        self.worker = worker

    def __enter__(self):
        self.main = (random.getstate(), _creation.get_rng_state(), np.random.get_state(), _current[0])
        if self.worker.streams is not None:
            py, torch_state, np_state = self.worker.streams
            random.setstate(py)
            _creation.set_rng_state(torch_state)
            np.random.set_state(np_state)
        _current[0] = self.worker.info

    def __exit__(self, *exc):
        self.worker.streams = (random.getstate(), _creation.get_rng_state(), np.random.get_state())
        py, torch_state, np_state, info = self.main
        random.setstate(py)
        _creation.set_rng_state(torch_state)
        np.random.set_state(np_state)
        _current[0] = info


class WorkersIter:
    """One pass over a ``DataLoader`` with ``num_workers > 0`` (kept across passes with
    ``persistent_workers``, its workers' streams going on)."""

    def __init__(self, loader, first_pass):
        self._loader = loader
        self._iterable = loader._dataset_kind == 1
        self._base_seed = _creation.empty((), dtype=_dtype.int64).random_(generator=loader.generator).item()
        self._workers = [_Worker(i, loader, self._base_seed) for i in range(loader.num_workers)]
        for worker in self._workers:  # each worker starts: init function, then its fetcher
            with worker.running():
                if loader.worker_init_fn is not None:
                    loader.worker_init_fn(worker.id)
        self._reset(loader)

    def _reset(self, loader):
        self._index_sampler = loader._index_sampler
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._next_worker = 0
        for worker in self._workers:
            worker.done = False
            if self._iterable:
                with worker.running():
                    worker.iterator = iter(worker.dataset)
        self._tasks = collections.deque()
        prefetch = loader.prefetch_factor if loader.prefetch_factor is not None else 2
        for _ in range(prefetch * loader.num_workers):  # indices handed out ahead, as PyTorch's
            self._put_task()

    def _put_task(self):
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        for _ in range(len(self._workers)):
            worker = self._workers[self._next_worker]
            self._next_worker = (self._next_worker + 1) % len(self._workers)
            if not worker.done:
                self._tasks.append((worker, index))
                return

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._index_sampler)

    def __next__(self):
        while self._tasks:
            worker, index = self._tasks.popleft()
            if worker.done:
                continue
            with worker.running():
                found, data = self._fetch(worker, index)
            if not found:
                worker.done = True
                continue
            self._put_task()
            self._num_yielded += 1
            return data
        raise StopIteration

    def _fetch(self, worker, index):
        loader = self._loader
        if not self._iterable:
            if loader._auto_collation:
                getitems = getattr(worker.dataset, "__getitems__", None)
                data = getitems(index) if getitems else [worker.dataset[i] for i in index]
            else:
                data = worker.dataset[index]
            return True, loader.collate_fn(data)
        if loader._auto_collation:
            data = []
            for _ in index:
                try:
                    data.append(next(worker.iterator))
                except StopIteration:
                    break
            if not data or (loader.drop_last and len(data) < len(index)):
                return False, None
            return True, loader.collate_fn(data)
        try:
            return True, loader.collate_fn(next(worker.iterator))
        except StopIteration:
            return False, None
