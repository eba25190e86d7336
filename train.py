"""Train the two-layer net of the seed notebook: ``python train.py [overrides]``.

    python train.py model.H=200 optim.lr=5e-6 trainer.steps=500 seed=3
    python train.py -m optim.lr=1e-6,5e-6,1e-5
"""
import sys

import hydra
from hydra.core.hydra_config import HydraConfig

from tinytape.trainer import ConfigError, run


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def main(cfg):
    try:
        return run(cfg, HydraConfig.get().runtime.output_dir)["final_loss"]
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt as e:
        print(f"interrupted: {e}", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
