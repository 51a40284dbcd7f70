"""`monitor compact`: rewrite closed JSONL log files as Parquet."""

from __future__ import annotations

import argparse
import datetime as dt
import math

from monitor.cli.common import EXIT_OK, print_json, settings
from monitor.cli.refresh import refresh_if_present
from monitor.core.errors import InputError

NAME = "compact"
HELP = "rewrite closed JSONL log files as Parquet"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--min-age-minutes",
        type=float,
        default=60.0,
        help="leave files written to more recently alone (default 60)",
    )
    parser.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    from monitor.core.compact import compact

    if not math.isfinite(args.min_age_minutes) or args.min_age_minutes < 0:
        raise InputError("--min-age-minutes must be a number >= 0")
    report = compact(settings(args).data_dir, min_age=dt.timedelta(minutes=args.min_age_minutes))
    if args.json:
        print_json(report)
    else:
        print(
            f"compacted {len(report.compacted)} files ({report.records} records, "
            f"{report.invalid_records} invalid lines kept in quarantine); "
            f"{report.skipped_recent} recent files left as JSONL"
        )
    refresh_if_present(args)
    return EXIT_OK
