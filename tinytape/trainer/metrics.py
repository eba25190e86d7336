"""Metrics logged beside the loss (``metrics:`` in the config): ``accuracy`` and
``topK_accuracy`` (the label among the K largest outputs), for class labels.  ``auto``
(the default): accuracy for class labels, nothing for regression (the loss is its metric).
Each is measured on the training batches (averaged over the steps since the last log
line) as ``train_<name>`` and on the validation split as ``val_<name>``."""
import re

import numpy as np
from omegaconf import ListConfig

from .config import ConfigError

_TOPK = re.compile(r"top(\d+)_accuracy$")


def resolve(value, classes):
    """The metric names the config asks for, checked against the data."""
    if value is None or value == "auto":
        return ["accuracy"] if classes is not None else []
    names = [value] if isinstance(value, str) else list(value) if isinstance(value, (list, tuple, ListConfig)) else None
    if names is None or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"metrics must be auto or a list of names (accuracy, top5_accuracy), got {value!r}")
    for name in names:
        k = topk(name)
        if k is None:
            raise ConfigError(f"metrics: unknown metric {name!r} (there are accuracy and topK_accuracy, e.g. "
                              "top5_accuracy)")
        if classes is None:
            raise ConfigError(f"metrics: {name} needs class labels, and the data's y is a regression target "
                              "(its metric is the loss); leave metrics=auto")
        if not 1 <= k <= classes:
            raise ConfigError(f"metrics: {name} needs 1 <= K <= the number of classes ({classes})")
    return list(dict.fromkeys(names))


def topk(name):
    if name == "accuracy":
        return 1
    match = _TOPK.match(name)
    return int(match.group(1)) if match else None


def correct(names, output, labels):
    """{name: how many rows of ``output`` (numpy, (B, C)) score their label} for each metric."""
    if not names:
        return {}
    output = np.asarray(output)
    labels = np.asarray(labels).reshape(-1)
    counts = {}
    top1 = output.argmax(axis=1)
    for name in names:
        k = topk(name)
        if k == 1:
            counts[name] = int((top1 == labels).sum())
        else:
            label_score = np.take_along_axis(output, labels[:, None], axis=1)
            # the label is among the K largest when fewer than K outputs beat it
            counts[name] = int(((output > label_score).sum(axis=1) < k).sum())
    return counts


def higher_is_better(name):
    return not name.endswith("loss")


class Window:
    """The training batches' metrics since the last log line."""

    def __init__(self, names):
        self.names = names
        self.reset()

    def reset(self):
        self.counts = dict.fromkeys(self.names, 0)
        self.rows = 0

    def add(self, output, labels):
        if output is None or not self.names:
            return
        for name, c in correct(self.names, output, labels).items():
            self.counts[name] += c
        self.rows += len(labels)

    def values(self):
        if not self.rows:
            return {}
        return {f"train_{n}": self.counts[n] / self.rows for n in self.names}
