"""The Spark engine (real pyspark, local mode) writes the same rollups as DuckDB: counts
exactly, floats to 1e-9, over a demo with JSONL and Parquet files and invalid lines. The
logs are given as a file:// URI, so the Hadoop-filesystem listing and the object-store
writer (the s3a:// path) are the ones used."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from monitor.core.config import load_settings
from monitor.ops.rollup.job import run_rollup
from monitor.ops.rollup.spark_engine import SparkEngine
from monitor.ops.rollup.storage import storage_for
from tests.logwriter import write_jsonl
from tests.ops.rollup import support

pytestmark = pytest.mark.slow  # about a minute: a Spark session and three runs


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from monitor.demo import generate_demo

    path = tmp_path_factory.mktemp("spark") / "demo"
    generate_demo(path, days=4, predictions=4000)
    return path


def _spark(data_dir: Path) -> tuple[list[str], list[str]]:
    uri = data_dir.as_uri()
    settings = load_settings(data_dir / "monitor.toml", env={})
    report = run_rollup(SparkEngine(uri), settings, storage_for(uri))
    return list(report.written), list(report.problems)


def test_spark_and_duckdb_rollups_are_equal(small_demo: Path, tmp_path: Path) -> None:
    duck = support.copy_demo(small_demo, tmp_path / "duckdb")
    spark = support.copy_demo(small_demo, tmp_path / "spark")
    duck_report = support.rollup(duck)
    written, problems = _spark(spark)
    assert sorted(written) == sorted(duck_report.written) and len(written) == 5 * 4
    assert sorted(p.replace(str(spark), "") for p in problems) == sorted(
        p.replace(str(duck), "") for p in duck_report.problems
    )
    assert any("invalid records left out" in p for p in problems)
    for path in written:
        support.assert_tables_equal(pq.read_table(spark / path), pq.read_table(duck / path), path)
    manifest = support.manifest(spark)
    assert manifest["engine"] == "spark"
    entry = next(iter(manifest["tables"]["labels"]["days"].values()))
    assert entry["predictions"][0][0].startswith("file:")
    assert entry["feedback"], "the files of the latest labels are recorded"

    # incremental on Spark too: nothing changed, nothing written; late labels, one day
    assert _spark(spark)[0] == []
    raw = support.labeled_predictions(spark)
    first_day = raw["timestamp"].min().date()
    unlabeled = raw[(raw["timestamp"].dt.date == first_day) & raw["label"].isna()]
    late = [
        {"prediction_id": pid, "timestamp": "2026-11-20T23:00:00+00:00", "label": 0}
        for pid in unlabeled["prediction_id"].head(5)
    ]
    for target in (spark, duck):
        write_jsonl(target, "feedback", "2026-11-20", "late.jsonl", late)
    written_late, _ = _spark(spark)
    assert sorted(written_late) == sorted(support.rollup(duck).written)
    assert {Path(p).parent.name for p in written_late} == {f"date={first_day}"}
    for path in written_late:
        support.assert_tables_equal(pq.read_table(spark / path), pq.read_table(duck / path), path)
