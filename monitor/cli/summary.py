"""`monitor summary`: traffic, error rate, latency and invalid records per model."""

from __future__ import annotations

import argparse

from monitor.cli.common import EXIT_OK, milliseconds, percent, print_json, settings, timestamp

NAME = "summary"
HELP = "what is wrong now, and traffic, error rate and latency per model"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="only this model")
    parser.add_argument(
        "--since",
        type=timestamp,
        help="window start (ISO 8601; default: a day before the latest prediction)",
    )
    parser.add_argument(
        "--until", type=timestamp, help="window end (ISO 8601; default: the latest prediction)"
    )
    parser.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    from monitor.core.store import LogStore
    from monitor.reports.summary import summarize

    config = settings(args)
    store = LogStore(config.data_dir)
    try:
        document = summarize(store, config, model_id=args.model, since=args.since, until=args.until)
    finally:
        store.close()
    if args.json:
        print_json(document)
        return EXIT_OK
    if not document["models"]:
        print(f"no predictions logged under {config.data_dir}")
    for problem in document["problems"]:
        print(f"{problem['severity']}: {problem['headline']} (rule {problem['rule']})")
    for blind in document["unmeasured"]:
        print(f"unknown: {blind['headline']}")
    for entry in document["models"]:
        latency = entry["latency_ms"]
        print(
            f"{entry['model_id']}: {entry['predictions']} predictions, "
            f"error rate {percent(entry['error_rate'])}, latency p50/p95/p99 "
            f"{milliseconds(latency['p50'])}/{milliseconds(latency['p95'])}/"
            f"{milliseconds(latency['p99'])}, {entry['invalid_records']} invalid records "
            f"[{entry['window']['start']} .. {entry['window']['end']}]"
        )
    return EXIT_OK
