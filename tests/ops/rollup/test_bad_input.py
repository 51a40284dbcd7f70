"""Bad input is reported and left out; everything else is rolled up."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from monitor.core.schema import PREDICTION_BASE_SCHEMA
from tests.logwriter import prediction, write_jsonl, write_parquet
from tests.ops.rollup import support

CONFIG = """data_dir = "."
[[models]]
id = "m"
task = "binary"
sensitive_features = ["group"]
"""


def _logs(data_dir: Path) -> None:
    (data_dir / "monitor.toml").write_text(CONFIG, encoding="utf-8")
    good = [
        prediction(
            f"p{i}",
            f"2026-11-02T0{i % 3}:10:00+00:00",
            features={"x": float(i), "group": "a" if i % 2 else "b"},
            latency_ms=10.0 + i,
        )
        for i in range(9)
    ]
    lines: list[object] = [
        *good,
        "not json at all",
        '{"prediction_id": "cut", "times',
        {"model_id": "m"},
    ]
    write_jsonl(data_dir, "predictions", "2026-11-02", "live.jsonl", lines)
    rows: dict[str, list[object]] = {name: [None] for name in PREDICTION_BASE_SCHEMA.names}
    rows |= {
        "prediction_id": ["q1"],
        "timestamp": [pa.scalar(1_793_500_000_000_000, pa.timestamp("us", tz="UTC")).as_py()],
        "model_id": ["m"],
        "model_version": ["v1"],
        "prediction": ["0"],
        "probability": [0.2],
        "latency_ms": [5.0],
        "status": ["ok"],
    }
    write_parquet(
        data_dir,
        "predictions",
        "2026-11-01",
        "ok.parquet",
        pa.table(rows, schema=PREDICTION_BASE_SCHEMA),
    )
    corrupt = data_dir / "logs" / "predictions" / "date=2026-11-01" / "broken.parquet"
    corrupt.write_bytes(b"PAR1 this is not a parquet file")
    write_jsonl(
        data_dir,
        "feedback",
        "2026-11-02",
        "fb.jsonl",
        [{"prediction_id": "p1", "timestamp": "2026-11-02T05:00:00+00:00", "label": 1}, "{broken"],
    )


def test_bad_files_and_lines_are_reported_and_the_rest_rolled_up(tmp_path: Path) -> None:
    _logs(tmp_path)
    report = support.rollup(tmp_path)
    problems = "\n".join(report.problems)
    assert "broken.parquet: left out, unreadable Parquet file" in problems
    assert "live.jsonl: 3 invalid records left out" in problems
    assert "fb.jsonl: 1 invalid records left out" in problems
    traffic = support.read_rollup(tmp_path, "traffic")
    assert traffic["predictions"].sum() == 10  # 9 valid JSONL records + 1 Parquet row
    assert sorted(traffic["latency_count"]) == sorted(traffic["predictions"])
    labels = support.read_rollup(tmp_path, "labels")
    assert labels.loc[labels["label"] == "1", "n"].sum() == 1
    fairness = support.read_rollup(tmp_path, "fairness")
    groups = fairness.assign(g=fairness["group_value"].fillna("(none)")).groupby("g")["n"]
    assert groups.sum().to_dict() == {"a": 4, "b": 5, "(none)": 1}
    # the broken file stays recorded: fixing it reruns its day
    fixed = support.rollup(tmp_path)
    assert fixed.written == ()
    (tmp_path / "logs" / "predictions" / "date=2026-11-01" / "broken.parquet").unlink()
    assert {Path(p).parent.name for p in support.rollup(tmp_path).written} == {"date=2026-11-01"}
