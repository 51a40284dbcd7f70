"""Benchmark: the Performance page's aggregates over the demo logs.

Usage:
    python benchmarks/bench_performance.py --data-dir /tmp/bench10m [--predictions 10000000]

Generates the demo into --data-dir if it holds no logs yet, then, in one fresh process,
times for credit-risk (binary) and demand-forecast (regression): the reference fit
(baseline and calibrator), `performance()` for the last 24 hours (hourly buckets), the
last 7 days and all data (daily buckets), each cold (first call) and warm (median of 3
more), `headline()` for the last 24 hours, and segments by one text and one numeric
feature over all data. Prints a Markdown table and the peak resident memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _time(action: Callable[[], Any], warm: int = 3) -> tuple[float, float]:
    start = time.perf_counter()
    action()
    cold = time.perf_counter() - start
    runs = []
    for _ in range(warm):
        start = time.perf_counter()
        action()
        runs.append(time.perf_counter() - start)
    return cold, statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--predictions", type=int, default=200_000)
    args = parser.parse_args()

    from monitor.core import catalog
    from monitor.core.buckets import Bucket
    from monitor.core.catalog import Window
    from monitor.core.config import load_settings
    from monitor.core.scope import Scope
    from monitor.core.store import LogStore
    from monitor.demo import generate_demo
    from monitor.queries import performance_report as perf
    from monitor.queries.performance_reference import fit_reference
    from monitor.queries.performance_segments import segments

    if not (args.data_dir / "logs").exists():
        generate_demo(args.data_dir, predictions=args.predictions)
    settings = load_settings(args.data_dir / "monitor.toml")
    start = time.perf_counter()
    store = LogStore(args.data_dir)
    print(f"store start-up: {time.perf_counter() - start:.3f} s\n")
    print("| model | measure | predictions | cold s | warm s |")
    print("|---|---|---:|---:|---:|")
    for info in catalog.inventory(store):
        model = settings.model(info.model_id)
        start = time.perf_counter()
        fit = fit_reference(store, model)
        print(f"| {model.id} | reference fit | | {time.perf_counter() - start:.3f} | |")
        spans: list[tuple[str, dt.timedelta | None, Bucket]] = [
            ("24 h, hourly", dt.timedelta(days=1), "hour"),
            ("7 days, daily", dt.timedelta(days=7), "day"),
            ("all data, daily", None, "day"),
        ]
        for label, span, bucket in spans:
            window = (
                Window.ending_at(info.last_seen, span)
                if span
                else Window(info.first_seen, info.last_seen)
            )
            scope = Scope.of(model, window)
            run = functools.partial(
                perf.performance, store, model, scope, bucket=bucket, reference=fit
            )
            cold, warm = _time(run)
            overall = run().overall()
            n = overall.predictions if overall else 0
            print(f"| {model.id} | performance, {label} | {n:,} | {cold:.3f} | {warm:.3f} |")
        day = Window.ending_at(info.last_seen, dt.timedelta(days=1))
        cold, warm = _time(
            functools.partial(perf.headline, store, model, Scope.of(model, day), reference=fit)
        )
        print(f"| {model.id} | headline, 24 h | | {cold:.3f} | {warm:.3f} |")
        everything = Scope.of(model, Window(info.first_seen, info.last_seen))
        for feature in ("employment_type", "income", "store_id", "price"):
            if any(f.key == feature for f in store.features) and (
                (feature in ("employment_type", "income")) == (model.task == "binary")
            ):
                cold, warm = _time(
                    functools.partial(segments, store, model, everything, feature=feature)
                )
                print(
                    f"| {model.id} | segments by {feature}, all data | | {cold:.3f} | {warm:.3f} |"
                )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS: {peak:.0f} MB")


if __name__ == "__main__":
    main()
