"""Train a model as the Hydra config says: ``python train.py [overrides]``.

    python train.py model.H=200 optim.lr=5e-6 trainer.steps=500 seed=3
    python train.py -m optim.lr=1e-6,5e-6,1e-5

Exit status: 0 trained, 1 stopped early, 2 a bad value or file (nothing written), 130 Ctrl-C.
"""
import hydra

from tinytape.trainer import cli


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def main(cfg):
    return cli.main(cfg)


if __name__ == "__main__":
    main()
