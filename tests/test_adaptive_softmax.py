"""``nn.AdaptiveLogSoftmaxWithLoss`` against PyTorch's: parameters (names, shapes, seeded
initialisation), the output and loss of targets in the head and in each cluster, their
gradients, ``log_prob``, ``predict``, an unbatched call and PyTorch's errors."""
from helpers import check_close_to_pytorch


def test_adaptive_log_softmax_is_pytorchs():
    def run(torch):
        nn = torch.nn
        torch.manual_seed(0)
        m = nn.AdaptiveLogSoftmaxWithLoss(16, 20, [4, 10], div_value=2.0)
        x, y = torch.randn(8, 16), torch.tensor([0, 3, 5, 9, 10, 19, 2, 12])
        out = m(x, y)
        out.loss.backward()
        errors = []
        for bad in (lambda: m(x, torch.tensor([0, 1, 2, 3, 4, 5, 6, 25])),
                    lambda: nn.AdaptiveLogSoftmaxWithLoss(16, 20, [10, 4]), lambda: m(x, y[:3])):
            try:
                bad()
            except (RuntimeError, ValueError) as e:
                errors.append(f"{type(e).__name__}: {e}")
        return [repr(m), [(n, tuple(p.shape)) for n, p in m.named_parameters()], list(m.parameters()),
                out.output, out.loss, [p.grad for p in m.parameters()], m.log_prob(x), m.predict(x),
                list(m(x[0], y[0])), type(out).__name__, out._fields, errors]
    check_close_to_pytorch(run)
