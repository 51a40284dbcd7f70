"""`monitor demo`: deterministic demo logs with known, injected problems."""

from __future__ import annotations

import argparse
from pathlib import Path

from monitor.cli.common import EXIT_OK, print_json

NAME = "demo"
HELP = "generate deterministic demo logs with known problems"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", dest="demo_dir", required=True, help="where to write the demo"
    )
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--predictions", type=int, default=200_000)
    parser.add_argument("--json", action="store_true", help="print the manifest as JSON")


def run(args: argparse.Namespace) -> int:
    from monitor.demo import generate_demo

    manifest = generate_demo(
        Path(args.demo_dir), days=args.days, seed=args.seed, predictions=args.predictions
    )
    if args.json:
        print_json(manifest.to_dict())
    else:
        print(f"wrote demo data to {args.demo_dir} (see demo_manifest.json for what was injected)")
    return EXIT_OK
