"""Train one model from a config: `python training/train.py --config configs/default.yaml`.

A thin wrapper over `grooming_risk.training.pipeline.train` (the package must be installed, e.g.
by `make install`); it exists so job schedulers can call a script rather than a console entry.
"""

from __future__ import annotations

import argparse
import json
import logging

from grooming_risk.training.config import load_config
from grooming_risk.training.pipeline import train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default="configs/default.yaml", help="YAML training config")
    parser.add_argument("--set", action="append", default=[], help="override: section.key=value (repeatable)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    metrics = train(load_config(args.config, args.set))
    print(json.dumps({k: round(v, 4) for k, v in sorted(metrics.items())}, indent=2))


if __name__ == "__main__":
    main()
