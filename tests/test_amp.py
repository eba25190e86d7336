"""``torch.amp``: ``autocast`` on the CPU (matrix products, linear layers and convolutions in
bfloat16, losses in float32, float64 left alone; as a context, a decorator, disabled) and
``GradScaler`` (scaled loss, unscaled gradients, a skipped step after an infinite gradient,
the scale backed off and grown), a training loop against PyTorch's; a compiled function
traced outside autocast is traced again inside it."""
import warnings

import numpy as np

import tinytape
from helpers import check_close_to_pytorch


def test_an_autocast_training_loop_with_a_grad_scaler_is_pytorchs():
    def run(torch):
        nn, F = torch.nn, torch.nn.functional
        torch.manual_seed(0)
        m = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
        opt = torch.optim.SGD(m.parameters(), lr=0.1)
        scaler = torch.amp.GradScaler("cpu", init_scale=1024.0, growth_interval=2)
        x, y = torch.randn(6, 8), torch.randint(0, 4, (6,))
        out = []
        for i in range(4):
            opt.zero_grad()
            with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
                logits = m(x)
                loss = F.cross_entropy(logits, y)
                out.append([logits.dtype == torch.bfloat16, loss.dtype == torch.float32,
                            torch.is_autocast_enabled("cpu"), str(torch.get_autocast_dtype("cpu"))])
            scaler.scale(loss).backward()
            if i == 2:
                m[0].weight.grad.fill_(float("inf"))
            scaler.step(opt)
            scaler.update()
            out.append([loss.float(), scaler.get_scale()])
        out.append(sorted(scaler.state_dict().items()))
        out.append([p.detach() for p in m.parameters()])
        with torch.autocast("cpu"):
            a = torch.randn(2, 3) @ torch.randn(3, 2)
            b = torch.randn(2, 3, dtype=torch.float64) @ torch.randn(3, 2, dtype=torch.float64)
            c = F.conv2d(torch.randn(1, 1, 4, 4), torch.randn(2, 1, 3, 3))
            d = F.mse_loss(a, torch.zeros(2, 2))
            out.append([str(t.dtype) for t in (a, b, c, d)] + [torch.is_autocast_enabled()])
        with torch.autocast("cpu", enabled=False):
            out.append(str((torch.ones(2, 2) @ torch.ones(2, 2)).dtype))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            disabled = torch.cuda.amp.GradScaler(enabled=False)
        out += [str(caught[0].message), disabled.get_scale(), disabled.state_dict(), torch.is_autocast_enabled("cpu")]
        return out
    check_close_to_pytorch(run, rtol=1e-2, atol=1e-3)  # (bfloat16 products: 8 bits of mantissa)


def test_a_compiled_function_is_traced_again_under_autocast():
    f = tinytape.compile(lambda a, b: a @ b + 1)
    a, b = tinytape.randn(3, 4), tinytape.randn(4, 2)
    outside = f(a, b)
    with tinytape.autocast("cpu"):
        inside = f(a, b)
        again = f(a, b)
    assert outside.dtype is tinytape.float32 and inside.dtype is tinytape.bfloat16 and again.dtype is tinytape.bfloat16
    np.testing.assert_array_equal(inside.float().numpy(), again.float().numpy())
    assert f.traces == 2
