"""`monitor models` and `monitor rollback` over a data directory of their own (the demo's
logs and reference linked in, a fresh state database). Separate processes marking at
once: tests/ops/registry/test_registry_rollback.py."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from monitor.cli.main import main
from tests.performance_truth import labeled_predictions
from tests.registry_support import (
    accuracy,
    between,
    f1,
    labeled_in,
    raw_predictions,
    reference_rows,
    selection_screen,
)

CREDIT = "credit-risk"


@pytest.fixture
def data_dir(demo_dir: Path, tmp_path: Path) -> Path:
    for name in ("logs", "reference"):
        (tmp_path / name).symlink_to(demo_dir / name, target_is_directory=True)
    shutil.copyfile(demo_dir / "monitor.toml", tmp_path / "monitor.toml")  # data_dir = "."
    return tmp_path


@pytest.fixture(scope="module")
def raw(demo_dir: Path) -> pd.DataFrame:
    return raw_predictions(demo_dir)


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """`monitor --config DIR/monitor.toml ARGS...` run in this process (`monitor.cli.main`,
    as the console script runs it; one process per command would spend most of the test
    importing)."""

    def run(data_dir: Path, *args: str) -> Result:
        capsys.readouterr()
        code = main(["--config", str(data_dir / "monitor.toml"), *args])
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


def ok_json(cli: Callable[..., Result], data_dir: Path, *args: str) -> Any:
    result = cli(data_dir, *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def refused(result: Result, words: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], lines


def test_models_list_json(cli: Callable[..., Result], data_dir: Path, raw: pd.DataFrame) -> None:
    models = {m["model_id"]: m for m in ok_json(cli, data_dir, "models", "list")["models"]}
    assert set(models) == set(raw["model_id"])
    for model_id, entry in models.items():
        rows = raw[raw["model_id"] == model_id]
        end = rows["timestamp"].max()
        day = between(rows, end - pd.Timedelta(days=1), end)
        assert entry["current_version"] == day.groupby("version").size().idxmax()
        assert entry["current_source"] == "traffic"
        for version in entry["versions"]:
            own = rows[rows["version"] == version["version"]]
            assert set(version) >= {
                "version",
                "first_seen",
                "last_seen",
                "predictions",
                "traffic_share",
                "alias",
            }
            assert version["predictions"] == len(own)
            assert pd.Timestamp(version["first_seen"]) == own["timestamp"].min()
            assert pd.Timestamp(version["last_seen"]) == own["timestamp"].max()
            served = (day["version"] == version["version"]).sum()
            assert version["traffic_share"] == pytest.approx(served / len(day))
            assert version["alias"] is None


def test_compare_exit_codes(cli: Callable[..., Result], data_dir: Path) -> None:
    compare = ("models", "compare", "--model")
    rejected = cli(data_dir, *compare, CREDIT, "--baseline", "v2", "--candidate", "v3", "--json")
    assert rejected.returncode == 3, rejected.stderr
    document = json.loads(rejected.stdout)
    assert document["verdict"] == "reject"
    assert any("points worse than v2's" in r for r in document["reasons"])
    assert (document["baseline"]["version"], document["candidate"]["version"]) == ("v2", "v3")
    apart = cli(
        data_dir, *compare, "demand-forecast", "--baseline", "v1", "--candidate", "v2",
        "--since", "2026-01-01",
    )  # fmt: skip
    assert apart.returncode == 4, apart.stderr
    assert "verdict: inconclusive" in apart.stdout and "did not serve at the same time" in (
        apart.stdout
    )
    refused(
        cli(data_dir, *compare, CREDIT, "--baseline", "v2", "--candidate", "v8"), "no version 'v8'"
    )


def test_rollback_lifecycle_and_the_exported_file(
    cli: Callable[..., Result], data_dir: Path
) -> None:
    alias = cli(data_dir, "models", "alias", "--model", CREDIT, "--version", "v3", "--by", "ann")
    assert alias.returncode == 0, alias.stderr
    mark = ok_json(
        cli,
        data_dir,
        "rollback",
        "mark",
        "--model",
        CREDIT,
        "--reason",
        "v3 is worse",
        "--by",
        "ann",
    )
    # v3 holds the champion alias; v2 is the last healthy version before it
    assert (mark["from_version"], mark["to_version"], mark["status"]) == ("v3", "v2", "requested")
    assert mark["evidence"]["verdict"] == "reject" and mark["alert_ids"] == []
    opened = ok_json(cli, data_dir, "rollback", "list")
    assert opened == {"rollbacks": [mark]}
    assert json.loads((data_dir / "rollbacks.json").read_text()) == opened

    cancelled = ok_json(cli, data_dir, "rollback", "cancel", str(mark["id"]), "--by", "bob")
    assert (cancelled["status"], cancelled["closed_by"]) == ("cancelled", "bob")
    refused(cli(data_dir, "rollback", "apply", str(mark["id"]), "--by", "bob"), "already cancelled")
    assert ok_json(cli, data_dir, "rollback", "list") == {"rollbacks": []}
    assert json.loads((data_dir / "rollbacks.json").read_text()) == {"rollbacks": []}

    second = ok_json(
        cli,
        data_dir,
        "rollback",
        "mark",
        "--model",
        CREDIT,
        "--to",
        "v1",
        "--reason",
        "r",
        "--by",
        "cy",
    )
    refused(
        cli(data_dir, "rollback", "mark", "--model", CREDIT, "--reason", "x", "--by", "dee"),
        f"rollback #{second['id']} of credit-risk",
    )
    applied = ok_json(cli, data_dir, "rollback", "apply", str(second["id"]), "--by", "cy")
    assert (applied["status"], applied["to_version"]) == ("applied", "v1")
    text = cli(data_dir, "rollback", "list", "--status", "all").stdout.splitlines()
    assert [line.split(" reason:")[0].split(" requested by")[0] for line in text] == [
        f"#{second['id']} credit-risk: v3 -> v1 [applied]",
        f"#{mark['id']} credit-risk: v3 -> v2 [cancelled]",
    ]


def test_mark_the_canary_from_v3(
    cli: Callable[..., Result], data_dir: Path, raw: pd.DataFrame, demo_dir: Path
) -> None:
    """v2 serves most traffic (the current version); v3 is named as the version to roll
    back: the target defaults to v2 and the evidence is v3's own checks, its numbers
    computed again from the raw rows (sklearn, fairlearn, pandas)."""
    args = ("rollback", "mark", "--model", CREDIT, "--from", "v3", "--reason", "R", "--by", "ann")
    mark = ok_json(cli, data_dir, *args)
    assert (mark["from_version"], mark["to_version"], mark["status"]) == ("v3", "v2", "requested")
    evidence = mark["evidence"]
    assert (evidence["version"], evidence["verdict"]) == ("v3", "reject")
    end = raw[raw["model_id"] == CREDIT]["timestamp"].max()
    start = end - pd.Timedelta(days=7)
    assert pd.Timestamp(evidence["metrics"]["window"]["start"]) == start
    labeled = labeled_predictions(demo_dir, CREDIT, ("gender",))
    own = labeled_in(labeled, "v3", start, end)
    group, largest, ratio = selection_screen(own, "gender")
    _, _, on_reference = selection_screen(reference_rows(demo_dir, CREDIT), "gender")
    assert (
        f"fairness ratio {min(ratio, 1 / ratio):.2f} for gender: the selection rate of {group} "
        f"is {ratio:.2f}x {largest}'s on v3's traffic (at least 0.80 needed; reference dataset "
        f"{min(on_reference, 1 / on_reference):.2f})"
    ) in evidence["failed"]
    checks = {c["name"]: c for c in evidence["checks"]}
    value, labels = accuracy(labeled, "v3", start, end)
    assert checks["accuracy"]["value"] == f"{value:.3f} ({labels:,} labels)"
    f1s = {m["name"]: m for m in evidence["metrics"]["measures"]}["f1"]
    assert f1s["value"] == pytest.approx(f1(own))
    assert evidence["target"]["version"] == "v2" and evidence["target"]["verdict"] == "healthy"
    assert evidence["comparison"]["candidate"]["version"] == "v3"
    listed = ok_json(cli, data_dir, "rollback", "list")
    assert listed == {"rollbacks": [mark]}
    text = cli(data_dir, "rollback", "cancel", str(mark["id"]), "--by", "ann")
    assert text.returncode == 0, text.stderr
    again = cli(data_dir, *args)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0].startswith(f"#{mark['id'] + 1} credit-risk: v3 -> v2")
    assert again.stdout.splitlines()[1] == f"evidence: {evidence['summary']}"


MARK = ("rollback", "mark", "--model", CREDIT, "--reason", "r", "--by", "a")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ("rollback", "mark", "--model", CREDIT, "--to", "v2", "--reason", "r", "--by", "a"),
            "v2 is the current version",
        ),
        ((*MARK, "--from", "v9"), "the version to roll back: model 'credit-risk' has no version"),
        ((*MARK, "--from", "v3", "--to", "v3"), "v3 is the version to roll back"),
        ((*MARK, "--from", "v1"), "no version of credit-risk before v1 is healthy (there is none)"),
        (
            (
                "rollback",
                "mark",
                "--model",
                CREDIT,
                "--reason",
                "r",
                "--by",
                "a",
                "--alert",
                "7",
                "8",
            ),
            "no alert with id 7, 8",
        ),
        (("rollback", "cancel", "12345", "--by", "a"), "no rollback mark #12345"),
        (("rollback", "list", "--status", "open"), "invalid choice"),
    ],
)
def test_refusals_exit_2_with_one_line(
    cli: Callable[..., Result], data_dir: Path, args: tuple[str, ...], words: str
) -> None:
    """The core's refusals (tests/ops/registry/test_registry_rollback.py) as one `error:` line."""
    refused(cli(data_dir, *args), words)
