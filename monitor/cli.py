"""The `monitor` command line: the dashboard's work for scripts, cron and CI.

Every `--json` command prints one JSON document on stdout. Bad input exits with code 2
and one `error: ...` line on stderr; an unexpected failure exits with 1, also as one
line (set MONITOR_DEBUG=1 for the traceback).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import math
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from monitor import schema
from monitor.config import Settings, load_settings
from monitor.errors import InputError, MonitorError

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one `error:` line with exit code 2."""

    def error(self, message: str) -> Any:
        raise InputError(f"{message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="monitor", description="Monitor deployed ML models from their logs.")
    parser.add_argument(
        "--config", help="path to monitor.toml (default: $MONITOR_CONFIG, ./monitor.toml)"
    )
    parser.add_argument(
        "--data-dir", help="data directory (overrides the config and $MONITOR_DATA_DIR)"
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    demo = commands.add_parser("demo", help="generate deterministic demo logs with known problems")
    demo.add_argument("--data-dir", dest="demo_dir", required=True, help="where to write the demo")
    demo.add_argument("--days", type=int, default=30)
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--predictions", type=int, default=200_000)
    demo.add_argument("--json", action="store_true", help="print the manifest as JSON")

    summary = commands.add_parser("summary", help="traffic, error rate and latency per model")
    summary.add_argument("--model", help="only this model")
    summary.add_argument(
        "--since",
        type=_timestamp,
        help="window start (ISO 8601; default: a day before the latest prediction)",
    )
    summary.add_argument(
        "--until", type=_timestamp, help="window end (ISO 8601; default: the latest prediction)"
    )
    summary.add_argument("--json", action="store_true")

    compact = commands.add_parser("compact", help="rewrite closed JSONL log files as Parquet")
    compact.add_argument(
        "--min-age-minutes",
        type=float,
        default=60.0,
        help="leave files written to more recently alone (default 60)",
    )
    compact.add_argument("--json", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return _dispatch(args)
    except MonitorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("MONITOR_DEBUG"):
            traceback.print_exc()
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(
            f"error: internal error: {message} (set MONITOR_DEBUG=1 for details)", file=sys.stderr
        )
        return EXIT_INTERNAL


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "demo":
        return _demo(args)
    settings = _settings(args)
    if args.command == "summary":
        return _summary(args, settings)
    if args.command == "compact":
        return _compact(args, settings)
    raise InputError(f"unknown command {args.command!r}")


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings(args.config)
    if args.data_dir:
        settings = dataclasses.replace(settings, data_dir=Path(args.data_dir).resolve())
    return settings


def _demo(args: argparse.Namespace) -> int:
    from monitor.demo import generate_demo

    manifest = generate_demo(
        Path(args.demo_dir), days=args.days, seed=args.seed, predictions=args.predictions
    )
    if args.json:
        _print_json(dataclasses.asdict(manifest))
    else:
        print(f"wrote demo data to {args.demo_dir} (see demo_manifest.json for what was injected)")
    return EXIT_OK


def _summary(args: argparse.Namespace, settings: Settings) -> int:
    from monitor.store import LogStore
    from monitor.summary import summarize

    store = LogStore(settings.data_dir)
    try:
        document = summarize(store, model_id=args.model, since=args.since, until=args.until)
    finally:
        store.close()
    if args.json:
        _print_json(document)
        return EXIT_OK
    if not document["models"]:
        print(f"no predictions logged under {settings.data_dir}")
    for entry in document["models"]:
        latency = entry["latency_ms"]
        print(
            f"{entry['model_id']}: {entry['predictions']} predictions, "
            f"error rate {_percent(entry['error_rate'])}, "
            f"latency p50/p95/p99 "
            f"{_ms(latency['p50'])}/{_ms(latency['p95'])}/{_ms(latency['p99'])}, "
            f"{entry['invalid_records']} invalid records "
            f"[{entry['window']['start']} .. {entry['window']['end']}]"
        )
    return EXIT_OK


def _compact(args: argparse.Namespace, settings: Settings) -> int:
    from monitor.compact import compact

    if not math.isfinite(args.min_age_minutes) or args.min_age_minutes < 0:
        raise InputError("--min-age-minutes must be a number >= 0")
    report = compact(settings.data_dir, min_age=dt.timedelta(minutes=args.min_age_minutes))
    if args.json:
        _print_json(
            {
                "compacted": [str(p) for p in report.compacted],
                "records": report.records,
                "invalid_records": report.invalid_records,
                "skipped_recent": report.skipped_recent,
            }
        )
    else:
        print(
            f"compacted {len(report.compacted)} files ({report.records} records, "
            f"{report.invalid_records} invalid lines kept in quarantine); "
            f"{report.skipped_recent} recent files left as JSONL"
        )
    return EXIT_OK


def _timestamp(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 date or time (e.g. 2026-11-01 or 2026-11-01T12:00:00Z)"
        ) from None
    return schema.to_utc(moment)


def _print_json(document: Any) -> None:
    json.dump(_jsonable(document), sys.stdout, indent=2, sort_keys=False, allow_nan=False)
    sys.stdout.write("\n")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}ms"


if __name__ == "__main__":
    sys.exit(main())
