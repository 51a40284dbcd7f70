"""The DuckDB log store over hand-written JSONL and Parquet files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pytest

from monitor.core import schema
from monitor.core.sqlutil import quote_identifier, quote_literal
from monitor.core.store import LogStore
from tests.logwriter import prediction, write_jsonl, write_parquet

UTC = dt.UTC


def _count(store: LogStore, view: str = "predictions") -> int:
    rows = store.execute(f"SELECT count(*) FROM {view}")
    return int(rows[0][0])


def test_malformed_and_half_written_lines_are_counted_and_skipped(tmp_path: Path) -> None:
    lines = [
        prediction("a", "2026-11-01T10:00:00Z"),
        "this is not json",
        {"timestamp": "2026-11-01T10:00:00Z", "model_id": "m"},  # no prediction_id
        prediction("b", "yesterday-ish"),  # unreadable timestamp
        "[1, 2, 3]",  # JSON, but not an object
        "",  # empty lines are not records
        prediction("c", "2026-11-01T11:00:00Z"),
        '{"prediction_id": "d", "timestamp": "2026-11-01T12:00:00Z", "mod',
    ]
    path = write_jsonl(tmp_path, "predictions", "2026-11-01", "p.jsonl", lines, final_newline=False)
    store = LogStore(tmp_path)
    assert sorted(r[0] for r in store.execute("SELECT prediction_id FROM predictions")) == [
        "a",
        "c",
    ]
    invalid = store.invalid_records()
    assert len(invalid) == 1
    assert invalid[0].path == path
    assert invalid[0].count == 5
    # every valid record of the file is model "m": its unreadable lines are "m"'s too
    assert invalid[0].by_model == {"m": 5}
    assert invalid[0].day == dt.date(2026, 11, 1)
    # aggregate queries over the same view keep working
    assert store.execute("SELECT avg(latency_ms) FROM predictions")[0][0] == pytest.approx(10.0)


def test_unreadable_lines_of_a_shared_file_stay_unattributed(tmp_path: Path) -> None:
    lines = [
        prediction("a", "2026-11-01T10:00:00Z", model="m1"),
        prediction("b", "2026-11-01T10:00:00Z", model="m2"),
        {"model_id": "m2", "timestamp": "2026-11-01T10:00:00Z"},
        "garbage",
    ]
    write_jsonl(tmp_path, "predictions", "2026-11-01", "p.jsonl", lines)
    (found,) = LogStore(tmp_path).invalid_records()
    assert found.count == 2
    assert found.by_model == {"m2": 1}


def test_new_feature_key_in_later_file_becomes_a_column(tmp_path: Path) -> None:
    write_jsonl(
        tmp_path, "predictions", "2026-11-01", "a.jsonl", [prediction("a", "2026-11-01T10:00:00Z")]
    )
    store = LogStore(tmp_path)
    assert [f.key for f in store.features] == ["x"]
    write_jsonl(
        tmp_path,
        "predictions",
        "2026-11-02",
        "b.jsonl",
        [prediction("b", "2026-11-02T10:00:00Z", features={"x": 2.0, "region": "north"})],
    )
    assert store.refresh() is True
    assert [(f.key, f.sql_type) for f in store.features] == [("region", "VARCHAR"), ("x", "DOUBLE")]
    rows = store.execute(
        'SELECT prediction_id, "features.region", "features.x" FROM predictions ORDER BY 1'
    )
    assert rows == [("a", None, 1.0), ("b", "north", 2.0)]
    assert store.refresh() is False  # nothing changed


def test_jsonl_and_parquet_of_the_same_day_combine(tmp_path: Path) -> None:
    write_jsonl(
        tmp_path,
        "predictions",
        "2026-11-01",
        "live.jsonl",
        [prediction("j1", "2026-11-01T10:00:00Z", features={"x": 3, "flag": True})],
    )
    columns: dict[str, list[object]] = {n: [None] for n in schema.PREDICTION_BASE_SCHEMA.names}
    columns.update(
        prediction_id=["p1"],
        timestamp=[dt.datetime(2026, 11, 1, 9, tzinfo=UTC)],
        model_id=["m"],
        model_version=["v1"],
        prediction=["0"],
        status=["ok"],
        latency_ms=[20.0],
    )
    table = pa.table(columns, schema=schema.PREDICTION_BASE_SCHEMA).append_column(
        "features.x", pa.array([7], pa.int64())
    )
    write_parquet(tmp_path, "predictions", "2026-11-01", "old.parquet", table)
    store = LogStore(tmp_path)
    rows = store.execute(
        'SELECT prediction_id, "features.x", "features.flag", latency_ms '
        "FROM predictions ORDER BY 1"
    )
    assert rows == [("j1", 3.0, True, 10.0), ("p1", 7.0, None, 20.0)]


def test_timestamps_are_normalized_to_utc(tmp_path: Path) -> None:
    epoch_ms = int(dt.datetime(2026, 11, 1, 8, 30, tzinfo=UTC).timestamp() * 1000)
    write_jsonl(
        tmp_path,
        "predictions",
        "2026-11-01",
        "p.jsonl",
        [
            prediction("offset", "2026-11-01T10:30:00+02:00"),
            prediction("zulu", "2026-11-01T08:30:00Z"),
            prediction("naive", "2026-11-01T08:30:00"),
            prediction("epoch", epoch_ms),
        ],
    )
    store = LogStore(tmp_path)
    moments = {
        pid: ts for pid, ts in store.execute("SELECT prediction_id, timestamp FROM predictions")
    }
    expected = dt.datetime(2026, 11, 1, 8, 30, tzinfo=UTC)
    assert moments == {"offset": expected, "zulu": expected, "naive": expected, "epoch": expected}
    assert all(ts.utcoffset() == dt.timedelta(0) for ts in moments.values())


HOSTILE = [
    'quote"inside',
    "semi;colon",
    "'; DROP TABLE predictions; --",
    "<script>alert(1)</script>",
    "emoji 🚀 ñ",
    "a.b/c~d",
    "$.path",
    "x" * 300,
]


def test_hostile_feature_names_are_columns_that_work(tmp_path: Path) -> None:
    features = {name: i for i, name in enumerate(HOSTILE)}
    write_jsonl(
        tmp_path,
        "predictions",
        "2026-11-01",
        "p.jsonl",
        [prediction("a", "2026-11-01T10:00:00Z", features=features)],
    )
    store = LogStore(tmp_path)
    by_key = {f.key: f for f in store.features}
    assert set(HOSTILE) <= set(by_key)
    for i, name in enumerate(HOSTILE):
        column = quote_identifier(by_key[name].column)
        assert store.execute(f"SELECT {column} FROM predictions")[0][0] == float(i)
    assert _count(store) == 1  # the table survived the DROP TABLE feature


def test_unreadable_parquet_is_reported_not_fatal(tmp_path: Path) -> None:
    write_jsonl(
        tmp_path, "predictions", "2026-11-01", "p.jsonl", [prediction("a", "2026-11-01T10:00:00Z")]
    )
    bad = tmp_path / "logs" / "predictions" / "date=2026-11-01" / "broken.parquet"
    bad.write_bytes(b"PAR1 this is not really parquet")
    store = LogStore(tmp_path)
    assert _count(store) == 1
    reported = [i for i in store.invalid_records() if i.path == bad]
    assert len(reported) == 1 and reported[0].unreadable


def test_labeled_takes_latest_feedback_then_inline_label(tmp_path: Path) -> None:
    write_jsonl(
        tmp_path,
        "predictions",
        "2026-11-01",
        "p.jsonl",
        [
            prediction("a", "2026-11-01T10:00:00Z", label=0),
            prediction("b", "2026-11-01T10:00:00Z", label=1.0),
            prediction("c", "2026-11-01T10:00:00Z"),
        ],
    )
    write_jsonl(
        tmp_path,
        "feedback",
        "2026-11-03",
        "f.jsonl",
        [
            {"prediction_id": "a", "timestamp": "2026-11-03T00:00:00Z", "label": 1},
            {"prediction_id": "a", "timestamp": "2026-11-02T00:00:00Z", "label": 0},
            {"prediction_id": "zz", "timestamp": "2026-11-02T00:00:00Z", "label": 0},
        ],
    )
    store = LogStore(tmp_path)
    rows = store.execute(
        "SELECT prediction_id, label, label_value, label_source FROM labeled ORDER BY 1"
    )
    assert rows == [("a", "1", 1.0, "feedback"), ("b", "1", 1.0, "inline"), ("c", None, None, None)]


def test_empty_data_dir_has_empty_views(tmp_path: Path) -> None:
    store = LogStore(tmp_path / "nothing-here")
    for view in ("predictions", "feedback", "system", "labeled"):
        assert _count(store, view) == 0
    assert store.invalid_records() == ()


def test_quoting_helpers() -> None:
    assert quote_identifier('a"b') == '"a""b"'
    assert quote_literal("it's") == "'it''s'"
    assert quote_literal("back\\slash") == "'back\\slash'"
    with pytest.raises(ValueError):
        quote_identifier("nul\x00")


def test_appends_and_removals_are_seen_after_refresh_without_duplicates(tmp_path: Path) -> None:
    first = write_jsonl(
        tmp_path, "predictions", "2026-11-01", "a.jsonl", [prediction("a1", "2026-11-01T10:00:00Z")]
    )
    second = write_jsonl(
        tmp_path, "predictions", "2026-11-02", "b.jsonl", [prediction("b1", "2026-11-02T10:00:00Z")]
    )
    store = LogStore(tmp_path)
    with first.open("a", encoding="utf-8") as handle:  # a writer appends a line, and garbage
        handle.write(json.dumps(prediction("a2", "2026-11-01T11:00:00Z")) + "\nnot json\n")
    assert store.refresh() is True
    ids = sorted(r[0] for r in store.execute("SELECT prediction_id FROM predictions"))
    assert ids == ["a1", "a2", "b1"]
    assert [(i.path, i.count) for i in store.invalid_records()] == [(first, 1)]
    second.unlink()
    store.refresh()
    assert sorted(r[0] for r in store.execute("SELECT prediction_id FROM predictions")) == [
        "a1",
        "a2",
    ]
    with first.open("a", encoding="utf-8") as handle:  # a new feature key: columns rebuilt
        handle.write(json.dumps(prediction("a3", "2026-11-01T12:00:00Z", features={"z": 5})) + "\n")
    store.refresh()
    rows = store.execute('SELECT prediction_id, "features.z" FROM predictions ORDER BY 1')
    assert rows == [("a1", None), ("a2", None), ("a3", 5.0)]


def test_inventory_from_statistics_and_scans_agree(tmp_path: Path) -> None:
    """A Parquet file with one model version is counted from its statistics, a mixed one by
    a scan; both must give what the rows say."""
    from monitor.core import catalog

    def table(versions: list[str], hour: int) -> pa.Table:
        n = len(versions)
        columns: dict[str, list[object]] = {
            c: [None] * n for c in schema.PREDICTION_BASE_SCHEMA.names
        }
        columns.update(
            prediction_id=[f"{hour}-{i}" for i in range(n)],
            timestamp=[dt.datetime(2026, 11, 1, hour, i, tzinfo=UTC) for i in range(n)],
            model_id=["m"] * n,
            model_version=list[object](versions),
        )
        return pa.table(columns, schema=schema.PREDICTION_BASE_SCHEMA)

    write_parquet(tmp_path, "predictions", "2026-11-01", "single.parquet", table(["v1"] * 3, 1))
    write_parquet(tmp_path, "predictions", "2026-11-01", "mixed.parquet", table(["v1", "v2"], 2))
    write_jsonl(
        tmp_path,
        "predictions",
        "2026-11-01",
        "live.jsonl",
        [prediction("j", "2026-11-01T03:00:00Z", version="v2")],
    )
    (model,) = catalog.inventory(LogStore(tmp_path))
    summary = {
        v.version: (v.predictions, v.first_seen.hour, v.last_seen.hour) for v in model.versions
    }
    assert summary == {"v1": (4, 1, 2), "v2": (2, 2, 3)}
    assert model.first_seen == dt.datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
