"""BLAS threads per product (``tinytape.backend.cpu.linalg.set_small_product_flops``):
small products on one thread, larger ones on the library's own count, same results."""
import numpy as np

import tinytape as tt
from tinytape.backend.cpu import linalg


def test_small_products_run_on_one_thread_and_agree():
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(24, 100)), rng.normal(size=(100, 4))
    previous = linalg.set_small_product_flops(1e5)
    try:
        threads = linalg._threads
        small = tt.tensor(x).mm(tt.tensor(w))  # 19 200 flops: below the threshold
        assert threads._get() == 1
        np.testing.assert_allclose(small.numpy(), x @ w, rtol=1e-12)
        big = tt.tensor(rng.normal(size=(60, 60))) @ tt.tensor(rng.normal(size=(60, 60)))  # 432 000 flops
        assert threads._get() == threads.most
        batched = tt.tensor(x.reshape(2, 12, 100)) @ tt.tensor(w)
        np.testing.assert_allclose(batched.numpy(), (x @ w).reshape(2, 12, 4), rtol=1e-12)
        assert big.shape == (60, 60)
    finally:
        linalg.set_small_product_flops(previous)
    assert linalg._threads.small_flops == previous
    if previous == 0:
        assert linalg._threads._get() == linalg._threads.most  # off: the library's own count again
