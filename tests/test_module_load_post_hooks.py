"""``Module.register_load_state_dict_post_hook`` against PyTorch: the hooks run after each
module's subtree has loaded (children first), see the loaded values, may clear the missing and
unexpected keys before the strict check, must return None, and can be removed; entries that
fit load even when others fail."""
from helpers import check_against_pytorch, outcome_of as _outcome


def test_load_state_dict_post_hooks():
    def run(torch):
        torch.manual_seed(0)
        m = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Sequential(torch.nn.Linear(2, 1)))
        sd = m.state_dict()
        weight = sd["0.weight"] + 1
        sd["0.weight"] = weight
        del sd["1.0.bias"]
        calls = []
        m[0].register_load_state_dict_post_hook(lambda mod, keys: calls.append(
            ["0", torch.equal(mod.weight, weight), sorted(keys.unexpected_keys)]))
        m[1][0].register_load_state_dict_post_hook(lambda mod, keys: calls.append(["1.0"]))
        m[1].register_load_state_dict_post_hook(lambda mod, keys: calls.append(["1"]))
        top = m.register_load_state_dict_post_hook(lambda mod, keys: keys.missing_keys.clear())
        out = [str(m.load_state_dict(sd)), list(calls)]
        top.remove()
        calls.clear()
        out.append(_outcome(lambda: m.load_state_dict(sd)))
        sd["0.weight"] = weight * 3
        sd["extra"] = torch.ones(1)
        out += [_outcome(lambda: m.load_state_dict(sd)), torch.equal(m[0].weight, weight * 3)]
        bad = m.register_load_state_dict_post_hook(lambda mod, keys: keys)
        out.append(_outcome(lambda: m.load_state_dict(sd, strict=False)))
        bad.remove()
        out.append(str(m.load_state_dict(sd, strict=False)))
        return out
    check_against_pytorch(run)
