"""``Module.state_dict``'s hooks against PyTorch's answers: ``register_state_dict_pre_hook``,
``register_state_dict_post_hook`` and the older ``_register_state_dict_hook`` (whose returned
dict replaces the root's), their order through nested modules with ``prefix`` and ``keep_vars``,
``_save_to_state_dict`` overridden, and the positional arguments' FutureWarning."""
import warnings

import tinytape
from helpers import check_against_pytorch, outcome_of


def _logged_net(torch, log):
    nn = torch.nn
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 1), nn.BatchNorm1d(1)))

    def pre(module, prefix, keep_vars):
        log.append(("pre", type(module).__name__, prefix, keep_vars))

    def post(module, state_dict, prefix, local_metadata):
        log.append(("post", type(module).__name__, prefix, dict(local_metadata), list(state_dict)))

    for module in net.modules():
        module.register_state_dict_pre_hook(pre)
        module.register_state_dict_post_hook(post)
    return net, pre, post


def test_pre_hooks_run_before_a_module_saves_and_post_hooks_after_its_children():
    def run(torch):
        log = []
        net, _, _ = _logged_net(torch, log)
        state = net.state_dict(prefix="model.", keep_vars=True)
        log += [list(state), list(state._metadata.items()), state["model.0.weight"].requires_grad]
        log.append(list(net.state_dict()))
        return log
    check_against_pytorch(run)


def test_the_older_hook_replaces_the_dict_only_where_state_dict_was_called():
    def run(torch):
        log = []
        net, _, post = _logged_net(torch, log)

        def replace(module, state_dict, prefix, local_metadata):
            return {"replaced at": prefix}
        handle = net[1]._register_state_dict_hook(replace)
        log.append(sorted(net.state_dict()))          # a child's replacement is dropped
        log.append(dict(net[1].state_dict()))          # ... and kept where it is the root
        handle.remove()
        handle = net._register_state_dict_hook(replace)
        log.append(dict(net.state_dict()))
        handle.remove()
        log.append(outcome_of(lambda: net._register_state_dict_hook(post)))
        return log
    check_against_pytorch(run)


def test_a_public_post_hook_must_return_none_and_may_edit_in_place():
    def run(torch):
        net = torch.nn.Linear(3, 2)

        def drop_bias(module, state_dict, prefix, local_metadata):
            del state_dict[prefix + "bias"]
            state_dict[prefix + "scale"] = torch.ones(1)
        handle = net.register_state_dict_post_hook(drop_bias)
        edited = dict(net.state_dict(prefix="lin."))
        handle.remove()
        net.register_state_dict_post_hook(lambda module, state_dict, prefix, local_metadata: state_dict)
        return sorted(edited), edited["lin.scale"], outcome_of(net.state_dict)
    check_against_pytorch(run)


def test_a_pre_hook_may_change_the_module_before_it_is_saved():
    def run(torch):
        net = torch.nn.Sequential(torch.nn.Linear(2, 2, bias=False))

        def add_buffer(module, prefix, keep_vars):
            if "count" not in module._buffers:
                module.register_buffer("count", torch.zeros(()))
            module.count += 1
        net[0].register_state_dict_pre_hook(add_buffer)
        first = dict(net.state_dict())
        second = net.state_dict(keep_vars=True)
        return sorted(first), first["0.count"], second["0.count"]
    check_against_pytorch(run)


def test_save_to_state_dict_overridden_and_positional_arguments():
    def run(torch):
        class Scaled(torch.nn.Linear):
            def _save_to_state_dict(self, destination, prefix, keep_vars):
                super()._save_to_state_dict(destination, prefix, keep_vars)
                destination[prefix + "extra"] = self.weight.detach() * 2

        net = torch.nn.Sequential(Scaled(2, 1))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            state = net.state_dict(None, "p.")
        warned = [(w.category.__name__, str(w.message)) for w in caught]
        destination = {}
        net.state_dict(destination=destination, prefix="x.")
        return sorted(state), warned, sorted(destination), list(state._metadata)
    check_against_pytorch(run)


def test_a_deep_module_tree_saves_without_recursion():
    net = leaf = tinytape.nn.Linear(1, 1)
    for _ in range(3000):
        net = tinytape.nn.Sequential(net)
    log = []
    leaf.register_state_dict_post_hook(lambda m, sd, prefix, meta: log.append(prefix.count(".")))
    state = net.state_dict()
    assert len(state) == 2 and log == [3000]


def test_a_compiled_step_reading_the_state_dict_through_hooks():
    # a hook that keeps Python state runs every call: the trace refuses and the step runs eagerly;
    # one that only reads compiles, bit for bit as eager
    def run(compiled, keep_state):
        tinytape.manual_seed(0)
        net = tinytape.nn.Linear(2, 1)
        calls = []
        net.register_state_dict_post_hook(
            (lambda m, sd, prefix, meta: calls.append(len(sd))) if keep_state else (lambda m, sd, prefix, meta: None))

        def step(x):
            with tinytape.no_grad():
                return (net(x) * net.state_dict()["weight"].sum()).sum()
        f = tinytape.compile(step) if compiled else step
        return [f(tinytape.ones(3, 2)).item() for _ in range(3)], calls
    for keep_state in (True, False):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            compiled = run(True, keep_state)
        assert any("eagerly" in str(w.message) for w in caught) == keep_state
        assert compiled == run(False, keep_state)


def test_hook_registries_copies_and_odd_entries():
    def run(torch):
        import copy
        nn = torch.nn
        torch.manual_seed(0)
        net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
        registries = [len(net._state_dict_hooks), len(net._state_dict_pre_hooks)]
        net.register_state_dict_post_hook(lambda m, sd, prefix, meta: sd.__setitem__(prefix + "tag", torch.tensor(1.0)))
        registries += [len(net._state_dict_hooks), len(net._state_dict_pre_hooks)]

        class Empty(nn.Module):
            def __init__(self):
                super().__init__()
                self.register_parameter("w", None)
                self.register_buffer("b", None)
        lin = nn.Linear(1, 1)
        destination = {}
        nn.Linear(1, 1).state_dict(destination=destination, prefix="a.")
        return [registries, list(copy.deepcopy(net).state_dict()),
                str(net.load_state_dict(net.state_dict(), strict=False)), list(Empty().state_dict()),
                list(nn.Sequential(lin, lin).state_dict()), list(destination), hasattr(destination, "_metadata")]
    check_against_pytorch(run)
