"""The seed step's data and its hand-written numpy version (forward, backward, SGD update),
the reference the benchmarks time against."""
import numpy as np


def seed_data(N=24, D_in=1000, H=100, D_out=4):
    """x, y, w1, w2 as float32 arrays, the same in every benchmark."""
    rng = np.random.default_rng(0)
    xs, ys = rng.standard_normal((N, D_in), np.float32), rng.standard_normal((N, D_out), np.float32)
    w1s, w2s = rng.standard_normal((D_in, H), np.float32), rng.standard_normal((H, D_out), np.float32)
    return xs, ys, w1s, w2s


def numpy_seed_step(xs, ys, w1s, w2s, lr=1e-6):
    """A step function updating its own copies of the weights; returns the loss."""
    n1, n2 = w1s.copy(), w2s.copy()

    def numpy_step():
        h = xs @ n1
        h_relu = np.maximum(h, 0)
        diff = h_relu @ n2 - ys
        loss = np.square(diff).sum()
        grad_y_pred = 2.0 * diff
        grad_w2 = h_relu.T @ grad_y_pred
        grad_h = grad_y_pred @ n2.T
        grad_h[h < 0] = 0
        grad_w1 = xs.T @ grad_h
        np.subtract(n1, lr * grad_w1, out=n1)
        np.subtract(n2, lr * grad_w2, out=n2)
        return loss
    return numpy_step
