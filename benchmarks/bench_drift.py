"""Benchmark: `monitor drift` on 1M reference x 1M current rows x 20 numeric features.

Usage:
    python benchmarks/bench_drift.py --data-dir /tmp/benchdrift [--rows 1000000]
        [--features 20] [--runs 5] [--evidently-python /path/to/venv/bin/python]

Writes reference.parquet and current.parquet (seeded; 5 of the features shifted in the
current; row groups of 131,072 rows) into --data-dir if they are not there, then
measures, each in a fresh process (cold: new interpreter, imports, new DuckDB connection,
no cached reference profile; the OS page cache is warm after the first run):
  * the full command `monitor drift --reference ... --current ... --json`: wall time and
    peak resident memory of the process (from wait4),
  * the same work in phases inside one process (imports, opening both files, reference
    profile, current profile, statistics).
With --evidently-python (an interpreter of a separate venv with evidently installed),
runs Evidently's DataDriftPreset on the same two files in a fresh process the same way
(reading the Parquet files with pandas included) and prints the time ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

EVIDENTLY_SCRIPT = """
import json, resource, sys, time
start = time.perf_counter()
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
imported = time.perf_counter()
reference = pd.read_parquet(sys.argv[1])
current = pd.read_parquet(sys.argv[2])
read = time.perf_counter()
snapshot = Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)
result = snapshot.dict()["metrics"][0]["value"]
done = time.perf_counter()
print(json.dumps({"import_s": imported - start, "read_s": read - imported,
                  "report_s": done - read, "total_s": done - start, "drifted": result}))
"""


ROW_GROUP = 131_072
"""Rows per Parquet row group (pyarrow's default, 1Mi rows, would make each file one row
group, which DuckDB reads on a single thread)."""


def generate(data_dir: Path, rows: int, features: int) -> tuple[Path, Path]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    data_dir.mkdir(parents=True, exist_ok=True)
    reference, current = data_dir / "reference.parquet", data_dir / "current.parquet"
    if reference.is_file() and current.is_file():
        return reference, current
    rng = np.random.default_rng(2026)
    for path, shifted in ((reference, False), (current, True)):
        columns = {}
        for i in range(features):
            shift = 0.25 if shifted and i % 4 == 0 else 0.0
            columns[f"f{i:02d}"] = rng.normal(10.0 + shift, 2.0, rows)
        pq.write_table(pa.table(columns), path, row_group_size=ROW_GROUP)
    return reference, current


def timed_process(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB, and stdout of a fresh process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    output = process.stdout.read().decode()
    errors = process.stderr.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{command[:3]} failed ({process.returncode}): {errors[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024, output


def phases(reference: Path, current: Path) -> dict[str, float]:
    start = time.perf_counter()
    from monitor.core.tabular import FileDatabase, file_relation
    from monitor.metrics.drift.report import compare
    from monitor.queries import drift_profile

    marks = {"imports_s": time.perf_counter() - start}
    step = time.perf_counter()
    database = FileDatabase()
    ref = file_relation(database, reference)
    cur = file_relation(database, current)
    marks["open_files_s"] = time.perf_counter() - step
    step = time.perf_counter()
    ref_profile = drift_profile.profile_reference(database, ref)
    marks["reference_profile_s"] = time.perf_counter() - step
    step = time.perf_counter()
    cur_profile = drift_profile.profile_current(database, cur, ref_profile)
    marks["current_profile_s"] = time.perf_counter() - step
    step = time.perf_counter()
    report = compare(ref_profile, cur_profile)
    marks["statistics_s"] = time.perf_counter() - step
    marks["total_s"] = time.perf_counter() - start
    marks["drifted"] = float(len(report.drifted))
    return marks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--evidently-python", help="python of a venv with evidently installed")
    parser.add_argument("--phases", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    reference, current = args.data_dir / "reference.parquet", args.data_dir / "current.parquet"
    if args.phases:
        print(json.dumps(phases(reference, current)))
        return
    start = time.perf_counter()
    reference, current = generate(args.data_dir, args.rows, args.features)
    print(f"data ready in {time.perf_counter() - start:.1f} s: {reference}, {current}")

    command = [sys.executable, "-m", "monitor.cli", "drift", "--reference", str(reference)]
    command += ["--current", str(current), "--json"]
    runs = [timed_process(command) for _ in range(args.runs)]
    document = json.loads(runs[0][2])
    walls = [wall for wall, _, _ in runs]
    peaks = [peak for _, peak, _ in runs]
    split: list[dict[str, Any]] = []
    for _ in range(args.runs):
        _, _, output = timed_process([sys.executable, __file__, "--data-dir", str(args.data_dir),
                                      "--phases"])  # fmt: skip
        split.append(json.loads(output))

    print(f"\n`monitor drift`, {args.runs} fresh processes, {document['reference_rows']:,} x "
          f"{document['current_rows']:,} rows x {len(document['features'])} features; "
          f"{sum(f['drifted'] for f in document['features'])} drifted")  # fmt: skip
    print("| measure | median | min | max |")
    print("|---|---:|---:|---:|")
    print(f"| wall time, whole process | {statistics.median(walls):.2f} s | {min(walls):.2f} s "
          f"| {max(walls):.2f} s |")  # fmt: skip
    print(f"| peak RSS | {statistics.median(peaks):.0f} MB | {min(peaks):.0f} MB "
          f"| {max(peaks):.0f} MB |")  # fmt: skip
    for key in split[0]:
        if key.endswith("_s"):
            values = [s[key] for s in split]
            print(f"| {key.removesuffix('_s').replace('_', ' ')} (in process) | "
                  f"{statistics.median(values):.3f} s | {min(values):.3f} s "
                  f"| {max(values):.3f} s |")  # fmt: skip
    if args.evidently_python:
        wall, peak, output = timed_process(
            [args.evidently_python, "-c", EVIDENTLY_SCRIPT, str(reference), str(current)]
        )
        result = json.loads(output)
        ratio = wall / statistics.median(walls)
        print(f"\nEvidently DataDriftPreset (one fresh process): {wall:.1f} s wall, "
              f"{peak:.0f} MB peak RSS; report {result['report_s']:.1f} s, pandas read "
              f"{result['read_s']:.1f} s, imports {result['import_s']:.1f} s; drifted "
              f"{result['drifted']}; ours is {ratio:.0f}x faster (wall, median)")  # fmt: skip


if __name__ == "__main__":
    main()
