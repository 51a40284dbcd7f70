"""Config paths from the command line: `monitor summary` gives the same drift status from
any working directory and with $MONITOR_DATA_DIR pointing elsewhere; a missing reference
file is one clear error, and the summary says why drift is unknown (real processes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from monitor.demo import demo_config_toml

DRIFT_KEYS = ("drift_status", "drift_share", "drift_summary")


def _summary(cwd: Path, *args: str, **env: str) -> dict[str, Any]:
    result = _cli(cwd, *args, "summary", "--json", **env)
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def _cli(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        k: v for k, v in os.environ.items() if k not in ("MONITOR_CONFIG", "MONITOR_DATA_DIR")
    }
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={**environ, **env},
    )


def _drift(document: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    return {m["model_id"]: tuple(m[k] for k in DRIFT_KEYS) for m in document["models"]}


@pytest.fixture(scope="module")
def from_project(demo_dir: Path) -> dict[str, Any]:
    """The summary run where the demo's own monitor.toml is (`./monitor.toml`)."""
    document = _summary(demo_dir)
    drift = _drift(document)
    assert set(drift) == {"credit-risk", "demand-forecast"}
    assert all(state in ("ok", "warning", "alert") for state, _, _ in drift.values()), drift
    return document


def test_another_working_directory_gives_the_same_summary(
    demo_dir: Path, from_project: dict[str, Any], tmp_path: Path
) -> None:
    config = str(demo_dir / "monitor.toml")
    assert _summary(tmp_path, "--config", config) == from_project
    assert _summary(tmp_path, MONITOR_CONFIG=config) == from_project


def test_a_data_dir_elsewhere_carries_the_references_along(
    demo_dir: Path, from_project: dict[str, Any], tmp_path: Path
) -> None:
    """A project folder whose monitor.toml says data_dir = "data" (not there), run from a
    third folder with the data directory given by $MONITOR_DATA_DIR or --data-dir: the
    references are read from that data directory, so drift is judged as in the project."""
    project, third = tmp_path / "project", tmp_path / "third"
    project.mkdir()
    third.mkdir()
    (project / "monitor.toml").write_text(demo_config_toml("data"), encoding="utf-8")
    config = str(project / "monitor.toml")
    by_env = _summary(third, MONITOR_CONFIG=config, MONITOR_DATA_DIR=str(demo_dir))
    assert _drift(by_env) == _drift(from_project)
    assert by_env["problems"] == from_project["problems"] and by_env["unmeasured"] == []
    relative = os.path.relpath(demo_dir, third)
    by_flag = _summary(third, "--config", config, "--data-dir", relative)
    assert _drift(by_flag) == _drift(from_project)


def test_a_missing_reference_is_one_clear_error_and_an_unknown_status(
    demo_dir: Path, from_project: dict[str, Any], tmp_path: Path
) -> None:
    text = demo_config_toml(str(demo_dir)).replace(
        '"reference/credit-risk.parquet"', '"reference/gone.parquet"'
    )
    assert "gone.parquet" in text
    (tmp_path / "monitor.toml").write_text(text, encoding="utf-8")
    missing = demo_dir / "reference" / "gone.parquet"
    setting = f"models[0].reference = 'reference/gone.parquet' in {tmp_path / 'monitor.toml'}"

    drift = _cli(tmp_path, "drift", "--model", "credit-risk", "--json")
    assert drift.returncode == 2 and drift.stdout == ""
    (line,) = drift.stderr.strip().splitlines()
    assert line.startswith("error: model 'credit-risk': reference file ")
    assert f"{missing} does not exist" in line and setting in line and "put the file" in line

    document = _summary(tmp_path)
    by_model = {m["model_id"]: m for m in document["models"]}
    credit = by_model["credit-risk"]
    assert credit["drift_status"] == "unknown" and credit["drift_share"] is None
    assert setting in credit["drift_summary"]
    (blind,) = document["unmeasured"]
    assert blind["model_id"] == "credit-risk" and setting in blind["reason"]
    assert {"dataset_drift", "feature_psi", "new_categories"} <= set(blind["rules"])
    ours = {p["rule"] for p in from_project["problems"] if p["model_id"] == "credit-risk"}
    theirs = {p["rule"] for p in document["problems"] if p["model_id"] == "credit-risk"}
    assert theirs == ours - set(blind["rules"])  # only the rules that need the reference
    assert credit["status"] in ("warning", "critical", "unknown")
    assert _drift(document)["demand-forecast"] == _drift(from_project)["demand-forecast"]
    text_output = _cli(tmp_path, "summary")
    assert text_output.returncode == 0
    assert any(
        line.startswith("unknown: credit-risk: ") and setting in line
        for line in text_output.stdout.splitlines()
    ), text_output.stdout
