"""Benchmark: `monitor.ops.alerts.actions.evaluate` (every rule, every model) over the demo logs.

Usage:
    python benchmarks/bench_alerts.py [--sizes 200000,1000000] [--runs 5] [--warm 5]
        [--generate-limit 60] [--keep DIR]

For each size, generates the demo (`monitor.demo.generate_demo`, 30 days, its
monitor.toml: default rules, data clock) into a temporary directory, in a child process
that is stopped after --generate-limit seconds (a size whose demo takes longer is
skipped and reported). Then:
  * one fresh process evaluates on an empty state store (every alert inserted): the
    first evaluation a data directory ever sees;
  * --runs fresh processes each evaluate on their own copy of that evaluated state
    (what `monitor check` from cron does: alerts updated in place). Each is timed in
    phases: imports (the alerts, the log store, config), building the log store
    (file listing, footers, views, JSONL parse), opening the state store, importing the
    metric engines (scipy, fairlearn: `evaluate` loads them on first use), the cold
    `evaluate`; then --warm more `evaluate` calls in the same process (warm: the store's
    per-file facts and the reference fit are kept). The parent takes the whole process's
    wall time and peak resident memory from wait4.
Prints a Markdown table per size: median, min and max over the fresh processes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def child(data_dir: Path, state_path: Path, warm_runs: int) -> dict[str, Any]:
    """One process: the phases of a cold evaluation, then `warm_runs` warm ones."""
    marks: dict[str, Any] = {}
    start = time.perf_counter()
    from monitor.core.config import load_settings
    from monitor.core.state import StateStore
    from monitor.core.store import LogStore
    from monitor.ops.alerts import actions as alerts

    marks["imports_s"] = time.perf_counter() - start
    step = time.perf_counter()
    settings = load_settings(data_dir / "monitor.toml", env={})
    store = LogStore(settings.data_dir)
    marks["store_s"] = time.perf_counter() - step
    step = time.perf_counter()
    state = StateStore(state_path)
    marks["state_s"] = time.perf_counter() - step
    step = time.perf_counter()
    import monitor.findings.signals  # noqa: F401  (the metric engines: scipy, fairlearn)

    marks["engines_s"] = time.perf_counter() - step
    step = time.perf_counter()
    result = alerts.evaluate(store, settings, state, notify=False)
    marks["cold_s"] = time.perf_counter() - step
    marks["to_cold_result_s"] = time.perf_counter() - start
    marks["cold_done_epoch"] = time.time()
    marks["alerts"] = len(result.alerts)
    marks["firing"] = sum(a.state == "firing" for a in result.alerts)
    marks["transitions"] = len(result.transitions)
    marks["errors"] = list(result.errors)
    warm = []
    for _ in range(warm_runs):
        step = time.perf_counter()
        alerts.evaluate(store, settings, state, notify=False)
        warm.append(time.perf_counter() - step)
    marks["warm_s"] = statistics.median(warm) if warm else float("nan")
    return marks


def timed_child(data_dir: Path, state_path: Path, warm_runs: int) -> dict[str, Any]:
    """A fresh process running `child`: its marks plus wall time and peak RSS (wait4)."""
    command = [sys.executable, __file__, "--child", str(data_dir), "--state", str(state_path)]
    command += ["--warm", str(warm_runs)]
    with tempfile.TemporaryFile() as errors:
        started = time.time()
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors)
        assert process.stdout is not None
        output = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace")[-2000:]
            raise SystemExit(f"child failed ({process.returncode}): {message}")
    marks: dict[str, Any] = json.loads(output)
    marks["wall_s"] = elapsed
    marks["process_to_cold_s"] = marks["cold_done_epoch"] - started
    marks["peak_rss_mb"] = usage.ru_maxrss / 1024
    return marks


def generate(data_dir: Path, predictions: int, limit_s: float) -> float | None:
    """Seconds to generate the demo in a child process, or None past `limit_s`."""
    command = [sys.executable, __file__, "--generate", str(data_dir)]
    command += ["--predictions", str(predictions)]
    start = time.perf_counter()
    try:
        subprocess.run(command, check=True, timeout=limit_s, capture_output=True)
    except subprocess.TimeoutExpired:
        return None
    return time.perf_counter() - start


def copy_state(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database in WAL mode (the backup API)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def report(
    predictions: int, seconds: float, first: dict[str, Any], runs: list[dict[str, Any]]
) -> None:
    def row(label: str, key: str, unit: str = "s") -> str:
        values = [float(r[key]) for r in runs]
        stats = (statistics.median(values), min(values), max(values))
        shown = [f"{v:.0f} MB" if unit == "MB" else f"{v:.2f} s" for v in stats]
        return f"| {label} | {' | '.join(shown)} |"

    print(f"\n### {predictions:,} predictions (generated in {seconds:.1f} s)\n")
    print(f"First evaluation on an empty state (one process): evaluate {first['cold_s']:.2f} s, "
          f"whole process {first['wall_s']:.2f} s, peak RSS {first['peak_rss_mb']:.0f} MB; "
          f"{first['alerts']} alerts ({first['firing']} firing), "
          f"{first['transitions']} transitions, errors: {first['errors'] or 'none'}\n")  # fmt: skip
    print(f"{len(runs)} fresh processes on a copy of that state:\n")
    print("| measure | median | min | max |")
    print("|---|---:|---:|---:|")
    print(row("new process to the cold result (interpreter start included)", "process_to_cold_s"))
    print(row("imports (alerts, store, config)", "imports_s"))
    print(row("log store build (and config)", "store_s"))
    print(row("state store open", "state_s"))
    print(row("metric engine imports (scipy, fairlearn)", "engines_s"))
    print(row("`evaluate`, cold", "cold_s"))
    print(row("sum of the phases above (in the process)", "to_cold_result_s"))
    print(row(f"`evaluate`, warm (median of {runs[0]['warm_runs']} per process)", "warm_s"))
    print(row("whole process with the warm runs, wall time", "wall_s"))
    print(row("peak RSS of the process (wait4)", "peak_rss_mb", "MB"))
    print(f"\nalerts per run: {sorted({r['alerts'] for r in runs})}, transitions in the cold "
          f"run: {sorted({r['transitions'] for r in runs})}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="200000,1000000", help="predictions per demo")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warm", type=int, default=5)
    parser.add_argument("--generate-limit", type=float, default=60.0, metavar="SECONDS")
    parser.add_argument("--keep", type=Path, help="generate here and keep (default: a temp dir)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--state", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--predictions", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        marks = child(args.child, args.state, args.warm)
        marks["warm_runs"] = args.warm
        print(json.dumps(marks))
        return
    if args.generate is not None:
        from monitor.demo import generate_demo

        generate_demo(args.generate, predictions=args.predictions)
        return

    root = args.keep or Path(tempfile.mkdtemp(prefix="bench_alerts_"))
    print(f"load average at start: {os.getloadavg()}")
    try:
        for predictions in (int(size) for size in args.sizes.split(",")):
            base = root / f"demo-{predictions}"
            data_dir = base / "data"
            seconds = generate(data_dir, predictions, args.generate_limit)
            if seconds is None:
                print(f"\n{predictions:,} predictions: skipped, generation took over "
                      f"{args.generate_limit:.0f} s")  # fmt: skip
                continue
            seeded = base / "seeded.sqlite"
            first = timed_child(data_dir, seeded, 0)
            runs = []
            for i in range(args.runs):
                state_path = base / f"run-{i}.sqlite"
                copy_state(seeded, state_path)
                runs.append(timed_child(data_dir, state_path, args.warm))
            report(predictions, seconds, first, runs)
    finally:
        print(f"\nload average at the end: {os.getloadavg()}")
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
