"""`monitor rollup`: update the hourly rollups next to the logs (docs/rollups.md)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from monitor.cli.common import EXIT_OK, print_json
from monitor.cli.refresh import refresh

if TYPE_CHECKING:
    from monitor.ops.rollup.job import RollupReport

NAME = "rollup"
HELP = "update the hourly rollups (traffic, labels, features, fairness) next to the logs"
SHOWN_PROBLEMS = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--engine",
        choices=("duckdb", "spark"),
        default="duckdb",
        help="duckdb: in this process (default); spark: pyspark, local or on a cluster",
    )
    parser.add_argument(
        "--master",
        help="Spark master URL (default: local[*]; e.g. spark://host:7077, yarn); --engine spark",
    )
    parser.add_argument(
        "--full", action="store_true", help="recompute every day, not only the changed ones"
    )
    parser.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    report = refresh(args, engine=args.engine, master=args.master, full=args.full)
    if args.json:
        print_json(report)
        return EXIT_OK
    print(
        f"rollup ({report.engine}): {len(report.written)} files written "
        f"({report.rows:,} rows), {len(report.removed)} removed, {report.days} days of logs, "
        f"{report.seconds:.1f}s"
    )
    print_problems(report)
    return EXIT_OK


def print_problems(report: RollupReport) -> None:
    for problem in report.problems[:SHOWN_PROBLEMS]:
        print(f"warning: {problem}")
    if len(report.problems) > SHOWN_PROBLEMS:
        print(f"warning: {len(report.problems) - SHOWN_PROBLEMS} more problems (see --json)")
