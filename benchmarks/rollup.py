"""Benchmark: `monitor rollup` from scratch and after one new hour of predictions.

Usage:
    python benchmarks/rollup.py --demo /tmp/demo10m [--engines duckdb spark]

`--demo` is a demo made with `monitor demo --data-dir DIR --predictions N`; it is copied
(logs, references, config) to a scratch folder first, so the demo itself is never
written to. Per engine, each in a fresh `python -m monitor.cli` process (wall time, and
peak RSS of the process and its children: Spark's JVM is a child):
  1. `monitor rollup` with no rollups yet (every day),
  2. `monitor rollup` again (nothing changed),
  3. `monitor rollup` after a new JSONL file with one hour of predictions (as many as the
     demo's busiest hour) in the last day: only that day is recomputed.
Spark runs in local mode (`local[*]`) on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq


def _run(config: Path, engine: str) -> tuple[float, float, dict[str, Any]]:
    """Wall seconds, peak RSS in MB of the Python process (`/usr/bin/time`: Spark's JVM,
    a process of its own, is not counted), and the JSON report."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    command = [sys.executable, "-m", "monitor.cli", "--config", str(config), "rollup"]
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        started = time.perf_counter()
        result = subprocess.run(
            ["/usr/bin/time", "-o", rss.name, "-f", "%M", *command, "--engine", engine, "--json"],
            capture_output=True,
            text=True,
            env=env,
        )
        elapsed = time.perf_counter() - started
        peak = int(rss.read().strip().splitlines()[-1]) / 1024
    if result.returncode != 0:
        raise SystemExit(f"rollup failed: {result.stderr[-2000:]}")
    return elapsed, peak, json.loads(result.stdout)


def _new_hour(data_dir: Path) -> int:
    """A JSONL file with one more hour of credit-risk predictions on the last day."""
    days = sorted((data_dir / "logs" / "predictions").glob("date=*"))
    last = days[-1]
    source = sorted(last.glob("*credit-risk*"))[0]
    if source.suffix == ".parquet":
        rows = pq.read_table(source).slice(0, 20_000).to_pylist()
    else:
        lines = source.read_text(encoding="utf-8").splitlines()[:20_000]
        rows = [json.loads(line) for line in lines if line.startswith("{")]
    day = last.name.removeprefix("date=")
    records = []
    for i, row in enumerate(rows):
        features = row.get("features") or {
            k.removeprefix("features."): v for k, v in row.items() if k.startswith("features.")
        }
        records.append(
            {
                "prediction_id": f"bench-{i}",
                "timestamp": f"{day}T23:{(i * 60) // len(rows):02d}:30+00:00",
                "model_id": "credit-risk",
                "model_version": row.get("model_version"),
                "features": features,
                "prediction": row.get("prediction"),
                "probability": row.get("probability"),
                "latency_ms": row.get("latency_ms"),
                "status": "ok",
            }
        )
    text = "\n".join(json.dumps(r, default=str) for r in records) + "\n"
    (last / "bench-new-hour.jsonl").write_text(text, encoding="utf-8")
    return len(records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", type=Path, required=True)
    parser.add_argument("--engines", nargs="+", default=["duckdb", "spark"])
    args = parser.parse_args()
    manifest = json.loads((args.demo / "demo_manifest.json").read_text(encoding="utf-8"))
    total = int(manifest["predictions"])
    print(f"demo: {args.demo} ({total:,} predictions)")
    for engine in args.engines:
        with tempfile.TemporaryDirectory(prefix=f"rollup-{engine}-") as scratch:
            data_dir = Path(scratch) / "demo"
            shutil.copytree(
                args.demo, data_dir, ignore=shutil.ignore_patterns("rollups", "state.sqlite*")
            )
            config = data_dir / "monitor.toml"
            seconds, peak, report = _run(config, engine)
            print(
                f"{engine}: from scratch {seconds:.1f} s ({len(report['written'])} files, "
                f"{report['rows']:,} rows, peak RSS {peak:.0f} MB)"
            )
            seconds, _, report = _run(config, engine)
            print(f"{engine}: nothing changed {seconds:.1f} s ({len(report['written'])} files)")
            added = _new_hour(data_dir)
            seconds, peak, report = _run(config, engine)
            print(
                f"{engine}: after one new hour ({added:,} predictions) {seconds:.1f} s "
                f"({len(report['written'])} files, peak RSS {peak:.0f} MB)"
            )


if __name__ == "__main__":
    main()
