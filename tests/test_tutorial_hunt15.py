"""PyTorch's "Model ensembling" tutorial, run with ``import tinytape as torch``: the models'
parameters stacked, a copy of one moved to the meta device as a stateless template, and
``vmap(functional_call(...))`` over the stack; the meta device's tensors (shapes without data)."""
import copy

from helpers import check_against_pytorch, check_close_to_pytorch, error_of as _error


def test_model_ensembling_tutorial():
    def run(torch):
        nn, F = torch.nn, torch.nn.functional

        class SimpleMLP(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(16, 12)
                self.fc2 = nn.Linear(12, 8)
                self.fc3 = nn.Linear(8, 10)

            def forward(self, x):
                return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x.flatten(1))))))

        torch.manual_seed(0)
        data = torch.randn(20, 1, 4, 4)
        models = [SimpleMLP() for _ in range(3)]
        minibatches = data[:3]
        loop = torch.stack([model(minibatch) for model, minibatch in zip(models, minibatches)])
        params, buffers = torch.func.stack_module_state(models)
        base_model = copy.deepcopy(models[0]).to("meta")

        def fmodel(params, buffers, x):
            return torch.func.functional_call(base_model, (params, buffers), (x,))
        per_model = torch.vmap(fmodel)(params, buffers, minibatches)
        shared = torch.vmap(fmodel, in_dims=(0, 0, None))(params, buffers, data[0])
        return [{k: v.shape for k, v in params.items()}, buffers, repr(base_model.fc1.weight), per_model.detach(),
                loop.detach(), shared.detach(), params["fc1.weight"].requires_grad]
    check_close_to_pytorch(run)


def test_meta_tensors_have_shapes_and_no_data():
    def run(torch):
        t = torch.empty(2, 3, device="meta")
        w = torch.ones(2, 2, device="meta", requires_grad=True)
        layer = copy.deepcopy(torch.nn.Linear(3, 2)).to("meta")
        y = layer(torch.ones(1, 3, device="meta"))
        made_real = layer.to_empty(device="cpu")
        return [repr(t), repr(t * 2), str((t * 2).device), repr(t.sum()), t.is_meta, repr(w @ w), repr(y),
                repr(torch.zeros(2, dtype=torch.float64, device="meta")), _error(lambda: t.item()),
                _error(lambda: torch.ones(1, device="meta").item()), _error(lambda: t.numpy()),
                _error(lambda: t.tolist()), _error(lambda: t.cpu()), repr(torch.device("meta")),
                made_real is layer, str(made_real.weight.device), tuple(made_real.weight.shape),
                type(made_real.weight).__name__]
    check_against_pytorch(run)
