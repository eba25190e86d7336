"""Programs from PyTorch's tutorials and docs on module state and hooks, EmbeddingBag and complex
views, against PyTorch's answers: the text-classification tutorial's EmbeddingBag model, the
EmbeddingBag docs' examples, the saving-and-loading tutorial's state dicts, a state-dict hook
pair renaming keys, ``get_extra_state``/``set_extra_state``, forward hooks collecting
activations, and the complex-numbers tutorial's views."""
import io

from helpers import check_against_pytorch, check_close_to_pytorch, outcome_of


def _text(value):
    return str(value).replace("tinytape", "torch")


def test_text_classification_with_an_embedding_bag():
    def run(torch):
        nn, F = torch.nn, torch.nn.functional

        class TextClassificationModel(nn.Module):
            def __init__(self, vocab_size, embed_dim, num_class):
                super().__init__()
                self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, sparse=False)
                self.fc = nn.Linear(embed_dim, num_class)
                self.embedding.weight.data.uniform_(-0.5, 0.5)
                self.fc.weight.data.uniform_(-0.5, 0.5)
                self.fc.bias.data.zero_()

            def forward(self, text, offsets):
                return self.fc(self.embedding(text, offsets))
        torch.manual_seed(0)
        model = TextClassificationModel(20, 8, 4)
        text, offsets = torch.tensor([1, 5, 7, 2, 9, 3, 3, 11]), torch.tensor([0, 3, 5])
        optimizer = torch.optim.SGD(model.parameters(), lr=5)
        losses = []
        for _ in range(3):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(text, offsets), torch.tensor([0, 2, 3]))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
            optimizer.step()
            losses.append(loss)
        return losses + [model(text, offsets)]
    check_close_to_pytorch(run, rtol=1e-5, atol=1e-6)


def test_the_embedding_bag_docs_examples():
    def run(torch):
        nn, F = torch.nn, torch.nn.functional
        torch.manual_seed(0)
        out = [nn.EmbeddingBag(10, 3, mode="sum")(torch.tensor([1, 2, 4, 5, 4, 3, 2, 9]), torch.tensor([0, 4]))]
        padded = nn.EmbeddingBag(10, 3, mode="sum", padding_idx=2)
        out.append(padded(torch.tensor([2, 2, 2, 2, 4, 3, 2, 9]), torch.tensor([0, 4])))
        pretrained = nn.EmbeddingBag.from_pretrained(torch.FloatTensor([[1, 2, 3], [4, 5, 6]]), mode="max")
        out.append(pretrained(torch.LongTensor([[0, 1]])))
        out.append(F.embedding_bag(torch.tensor([1, 2, 4, 5, 4, 3, 2, 9]), torch.rand(10, 3), torch.tensor([0, 4])))
        sparse = nn.EmbeddingBag(10, 3, mode="sum", sparse=True)
        sparse(torch.tensor([1, 2, 4, 5, 4, 3, 2, 9]), torch.tensor([0, 4])).sum().backward()
        return out + [_text(sparse.weight.grad), repr(sparse)]
    check_close_to_pytorch(run)


def test_saving_and_loading_state_dicts():
    def run(torch):
        nn = torch.nn

        class TheModelClass(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1, self.pool, self.conv2 = nn.Conv2d(3, 6, 5), nn.MaxPool2d(2, 2), nn.Conv2d(6, 16, 5)
                self.fc1, self.fc2, self.fc3 = nn.Linear(16 * 5 * 5, 120), nn.Linear(120, 84), nn.Linear(84, 10)
        torch.manual_seed(0)
        model = TheModelClass()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
        buffer = io.BytesIO()
        torch.save(model.state_dict(), buffer)
        buffer.seek(0)
        loaded = TheModelClass()
        keys = str(loaded.load_state_dict(torch.load(buffer, weights_only=True)))
        return ([(k, tuple(v.size())) for k, v in model.state_dict().items()], optimizer.state_dict(), keys,
                loaded.fc3.bias, list(model.state_dict()._metadata))
    check_against_pytorch(run)


def test_a_state_dict_hook_pair_renaming_keys():
    def run(torch):
        nn = torch.nn

        class Renamed(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(2, 2)
                self._register_state_dict_hook(self._rename)
                self._register_load_state_dict_pre_hook(self._rename_back)

            @staticmethod
            def _rename(module, state_dict, prefix, local_metadata):
                for key in list(state_dict):
                    if key.startswith(prefix + "lin."):
                        state_dict[key.replace(prefix + "lin.", prefix + "linear.")] = state_dict.pop(key)

            @staticmethod
            def _rename_back(state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
                for key in list(state_dict):
                    if key.startswith(prefix + "linear."):
                        state_dict[key.replace(prefix + "linear.", prefix + "lin.")] = state_dict.pop(key)
        torch.manual_seed(1)
        saved = nn.Sequential(Renamed(), nn.ReLU(), Renamed())
        state = saved.state_dict()
        loaded = nn.Sequential(Renamed(), nn.ReLU(), Renamed())
        keys = str(loaded.load_state_dict(state))
        return list(state), keys, loaded[2].lin.weight, outcome_of(lambda: loaded.load_state_dict(saved[0].state_dict()))
    check_against_pytorch(run)


def test_extra_state():
    def run(torch):
        nn = torch.nn

        class Counted(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin, self.count = nn.Linear(1, 1), 3

            def get_extra_state(self):
                return {"count": self.count}

            def set_extra_state(self, state):
                self.count = state["count"]

        class SavesOnly(nn.Module):
            def get_extra_state(self):
                return 5
        state = nn.Sequential(Counted(), SavesOnly()).state_dict()
        fresh = nn.Sequential(Counted(), SavesOnly())
        fresh[0].count = 0
        without = {k: v for k, v in state.items() if "extra" not in k}
        return [list(state), state["0._extra_state"], outcome_of(lambda: str(fresh.load_state_dict(state))),
                str(fresh.load_state_dict(state, strict=False)), fresh[0].count,
                outcome_of(lambda: fresh.load_state_dict(without)), str(fresh.load_state_dict(without, strict=False)),
                outcome_of(nn.Linear(1, 1).get_extra_state), outcome_of(lambda: nn.Linear(1, 1).set_extra_state(1))]
    check_against_pytorch(run)


def test_forward_hooks_and_state_dict_hooks_through_nested_modules():
    def run(torch):
        nn = torch.nn
        torch.manual_seed(2)
        activations, log = {}, []
        net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Sequential(nn.Linear(4, 2)))
        for name, module in net.named_modules():
            if name:
                module.register_forward_hook(lambda m, i, o, name=name: activations.__setitem__(name, o))
        net(torch.randn(5, 3))
        net[2].register_state_dict_pre_hook(lambda m, prefix, keep_vars: log.append((prefix, keep_vars)))
        net[2][0].register_state_dict_post_hook(lambda m, sd, prefix, meta: log.append((prefix, sorted(sd))))
        net.state_dict(prefix="net.", keep_vars=True)
        return activations, log
    check_close_to_pytorch(run)


def test_the_complex_numbers_tutorial_views():
    def run(torch):
        torch.manual_seed(3)
        x = torch.randn(2, 2, dtype=torch.cfloat)
        y = torch.randn(2, 2, dtype=torch.cfloat)
        out = [x.conj().is_conj(), torch.view_as_real(x).shape, x.real, x.abs(), x.angle()]
        real_view = torch.view_as_real(x)
        real_view[0, 0, 0] = 9
        out += [x[0, 0], torch.matmul(x, y), x.conj() @ y, torch.linalg.eigvals(torch.eye(2, dtype=torch.cfloat))]
        z = x.conj()
        out += [torch.equal(z.resolve_conj(), x.conj_physical()), z.imag.is_neg(), z.imag]
        v = torch.tensor([1 + 2j, 3 - 1j, 0.5j, 2 + 0j])
        out += [torch.fft.fft(v.conj()), torch.fft.ifft(v).is_conj(),
                torch.fft.ihfft(torch.tensor([1.0, 2.0, 3.0, 4.0])).is_conj()]
        return out
    check_close_to_pytorch(run, rtol=1e-5, atol=1e-6)
