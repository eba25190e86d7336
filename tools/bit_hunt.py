"""Where tinytape's CPU results differ from PyTorch's in the last bits: each case runs with both
libraries on the same seeded inputs (tinytape draws PyTorch's random numbers), forward and
backward, float32 and float64, over several shapes (odd sizes, non-contiguous views), and prints
the largest difference in units in the last place and the share of elements that differ.

    PYTHONPATH=$PWD /work/venv-torch/bin/python tools/bit_hunt.py [name-substring ...]
"""
import math
import sys

import numpy as np
import torch

import tinytape

SHAPES = [(1,), (7,), (67,), (3, 5), (13, 31), (4, 67), (2, 3, 17), (5, 8, 9)]


def _leaf(t, dtype, shape, seed, transpose=False, positive=False, unit=False):
    t.manual_seed(seed)
    x = t.randn(*shape, dtype=getattr(t, dtype))
    if positive:
        x = x.abs() + 0.1
    if unit:
        x = t.sigmoid(x)
    if transpose and x.dim() >= 2:
        x = x.transpose(0, -1).contiguous().transpose(0, -1)  # same values, non-contiguous strides
    return x.requires_grad_()


def _outputs(value):
    if isinstance(value, (list, tuple)):
        return [o for v in value for o in _outputs(v)]
    return [value]


def _run(t, fn, dtype, shape, transpose, opts):
    xs = [_leaf(t, dtype, shape, seed, transpose, **opts) for seed in range(fn.__code__.co_argcount - 1)]
    out = fn(t, *xs)
    outs = [o for o in _outputs(out) if o.is_floating_point()]
    grad_of = [o for o in outs if o.requires_grad]
    results = [o.detach() for o in outs]
    for i, o in enumerate(grad_of):  # each output's gradients alone (no accumulation order)
        t.manual_seed(100 + i)
        grads = t.autograd.grad((o * t.randn(*o.shape, dtype=o.dtype)).sum(), xs, retain_graph=True,
                                allow_unused=True)
        results += [g for g in grads if g is not None]
    return [r.float().numpy() if "bfloat16" in str(r.dtype) else r.numpy() for r in results]


def ulps(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return math.inf, 1.0
    if a.size == 0:
        return 0, 0.0
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    if same.all():
        return 0, 0.0
    ints = {4: np.int32, 8: np.int64, 2: np.int16}[a.dtype.itemsize]
    ia, ib = a.view(ints).astype(np.int64), b.view(ints).astype(np.int64)
    ia = np.where(ia < 0, np.iinfo(ints).min - ia, ia)
    ib = np.where(ib < 0, np.iinfo(ints).min - ib, ib)
    d = np.where(same, 0, np.abs(ia - ib))
    return int(d.max()), float((~same).mean())


def hunt(cases, dtypes=("float32", "float64"), shapes=SHAPES):
    worst = {}
    for name, (fn, opts, min_dim) in cases.items():
        for dtype in dtypes:
            for shape in shapes:
                if len(shape) < min_dim:
                    continue
                for transpose in (False, True):
                    if transpose and len(shape) < 2:
                        continue
                    try:
                        ref = _run(torch, fn, dtype, shape, transpose, opts)
                    except Exception:
                        continue
                    try:
                        mine = _run(tinytape, fn, dtype, shape, transpose, opts)
                    except Exception as e:
                        print(f"{name:28s} {dtype} {shape} T={transpose}: ERROR {type(e).__name__}: {e}"[:200])
                        continue
                    if len(mine) != len(ref):
                        print(f"{name:28s} {dtype} {shape}: {len(mine)} results != {len(ref)}")
                        continue
                    for k, (a, b) in enumerate(zip(mine, ref)):
                        u, share = ulps(a.astype(b.dtype) if a.dtype != b.dtype else a, b)
                        if u:
                            key = (name, dtype, k, transpose)
                            old = worst.get(key, (0, 0.0, shape, transpose))
                            worst[key] = (max(u, old[0]), max(share, old[1]), shape if u > old[0] else old[2],
                                          transpose)
    for (name, dtype, k, transpose), (u, share, shape, _) in sorted(worst.items()):
        view = "strided" if transpose else "contiguous"
        print(f"{name:20s} {dtype} {view:10s} out{k}: max {u} ulp, {share:.1%} of elements at most (largest in {shape})")
    return worst


F = "nn.functional."


def case(fn, min_dim=1, **opts):
    return fn, opts, min_dim


def fn_of(path):
    def get(t):
        obj = t
        for part in path.split("."):
            obj = getattr(obj, part)
        return obj
    return get


CASES = {
    # the known differences
    "group_norm": case(lambda t, x: t.nn.functional.group_norm(x.reshape(x.shape[0], -1, 1)
                                                               if x.dim() < 3 else x, 1), 2),
    "interp_linear": case(lambda t, x: [t.nn.functional.interpolate(x, scale_factor=s, mode="linear", align_corners=a)
                                        for s in (2.3, 0.6) for a in (False, True)], 3),
    "interp_bilinear": case(lambda t, x: [t.nn.functional.interpolate(x.unsqueeze(0), size=(5, 11), mode="bilinear",
                                                                      align_corners=a) for a in (False, True)], 3),
    "interp_bicubic": case(lambda t, x: [t.nn.functional.interpolate(x.unsqueeze(0), size=(5, 11), mode="bicubic",
                                                                     align_corners=a) for a in (False, True)], 3),
    "interp_trilinear": case(lambda t, x: [t.nn.functional.interpolate(x.unsqueeze(0).unsqueeze(0), size=(3, 5, 11),
                                                                       mode="trilinear", align_corners=a)
                                           for a in (False, True)], 3),
    "pow_half": case(lambda t, x: [x ** 0.5, x ** -0.5, x ** 2, x ** 3, x ** -1, x ** -2, x ** 1.5, x ** 4],
                     positive=True),
    "norm_p": case(lambda t, x: [t.linalg.vector_norm(x, p) for p in (1.5, 1.2, 3.0, 0.5)]),
    "xlogy": case(lambda t, x, y: [t.xlogy(t.relu(x), y.abs()), t.special.xlog1py(t.relu(x), y.abs())]),
    # common ops
    "softmax": case(lambda t, x: [t.softmax(x, d) for d in range(x.dim())]),
    "log_softmax": case(lambda t, x: [t.log_softmax(x, d) for d in range(x.dim())]),
    "logsumexp": case(lambda t, x: [t.logsumexp(x, d) for d in range(x.dim())]),
    "mean": case(lambda t, x: [x.mean()] + [x.mean(d) for d in range(x.dim())]),
    "var_std": case(lambda t, x: [x.var(), x.std()] + [x.var(d) for d in range(x.dim())]),
    "cumsum": case(lambda t, x: [x.cumsum(d) for d in range(x.dim())]),
    "cumprod": case(lambda t, x: [x.cumprod(d) for d in range(x.dim())]),
    "prod": case(lambda t, x: [x.prod()] + [x.prod(d) for d in range(x.dim())]),
    "sigmoid": case(lambda t, x: t.sigmoid(x)),
    "tanh": case(lambda t, x: t.tanh(x)),
    "gelu": case(lambda t, x: [t.nn.functional.gelu(x), t.nn.functional.gelu(x, approximate="tanh")]),
    "silu": case(lambda t, x: t.nn.functional.silu(x)),
    "softplus": case(lambda t, x: t.nn.functional.softplus(x)),
    "elu": case(lambda t, x: t.nn.functional.elu(x)),
    "mish": case(lambda t, x: t.nn.functional.mish(x)),
    "mse": case(lambda t, x, y: [t.nn.functional.mse_loss(x, y), t.nn.functional.mse_loss(x, y, reduction="none")]),
    "l1": case(lambda t, x, y: [t.nn.functional.l1_loss(x, y), t.nn.functional.l1_loss(x, y, reduction="none")]),
    "smooth_l1": case(lambda t, x, y: [t.nn.functional.smooth_l1_loss(x, y), t.nn.functional.huber_loss(x, y, delta=0.7)]),
    "bce": case(lambda t, x, y: t.nn.functional.binary_cross_entropy(x, y.detach()), unit=True),
    "bce_logits": case(lambda t, x, y: t.nn.functional.binary_cross_entropy_with_logits(x, t.sigmoid(y))),
    "cross_entropy": case(lambda t, x: [t.nn.functional.cross_entropy(x, t.arange(x.shape[0]) % x.shape[1],
                                                                      label_smoothing=s) for s in (0.0, 0.1)], 2),
    "nll": case(lambda t, x: t.nn.functional.nll_loss(t.log_softmax(x, 1), t.arange(x.shape[0]) % x.shape[1]), 2),
    "kl_div": case(lambda t, x, y: t.nn.functional.kl_div(t.log_softmax(x, -1), t.softmax(y, -1),
                                                          reduction="batchmean")),
    "addcmul": case(lambda t, x, y, z: [t.addcmul(x, y, z, value=0.3), t.addcdiv(x, y, z.abs() + 1, value=0.3)]),
    "lerp": case(lambda t, x, y, z: [t.lerp(x, y, 0.3), t.lerp(x, y, t.sigmoid(z))]),
    "clamp": case(lambda t, x: [x.clamp(-0.5, 0.7), x.clamp(min=0.1)]),
    "atan2": case(lambda t, x, y: t.atan2(x, y)),
    "hypot": case(lambda t, x, y: t.hypot(x, y)),
    "remainder": case(lambda t, x, y: [t.remainder(x, y.abs() + 0.3), t.fmod(x, y.abs() + 0.3)]),
    "cosine_similarity": case(lambda t, x, y: t.nn.functional.cosine_similarity(x, y, dim=-1)),
    "pairwise_distance": case(lambda t, x, y: t.nn.functional.pairwise_distance(x, y)),
    "dist": case(lambda t, x, y: [t.dist(x, y), t.dist(x, y, 3)]),
    "lp_pool": case(lambda t, x: t.nn.functional.lp_pool1d(x.unsqueeze(0), 2, 2), 2),
    "normalize": case(lambda t, x: [t.nn.functional.normalize(x, dim=d) for d in range(x.dim())]),
    "batch_norm_train": case(lambda t, x: t.nn.functional.batch_norm(x, None, None, training=True), 2),
    "batch_norm_eval": case(lambda t, x, m, v: t.nn.functional.batch_norm(
        x, m[0].detach(), v[0].detach().abs() + 0.5, training=False), 2),
    "layer_norm": case(lambda t, x, w, b: t.nn.functional.layer_norm(x, x.shape[-1:], w[0], b[0]), 2),
    "instance_norm": case(lambda t, x: t.nn.functional.instance_norm(x), 3),
    "exp_log": case(lambda t, x: [t.exp(x), t.log(x.abs() + 0.1), t.sqrt(x.abs()), t.rsqrt(x.abs() + 0.1)]),
}


if __name__ == "__main__":
    wanted = sys.argv[1:]
    hunt({k: v for k, v in CASES.items() if not wanted or any(w in k for w in wanted)})
