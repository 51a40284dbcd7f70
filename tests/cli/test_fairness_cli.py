"""`monitor fairness` as a real process: JSON shape, exit codes and refusals."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fairlearn.metrics import demographic_parity_difference, equalized_odds_ratio

from tests.metrics.fairness.test_fairness import COMPAS, RATES

FILE_ARGS = ("--label", "label_value", "--prediction", "score")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli", *args], capture_output=True, text=True, timeout=300
    )


def fairness_json(*args: str) -> tuple[int, dict[str, Any]]:
    result = cli("fairness", *args, "--json")
    assert result.returncode in (0, 3), result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return result.returncode, document


def assert_refused(result: subprocess.CompletedProcess[str], words: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert words in lines[0], lines[0]
    assert "Traceback" not in result.stderr


def test_json_document_shape_and_values() -> None:
    code, document = fairness_json(
        "--data", str(COMPAS), *FILE_ARGS, "--sensitive", "race", "--bootstrap", "100"
    )
    assert code == 0
    frame = pd.read_csv(COMPAS)
    assert document["rows"] == len(frame)
    assert document["sensitive_features"] == ["race"]
    assert document["reference_group"] == {"race": "African-American"}
    assert document["tau"] == 0.8
    assert set(document["overall"]) == set(RATES)
    for group in document["groups"]:
        assert set(group) >= {"group", "count", "small", "disparity", "ci", *RATES}
        assert list(group["group"]) == ["race"]
        rows = frame[frame["race"] == group["group"]["race"]]
        assert group["count"] == len(rows)
        assert group["selection_rate"] == pytest.approx((rows["score"] == 1).mean())
        assert group["small"] == (len(rows) < 50)
        assert set(group["ci"]) == set(RATES)
        low, high = group["ci"]["selection_rate"]
        assert low <= group["selection_rate"] <= high
    summary = document["summary"]
    judged = frame[frame["race"].map(frame["race"].value_counts()) >= 50]
    assert summary["judged_parity_difference"] == pytest.approx(
        demographic_parity_difference(
            judged["label_value"], judged["score"], sensitive_features=judged["race"]
        )
    )
    assert summary["judged_equalized_odds_ratio"] == pytest.approx(
        equalized_odds_ratio(
            judged["label_value"], judged["score"], sensitive_features=judged["race"]
        )
    )
    assert summary["four_fifths_passed"] is False
    assert {g["race"] for g in summary["failing_groups"]} == {"Caucasian", "Hispanic", "Other"}
    assert set(summary["ci"]) >= {"demographic_parity_difference", "equalized_odds_difference"}


def test_fail_on_disparity_gates_ci_with_intersections_and_a_named_reference() -> None:
    base = ("fairness", "--data", str(COMPAS), *FILE_ARGS)
    # without the flag a failed screen exits 0: see test_json_document_shape_and_values
    failed = cli(
        *base,
        "--sensitive",
        "race,sex",
        "--reference-group",
        "Caucasian & Male",
        "--fail-on-disparity",
        "--json",
    )
    assert failed.returncode == 3, failed.stderr
    document = json.loads(failed.stdout)
    assert document["reference_group"] == {"race": "Caucasian", "sex": "Male"}
    assert len(document["groups"]) == 12
    reference = next(g for g in document["groups"] if g["label"] == "Caucasian & Male")
    assert reference["disparity"]["selection_rate"] == pytest.approx(1.0)
    assert document["summary"]["four_fifths_passed"] is False
    # the smallest judged ratio to the largest race group is 0.356: tau 0.35 passes
    passed = cli(*base, "--sensitive", "race", "--fail-on-disparity", "--tau", "0.35")
    assert passed.returncode == 0, passed.stderr
    assert "four-fifths screen: passed" in passed.stdout


def test_hostile_column_names_are_quoted(tmp_path: Path) -> None:
    frame = pd.read_csv(COMPAS).rename(
        columns={"race": 'ra"ce; DROP TABLE x; --', "label_value": "label 🙂"}
    )
    path = tmp_path / "hostile.csv"
    frame.to_csv(path, index=False)
    _, document = fairness_json(
        "--data",
        str(path),
        "--label",
        "label 🙂",
        "--prediction",
        "score",
        "--sensitive",
        'ra"ce; DROP TABLE x; --',
    )
    assert document["rows"] == len(frame)
    assert {g["group"]['ra"ce; DROP TABLE x; --'] for g in document["groups"]} == set(
        frame['ra"ce; DROP TABLE x; --']
    )


def test_refusals_exit_2_with_one_line(tmp_path: Path) -> None:
    base = ("fairness", "--data", str(COMPAS))
    assert_refused(
        cli(*base, "--label", "race", "--prediction", "score", "--sensitive", "sex"), "not binary"
    )
    assert_refused(cli(*base, *FILE_ARGS, "--sensitive", "religion"), "'religion' not found")
    header_only = tmp_path / "empty.csv"
    header_only.write_text("label_value,score,race\n", encoding="utf-8")
    assert_refused(
        cli("fairness", "--data", str(header_only), *FILE_ARGS, "--sensitive", "race"), "no rows"
    )
    zero = tmp_path / "zero.csv"
    zero.write_bytes(b"")
    assert_refused(cli("fairness", "--data", str(zero), *FILE_ARGS, "--sensitive", "race"), "error")
    assert_refused(
        cli(*base, *FILE_ARGS, "--sensitive", "race", "--threshold", "0.5"), "--threshold"
    )
    assert_refused(cli("fairness", "--model", "x", "--label", "y"), "--label")


def test_log_form_finds_the_gap_in_v3(demo_dir: Path) -> None:
    config = str(demo_dir / "monitor.toml")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return cli("--config", config, "fairness", "--model", "credit-risk", *args)

    v3 = run("--sensitive", "gender", "--versions", "v3", "--fail-on-disparity", "--json")
    assert v3.returncode == 3, v3.stderr
    document = json.loads(v3.stdout)
    assert document["source"]["versions"] == ["v3"]
    assert document["summary"]["four_fifths_passed"] is False
    assert {p["version"] for p in document["trend"]["points"]} == {"v3"}
    # v2 with the configured sensitive features (gender x age_group): age bands differ
    # in real default risk, so the screen fails on age, and without --fail-on-disparity
    # that exits 0; within each age band women and men are treated alike.
    v2 = run("--versions", "v2", "--json")
    assert v2.returncode == 0, v2.stderr
    document = json.loads(v2.stdout)
    assert document["sensitive_features"] == ["gender", "age_group"]
    rates = {
        (g["group"]["gender"], g["group"]["age_group"]): g["selection_rate"]
        for g in document["groups"]
    }
    for band in ("18-25", "26-40", "41-60", "60+"):
        assert 0.8 <= rates[("female", band)] / rates[("male", band)] <= 1.25, band
