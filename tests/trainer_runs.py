"""What the trainer tests share: the config as Hydra composes it, train.py's entry point run
in this process, and the run folder's losses.csv."""
import csv
import os
import sys

import hydra
from hydra import compose, initialize_config_dir

from tinytape.trainer import cli

CONF = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "conf")


def config(*overrides):
    with initialize_config_dir(config_dir=CONF, version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


def read_csv(out_dir):
    with open(os.path.join(out_dir, "losses.csv")) as f:
        return list(csv.DictReader(f))


def train_in_process(args, capsys):
    """train.py's Hydra entry point in this process: (exit status, stderr lines)."""
    entry = hydra.main(version_base="1.3", config_path=CONF, config_name="config")(cli.main)
    argv = sys.argv
    sys.argv = ["train.py", *args]
    try:
        entry()
        status = 0
    except SystemExit as e:
        status = e.code
    finally:
        sys.argv = argv
    return status, capsys.readouterr().err.strip().splitlines()
