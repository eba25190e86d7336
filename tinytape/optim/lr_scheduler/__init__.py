"""Learning-rate schedules, as ``torch.optim.lr_scheduler``: each ``step()`` (once per
epoch or batch, after ``optimizer.step()``) writes the next rate into every parameter group.

The rates follow PyTorch's forms operation for operation: the chainable ones (each computed
from the group's current ``lr``, so another schedule or the user may change ``lr`` between
steps), and the closed forms (from ``base_lrs``) where ``step(epoch)`` asks for them; so they
match PyTorch's values bit for bit.  A group's ``lr`` that is a 0-d Tensor stays that
Tensor: it is filled in place, and ``base_lrs``/``get_last_lr()`` hold copies of it.
``state_dict()`` holds the scheduler's attributes under PyTorch's names.
"""

from .base import (  # noqa: F401
    _copy, _enable_get_lr_call, EPOCH_DEPRECATION_WARNING, _format_param, _initial_mode, LRScheduler, _LRScheduler,
    _param_groups_val_list, _patch_track_step_called, _SEE_MORE, _update_param_group_val,
    _warn_get_lr_called_within_step)
from .basic import (  # noqa: F401
    ConstantLR, CosineAnnealingLR, ExponentialLR, LambdaLR, _lambdas, _LambdaState, LinearLR, MultiplicativeLR,
    MultiStepLR, PolynomialLR, StepLR)
from .chained import ChainedScheduler, _check_schedulers, _ContainerState, SequentialLR  # noqa: F401
from .plateau import ReduceLROnPlateau  # noqa: F401
from .cyclic import (  # noqa: F401
    CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR, _set_momentum, _start_momentum, _use_beta1)

__all__ = ["LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR",
           "SequentialLR", "CosineAnnealingLR", "ChainedScheduler", "ReduceLROnPlateau", "CyclicLR",
           "CosineAnnealingWarmRestarts", "OneCycleLR", "PolynomialLR", "LRScheduler"]

for _value in list(globals().values()):  # the classes keep their one home (reprs, pickles): this module
    if isinstance(_value, type) and _value.__module__.startswith(__name__ + "."):
        _value.__module__ = __name__
del _value
