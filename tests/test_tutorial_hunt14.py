"""Data-loading programs as the tutorials write them (``num_workers=2``, random augmentations in
``__getitem__``, ``worker_init_fn`` splitting an ``IterableDataset``, ``persistent_workers``), run
with ``import tinytape as torch``: the batches come in PyTorch's order, each worker's random
streams (torch, ``random``, numpy) seeded and kept as PyTorch's workers keep them, the main
process's streams moving as PyTorch's do."""
import math
import random

import numpy as np

from helpers import check_against_pytorch


def _augmented(torch):
    class Augmented(torch.utils.data.Dataset):
        def __len__(self):
            return 10

        def __getitem__(self, i):
            info = torch.utils.data.get_worker_info()
            return (torch.tensor([float(i)]) + torch.rand(1), random.random(), float(np.random.rand()),
                    -1 if info is None else info.id)
    return Augmented()


def test_workers_draw_what_pytorchs_workers_draw():
    def run(torch):
        torch.manual_seed(0)
        random.seed(0)
        np.random.seed(0)
        out = []
        for workers in (0, 2, 3):
            loader = torch.utils.data.DataLoader(_augmented(torch), batch_size=3, shuffle=True, num_workers=workers)
            out += [[(x, r, n, w) for x, r, n, w in loader], torch.rand(1), random.random(), float(np.random.rand())]
        def init(worker_id):  # runs in the worker: what it changes stays there (its streams)
            info = torch.utils.data.get_worker_info()
            assert worker_id == info.id and torch.initial_seed() == info.seed and info.num_workers == 2
            torch.rand(worker_id + 1)
        loader = torch.utils.data.DataLoader(_augmented(torch), batch_size=4, num_workers=2, worker_init_fn=init,
                                             persistent_workers=True)
        for _ in range(2):
            out += [[(x, w) for x, _, _, w in loader], torch.rand(1)]
        return out + [torch.utils.data.get_worker_info()]
    check_against_pytorch(run)


def test_iterable_dataset_split_across_workers():
    def run(torch):
        class Range(torch.utils.data.IterableDataset):
            def __init__(self, start, end):
                self.start, self.end = start, end

            def __iter__(self):
                info = torch.utils.data.get_worker_info()
                if info is None:
                    return iter(range(self.start, self.end))
                per_worker = int(math.ceil((self.end - self.start) / float(info.num_workers)))
                first = self.start + info.id * per_worker
                return iter(range(first, min(first + per_worker, self.end)))

        class Plain(Range):
            def __iter__(self):
                return iter(range(self.start, self.end))

        def split(worker_id):
            info = torch.utils.data.get_worker_info()
            dataset = info.dataset  # this worker's copy
            per_worker = int(math.ceil((dataset.end - dataset.start) / float(info.num_workers)))
            dataset.start = dataset.start + worker_id * per_worker
            dataset.end = min(dataset.start + per_worker, dataset.end)
        DL = torch.utils.data.DataLoader
        plain = Plain(3, 7)
        return [list(DL(Range(3, 7), num_workers=0)), list(DL(Range(3, 7), num_workers=2)),
                list(DL(Range(3, 10), num_workers=2, batch_size=2)), list(DL(plain, num_workers=2, worker_init_fn=split)),
                list(DL(plain, num_workers=2)), list(DL(plain, num_workers=2, batch_size=3, drop_last=True)),
                (plain.start, plain.end)]
    check_against_pytorch(run)
