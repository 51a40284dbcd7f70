"""A rollup stopped at any point (an exception or SIGKILL between a file's write and its
rename) leaves a manifest that describes exactly the files on disk, and the next run
repairs everything (equal to a rebuild from scratch)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from monitor.ops.rollup.storage import CRASH_ENV, CRASH_SIGNAL_ENV
from tests.logwriter import write_jsonl
from tests.ops.rollup import support


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from monitor.demo import generate_demo

    path = tmp_path_factory.mktemp("crash") / "demo"
    generate_demo(path, days=4, predictions=4000)
    return path


def _run(data_dir: Path, crash_after: int | None = None, *, kill: bool = False) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    if crash_after is not None:
        env[CRASH_ENV] = str(crash_after)
        if kill:
            env[CRASH_SIGNAL_ENV] = "KILL"
    command = [sys.executable, "-m", "monitor.cli", "--config", str(data_dir / "monitor.toml")]
    result = subprocess.run(
        [*command, "rollup"], env=env, capture_output=True, text=True, timeout=300
    )
    return result.returncode


def _consistent(data_dir: Path) -> int:
    """Every manifest entry describes the file on disk (rows, bytes); returns the entries."""
    entries = 0
    for state in support.manifest(data_dir)["tables"].values():
        for entry in state["days"].values():
            path = data_dir / entry["file"]
            assert path.stat().st_size == entry["bytes"], entry["file"]
            assert pq.read_metadata(path).num_rows == entry["rows"], entry["file"]
            entries += 1
    return entries


@pytest.mark.parametrize(
    ("crash_after", "kill"), [(1, False), (2, True), (4, False), (9, True), (17, False)]
)
def test_a_crashed_first_run_is_consistent_and_repaired(
    small_demo: Path, tmp_path: Path, crash_after: int, kill: bool
) -> None:
    data_dir = support.copy_demo(small_demo, tmp_path / "demo")
    code = _run(data_dir, crash_after, kill=kill)
    assert code == (-signal.SIGKILL if kill else 1)
    if (data_dir / "rollups" / "manifest.json").exists():
        _consistent(data_dir)
    assert _run(data_dir) == 0
    assert _consistent(data_dir) == 5 * 4
    support.assert_equal_to_rebuild(data_dir, tmp_path)


@pytest.mark.parametrize("crash_after", [1, 2, 3, 6])
def test_a_crashed_incremental_run_keeps_the_other_days(
    small_demo: Path, tmp_path: Path, crash_after: int
) -> None:
    data_dir = support.copy_demo(small_demo, tmp_path / "demo")
    assert _run(data_dir) == 0
    before = support.manifest(data_dir)["tables"]
    day = sorted(before["traffic"]["days"])[-1]
    record = {
        "prediction_id": "late-one",
        "timestamp": f"{day}T23:59:00+00:00",
        "model_id": "credit-risk",
        "prediction": 1,
        "probability": 0.9,
        "latency_ms": 12.0,
    }
    write_jsonl(data_dir, "predictions", day, "extra.jsonl", [record])
    assert _run(data_dir, crash_after, kill=True) == -signal.SIGKILL
    _consistent(data_dir)
    during = support.manifest(data_dir)["tables"]
    for table, state in during.items():  # the other days' entries never left
        for other, entry in before[table]["days"].items():
            if other != day:
                assert state["days"][other] == entry
    assert _run(data_dir) == 0
    _consistent(data_dir)
    traffic = support.read_rollup(data_dir, "traffic")
    raw = support.raw_predictions(data_dir)
    assert traffic["predictions"].sum() == len(raw)
    support.assert_equal_to_rebuild(data_dir, tmp_path)
