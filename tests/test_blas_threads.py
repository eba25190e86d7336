"""BLAS threads per product (``tinytape.backend.cpu.linalg.set_small_product_flops``):
small products on one thread, larger ones on the library's own count, same results; on
by default."""
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


def test_the_policy_is_on_by_default_and_off_gives_the_library_its_count():
    assert linalg._threads.small_flops == linalg.SMALL_PRODUCT_FLOPS
    x = tt.ones(24, 1000)
    x.mm(tt.ones(1000, 100))  # the seed's largest product: 4.8 M flops, one thread
    assert linalg._threads._get() == 1
    previous = linalg.set_small_product_flops(0)
    try:
        assert linalg._threads._get() == linalg._threads.most  # off: the library's own count again
        np.testing.assert_array_equal(x.mm(tt.ones(1000, 100)).numpy(), np.full((24, 100), 1000, np.float32))
    finally:
        linalg.set_small_product_flops(previous)
