"""Every number of the DuckDB rollups of the demo against pandas/numpy/scikit-learn over the
raw log files (read independently: json, pyarrow, pandas)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import log_loss

from monitor.metrics.health import latency_histogram as lh
from tests.ops.rollup import support


@pytest.fixture(scope="module")
def rolled(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = support.copy_demo(demo_dir, tmp_path_factory.mktemp("rollup") / "demo")
    report = support.rollup(data_dir)
    assert report.written and report.days == 14
    return data_dir


@pytest.fixture(scope="module")
def raw(rolled: Path) -> pd.DataFrame:
    return support.labeled_predictions(rolled)


def _keyed(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.set_index(keys).sort_index()


def test_traffic_counts_errors_and_latency(rolled: Path, raw: pd.DataFrame) -> None:
    traffic = support.read_rollup(rolled, "traffic")
    keys = ["model_id", "model_version", "hour"]
    expected = raw.groupby(keys).agg(
        predictions=("prediction_id", "size"),
        errors=("status", lambda s: int((s == "error").sum())),
        latency_count=("latency_ms", "count"),
        latency_sum=("latency_ms", "sum"),
        latency_min=("latency_ms", "min"),
        latency_max=("latency_ms", "max"),
        first_seen=("timestamp", "min"),
        last_seen=("timestamp", "max"),
    )
    found = _keyed(traffic, keys)
    assert found.index.equals(expected.index)
    for column in ("predictions", "errors", "latency_count"):
        assert (found[column] == expected[column]).all(), column
    assert expected["errors"].sum() > 0  # the demo's error burst
    np.testing.assert_allclose(found["latency_sum"], expected["latency_sum"], rtol=1e-9)
    np.testing.assert_array_equal(found["latency_min"], expected["latency_min"])
    np.testing.assert_array_equal(found["latency_max"], expected["latency_max"])
    assert (found["first_seen"] == expected["first_seen"]).all()
    assert (found["last_seen"] == expected["last_seen"]).all()
    counts = found["latency_histogram"].map(lambda h: sum(int(c["n"]) for c in h))
    assert (counts == found["latency_count"]).all()


@pytest.mark.parametrize("model", ["credit-risk", "demand-forecast"])
def test_latency_quantiles_from_merged_hours_are_within_the_stated_error(
    rolled: Path, raw: pd.DataFrame, model: str
) -> None:
    traffic = support.read_rollup(rolled, "traffic")
    mine = traffic[traffic["model_id"] == model]
    merged = lh.merge({int(c["bucket"]): int(c["n"]) for c in h} for h in mine["latency_histogram"])
    values = raw.loc[raw["model_id"] == model, "latency_ms"].dropna().to_numpy()
    qs = [0.5, 0.95, 0.99]
    estimated = lh.quantiles(merged, qs)
    assert estimated is not None
    exact = np.quantile(values, qs)
    assert np.all(np.abs(np.array(estimated) - exact) <= lh.RELATIVE_ERROR * exact)
    # one busy hour alone, too
    hour = mine.sort_values("predictions").iloc[-1]
    one = {int(c["bucket"]): int(c["n"]) for c in hour["latency_histogram"]}
    in_hour = raw[(raw["model_id"] == model) & (raw["hour"] == hour["hour"])]
    in_hour = in_hour[in_hour["model_version"] == hour["model_version"]]
    exact_hour = np.quantile(in_hour["latency_ms"].dropna(), qs)
    found = np.array(lh.quantiles(one, qs))
    assert np.all(np.abs(found - exact_hour) <= lh.RELATIVE_ERROR * exact_hour)


def test_labels_of_the_classifier(rolled: Path, raw: pd.DataFrame) -> None:
    labels = support.read_rollup(rolled, "labels")
    assert set(labels["model_id"]) == {"credit-risk"}
    rows = raw[(raw["model_id"] == "credit-risk") & (raw["status"] == "ok")]
    rows = rows[rows["prediction"].notna()].copy()
    keys = ["model_version", "hour", "prediction", "label"]
    expected = rows.groupby(keys, dropna=False).agg(
        n=("prediction_id", "size"), score_sum=("probability", "sum")
    )
    found = labels.groupby(keys, dropna=False)[["n", "score_sum"]].sum()
    assert found.index.equals(expected.index)
    assert (found["n"] == expected["n"]).all()
    np.testing.assert_allclose(found["score_sum"], expected["score_sum"], rtol=1e-9)
    assert labels["label"].notna().sum() and labels["label"].isna().sum()  # both kinds
    # calibration bins: ubin // 100 is numpy's decile bin of the score (0 in the first)
    coarse = np.searchsorted(np.linspace(0, 1, 11)[1:-1], rows["probability"], side="left")
    expected_bins = pd.Series(coarse).value_counts().sort_index()
    found_bins = labels.groupby(labels["ubin"] // 100)["n"].sum().sort_index()
    assert found_bins.to_dict() == expected_bins.to_dict()
    # log loss of the labeled predictions: scikit-learn's, summed
    scored = rows[rows["label"].notna()]
    truth = (scored["label"] == "1").astype(int)
    expected_loss = log_loss(truth, scored["probability"], normalize=False, labels=[0, 1])
    assert labels["loss_sum"].sum() == pytest.approx(expected_loss, rel=1e-9)


def test_regression_residual_sums(rolled: Path, raw: pd.DataFrame) -> None:
    found = _keyed(support.read_rollup(rolled, "regression"), ["model_version", "hour"])
    rows = raw[(raw["model_id"] == "demand-forecast") & (raw["status"] == "ok")].copy()
    rows = rows[rows["prediction"].notna()]
    rows["e"] = pd.to_numeric(rows["label"]) - pd.to_numeric(rows["prediction"])
    expected = rows.groupby(["model_version", "hour"]).agg(
        predictions=("prediction_id", "size"),
        labeled=("e", "count"),
        residual_sum=("e", "sum"),
        residual_abs_sum=("e", lambda e: e.abs().sum()),
        residual_sq_sum=("e", lambda e: (e * e).sum()),
    )
    assert found.index.equals(expected.index)
    assert (found["predictions"] == expected["predictions"]).all()
    assert (found["labeled"] == expected["labeled"]).all()
    for column in ("residual_sum", "residual_abs_sum", "residual_sq_sum"):
        np.testing.assert_allclose(found[column], expected[column], rtol=1e-9, atol=1e-6)


def test_feature_bins_categories_and_missing(rolled: Path, raw: pd.DataFrame) -> None:
    features = support.read_rollup(rolled, "features")
    mine = features[features["model_id"] == "credit-risk"]
    rows = raw[raw["model_id"] == "credit-risk"]
    reference = pq.read_table(rolled / "reference" / "credit-risk.parquet").to_pandas()
    keys = ["model_version", "hour"]
    # numeric: the reference deciles (numpy), bins (e_i, e_i+1]
    edges = np.unique(np.quantile(reference["income"], np.linspace(0.1, 0.9, 9)))
    values = rows.dropna(subset=["features.income"])
    bins = np.searchsorted(edges, values["features.income"], side="left")
    expected = values.assign(bin=bins).groupby([*keys, "bin"]).size()
    income = mine[(mine["feature"] == "income") & ~mine["missing"]]
    assert set(income["kind"]) == {"numeric"}
    found = income.set_index([*keys, "bin"])["n"].sort_index()
    assert found.to_dict() == expected.to_dict()
    np.testing.assert_allclose(
        income.groupby("bin")["value_sum"].sum(),
        values.assign(bin=bins).groupby("bin")["features.income"].sum(),
        rtol=1e-9,
    )
    # categorical: counts per category, and the missing values
    region = mine[mine["feature"] == "employment_type"]
    expected_cat = rows.groupby([*keys, "features.employment_type"]).size()
    found_cat = region[~region["missing"]].set_index([*keys, "category"])["n"].sort_index()
    assert found_cat.to_dict() == expected_cat.to_dict()
    assert not region["missing"].any()
    score = mine[mine["feature"] == "credit_score"]
    missing = rows["features.credit_score"].isna().groupby([rows[k] for k in keys]).sum()
    found_missing = score[score["missing"]].set_index(keys)["n"]
    assert found_missing.sum() == missing.sum() > 0  # the demo's missing credit scores
    assert all(found_missing.get(k, 0) == v for k, v in missing.items())
    # per hour and feature, every prediction is counted once
    per_feature = mine.groupby([*keys, "feature"])["n"].sum()
    totals = rows.groupby(keys).size()
    assert all(per_feature[(v, h, f)] == totals[(v, h)] for v, h, f in per_feature.index)
    # a feature of the other model is not counted for this one
    assert "temperature" not in set(mine["feature"])


def test_fairness_group_outcome_label_counts(rolled: Path, raw: pd.DataFrame) -> None:
    fairness = support.read_rollup(rolled, "fairness")
    assert set(fairness["attribute"]) == {"gender", "age_group"}
    rows = raw[raw["model_id"] == "credit-risk"]
    for attribute in ("gender", "age_group"):
        keys = ["model_version", "hour", f"features.{attribute}", "prediction", "label"]
        expected = rows.groupby(keys, dropna=False).size()
        mine = fairness[fairness["attribute"] == attribute]
        found = mine.set_index(["model_version", "hour", "group_value", "prediction", "label"])["n"]
        assert len(found) == len(expected)
        assert found.sum() == expected.sum() == len(rows)
        assert found.sort_index().to_dict() == expected.sort_index().to_dict()
        labeled = mine[mine["label"].notna()]
        assert (labeled["labeled"] == labeled["n"]).all()
