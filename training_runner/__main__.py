"""Command line: ``python -m training_runner train CONFIG.yaml [--set key=value …]``.

Under ``torchrun --nproc_per_node N -m training_runner train …`` the run is data-parallel.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from training_runner.core.config import TrainConfig
from training_runner.core.errors import ConfigError
from training_runner.core.run import run_training


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training_runner", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="run a training recipe from a YAML config")
    train.add_argument("config", type=Path, help="recipe YAML (see training_runner/configs/)")
    train.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="override a key (YAML value)"
    )
    train.add_argument("--output-dir", type=Path, help="where to write the model (default: the config's output_dir)")
    train.add_argument("--resume", type=Path, help="checkpoint directory to continue from")
    args = parser.parse_args(argv)
    try:
        cfg = TrainConfig.from_yaml(args.config, args.overrides)
        output_dir = args.output_dir or (Path(cfg.output_dir) if cfg.output_dir else None)
        if output_dir is None:
            raise ConfigError("output_dir", "required: set it in the config or pass --output-dir")
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    result = run_training(cfg, output_dir=output_dir, resume_from=args.resume)
    state = "stopped early" if result.stopped else "finished"
    metrics = " ".join(f"{k}={v:.4g}" for k, v in result.metrics.items())
    print(f"{state} after {result.steps} steps: {metrics}\noutput: {result.output_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
