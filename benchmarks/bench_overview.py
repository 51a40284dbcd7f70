"""Benchmark: the Overview aggregates over many predictions in Parquet.

Usage:
    python benchmarks/bench_overview.py --data-dir /tmp/bench10m [--predictions 10000000] [--runs 5]

Generates the demo with N predictions into --data-dir if it holds no logs yet, then
measures, each in a fresh process (cold: new DuckDB connection, views built from
scratch, file footers read for the first time; the OS page cache may be warm):
  * store start-up (listing files, reading footers, building views),
  * the Overview page's aggregates: inventory (models, versions, time extent), then for
    the selected model health (count, errors, latency p50/p95/p99), the traffic chart
    buckets and invalid records, for the default window (last 24 h) and for all data,
and, in the same process afterwards, the same aggregates again (warm), plus the
process's peak resident memory. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def child(data_dir: Path, warm_runs: int) -> dict[str, Any]:
    from monitor.core import catalog
    from monitor.core.catalog import Window
    from monitor.core.scope import Scope
    from monitor.core.store import LogStore
    from monitor.queries import health

    timings: dict[str, Any] = {}
    start = time.perf_counter()
    store = LogStore(data_dir)
    timings["startup_s"] = time.perf_counter() - start

    def overview(span: dt.timedelta | None) -> int:
        """What the Overview page computes: the inventory (for the sidebar), then health,
        traffic buckets and invalid records for the selected (first) model."""
        model = catalog.inventory(store)[0]
        window = (
            Window.ending_at(model.last_seen, span)
            if span
            else Window(model.first_seen, model.last_seen)
        )
        scope = Scope(model.model_id, window)
        predictions = health.model_health(store, scope).predictions
        health.traffic(store, scope, "hour" if span else "day")
        store.invalid_records()
        return predictions

    for label, span in (("day", dt.timedelta(days=1)), ("all", None)):
        start = time.perf_counter()
        rows = overview(span)
        timings[f"cold_{label}_s"] = time.perf_counter() - start
        warm = []
        for _ in range(warm_runs):
            start = time.perf_counter()
            overview(span)
            warm.append(time.perf_counter() - start)
        timings[f"warm_{label}_s"] = statistics.median(warm)
        timings[f"rows_{label}"] = rows
    timings["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--predictions", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.data_dir, warm_runs=5)))
        return

    from monitor.demo import bootstrap, generate_demo

    if not bootstrap.has_logs(args.data_dir):
        start = time.perf_counter()
        generate_demo(args.data_dir, predictions=args.predictions)
        print(f"generated {args.predictions:,} predictions in {time.perf_counter() - start:.1f} s")
    results = []
    for _ in range(args.runs):
        output = subprocess.run(
            [sys.executable, __file__, "--data-dir", str(args.data_dir), "--child"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        results.append(json.loads(output))

    def median(key: str) -> float:
        return float(statistics.median(r[key] for r in results))

    print(f"\n{args.runs} fresh processes; medians\n")
    print("| measure | window: last 24 h | window: all data |")
    print("|---|---|---|")
    print(f"| predictions in window | {results[0]['rows_day']:,} | {results[0]['rows_all']:,} |")
    print(f"| store start-up (views) | {median('startup_s') * 1000:.0f} ms | (same) |")
    print(
        f"| Overview aggregates, cold | {median('cold_day_s') * 1000:.0f} ms "
        f"| {median('cold_all_s') * 1000:.0f} ms |"
    )
    print(
        f"| Overview aggregates, warm | {median('warm_day_s') * 1000:.0f} ms "
        f"| {median('warm_all_s') * 1000:.0f} ms |"
    )
    print(f"| peak RSS of the process | {max(r['peak_rss_mb'] for r in results):.0f} MB | |")


if __name__ == "__main__":
    main()
