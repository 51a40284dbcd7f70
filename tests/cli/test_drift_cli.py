"""`monitor drift` from the command line: JSON shape, file formats, log form, exit codes."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from monitor.cli.main import main

NUMERIC_STATS = {"ks", "ks_p_value", "psi", "wasserstein", "wasserstein_norm"} | {
    "jensenshannon",
    "hellinger",
    "kl",
}
CATEGORICAL_STATS = {"chisquare", "chisquare_p_value", "psi", "jensenshannon", "hellinger", "kl"}
TOP_KEYS = {
    "reference_rows",
    "current_rows",
    "dataset_drift",
    "share_drifted",
    "drift_share_threshold",
    "correction",
    "features",
}
FEATURE_KEYS = {
    "feature",
    "kind",
    "method",
    "score",
    "p_value",
    "threshold",
    "drifted",
    "status",
    "stats",
}


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI in this process (fast); `real_cli` starts a real process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def real_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli", *args], capture_output=True, text=True, timeout=300
    )


def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    ref = pd.DataFrame(
        {
            "amount": rng.normal(100, 10, 3000),
            "city": rng.choice(["paris", "rome", "oslo"], 3000),
            'weird; "name" 📈': rng.normal(0, 1, 3000),
        }
    )
    cur = pd.DataFrame(
        {
            "amount": rng.normal(110, 10, 2000),
            "city": rng.choice(["paris", "rome", "oslo", "lima"], 2000),
            'weird; "name" 📈': rng.normal(0, 1, 2000),
        }
    )
    return ref, cur


def write(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    elif path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True)
    return path


def drift_json(*args: str) -> dict[str, Any]:
    result = cli("drift", *args, "--json")
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


@pytest.fixture(scope="module")
def parquet_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("pair")
    ref, cur = frames()
    return write(ref, folder / "ref.parquet"), write(cur, folder / "cur.parquet")


def test_json_document_has_every_field_and_stat(parquet_pair: tuple[Path, Path]) -> None:
    ref_path, cur_path = parquet_pair
    document = drift_json("--reference", str(ref_path), "--current", str(cur_path))
    assert set(document) >= TOP_KEYS
    assert document["reference_rows"] == 3000 and document["current_rows"] == 2000
    assert document["correction"] == "bh" and document["drift_share_threshold"] == 0.5
    features = {f["feature"]: f for f in document["features"]}
    assert set(features) == {"amount", "city", 'weird; "name" 📈'}
    for feature in features.values():
        assert set(feature) >= FEATURE_KEYS
    amount = features["amount"]
    assert amount["kind"] == "numeric" and set(amount["stats"]) == NUMERIC_STATS
    assert amount["p_value"] is None  # a distance (wasserstein_norm) was chosen
    assert amount["drifted"] is True
    assert set(features["city"]["stats"]) == CATEGORICAL_STATS
    assert features["city"]["drifted"] is True
    assert features['weird; "name" 📈']["drifted"] is False
    assert document["share_drifted"] == pytest.approx(2 / 3)
    assert document["dataset_drift"] is True
    ref, cur = frames()
    expected = stats.ks_2samp(ref["amount"], cur["amount"])
    assert amount["stats"]["ks"] == pytest.approx(expected.statistic)
    assert amount["stats"]["ks_p_value"] == pytest.approx(expected.pvalue, rel=1e-6, abs=1e-300)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_csv_and_jsonl_give_the_parquet_numbers(
    suffix: str, tmp_path: Path, parquet_pair: tuple[Path, Path]
) -> None:
    ref, cur = frames()
    other = drift_json(
        "--reference",
        str(write(ref, tmp_path / f"ref{suffix}")),
        "--current",
        str(write(cur, tmp_path / f"cur{suffix}")),
    )
    parquet = drift_json("--reference", str(parquet_pair[0]), "--current", str(parquet_pair[1]))
    for mine, theirs in zip(other["features"], parquet["features"], strict=True):
        assert mine["feature"] == theirs["feature"]
        for name, value in theirs["stats"].items():
            assert mine["stats"][name] == pytest.approx(value, rel=1e-9, abs=1e-12), name


def test_method_correction_and_feature_options(parquet_pair: tuple[Path, Path]) -> None:
    ref_path, cur_path = parquet_pair
    document = drift_json(
        "--reference",
        str(ref_path),
        "--current",
        str(cur_path),
        "--method",
        "psi",
        "--correction",
        "bonferroni",
        "--features",
        "amount,city",
    )
    assert document["correction"] == "bonferroni"
    assert [f["feature"] for f in document["features"]] == ["amount", "city"]
    for feature in document["features"]:
        assert feature["method"] == "psi" and feature["threshold"] == 0.2
        assert feature["score"] == feature["stats"]["psi"]


def test_fail_on_drift_exit_code(parquet_pair: tuple[Path, Path]) -> None:
    ref_path, cur_path = parquet_pair
    drifted = real_cli(
        "drift", "--reference", str(ref_path), "--current", str(cur_path), "--fail-on-drift"
    )
    assert drifted.returncode == 3, drifted.stderr
    assert drifted.stdout.startswith("DRIFT")
    same = cli("drift", "--reference", str(ref_path), "--current", str(ref_path), "--fail-on-drift")
    assert same.returncode == 0, same.stderr


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_bad_input_exits_2_with_one_line(tmp_path: Path, parquet_pair: tuple[Path, Path]) -> None:
    ref_path, _ = parquet_pair
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"not parquet at all")
    empty = tmp_path / "empty.csv"
    empty.write_text("amount,city\n")
    other = write(pd.DataFrame({"x": [1.0, 2.0], "y": ["a", "b"]}), tmp_path / "other.parquet")
    cases = {
        "cannot read": ("--reference", str(garbage), "--current", str(ref_path)),
        "no rows": ("--reference", str(ref_path), "--current", str(empty)),
        "no shared columns": ("--reference", str(ref_path), "--current", str(other)),
        "no such file": ("--reference", str(tmp_path / "nope.csv"), "--current", str(ref_path)),
        "--reference FILE": ("--current", str(ref_path)),
    }
    for expected, args in cases.items():
        line = _one_error_line(cli("drift", *args))
        assert expected in line, line
    line = _one_error_line(
        cli("drift", "--reference", str(ref_path), "--current", str(ref_path), "--method", "x")
    )
    assert "method" in line


def test_log_form_with_windows_and_reference_dataset(demo_dir: Path) -> None:
    config = str(demo_dir / "monitor.toml")
    manifest = json.loads((demo_dir / "demo_manifest.json").read_text())
    first_day, last_day = manifest["start"], manifest["end"]
    result = cli(
        "--config",
        config,
        "drift",
        "--model",
        "credit-risk",
        "--reference-window",
        f"{first_day}:{first_day}",
        "--current-window",
        f"{last_day}T00:00:00Z:{last_day}T23:59:59Z",
        "--features",
        "income,age,employment_type",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    features = {f["feature"]: f for f in document["features"]}
    assert set(features) == {"income", "age", "employment_type"}
    assert features["income"]["drifted"] and features["employment_type"]["drifted"]
    assert not features["age"]["drifted"]
    dataset = cli("--config", config, "drift", "--model", "credit-risk", "--json")
    assert dataset.returncode == 0, dataset.stderr
    against_reference = json.loads(dataset.stdout)
    assert against_reference["reference_rows"] == 20_000
    assert "credit-risk logs" in against_reference["current"]
    missing = cli("--config", config, "drift", "--model", "nope")
    assert "'nope'" in _one_error_line(missing)
    empty = cli(
        *("--config", config, "drift", "--model", "credit-risk"),
        *("--current-window", "2001-01-01:2001-01-02"),
    )
    assert "no predictions" in _one_error_line(empty)
