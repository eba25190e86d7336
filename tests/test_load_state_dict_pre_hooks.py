"""``load_state_dict`` pre-hooks, and the one ``parametrizations.weight_norm`` registers: a
checkpoint saved with the older ``nn.utils.weight_norm`` (``weight_g``/``weight_v``) loads."""
import numpy as np

import tinytape as tt
from helpers import assert_same
from pytorch_answers import pytorch


def _old_checkpoint_into_new(lib):
    lib.manual_seed(0)
    linear = lib.nn.Linear(3, 2)
    with lib.no_grad():  # rows of exact norms (5 and 3): the norm's rounding is not what is tested here
        linear.weight.copy_(lib.tensor([[3.0, 4.0, 0.0], [1.0, -2.0, 2.0]]))
    old = lib.nn.utils.weight_norm(linear)
    with lib.no_grad():
        old.weight_g.mul_(1.5)
    saved = old.state_dict()
    lib.manual_seed(1)
    new = lib.nn.utils.parametrizations.weight_norm(lib.nn.Linear(3, 2))
    result = new.load_state_dict(saved)
    x = lib.arange(6.0).reshape(2, 3)
    with lib.no_grad():
        return (list(saved), sorted(new.state_dict()), list(result.missing_keys), list(result.unexpected_keys),
                new.parametrizations.weight.original0.clone(), new(x), old(x), new.weight)


def test_an_old_weight_norm_checkpoint_loads_into_the_parametrization():
    assert_same(_old_checkpoint_into_new(tt), pytorch(_old_checkpoint_into_new))


def _nested_and_partial(lib):
    lib.manual_seed(0)
    old = lib.nn.Sequential(lib.nn.utils.weight_norm(lib.nn.Linear(2, 2), dim=None), lib.nn.ReLU())
    saved = old.state_dict()
    new = lib.nn.Sequential(lib.nn.utils.parametrizations.weight_norm(lib.nn.Linear(2, 2), dim=None), lib.nn.ReLU())
    new.load_state_dict(saved)
    partial = dict(saved)
    partial.pop("0.weight_v")
    try:
        new.load_state_dict(partial)
        refused = None
    except RuntimeError as e:
        refused = str(e)
    return [list(saved), new[0].weight.detach(), refused, list(new.load_state_dict(partial, strict=False))]


def test_nested_and_partial_checkpoints():
    assert_same(_nested_and_partial(tt), pytorch(_nested_and_partial))


def test_a_public_pre_hook_sees_the_module_and_prefix_and_can_be_removed():
    model = tt.nn.Sequential(tt.nn.Linear(2, 2))
    seen = []

    def hook(module, state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
        seen.append((type(module).__name__, prefix, local_metadata.get("version"), strict))
        state_dict[prefix + "weight"] = state_dict.pop(prefix + "w")

    handle = model[0].register_load_state_dict_pre_hook(hook)
    state = model.state_dict()
    renamed = type(state)((k.replace("weight", "w"), v * 2) for k, v in state.items())
    renamed._metadata = state._metadata
    model.load_state_dict(renamed)
    assert seen == [("Linear", "0.", 1, True)]
    np.testing.assert_array_equal(model[0].weight.detach().numpy(), renamed["0.w"].numpy())
    assert "0.w" in renamed  # the caller's dict is left alone
    handle.remove()
    assert tuple(model.load_state_dict(renamed, strict=False)) == (["0.weight"], ["0.w"])
