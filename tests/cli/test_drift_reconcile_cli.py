"""`monitor drift` over a column read two ways (issue 13): a Yes/No column read as BOOLEAN
from a CSV and as text from Parquet or from the logs gives the statistics of the same
data read alike (checked with scipy), says so in the text and JSON output, and a column
with no common type gets a status instead of a verdict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial import distance

from monitor.cli.main import main
from tests.ops.alerts.support import series, write_predictions


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert err == "", err
    return code, out


def document(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code, out = run(capsys, *args, "--json")
    assert code == 0
    found: dict[str, Any] = json.loads(out)
    return found


def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(7)

    def frame(rows: int, yes: float, start: str) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "holiday": np.where(rng.random(rows) < yes, "Yes", "No"),
                "day": pd.date_range(start, periods=rows, freq="D").strftime("%Y-%m-%d"),
                "visits": rng.poisson(3.0, rows),
            }
        )

    return frame(500, 0.3, "2023-01-01"), frame(400, 0.36, "2024-01-01")


def holiday_table(ref: pd.DataFrame, cur: pd.DataFrame) -> np.ndarray:
    return np.array([[int((f["holiday"] == v).sum()) for v in ("No", "Yes")] for f in (ref, cur)])


def test_csv_against_parquet_gives_the_both_csv_numbers_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ref, cur = frames()
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.to_csv(tmp_path / "cur.csv", index=False)
    cur.to_parquet(tmp_path / "cur.parquet")
    reference = str(tmp_path / "ref.csv")
    mixed = document(
        capsys, "drift", "--reference", reference, "--current", str(tmp_path / "cur.parquet")
    )
    both_csv = document(
        capsys, "drift", "--reference", reference, "--current", str(tmp_path / "cur.csv")
    )
    assert mixed["features"] == both_csv["features"]
    holiday = next(f for f in mixed["features"] if f["feature"] == "holiday")
    table = holiday_table(ref, cur)
    assert holiday["stats"]["chisquare"] == pytest.approx(
        stats.chi2_contingency(table).statistic, rel=1e-12
    )
    assert holiday["stats"]["jensenshannon"] == pytest.approx(
        distance.jensenshannon(table[0], table[1], base=2), abs=1e-12
    )
    assert both_csv["schema"] == []
    notes = {entry["column"]: entry for entry in mixed["schema"]}
    assert notes["holiday"] == {
        "column": "holiday",
        "reference_type": "BOOLEAN",
        "current_type": "VARCHAR",
        "compared_as": "boolean",
        "detail": "compared as booleans (Yes/No)",
        "note": f"holiday: read as boolean from {reference} and text from "
        f"{tmp_path / 'cur.parquet'}; compared as booleans (Yes/No)",
    }
    assert notes["day"]["compared_as"] == "datetime" and set(notes) == {"holiday", "day"}
    code, text = run(
        capsys, "drift", "--reference", reference, "--current", str(tmp_path / "cur.parquet")
    )
    assert code == 0
    assert f"schema: {notes['holiday']['note']}" in text.splitlines()


def test_a_column_with_no_common_type_gets_a_status_not_a_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(3)
    pd.DataFrame({"x": rng.normal(size=300), "k": rng.integers(0, 4, 300)}).to_parquet(
        tmp_path / "a.parquet"
    )
    words = rng.choice(["low", "high"], 300)
    pd.DataFrame({"x": words, "k": rng.integers(0, 4, 300)}).to_parquet(tmp_path / "b.parquet")
    args = (
        "drift",
        "--reference",
        str(tmp_path / "a.parquet"),
        "--current",
        str(tmp_path / "b.parquet"),
    )
    found = document(capsys, *args, "--fail-on-drift")
    x = next(f for f in found["features"] if f["feature"] == "x")
    assert x["status"].startswith("incomparable (numbers in ") and not x["drifted"]
    assert x["stats"] == {} and x["score"] is None
    assert found["share_drifted"] == 0.0  # only k is judged
    (note,) = found["schema"]
    assert note["compared_as"] == "incomparable" and note["column"] == "x"
    code, text = run(capsys, *args)
    assert code == 0 and "  x: -  incomparable (numbers in " in text
    quality = document(capsys, "quality", *args[1:])
    assert quality["type_changes"] == [
        {"feature": "x", "reference": "DOUBLE", "current": "VARCHAR"}
    ]


CONFIG = """
data_dir = "data"

[[models]]
id = "m"
reference = "{reference}"
"""


def test_logs_against_a_csv_reference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The reference CSV reads Yes/No as BOOLEAN, the logs hold the text: compared as
    booleans, with the counts of the raw records."""
    ref, _ = frames()
    ref.to_csv(tmp_path / "ref.csv", index=False)
    current = ["Yes" if i % 3 == 0 else "No" for i in range(240)]
    records = series("m", 0, 240, features=lambda i, _: {"holiday": current[i], "visits": i % 5})
    write_predictions(tmp_path / "data", "m", records)
    config = tmp_path / "monitor.toml"
    config.write_text(CONFIG.format(reference=tmp_path / "ref.csv"), encoding="utf-8")
    found = document(
        capsys,
        *("--config", str(config), "drift", "--model", "m"),
        *("--current-window", "2026-03-02:2026-03-02"),
    )
    holiday = next(f for f in found["features"] if f["feature"] == "holiday")
    yes = current.count("Yes")
    table = np.array(
        [
            [int((ref["holiday"] == "No").sum()), int((ref["holiday"] == "Yes").sum())],
            [240 - yes, yes],
        ]
    )
    assert holiday["kind"] == "binary" and holiday["current_count"] == 240
    assert holiday["stats"]["chisquare"] == pytest.approx(
        stats.chi2_contingency(table).statistic, rel=1e-12
    )
    assert holiday["new_categories"] == []
    (note,) = [n for n in found["schema"] if n["column"] == "holiday"]
    assert note["note"].startswith(
        f"holiday: read as boolean from {tmp_path / 'ref.csv'} and text from m logs"
    )
