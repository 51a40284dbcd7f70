"""`monitor fairness --per-attribute`: one audit per sensitive column, in file and log
mode, each equal to the audit of that column alone; ppr against Aequitas' definition in
pandas; references per attribute; the gate over all attributes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.cli.test_drift_cli import cli
from tests.cli.test_fairness_cli import FILE_ARGS, assert_refused
from tests.metrics.fairness.test_fairness import COMPAS
from tests.metrics.fairness.test_ppr import aequitas_ppr

BASE = ("fairness", "--data", str(COMPAS), *FILE_ARGS)


def run_json(*args: str) -> tuple[int, dict[str, Any]]:
    result = cli(*args, "--json")
    assert result.returncode in (0, 3), result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return result.returncode, document


def without_source(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in ("source", "columns")}


def test_file_mode_gives_one_audit_per_attribute() -> None:
    code, document = run_json(*BASE, "--sensitive", "race,sex,age_cat", "--per-attribute")
    assert code == 0
    assert document["per_attribute"] is True
    assert document["sensitive_features"] == ["race", "sex", "age_cat"]
    assert [a["attribute"] for a in document["attributes"]] == ["race", "sex", "age_cat"]
    assert document["four_fifths_passed"] is False
    assert document["columns"]["label"] == "label_value"
    frame = pd.read_csv(COMPAS)
    for entry in document["attributes"]:
        attribute = entry.pop("attribute")
        _, alone = run_json(*BASE, "--sensitive", attribute)
        assert entry == without_source(alone), attribute
        expected = aequitas_ppr(frame, attribute)
        reference = entry["reference_group"][attribute]
        for group in entry["groups"]:
            value = expected[group["group"][attribute]]
            assert group["ppr"] == pytest.approx(value, rel=1e-12, abs=1e-12)
            assert group["disparity"]["ppr"] == pytest.approx(
                value / expected[reference], rel=1e-12
            )
        assert sum(g["ppr"] for g in entry["groups"]) == pytest.approx(1.0, abs=1e-12)


def test_references_per_attribute_the_gate_and_the_text() -> None:
    _, document = run_json(
        *BASE,
        "--sensitive",
        "race,sex",
        "--per-attribute",
        "--reference-group",
        "sex=Female",
        "--reference-group",
        "best",
    )
    race, sex = document["attributes"]
    assert sex["reference_group"] == {"sex": "Female"} and sex["reference"] == "Female"
    assert race["reference"] == "best"
    assert race["reference_group"] == {"race": "African-American"}
    # the gate: race fails (exit 3); sex alone passes; at tau 0.35 everything passes
    gated = cli(*BASE, "--sensitive", "race,sex", "--per-attribute", "--fail-on-disparity")
    assert gated.returncode == 3, gated.stderr
    lines = gated.stdout.splitlines()
    assert lines[0] == "== race ==" and "== sex ==" in lines
    assert lines[-1] == "four-fifths screen over all attributes: FAILED"
    assert any(line.startswith("  Caucasian: n=2454 ") and " ppr=0.257" in line for line in lines)
    sex_only = cli(*BASE, "--sensitive", "sex", "--per-attribute", "--fail-on-disparity")
    assert sex_only.returncode == 0, sex_only.stderr
    loose = cli(*BASE, "--sensitive", "race,sex", "--per-attribute", "--tau", "0.35",
                "--fail-on-disparity")  # fmt: skip
    assert loose.returncode == 0 and loose.stdout.endswith("all attributes: passed\n")


def test_reference_refusals() -> None:
    per = (*BASE, "--sensitive", "race,sex", "--per-attribute")
    assert_refused(cli(*per, "--reference-group", "Female"), "name the attribute")
    assert_refused(cli(*per, "--reference-group", "sex=Martian"), "sex: reference group")
    assert_refused(
        cli(*per, "--reference-group", "sex=Male", "--reference-group", "sex=Female"),
        "two groups for 'sex'",
    )
    assert_refused(
        cli(*per, "--reference-group", "best", "--reference-group", "overall"), "one rule"
    )
    assert_refused(
        cli(*BASE, "--sensitive", "race", "--reference-group", "a", "--reference-group", "b"),
        "give one --reference-group",
    )


def test_log_mode_per_attribute_equals_each_feature_alone(demo_dir: Path) -> None:
    config = str(demo_dir / "monitor.toml")
    base = ("--config", config, "fairness", "--model", "credit-risk", "--versions", "v3")
    code, document = run_json(*base, "--per-attribute")
    assert code == 0  # no gate without --fail-on-disparity
    assert document["source"]["versions"] == ["v3"]
    assert [a["attribute"] for a in document["attributes"]] == ["gender", "age_group"]
    assert document["four_fifths_passed"] is False
    for entry in document["attributes"]:
        attribute = entry.pop("attribute")
        _, alone = run_json(*base, "--sensitive", attribute)
        assert entry == without_source(alone), attribute
        assert {p["version"] for p in entry["trend"]["points"]} == {"v3"}
    gated = cli(*base, "--per-attribute", "--fail-on-disparity")
    assert gated.returncode == 3, gated.stderr
