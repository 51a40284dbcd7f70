"""Benchmark: start-up time of whole `monitor` processes (interpreter, imports, work).

Usage:
    python benchmarks/bench_startup.py --demo /tmp/demo [--runs 7] [--before /tmp/old-tree]

Times, each in a fresh process (`python -m monitor.cli ...`, stdout discarded):
  * `monitor --help`,
  * `monitor summary --json` on the demo in --demo (`monitor demo --data-dir DIR` first),
    and on its logs with a config without references or sensitive features,
  * `monitor drift --reference A --current B --json` on two small real files (NannyML car
    loan reference and analysis, tests/data/nannyml, 50,000 rows each).
With --before (a folder holding an older `monitor` package, e.g. `git archive <rev>
monitor | tar -x -C DIR`), runs that version too, alternating the two run by run so that
load from other processes hits both alike, and prints both: wall time and CPU time
(user + system, less disturbed by other processes on a busy machine). Also prints, per
command, the import time of the current version (`-X importtime`, summed self times).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CAR_LOAN = REPO / "tests" / "data" / "nannyml" / "car_loan_{}.parquet"


def commands(demo: Path, scratch: Path) -> dict[str, list[str]]:
    bare = scratch / "bare.toml"  # the demo's logs; no references, no sensitive features
    lines = (demo / "monitor.toml").read_text(encoding="utf-8").splitlines()
    kept = [
        "sensitive_features = []" if line.startswith("sensitive_features") else line
        for line in lines
        if not line.startswith("reference")
    ]
    bare.write_text("\n".join(kept).replace('data_dir = "."', f"data_dir = {str(demo)!r}"))
    return {
        "monitor --help": ["--help"],
        "monitor summary --json (demo)": [
            "--config",
            str(demo / "monitor.toml"),
            "summary",
            "--json",
        ],
        "monitor summary --json (demo logs; no references, no sensitive features)": [
            "--config",
            str(bare),
            "summary",
            "--json",
        ],
        "monitor drift, two small files": [
            "drift",
            "--reference",
            str(CAR_LOAN).format("reference"),
            "--current",
            str(CAR_LOAN).format("analysis"),
            "--json",
        ],
    }


def run_once(args: list[str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system) of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "monitor.cli", *args],
        stdout=subprocess.DEVNULL,
        check=True,
        cwd=cwd,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def import_ms(args: list[str], cwd: Path) -> float:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "monitor.cli", *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=cwd,
    )
    found = re.findall(r"^import time:\s+(\d+) \|", done.stderr, flags=re.MULTILINE)
    return sum(int(us) for us in found) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", type=Path, required=True, help="a `monitor demo` data dir")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--before", type=Path, help="folder holding an older monitor package")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as empty, tempfile.TemporaryDirectory() as scratch:
        sides = {"now": Path(empty)}  # an empty folder: the installed (current) package
        if args.before is not None:
            sides = {"before": args.before.resolve(), **sides}
        for name, argv in commands(args.demo.resolve(), Path(scratch)).items():
            times: dict[str, list[tuple[float, float]]] = {side: [] for side in sides}
            for i in range(args.runs + 1):  # the first round warms the page cache
                for side, cwd in sides.items():
                    measured = run_once(argv, cwd)
                    if i:
                        times[side].append(measured)
            shown = "; ".join(
                f"{side} wall min {min(w for w, _ in t) * 1000:.0f} ms, median "
                f"{statistics.median(w for w, _ in t) * 1000:.0f} ms, CPU min "
                f"{min(c for _, c in t) * 1000:.0f} ms"
                for side, t in times.items()
            )
            print(f"{name}: {shown}; imports now {import_ms(argv, Path(empty)):.0f} ms", flush=True)
    python = sys.version.split()[0]
    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs, Python {python}")


if __name__ == "__main__":
    main()
