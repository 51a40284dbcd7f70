"""Column roles of files in `monitor drift`, `monitor quality` and `monitor fairness --data`.

Real files (tests/data/adult_rf_binary.csv, compas_for_aequitas.csv) split into a
reference and a current side, written as CSV and Parquet. Role columns must not be
features, and the features' statistics must equal those of the same files with the role
columns dropped (and scipy's on the raw rows); identifier-like columns are left out and
reported unless asked for.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tests.cli.test_drift_cli import cli, drift_json, write
from tests.conftest import REPO_ROOT

DATA = REPO_ROOT / "tests" / "data"
ADULT = DATA / "adult_rf_binary.csv"
COMPAS = DATA / "compas_for_aequitas.csv"
CASES: dict[str, tuple[Path, dict[str, str], tuple[str, ...]]] = {
    "adult": (ADULT, {"label": "label_value", "score": "score"}, ("education", "gender", "race")),
    "compas": (
        COMPAS,
        {"label": "label_value", "prediction": "score"},
        ("race", "sex", "age_cat"),
    ),
}


def split(path: Path, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded 40% of the rows as the reference, the rest as the current data, the
    current tilted towards the first category of the last column (some drift to see)."""
    frame = pd.read_csv(path)
    rng = np.random.default_rng(seed)
    in_reference = rng.random(len(frame)) < 0.4
    reference, current = frame[in_reference], frame[~in_reference]
    tilted = current[current.columns[-1]] == current[current.columns[-1]].iloc[0]
    current = pd.concat([current, current[tilted].head(300)])
    return reference.reset_index(drop=True), current.reset_index(drop=True)


def flags(roles: dict[str, str]) -> list[str]:
    return [item for role, column in roles.items() for item in (f"--{role}", column)]


def by_feature(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["feature"]: f for f in document["features"]}


def chi2(reference: pd.Series, current: pd.Series) -> Any:
    """scipy's chi-square test of the 2 x k table of category counts."""
    categories = sorted(set(reference.dropna().astype(str)) | set(current.dropna().astype(str)))
    table = np.array(
        [
            [(side.dropna().astype(str) == c).sum() for c in categories]
            for side in (reference, current)
        ]
    )
    return stats.chi2_contingency(table[:, table.sum(axis=0) > 0])


def one_error_line(result: Any) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return str(lines[0])


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("case", list(CASES))
def test_role_columns_are_targets_and_features_match_the_files_without_them(
    case: str, suffix: str, tmp_path: Path
) -> None:
    path, roles, features = CASES[case]
    reference, current = split(path)
    ref_path = write(reference, tmp_path / f"ref{suffix}")
    cur_path = write(current, tmp_path / f"cur{suffix}")
    document = drift_json(
        *("--reference", str(ref_path), "--current", str(cur_path)),
        *flags(roles),
        *("--id", "entity_id"),
    )
    dropped = [*roles.values(), "entity_id"]
    plain = drift_json(
        "--reference",
        str(write(reference.drop(columns=dropped), tmp_path / f"ref_plain{suffix}")),
        "--current",
        str(write(current.drop(columns=dropped), tmp_path / f"cur_plain{suffix}")),
    )
    found, expected = by_feature(document), by_feature(plain)
    assert set(found) == set(expected) == set(features)
    for name, feature in found.items():
        assert feature["drifted"] == expected[name]["drifted"]
        for stat, value in expected[name]["stats"].items():
            assert feature["stats"][stat] == pytest.approx(value, rel=1e-12, abs=1e-15), stat
        scipy = chi2(reference[name], current[name])
        assert feature["stats"]["chisquare"] == pytest.approx(scipy.statistic, rel=1e-9)
        assert feature["stats"]["chisquare_p_value"] == pytest.approx(
            scipy.pvalue, rel=1e-6, abs=1e-300
        )
    assert document["reference_rows"] == len(reference)
    assert document["current_rows"] == len(current)

    columns = document["columns"]
    for role in ("label", "prediction", "score"):
        assert columns[role] == roles.get(role)
    assert columns["id"] == ["entity_id"] and columns["defaults"] == []
    assert columns["excluded"] == [
        {"column": "entity_id", "reason": "id", "detail": "an identifier (id role)"}
    ]
    assert plain["targets"] == [] and "label" not in {f["feature"] for f in plain["features"]}
    targets = {t["role"]: t for t in document["targets"]}
    assert {role: t["column"] for role, t in targets.items()} == roles
    label = targets["label"]
    assert label["kind"] == "binary"  # 0/1 values, no model: the kind the values show
    scipy = chi2(reference["label_value"], current["label_value"])
    assert label["stats"]["chisquare"] == pytest.approx(scipy.statistic, rel=1e-9)


def test_identifier_columns_are_left_out_reported_and_kept_on_request(tmp_path: Path) -> None:
    reference, current = split(ADULT, seed=1)
    reference = reference.assign(row_key=[f"r{i}" for i in range(len(reference))])
    current = current.assign(row_key=[f"c{i}" for i in range(len(current))])
    ref_path = write(reference, tmp_path / "ref.parquet")
    cur_path = write(current, tmp_path / "cur.csv")
    files = ("--reference", str(ref_path), "--current", str(cur_path))

    document = drift_json(*files)
    assert "entity_id" not in by_feature(document) and "row_key" not in by_feature(document)
    # Without role flags, only columns named label/prediction/probability are targets.
    assert set(by_feature(document)) == {"label_value", "score", "education", "gender", "race"}
    excluded = {e["column"]: e for e in document["columns"]["excluded"]}
    assert set(excluded) == {"entity_id", "row_key"}
    rows = f"{len(reference):,} rows"
    for entry in excluded.values():
        assert entry["reason"] == "identifier"
        assert (
            entry["detail"] == f"unique per row in the reference ({rows}): treated as an identifier"
        )
    assert all(reference[c].nunique() == len(reference) for c in excluded)

    text = cli("drift", *files)
    assert text.returncode == 0, text.stderr
    assert (
        f"left out: entity_id: unique per row in the reference ({rows}): treated as an "
        "identifier (--keep-ids, or naming it in --features, analyses it)"
    ) in text.stdout.splitlines()

    kept = by_feature(drift_json(*files, "--keep-ids"))
    assert {"entity_id", "row_key"} <= set(kept)
    ks = stats.ks_2samp(reference["entity_id"], current["entity_id"])
    assert kept["entity_id"]["stats"]["ks"] == pytest.approx(ks.statistic, rel=1e-12)
    assert kept["entity_id"]["stats"]["ks_p_value"] == pytest.approx(ks.pvalue, rel=1e-6)

    named = drift_json(*files, "--features", "entity_id,race")
    assert [f["feature"] for f in named["features"]] == ["entity_id", "race"]
    assert named["columns"]["excluded"] == []

    quality = cli("quality", *files, "--json")
    assert quality.returncode == 0, quality.stderr
    report = json.loads(quality.stdout)
    assert {f["feature"] for f in report["features"]} == set(by_feature(document))
    assert {e["column"] for e in report["columns"]["excluded"]} == {"entity_id", "row_key"}


def test_default_names_are_the_targets_and_the_output_says_so(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)

    def frame(n: int, shift: float) -> pd.DataFrame:
        score = rng.random(n)
        return pd.DataFrame(
            {
                "x": rng.normal(shift, 1, n),
                "city": rng.choice(["oslo", "rome"], n),
                "label": (rng.random(n) < score).astype(int),
                "prediction": (score > 0.5).astype(int),
                "probability": score,
            }
        )

    files = (
        "--reference",
        str(write(frame(800, 0.0), tmp_path / "ref.csv")),
        "--current",
        str(write(frame(600, 0.5), tmp_path / "cur.parquet")),
    )
    document = drift_json(*files)
    assert set(by_feature(document)) == {"x", "city"}
    columns = document["columns"]
    assert (columns["label"], columns["prediction"], columns["score"]) == (
        "label",
        "prediction",
        "probability",
    )
    assert columns["defaults"] == ["label", "prediction", "score"]
    assert {t["feature"] for t in document["targets"]} == {"label", "prediction", "probability"}
    text = cli("drift", *files).stdout
    assert (
        "targets: label 'label', prediction 'prediction', score 'probability' (label, "
        "prediction, score by their default names; --label/--prediction/--score choose)"
    ) in text
    # A flag for one role leaves the others at their defaults.
    chosen = drift_json(*files, "--score", "x")
    assert chosen["columns"]["score"] == "x" and chosen["columns"]["defaults"] == [
        "label",
        "prediction",
    ]
    assert set(by_feature(chosen)) == {"city", "probability"}
    none = cli("drift", *files, "--ignore", "label,prediction,probability").stdout
    assert "targets: none (no --label/--prediction/--score, and no column named label" in none


def test_bad_role_flags_give_one_error_line(tmp_path: Path) -> None:
    reference, current = split(ADULT)
    files = (
        "--reference",
        str(write(reference, tmp_path / "ref.csv")),
        "--current",
        str(write(current, tmp_path / "cur.parquet")),
    )
    cases = {
        ("--label", "lable_value"): "--label: column 'lable_value' not found in",
        ("--id", "entityid"): "(closest: 'entity_id')",
        ("--score", "scores"): "(closest: 'score')",
        ("--ignore", "race,zzzzzz"): "--ignore: column 'zzzzzz' not found",
        ("--timestamp", "when"): "--timestamp: column 'when' not found",
        ("--id", "race", "--ignore", "race"): "'race' is both the id and the ignore column",
        ("--label", "label_value", "--features", "label_value"): "is the label column",
        ("--features", "educaton"): "(closest: 'education')",
        ("--label", " "): "--label is empty",
    }
    for args, expected in cases.items():
        for command in ("drift", "quality"):
            line = one_error_line(cli(command, *files, *args))
            assert expected in line, (args, line)
    assert "closest: 'label_value'" in one_error_line(cli("drift", *files, "--label", "lable"))
    logs = one_error_line(cli("drift", "--model", "any", "--label", "y"))
    assert "apply to files" in logs
    base = ("fairness", "--data", str(COMPAS), "--prediction", "score", "--sensitive", "race")
    line = one_error_line(cli(*base, "--label", "label_value", "--id", "entity"))
    assert "--id: column 'entity' not found in compas_for_aequitas.csv" in line
    assert "(closest: 'entity_id')" in line
    assert "both sensitive and the ignore" in one_error_line(
        cli(*base, "--label", "label_value", "--ignore", "race")
    )


def test_quality_counts_duplicates_of_the_id_column(tmp_path: Path) -> None:
    reference, current = split(COMPAS)
    current = pd.concat([current, current.head(3)])
    files = (
        "--reference",
        str(write(reference, tmp_path / "ref.parquet")),
        "--current",
        str(write(current, tmp_path / "cur.csv")),
    )
    result = cli("quality", *files, "--id", "entity_id", "--label", "label_value", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    expected = len(current) - current["entity_id"].nunique()  # split() repeats rows too
    assert report["duplicate_ids"] == expected >= 3
    assert {f["feature"] for f in report["features"]} == {"score", "race", "sex", "age_cat"}
    assert cli("quality", *files, "--id", "entity_id", "--fail-on-issues").returncode == 3


def test_fairness_roles_and_default_label(tmp_path: Path) -> None:
    base = ("fairness", "--data", str(COMPAS), "--prediction", "score", "--sensitive", "race")
    plain = cli(*base, "--label", "label_value", "--json")
    roles = cli(
        *base, "--label", "label_value", "--id", "entity_id", "--ignore", "age_cat", "--json"
    )
    assert plain.returncode == roles.returncode == 0, roles.stderr
    without, with_roles = json.loads(plain.stdout), json.loads(roles.stdout)
    assert with_roles["groups"] == without["groups"]
    columns = with_roles["columns"]
    assert (columns["label"], columns["prediction"], columns["id"]) == (
        "label_value",
        "score",
        ["entity_id"],
    )
    assert [(e["column"], e["reason"]) for e in columns["excluded"]] == [
        ("entity_id", "id"),
        ("age_cat", "ignore"),
    ]
    renamed = write(
        pd.read_csv(COMPAS).rename(columns={"label_value": "label"}), tmp_path / "c.parquet"
    )
    default = cli(
        "fairness", "--data", str(renamed), "--prediction", "score", "--sensitive", "race"
    )
    assert default.returncode == 0, default.stderr
    assert "note: the label is column 'label', by its default name" in default.stdout
    groups = cli(
        *("fairness", "--data", str(renamed), "--prediction", "score"),
        *("--sensitive", "race", "--json"),
    )
    assert json.loads(groups.stdout)["groups"] == without["groups"]
    assert json.loads(groups.stdout)["columns"]["defaults"] == ["label"]
