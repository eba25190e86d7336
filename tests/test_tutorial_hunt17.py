"""Programs a learner writes after the basics, against PyTorch's answers: the errors they meet
first (a convolution's channels, a Linear's features, a loss's targets, a dim out of range,
an index out of range), printed in PyTorch's words; ShuffleNet's ``ChannelShuffle``; and
what the tutorials print along the way."""
import re

import numpy as np

from helpers import check_against_pytorch, check_grad, outcome_of


def _errors(calls):
    """Each call's outcome as text: PyTorch's type and words, the package named as torch."""
    return [str(outcome_of(c)).replace("tinytape", "torch") for c in calls]


def test_convolution_and_padding_errors_in_pytorchs_words():
    def run(torch):
        F, nn = torch.nn.functional, torch.nn
        x = torch.ones(1, 2, 4, 4)
        return _errors([
            lambda: nn.Conv2d(3, 8, 3)(torch.randn(1, 4, 5, 5)),
            lambda: F.conv2d(torch.ones(1, 4, 4, 4), torch.ones(3, 2, 3, 3), groups=2),
            lambda: F.conv2d(torch.ones(1, 2, 2, 2), torch.ones(3, 2, 3, 3)),
            lambda: F.conv2d(torch.ones(2, 2), torch.ones(3, 2, 3, 3)),
            lambda: F.conv1d(torch.ones(1, 2, 4), torch.ones(3, 2, 3, 3)),
            lambda: F.conv2d(x, torch.ones(3, 2, 3, 3), torch.ones(2)),
            lambda: F.conv2d(x, torch.ones(3, 2, 3, 3), stride=2, padding="same"),
            lambda: F.conv2d(x, torch.ones(3, 2, 3, 3), stride=0),
            lambda: F.conv2d(x, torch.ones(3, 2, 3, 3), dilation=0),
            lambda: F.conv2d(x, torch.ones(3, 2, 3, 3), padding=-1),
            lambda: F.conv2d(x, torch.ones(3, 2, 3, 3), padding="full"),
            lambda: F.conv2d(x, torch.ones(3, 2, 3, 3), groups=0),
            lambda: F.conv2d(x.double(), torch.ones(3, 2, 3, 3)),
            lambda: F.conv2d(x, torch.ones(3, 2, 3, 3), stride=(1, 2, 3)),
            lambda: F.conv1d(torch.ones(1, 2, 4), torch.ones(3, 4, 3)),
            lambda: F.pad(torch.ones(1, 1, 3), (3, 3), mode="reflect"),
            lambda: F.pad(torch.ones(1, 1, 3), (4, 4), mode="circular"),
        ])
    check_against_pytorch(run)


def test_channel_shuffle_of_shufflenet():
    def run(torch):
        F = torch.nn.functional
        x = torch.arange(12.).view(1, 6, 2, 1).requires_grad_()
        y = F.channel_shuffle(x, 3)
        (y * torch.arange(12.).view(1, 6, 2, 1)).sum().backward()
        module = torch.nn.ChannelShuffle(2)
        return [y, x.grad, module(x), repr(module), torch.channel_shuffle(x, 2), y.is_contiguous(),
                F.channel_shuffle(torch.arange(8).view(1, 4, 2), 2),
                *_errors([lambda: F.channel_shuffle(torch.ones(1, 5, 2), 2),
                          lambda: F.channel_shuffle(torch.ones(5), 1), lambda: F.channel_shuffle(torch.ones(1, 4), 2),
                          lambda: F.channel_shuffle(torch.ones(1, 4, 2), 0)])]
    check_against_pytorch(run)


def test_channel_shuffle_gradient_by_finite_differences():
    import tinytape as tt
    check_grad(lambda x: tt.nn.functional.channel_shuffle(x, 2) * tt.arange(24.).view(2, 4, 3), np.random.rand(2, 4, 3))


def _naming_the_op(texts, named):
    """``texts`` with the op tinytape names before PyTorch's words on a dim out of range
    ("sum: Dimension out of range ...") taken off, so the rest compares with PyTorch's words;
    ``named``: whether each such error names one (tinytape's do, PyTorch's do not)."""
    out = []
    for text in texts:
        found = re.match(r"^(\w+): ([\w.]+): (Dimension out of range.*)$", text, re.S)
        if "Dimension out of range" in text:
            assert bool(found) == named, text
        out.append(f"{found.group(1)}: {found.group(3)}" if found else text)
    return out


def test_dims_out_of_range_and_permutations_in_pytorchs_words():
    def run(torch):
        x = torch.ones(2, 3)
        return _naming_the_op(_errors([
            lambda: x.sum(2), lambda: x.softmax(-3), lambda: x.transpose(0, 2), lambda: x.unsqueeze(3),
            lambda: torch.cat([x], dim=2), lambda: x.argmax(5), lambda: torch.ones(3).flatten(0, 2), lambda: x.size(2),
            lambda: torch.ones(3).squeeze(2), lambda: x.float().mean(dim=3),
            lambda: torch.ones(3).permute(1, 0), lambda: x.permute(0), lambda: x.permute(0, 0), lambda: x.permute(0, 2),
            lambda: x.permute(1, 1, 0),
        ]), named=torch.__name__ == "tinytape")
    check_against_pytorch(run)


def test_indices_out_of_range_in_pytorchs_words():
    def run(torch):
        x, i = torch.ones(2, 2), torch.tensor([[0, 5]])
        return [x.index_select(0, torch.tensor([1, 0])), *_errors([
            lambda: x.scatter(1, i, 1.), lambda: x.scatter_add(1, i, torch.ones(1, 2)),
            lambda: x.scatter_reduce(1, i, torch.ones(1, 2), "sum"), lambda: torch.gather(x, 1, i),
            lambda: torch.gather(x, 0, torch.tensor([[-1, 0]])),
            lambda: x.index_select(0, torch.tensor([-3])), lambda: x.index_select(0, torch.tensor([1, -1])),
            lambda: x.index_select(1, torch.tensor([2])), lambda: torch.ones(5).index_select(0, torch.tensor([7])),
            lambda: torch.ones(2, 3, 4).index_select(2, torch.tensor([-1])),
            lambda: torch.ones(2, 3, 4).index_select(1, torch.tensor([0, 3])),
            lambda: x.index_add(0, torch.tensor([2]), torch.ones(1, 2)),
            lambda: x.index_add(0, torch.tensor([0]), torch.ones(2, 2)),
            lambda: x.index_add(0, torch.tensor([0]), torch.ones(1, 3)),
            lambda: x.index_fill(0, torch.tensor([2]), 1.),
            lambda: x.index_copy(0, torch.tensor([2]), torch.ones(1, 2)),
        ])]
    check_against_pytorch(run)


def test_loss_target_errors_in_pytorchs_words():
    def run(torch):
        F = torch.nn.functional
        torch.manual_seed(0)
        x = torch.randn(3, 5)
        return [F.nll_loss(x.log_softmax(1), torch.tensor([1, 2, 1], dtype=torch.uint8)), *_errors([
            lambda: F.nll_loss(x, torch.tensor([1, 2, -1])), lambda: F.nll_loss(x, torch.tensor([1., 2, 1])),
            lambda: F.nll_loss(x, torch.tensor([1, 2], dtype=torch.int32)),
            lambda: F.cross_entropy(x, torch.tensor([1, 2])), lambda: F.cross_entropy(x, torch.tensor([[1, 2, 1]])),
            lambda: F.cross_entropy(x, torch.tensor(1)), lambda: F.cross_entropy(x, torch.randn(3, 4)),
            lambda: F.cross_entropy(x, torch.randn(3)),
            lambda: F.cross_entropy(x, torch.tensor([1, 2, 3], dtype=torch.int32)),
            lambda: F.cross_entropy(torch.randn(2, 5, 4), torch.tensor([[1, 2, 3, 5], [0, 0, 0, 0]])),
            lambda: F.cross_entropy(torch.randn(2, 5, 4), torch.tensor([[1, 2, 3], [0, 0, 0]])),
            lambda: F.nll_loss(torch.randn(2, 5, 4), torch.tensor([[1, 2, 3, -3], [0, 0, 0, 0]])),
            lambda: F.nll_loss(x, torch.tensor([1, 2, 1]), weight=torch.ones(4)),
            lambda: F.nll_loss(x, torch.tensor([1, 2, 1]), reduction="avg"),
            lambda: F.nll_loss(torch.randn(5), torch.tensor([1, 2])),
            lambda: F.nll_loss(torch.randn(5), torch.tensor(2.)),
            lambda: F.mse_loss(torch.ones(2), torch.ones(2), reduction="x"),
            lambda: torch.nn.CrossEntropyLoss()(torch.randn(3, 5), torch.tensor([1, 2, 7])),
        ])]
    check_against_pytorch(run)


def test_linear_and_addmm_errors_in_pytorchs_words():
    def run(torch):
        nn, F = torch.nn, torch.nn.functional
        return _errors([
            lambda: nn.Linear(3, 2)(torch.ones(4, 5)), lambda: nn.Linear(3, 2)(torch.ones(5)),
            lambda: nn.Linear(3, 2)(torch.ones(2, 4, 5)), lambda: nn.Linear(3, 2, bias=False)(torch.ones(4, 5)),
            lambda: F.linear(torch.ones(4, 3), torch.ones(2, 3), torch.ones(3)),
            lambda: nn.Linear(3, 2)(torch.ones(4, 3, dtype=torch.float64)),
            lambda: nn.Linear(3, 2)(torch.ones(4, 3, dtype=torch.long)),
            lambda: torch.addmm(torch.ones(3), torch.ones(4, 2), torch.ones(2, 2)),
            lambda: torch.addmm(torch.ones(3, 2), torch.ones(4, 2), torch.ones(2, 2)),
            lambda: torch.addmm(torch.ones(2, 3, 2), torch.ones(4, 2), torch.ones(2, 2)),
            lambda: torch.ones(2, 3).expand(3), lambda: torch.ones(2, 3, dtype=torch.long).expand(4, 3),
            lambda: torch.ones(2, 3).expand(2, 4),
            lambda: torch.linalg.solve(torch.eye(3), torch.ones(2)),
            lambda: torch.linalg.solve(torch.eye(3), torch.ones(2), left=False),
            lambda: torch.linalg.solve(torch.eye(3), torch.ones(4, 2)),
        ])
    check_against_pytorch(run)


def test_first_errors_of_a_training_loop_in_pytorchs_words():
    def run(torch):
        import numpy as np
        F = torch.nn.functional
        return [torch.tensor([torch.ones(1), torch.tensor([2.])]), torch.tensor([[torch.tensor(1.), 2.]]), *_errors([
            lambda: torch.tensor([torch.ones(2), torch.ones(2)]), lambda: torch.tensor([torch.ones(0)]),
            lambda: F.binary_cross_entropy(torch.tensor([0.5, 0.2]), torch.tensor([1., 0, 1])),
            lambda: F.binary_cross_entropy(torch.tensor([0.5]), torch.tensor([[1.], [0]])),
            lambda: F.binary_cross_entropy_with_logits(torch.tensor([[0.5, 0.2]]), torch.tensor([1., 0])),
            lambda: torch.zeros(2, 2).masked_fill(torch.tensor([1, 0]), 1.),
            lambda: torch.zeros(2).masked_fill(torch.tensor([1, 0], dtype=torch.int32), 1.),
            lambda: torch.zeros(2).masked_fill(torch.tensor([1., 0]), 1.),
            lambda: torch.zeros(2).masked_fill(torch.tensor([1, 0], dtype=torch.uint8), 1.),
            lambda: F.one_hot(torch.tensor([3]), 3), lambda: F.one_hot(torch.tensor([-1]), 3),
            lambda: F.one_hot(torch.tensor([-1])),
            lambda: torch.from_numpy(np.array(["a"])), lambda: torch.tensor(np.array([1], dtype=object)),
            lambda: torch.ones(3).softmax(), lambda: torch.ones(3).log_softmax(), lambda: torch.softmax(torch.ones(3)),
            lambda: torch.log_softmax(torch.ones(3)),
        ])]
    check_against_pytorch(run)


def test_implicit_softmax_dim_and_chain_matmul_warn_at_the_callers_line():
    import warnings

    import tinytape as tt
    for call in (lambda: tt.nn.functional.softmax(tt.ones(2, 3)), lambda: tt.nn.functional.log_softmax(tt.ones(3)),
                 lambda: tt.chain_matmul(tt.ones(2, 2), tt.ones(2, 2))):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call()
        assert [w.filename for w in caught] == [__file__], [(w.filename, str(w.message)) for w in caught]


def test_layer_input_errors_in_pytorchs_words():
    def run(torch):
        nn, F = torch.nn, torch.nn.functional
        return _errors([
            lambda: nn.BatchNorm1d(3)(torch.ones(2, 4)),
            lambda: F.batch_norm(torch.ones(2, 3), torch.zeros(2), torch.ones(3)),
            lambda: nn.LayerNorm(4)(torch.ones(2, 3)), lambda: nn.LayerNorm([2, 3])(torch.ones(3, 2)),
            lambda: F.layer_norm(torch.ones(2, 3), (3,), weight=torch.ones(2)),
            lambda: nn.GroupNorm(3, 4), lambda: nn.GroupNorm(2, 4)(torch.ones(2, 6)),
            lambda: F.group_norm(torch.ones(2, 6), 2, None, torch.ones(4)),
            lambda: nn.LSTM(3, 4)(torch.ones(5, 2, 3), torch.zeros(1, 2, 4)),
            lambda: nn.LSTM(3, 4)(torch.ones(5, 3), torch.zeros(1, 4)),
            lambda: nn.MaxPool2d(3)(torch.ones(1, 1, 2, 2)), lambda: nn.MaxPool2d(2)(torch.ones(4, 4)),
            lambda: F.max_pool2d(torch.ones(1, 1, 1, 4, 4), 2), lambda: F.max_pool1d(torch.ones(4), 2),
            lambda: F.avg_pool1d(torch.ones(4), 2), lambda: F.avg_pool2d(torch.ones(1, 1, 2, 2), 3),
        ])
    check_against_pytorch(run)


def test_kl_div_mean_warns_at_the_callers_line():
    import warnings

    import tinytape as tt
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tt.nn.functional.kl_div(tt.ones(2), tt.ones(2))
    assert [w.filename for w in caught] == [__file__], [(w.filename, str(w.message)) for w in caught]


def test_the_non_leaf_grad_warning_in_pytorchs_words():
    def run(torch):
        import warnings
        y = torch.ones(2, requires_grad=True) * 2
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y.grad
        return [str(w.message).split(" (Triggered internally")[0] for w in caught]
    check_against_pytorch(run)


def test_shape_and_index_argument_errors_in_pytorchs_words():
    def run(torch):
        x = torch.arange(6.).view(2, 3)
        return [torch.ones(3).index_select(0, torch.tensor([2, 0], dtype=torch.int32)), *_errors([
            lambda: x.repeat(2), lambda: x.split(0), lambda: x.split(-1), lambda: torch.cat([]),
            lambda: x.index_select(0, torch.tensor([[0]])), lambda: x.index_select(0, torch.tensor([0.])),
            lambda: x.gather(0, torch.tensor([0, 1])), lambda: x.gather(0, torch.tensor([[0.]])),
            lambda: x.scatter(0, torch.tensor([0.]), 1.), lambda: x.scatter(0, torch.tensor([0, 1]), 1.),
            lambda: x.scatter(0, torch.tensor([[0, 1, 2, 0]]), 1.), lambda: x.gather(0, torch.tensor([[0, 1, 0, 0]])),
            lambda: x.mean(dtype=torch.long), lambda: torch.ones(2, dtype=torch.long).mean(),
            lambda: x.topk(4), lambda: x.kthvalue(4), lambda: torch.ones(3).kthvalue(4),
            lambda: torch.eye(-1), lambda: torch.eye(2, -1),
        ])]
    check_against_pytorch(run)


def test_index_select_compiled_equals_eager_and_follows_new_indices():
    import tinytape as tt

    def make():
        weight = tt.arange(12.).view(6, 2).requires_grad_()

        def step(idx):
            loss = weight.index_select(0, idx).pow(2).sum()
            loss.backward()
            return loss, weight.grad.clone()
        return weight, step
    weight_e, eager = make()
    weight_c, compiled = make()
    compiled = tt.compile(compiled, fullgraph=True)  # a refusal raises
    for rows in ([0, 5, 2], [1, 1, 4], [3, 0, 5]):
        for weight in (weight_e, weight_c):
            weight.grad = None
        got, want = compiled(tt.tensor(rows)), eager(tt.tensor(rows))
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_buffers_declared_with_nn_buffer():
    def run(torch):
        class Model(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.a = torch.nn.Buffer(torch.ones(2))
                self.b = torch.nn.Buffer(torch.zeros(1), persistent=False)
                self.c = torch.nn.Buffer()
        m = Model()
        out = [list(m.state_dict()), [n for n, _ in m.named_buffers()], type(m.a).__name__, m.a,
               isinstance(m.a, torch.nn.Buffer), isinstance(torch.ones(1), torch.nn.Buffer), m.c,
               torch.nn.Buffer(torch.ones(2, requires_grad=True)).requires_grad]
        m.a = torch.full((2,), 3.)
        m.d = torch.nn.Buffer(torch.ones(1))
        m.double()
        return out + [list(m.state_dict()), m.a, str(m.b.dtype), repr(m)]
    check_against_pytorch(run)


def test_the_deprecated_upsample_functions_of_older_tutorials():
    def run(torch):
        import warnings
        F = torch.nn.functional
        x = torch.arange(4.).view(1, 1, 2, 2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = [F.upsample(x, scale_factor=2), F.upsample(x, size=(3, 3), mode="bilinear", align_corners=False),
                   F.upsample_nearest(x, scale_factor=2), F.upsample_bilinear(x, size=3)]
        return out + [str(w.message) for w in caught] + [w.filename == __file__ for w in caught]
    check_against_pytorch(run)


def test_gather_and_scatter_take_int32_indices():
    def run(torch):
        x = torch.arange(6.).view(2, 3).requires_grad_()
        i = torch.tensor([[0, 2, 1]], dtype=torch.int32)
        g = x.gather(1, i)
        g.sum().backward()
        return [g, x.grad, torch.zeros(2, 3).scatter(1, i, 5.), torch.zeros(2, 3).scatter_add(1, i, torch.ones(1, 3)),
                torch.zeros(2, 3).scatter_reduce(1, i, torch.ones(1, 3), "amax"),
                torch.zeros(2, 3).scatter(1, i, torch.ones(1, 3)),
                *_errors([lambda: x.gather(1, torch.tensor([[0, 5]], dtype=torch.int32))])]
    check_against_pytorch(run)
