"""Incremental runs: only the days whose input changed are rewritten, and the result always
equals a rebuild from scratch (new hours, late labels, compaction, removed days, a new
config)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from monitor.core.compact import compact
from tests.logwriter import write_jsonl
from tests.ops.rollup import support

LAST_DAY = "2026-11-20"


@pytest.fixture
def rolled(demo_dir: Path, tmp_path: Path) -> Path:
    data_dir = support.copy_demo(demo_dir, tmp_path / "demo")
    support.rollup(data_dir)
    return data_dir


def _new_hour(data_dir: Path, day: str, hour: int, count: int) -> list[str]:
    ids = [f"new-{day}-{hour}-{i}" for i in range(count)]
    records = [
        {
            "prediction_id": pid,
            "timestamp": f"{day}T{hour:02d}:{i % 60:02d}:00+00:00",
            "model_id": "credit-risk",
            "model_version": "v2",
            "features": {"income": 50_000.0 + i, "gender": "female", "age_group": "26-40"},
            "prediction": i % 2,
            "probability": 0.3 + i / (2 * count),
            "latency_ms": 20.0 + i,
            "status": "error" if i == 0 else "ok",
        }
        for i, pid in enumerate(ids)
    ]
    write_jsonl(data_dir, "predictions", day, f"extra-{hour}.jsonl", records)
    return ids


def test_a_rerun_without_changes_writes_nothing(rolled: Path) -> None:
    before = (rolled / "rollups" / "manifest.json").read_bytes()
    report = support.rollup(rolled)
    assert report.written == () and report.removed == ()
    assert json.loads(before)["tables"] == support.manifest(rolled)["tables"]


def test_a_new_hour_rewrites_only_its_day(rolled: Path, tmp_path: Path) -> None:
    _new_hour(rolled, "2026-11-21", 3, 40)  # the next day: a new partition
    report = support.rollup(rolled)
    assert sorted(report.written) == sorted(
        f"rollups/{t}/date=2026-11-21/part.parquet"
        for t in ("traffic", "labels", "regression", "features", "fairness")
    )
    traffic = support.read_rollup(rolled, "traffic")
    hour = traffic[traffic["hour"] == "2026-11-21 03:00:00+00:00"]
    assert hour["predictions"].sum() == 40 and hour["errors"].sum() == 1
    support.assert_equal_to_rebuild(rolled, tmp_path)


def test_a_new_hour_in_an_existing_day(rolled: Path, tmp_path: Path) -> None:
    files = support.rollup_files(rolled)
    _new_hour(rolled, LAST_DAY, 23, 10)
    report = support.rollup(rolled)
    assert {Path(p).parent.name for p in report.written} == {f"date={LAST_DAY}"}
    for path, data in files.items():  # other days untouched, byte for byte
        if f"date={LAST_DAY}" not in path:
            assert (rolled / path).read_bytes() == data
    support.assert_equal_to_rebuild(rolled, tmp_path)


def test_late_labels_update_the_hours_they_label(rolled: Path, tmp_path: Path) -> None:
    raw = support.labeled_predictions(rolled)
    day = dt.date(2026, 11, 10)
    old = raw[(raw["timestamp"].dt.date == day) & (raw["model_id"] == "credit-risk")]
    old = old[old["label"].isna() & (old["status"] == "ok")].head(25)
    assert len(old) == 25
    labels = [
        {"prediction_id": pid, "timestamp": f"{LAST_DAY}T12:00:00+00:00", "label": 1}
        for pid in old["prediction_id"]
    ]
    before = support.read_rollup(rolled, "labels")
    write_jsonl(rolled, "feedback", LAST_DAY, "late.jsonl", labels)
    report = support.rollup(rolled)
    assert sorted(report.written) == sorted(
        f"rollups/{t}/date={day}/part.parquet" for t in ("labels", "regression", "fairness")
    )
    after = support.read_rollup(rolled, "labels")
    gained = after[after["label"] == "1"]["n"].sum() - before[before["label"] == "1"]["n"].sum()
    assert gained == 25
    support.assert_equal_to_rebuild(rolled, tmp_path)


def test_compaction_recomputes_the_compacted_days_to_the_same_values(rolled: Path) -> None:
    files = support.rollup_files(rolled)
    report = compact(rolled, min_age=dt.timedelta(0))
    assert report.compacted
    again = support.rollup(rolled)
    assert again.written  # the input files changed (JSONL -> Parquet) ...
    for path in again.written:  # ... but not what they hold
        before = pq.read_table(pa.BufferReader(files[path]))
        support.assert_tables_equal(pq.read_table(rolled / path), before, path)


def test_a_removed_day_loses_its_rollups(rolled: Path) -> None:
    day = "2026-11-08"
    shutil.rmtree(rolled / "logs" / "predictions" / f"date={day}")
    report = support.rollup(rolled)
    assert len(report.removed) == 5 and not report.written
    assert not (rolled / "rollups" / "traffic" / f"date={day}").exists()
    assert all(day not in s["days"] for s in support.manifest(rolled)["tables"].values())


def test_a_new_spec_rebuilds_the_tables(rolled: Path, tmp_path: Path) -> None:
    config = rolled / "monitor.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace(
            'sensitive_features = ["gender", "age_group"]', 'sensitive_features = ["gender"]'
        ),
        encoding="utf-8",
    )
    report = support.rollup(rolled)
    assert len(report.written) == 5 * 14 and set(report.rebuilt_tables) >= {"fairness"}
    assert set(support.read_rollup(rolled, "fairness")["attribute"]) == {"gender"}
    support.assert_equal_to_rebuild(rolled, tmp_path)
