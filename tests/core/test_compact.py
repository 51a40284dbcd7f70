"""`monitor compact`: JSONL -> Parquet, idempotent, and safe when interrupted."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from monitor.core.compact import compact
from monitor.core.store import LogStore
from tests.logwriter import prediction, write_jsonl

NO_AGE = dt.timedelta(0)


def _later() -> dt.datetime:
    """A moment after every file the test wrote, so they all count as closed."""
    return dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)


def _ids(store: LogStore) -> list[str]:
    store.refresh()
    return sorted(r[0] for r in store.execute("SELECT prediction_id FROM predictions"))


def _seed(data_dir: Path, files: int = 3, per_file: int = 50) -> list[str]:
    ids: list[str] = []
    for f in range(files):
        day = f"2026-11-{f + 1:02d}"
        records = [
            prediction(f"{f}-{i}", f"{day}T10:00:{i % 60:02d}Z", features={"x": i, f"k{f}": "v"})
            for i in range(per_file)
        ]
        ids += [r["prediction_id"] for r in records]
        write_jsonl(data_dir, "predictions", day, f"p{f}.jsonl", records)
    write_jsonl(
        data_dir,
        "feedback",
        "2026-11-03",
        "f.jsonl",
        [{"prediction_id": "0-1", "timestamp": "2026-11-03T00:00:00Z", "label": 1}],
    )
    return sorted(ids)


def test_compact_rewrites_to_parquet_and_is_idempotent(tmp_path: Path) -> None:
    ids = _seed(tmp_path)
    write_jsonl(
        tmp_path,
        "predictions",
        "2026-11-01",
        "bad.jsonl",
        [prediction("ok-1", "2026-11-01T01:00:00Z"), "garbage"],
    )
    store = LogStore(tmp_path)
    before = store.execute("SELECT * EXCLUDE (source_file) FROM labeled ORDER BY prediction_id")
    report = compact(tmp_path, min_age=NO_AGE, now=_later())
    assert (
        report.records == len(ids) + 1 + 1
    )  # predictions + the valid line of bad.jsonl + feedback
    assert report.invalid_records == 1
    assert not list((tmp_path / "logs" / "predictions").glob("*/*.jsonl"))
    quarantined = list((tmp_path / "logs" / "quarantine").rglob("*.jsonl"))
    assert [p.name for p in quarantined] == ["bad.jsonl"]
    assert "garbage" in quarantined[0].read_text()
    store.refresh()
    after = store.execute("SELECT * EXCLUDE (source_file) FROM labeled ORDER BY prediction_id")
    assert after == before
    assert sum(i.count for i in store.invalid_records()) == 1  # the count survives compaction
    again = compact(tmp_path, min_age=NO_AGE, now=_later())
    assert again.compacted == () and again.records == 0


def test_today_and_recent_files_are_left_alone(tmp_path: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    today, yesterday = now.date(), now.date() - dt.timedelta(days=1)
    write_jsonl(
        tmp_path,
        "predictions",
        today.isoformat(),
        "today.jsonl",
        [prediction("t", now.isoformat())],
    )
    write_jsonl(
        tmp_path,
        "predictions",
        yesterday.isoformat(),
        "recent.jsonl",
        [prediction("r", f"{yesterday}T23:00:00Z")],
    )
    report = compact(tmp_path, min_age=dt.timedelta(hours=1), now=now)
    assert report.compacted == ()
    assert report.skipped_recent == 2


def test_interrupted_before_rename_loses_nothing(tmp_path: Path) -> None:
    ids = _seed(tmp_path)
    stale = tmp_path / "logs" / "predictions" / "date=2026-11-01" / ".p0.parquet.tmp"
    stale.write_bytes(b"half a parquet file")  # a crash mid-write
    store = LogStore(tmp_path)
    assert _ids(store) == ids
    compact(tmp_path, min_age=NO_AGE, now=_later())
    assert _ids(store) == ids


def test_interrupted_after_rename_duplicates_nothing(tmp_path: Path) -> None:
    ids = _seed(tmp_path)
    jsonl = tmp_path / "logs" / "predictions" / "date=2026-11-01" / "p0.jsonl"
    saved = jsonl.read_bytes()
    compact(tmp_path, min_age=NO_AGE, now=_later())
    jsonl.write_bytes(saved)  # as if the process died between rename and delete
    store = LogStore(tmp_path)
    assert _ids(store) == ids
    report = compact(tmp_path, min_age=NO_AGE, now=_later())
    assert report.compacted == (jsonl,)
    assert not jsonl.exists()
    assert _ids(store) == ids


def test_killed_at_random_moments_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    ids = _seed(tmp_path, files=12, per_file=200)
    store = LogStore(tmp_path)
    script = (
        "import datetime as dt, sys; from pathlib import Path; "
        "from monitor.compact import compact; "
        "compact(Path(sys.argv[1]), min_age=dt.timedelta(0))"
    )
    for delay in (0.05, 0.15, 0.3, 0.5, 0.8):
        process = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)])
        time.sleep(delay)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert _ids(store) == ids, f"after a kill at {delay}s"
    compact(tmp_path, min_age=NO_AGE, now=_later())
    assert _ids(store) == ids
    assert not list((tmp_path / "logs").glob("predictions/*/*.jsonl"))
