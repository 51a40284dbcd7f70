"""`monitor datasets` end to end: COMPAS uploaded as current and a seeded 30% sample as
reference through the real command, then drift, data quality and fairness (by race and
by sex) on the stored pair, checked against scipy, pandas and fairlearn on the raw CSV."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, selection_rate
from scipy import stats

from monitor.core.state import StateStore
from monitor.core.tabular import FileDatabase
from monitor.metrics.drift.report import compare
from monitor.metrics.fairness.audit import audit
from monitor.ops.datasets.analysis import dataset_relation, fairness_data, pair_relations
from monitor.ops.datasets.library import get_dataset
from monitor.queries.drift_profile import profiles
from monitor.queries.quality import quality_report
from tests.cli.test_drift_cli import cli, real_cli
from tests.cli.test_fairness_cli import assert_refused
from tests.conftest import REPO_ROOT

COMPAS = REPO_ROOT / "tests" / "data" / "compas_for_aequitas.csv"
ROLES = ("--label", "label_value", "--prediction", "score", "--sensitive", "race,sex")


def _tree(folder: Path) -> tuple[list[tuple[str, int]], tuple[int, int]]:
    """The files (the state database aside) and the state's dataset and audit rows."""
    files = sorted(
        (str(p.relative_to(folder)), p.stat().st_size)
        for p in folder.rglob("*")
        if not p.name.startswith("state.sqlite")
    )
    state = StateStore.for_data_dir(folder)
    try:
        rows = tuple(state.read(f"SELECT count(*) FROM {t}")[0][0] for t in ("datasets", "audit"))
    finally:
        state.close()
    return files, (rows[0], rows[1])


@pytest.fixture(scope="module")
def compas_pair(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """COMPAS as current and a seeded 30% sample (Parquet) as reference, both added with
    the real command in its own process."""
    folder = tmp_path_factory.mktemp("compas")
    data_dir = folder / "data"
    raw = pd.read_csv(COMPAS)
    sample = raw.sample(frac=0.3, random_state=7)
    sample_path = folder / "compas_sample.parquet"
    sample.to_parquet(sample_path, index=False)
    added = {}
    for name, role, path in (
        ("compas current", "current", COMPAS),
        ("compas sample", "reference", sample_path),
    ):
        result = real_cli(
            "--data-dir", str(data_dir), "datasets", "add", str(path), "--name", name,
            "--role", role, *ROLES, "--by", "ci", "--json",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        added[role] = json.loads(result.stdout)
    return {"data_dir": data_dir, "raw": raw, "sample": sample, "added": added}


def test_add_reports_what_was_stored(compas_pair: dict[str, Any]) -> None:
    current = compas_pair["added"]["current"]
    assert current["rows"] == len(compas_pair["raw"]) == 7214
    assert [c["name"] for c in current["columns"]] == list(compas_pair["raw"].columns)
    assert {c["name"]: c["type"] for c in current["columns"]} == {
        "entity_id": "numeric",
        "score": "numeric",
        "label_value": "numeric",
        "race": "categorical",
        "sex": "categorical",
        "age_cat": "categorical",
    }
    assert current["column_roles"] == {
        "label": "label_value",
        "prediction": "score",
        "score": None,
        "sensitive": ["race", "sex"],
        "ids": [],
        "ignore": [],
        "keep_ids": False,
    }
    assert current["details"]["format"] == "csv" and current["details"]["delimiter"] == ","
    assert current["created_by"] == "ci" and current["created_verified"] is False
    assert compas_pair["added"]["reference"]["details"]["format"] == "parquet"
    assert compas_pair["added"]["reference"]["rows"] == len(compas_pair["sample"])
    listed = cli("--data-dir", str(compas_pair["data_dir"]), "datasets", "list", "--json")
    assert listed.returncode == 0
    names = {d["name"]: d["role"] for d in json.loads(listed.stdout)}
    assert names == {"compas current": "current", "compas sample": "reference"}


def test_drift_on_the_stored_pair_matches_scipy(compas_pair: dict[str, Any]) -> None:
    state = StateStore.for_data_dir(compas_pair["data_dir"])
    runner = FileDatabase()
    try:
        reference = dataset_relation(runner, get_dataset(state, "compas sample"))
        current = dataset_relation(runner, get_dataset(state, "compas current"))
        report = compare(*profiles(runner, reference, current))
    finally:
        runner.close()
        state.close()
    raw, sample = compas_pair["raw"], compas_pair["sample"]
    by_name = {f.feature: f for f in report.features}
    assert set(by_name) == {"entity_id", "race", "sex", "age_cat"}
    ks = stats.ks_2samp(sample["entity_id"], raw["entity_id"])
    assert by_name["entity_id"].stats["ks"] == pytest.approx(ks.statistic)
    assert by_name["entity_id"].stats["ks_p_value"] == pytest.approx(ks.pvalue, rel=1e-6)
    categories = sorted(set(raw["race"]))
    table = np.array([[(frame["race"] == c).sum() for c in categories] for frame in (sample, raw)])
    chi2 = stats.chi2_contingency(table)
    assert by_name["race"].stats["chisquare"] == pytest.approx(chi2.statistic)
    assert report.reference_rows == len(sample) and report.current_rows == len(raw)


def test_quality_on_the_stored_pair(compas_pair: dict[str, Any]) -> None:
    state = StateStore.for_data_dir(compas_pair["data_dir"])
    runner = FileDatabase()
    try:
        reference = dataset_relation(runner, get_dataset(state, "compas sample"))
        current = dataset_relation(runner, get_dataset(state, "compas current"))
        report = quality_report(runner, reference, current)
    finally:
        runner.close()
        state.close()
    raw = compas_pair["raw"]
    assert report.missing_columns == () and report.unexpected_columns == ()
    assert report.type_changes == ()
    for feature in report.features:
        assert feature.missing == int(raw[feature.feature].isna().sum())
        if feature.current_cardinality is not None:
            assert feature.current_cardinality == raw[feature.feature].nunique()


@pytest.mark.parametrize("sensitive", ["race", "sex"])
def test_fairness_on_the_stored_dataset_matches_fairlearn(
    compas_pair: dict[str, Any], sensitive: str
) -> None:
    state = StateStore.for_data_dir(compas_pair["data_dir"])
    try:
        data = fairness_data(get_dataset(state, "compas current"), sensitive=[sensitive])
    finally:
        state.close()
    report = audit(data)
    raw = compas_pair["raw"]
    frame = MetricFrame(
        metrics=selection_rate,
        y_true=raw["label_value"],
        y_pred=raw["score"],
        sensitive_features=raw[sensitive],
    )
    expected = frame.by_group.to_dict()
    found = {g.key[0]: g.metrics["selection_rate"] for g in report.groups}
    assert found.keys() == expected.keys()
    for group, rate in expected.items():
        assert found[group] == pytest.approx(rate)
    counts = raw[sensitive].value_counts().to_dict()
    assert {g.key[0]: g.count for g in report.groups} == counts


def test_show_rename_remove(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    source = tmp_path / "ventes.csv"
    source.write_bytes("prix;ville\n1,5;Lyon\n2,25;Nice\nn/a;Metz\n".encode("latin-1"))
    base = ("--data-dir", str(data_dir), "datasets")
    assert cli(*base, "add", str(source), "--name", "ventes", "--role", "current").returncode == 0
    shown = cli(*base, "show", "ventes", "--json")
    document = json.loads(shown.stdout)
    columns = {c["name"]: c for c in document["columns"]}
    assert columns["prix"]["type"] == "numeric" and columns["prix"]["missing"] == 1
    assert "1 non-numeric value(s) ('n/a') set to missing" in columns["prix"]["problems"]
    assert document["details"]["delimiter"] == ";"
    text = cli(*base, "show", "ventes").stdout
    assert "'prix': numeric, 1 missing" in text
    renamed = cli(*base, "rename", "ventes", "sales <2024>", "--by", "li")
    assert renamed.returncode == 0 and "renamed 'ventes' to 'sales <2024>'" in renamed.stdout
    removed = cli(*base, "remove", "sales <2024>", "--json")
    assert json.loads(removed.stdout) == {"removed": "sales <2024>"}
    assert list((data_dir / "uploads").iterdir()) == []
    assert "no datasets stored yet" in cli(*base, "list").stdout
    state = StateStore.for_data_dir(data_dir)
    try:
        actions = [(e.action, e.actor) for e in state.audit_log(entity="dataset")]
    finally:
        state.close()
    assert actions == [
        ("delete", getpass.getuser()),
        ("rename", "li"),
        ("create", getpass.getuser()),
    ]


def test_refusals_exit_2_with_one_line_and_write_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    base = ("--data-dir", str(data_dir), "datasets")
    xlsx = tmp_path / "report.csv"
    xlsx.write_bytes(b"PK\x03\x04" + b"\x14\x00" * 10 + b"xl/workbook.xml")
    assert_refused(cli(*base, "add", str(xlsx), "--name", "x", "--role", "current"), "Excel")
    assert not data_dir.exists()  # a refused first upload does not even create the state
    good = tmp_path / "good.csv"
    good.write_bytes(b"label_value,score,race\n1,0,a\n0,1,b\n")
    assert cli(*base, "add", str(good), "--name", "good", "--role", "current").returncode == 0
    before = _tree(data_dir)
    cases = [
        (("add", str(good), "--name", "again", "--role", "current"), "already uploaded as 'good'"),
        (("add", str(good), "--name", "good", "--role", "reference"), "'good' already exists"),
        (
            ("add", str(good), "--name", "n", "--role", "reference", "--label", "label"),
            "label column 'label' is not in the dataset (did you mean 'label_value'?)",
        ),
        (
            ("add", str(good), "--name", "n", "--role", "reference", "--sensitive", "rac"),
            "sensitive column 'rac' is not in the dataset (did you mean 'race'?)",
        ),
        (
            ("add", str(good), "--name", "n", "--role", "reference", "--type", "race=numeric"),
            "cannot be read as numeric",
        ),
        (("add", str(good), "--name", "n", "--role", "reference", "--type", "race"), "COL=TYPE"),
        (("add", str(tmp_path / "nope.csv"), "--name", "n", "--role", "current"), "no such file"),
        (("add", str(good), "--name", "n", "--role", "both"), "invalid choice"),
        (("add", str(good), "--name", "", "--role", "reference"), "must not be empty"),
        (("remove", "goood"), "no dataset named 'goood' (did you mean 'good'?)"),
        (("rename", "good", " "), "must not be empty"),
    ]
    for args, words in cases:
        assert_refused(cli(*base, *args), words)
        assert _tree(data_dir) == before


def test_size_limit_comes_from_the_config(tmp_path: Path) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text('data_dir = "data"\n[uploads]\nmax_mb = 1\n')
    big = tmp_path / "big.csv"
    big.write_bytes(b"a\n" + b"12345\n" * 200_000)
    result = real_cli("--config", str(config), "datasets", "add", str(big), "--name", "big",
                      "--role", "current")  # fmt: skip
    assert_refused(result, "big.csv: the file is 1.1 MB, above the upload limit of 1 MB")
    assert not (tmp_path / "data").exists()


def test_add_remembers_id_and_ignored_columns(tmp_path: Path) -> None:
    """--id and --ignore are saved with the dataset, shown, and leave those columns out
    of drift on the stored pair (whose statistics stay scipy's)."""
    data_dir = tmp_path / "data"
    raw = pd.read_csv(COMPAS)
    sample = raw.sample(frac=0.3, random_state=11)
    sample_path = tmp_path / "sample.parquet"
    sample.to_parquet(sample_path, index=False)
    base = ("--data-dir", str(data_dir), "datasets", "add")
    roles = ("--label", "label_value", "--prediction", "score", "--id", "entity_id",
             "--ignore", "age_cat")  # fmt: skip
    for name, role, path in (("cur", "current", COMPAS), ("ref", "reference", sample_path)):
        added = cli(*base, str(path), "--name", name, "--role", role, *roles, "--json")
        assert added.returncode == 0, added.stderr
        saved = json.loads(added.stdout)["column_roles"]
        assert saved["ids"] == ["entity_id"] and saved["ignore"] == ["age_cat"]
    shown = cli("--data-dir", str(data_dir), "datasets", "show", "cur").stdout
    assert "'entity_id': numeric [id]" in shown and "'age_cat': categorical [ignored]" in shown
    state = StateStore.for_data_dir(data_dir)
    runner = FileDatabase()
    try:
        pair = pair_relations(runner, get_dataset(state, "ref"), get_dataset(state, "cur"))
        report = compare(*profiles(runner, pair.reference, pair.current))
    finally:
        runner.close()
        state.close()
    assert {f.feature for f in report.features} == {"race", "sex"}
    table = np.array(
        [[(frame["sex"] == c).sum() for c in ("Female", "Male")] for frame in (sample, raw)]
    )
    by_name = {f.feature: f for f in report.features}
    assert by_name["sex"].stats["chisquare"] == pytest.approx(
        stats.chi2_contingency(table).statistic, rel=1e-12
    )
    ignored = ("--sensitive", "race", "--ignore", "race")
    assert_refused(
        cli(*base, str(COMPAS), "--name", "x", "--role", "current", *ignored),
        "column 'race' cannot be ignored: it has another role",
    )
    assert_refused(
        cli(*base, str(COMPAS), "--name", "x", "--role", "current", "--id", "entity"),
        "identifier column 'entity' is not in the dataset (did you mean 'entity_id'?)",
    )
