"""Each alert rule's measured value equals an independent computation over the raw rows
(numpy, scikit-learn), on a small synthetic world: a binary model with a reference
dataset, two versions (one labeled, one not) and feedback labels, and a regression
model with inline labels."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error

from monitor.core.state import StateStore
from monitor.core.store import LogStore
from monitor.ops.alerts import actions as alerts
from tests.logwriter import write_jsonl
from tests.ops.alerts.support import T0, alert_settings, minutes, write_predictions

NOW = minutes(600)
CATS = ("a", "b", "b", "c")
GROUPS = ("g1", "g1", "g2")
WINDOWS = {"short": "2h", "mid": "6h", "long": "10h"}


def _reference(rng: np.random.Generator, n: int = 2000) -> dict[str, Any]:
    score = rng.uniform(0.02, 0.98, n)
    return {
        "num": rng.normal(50.0, 10.0, n),
        "cat": [CATS[i % 4] for i in range(n)],
        "grp": [GROUPS[i % 3] for i in range(n)],
        "probability": score,
        "prediction": (score >= 0.5).astype(int),
        "label": (rng.uniform(size=n) < score).astype(int),
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("alert_metrics")
    rng = np.random.default_rng(11)
    reference = _reference(rng)
    (root / "reference").mkdir()
    pq.write_table(pa.table(reference), root / "reference" / "cr.parquet")
    records: list[dict[str, Any]] = []
    feedback: list[dict[str, Any]] = []
    for i in range(1300):
        at = 0.25 + i * 0.5  # never exactly on a window boundary
        ts = minutes(at)
        version = "v2" if i % 10 == 0 else "v1"
        group = GROUPS[i % 3]
        score = float(np.clip(rng.uniform(0.02, 0.98) + (0.15 if group == "g2" else 0), 0, 1))
        error = i % 37 == 5
        record: dict[str, Any] = {
            "prediction_id": f"cr-{i}",
            "timestamp": ts.isoformat(),
            "model_id": "cr",
            "model_version": version,
            "features": {
                "num": None if i % 9 == 0 else float(rng.normal(50.0 + at / 60, 10.0)),
                "cat": None if i % 13 == 0 else CATS[i % 4],
                "grp": group,
            },
            "latency_ms": float(rng.lognormal(3.5, 0.6)),
            "status": "error" if error else "ok",
        }
        if not error:
            record["prediction"] = int(score >= 0.5)
            record["probability"] = score
            if version == "v1" and i % 4 != 0:
                label = int(rng.uniform() < score)
                feedback.append(
                    {
                        "prediction_id": f"cr-{i}",
                        "timestamp": (ts + dt.timedelta(minutes=30)).isoformat(),
                        "label": label,
                    }
                )
        records.append(record)
    write_predictions(root, "cr", records)
    write_jsonl(root, "feedback", T0.date().isoformat(), "cr.jsonl", feedback)

    reg_reference = {"x": rng.normal(0, 1, 500), "label": rng.uniform(0, 100, 500)}
    reg_reference["prediction"] = reg_reference["label"] + rng.normal(0, 8, 500)
    pq.write_table(pa.table(reg_reference), root / "reference" / "df.parquet")
    regression = []
    for i in range(300):
        truth = float(rng.uniform(0, 100))
        regression.append(
            {
                "prediction_id": f"df-{i}",
                "timestamp": minutes(1 + i * 2).isoformat(),
                "model_id": "df",
                "model_version": "v1",
                "features": {"x": float(rng.normal(0, 1))},
                "prediction": truth + float(rng.normal(0, 12)),
                "label": truth,
                "latency_ms": 5.0,
            }
        )
    write_predictions(root, "df", regression)
    return {
        "root": root,
        "reference": reference,
        "reg_reference": reg_reference,
        "records": records,
        "feedback": {f["prediction_id"]: f["label"] for f in feedback},
        "regression": regression,
    }


def _always(rule_id: str, metric: str, window: str) -> dict[str, Any]:
    """A rule whose condition always holds, so every series is kept with its value."""
    return {"id": rule_id, "metric": metric, "comparator": ">", "threshold": -1e9, "window": window}


RULES = [
    _always("p95", "latency_p95_ms", WINDOWS["short"]),
    _always("errors", "error_rate", WINDOWS["short"]),
    _always("rate", "throughput", WINDOWS["short"]),
    _always("missing", "missing_share", WINDOWS["short"]),
    _always("psi", "psi", WINDOWS["mid"]),
    _always("drift", "drift_share", WINDOWS["mid"]),
    _always("accuracy", "accuracy", WINDOWS["long"]),
    _always("accuracy_drop", "accuracy_drop", WINDOWS["long"]),
    _always("f1", "f1", WINDOWS["long"]),
    _always("f1_drop", "f1_drop", WINDOWS["long"]),
    _always("mae", "mae", WINDOWS["long"]),
    _always("mae_increase", "mae_increase", WINDOWS["long"]),
    _always("fair", "fairness_ratio", WINDOWS["long"]),
]
MODELS: list[dict[str, Any]] = [
    {
        "id": "cr",
        "task": "binary",
        "reference": "reference/cr.parquet",
        "sensitive_features": ["grp"],
    },
    {"id": "df", "task": "regression", "reference": "reference/df.parquet"},
]


@pytest.fixture(scope="module")
def measured(world: dict[str, Any]) -> dict[tuple[str, tuple[tuple[str, str], ...]], alerts.Alert]:
    root: Path = world["root"]
    settings = alert_settings(root, RULES, models=MODELS)
    store, state = LogStore(root), StateStore(root / "state.sqlite")
    result = alerts.evaluate(store, settings, state, now=NOW)
    assert result.errors == ()
    return {(a.rule, tuple(sorted(a.labels.items()))): a for a in result.alerts}


def _value(
    measured: dict[tuple[str, tuple[tuple[str, str], ...]], alerts.Alert], rule: str, **labels: str
) -> float | None:
    return measured[(rule, tuple(sorted(labels.items())))].value


def _window(records: Sequence[dict[str, Any]], span: str) -> list[dict[str, Any]]:
    hours = int(span.rstrip("h"))
    start = NOW - dt.timedelta(hours=hours)
    return [r for r in records if start <= dt.datetime.fromisoformat(r["timestamp"]) <= NOW]


def test_health_metrics(world: dict[str, Any], measured: Any) -> None:
    rows = _window(world["records"], WINDOWS["short"])
    latency = np.array([r["latency_ms"] for r in rows])
    errors = np.array([r["status"] == "error" for r in rows])
    assert _value(measured, "p95", model="cr") == pytest.approx(np.percentile(latency, 95))
    assert _value(measured, "errors", model="cr") == pytest.approx(errors.mean())
    assert errors.sum() > 0
    assert _value(measured, "rate", model="cr") == pytest.approx(len(rows) / 120)


def test_missing_shares(world: dict[str, Any], measured: Any) -> None:
    rows = _window(world["records"], WINDOWS["short"])
    for feature in ("num", "cat", "grp"):
        share = np.mean([r["features"][feature] is None for r in rows])
        assert _value(measured, "missing", model="cr", feature=feature) == pytest.approx(share)
    assert (_value(measured, "missing", model="cr", feature="num") or 0) > 0


def _psi(reference: np.ndarray, current: np.ndarray) -> float:
    ref, cur = (
        np.maximum(reference / reference.sum(), 1e-4),
        np.maximum(current / current.sum(), 1e-4),
    )
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def test_psi_per_feature(world: dict[str, Any], measured: Any) -> None:
    rows = _window(world["records"], WINDOWS["mid"])
    reference = world["reference"]
    ref_num = np.asarray(reference["num"])
    edges = np.unique(np.quantile(ref_num, np.linspace(0.1, 0.9, 9)))
    cur_num = np.array([r["features"]["num"] for r in rows if r["features"]["num"] is not None])
    ref_bins = np.array([np.sum(ref_num > e) for e in edges])  # values above each edge
    counts_ref = np.diff(np.concatenate([[len(ref_num)], ref_bins, [0]]) * -1)
    cur_bins = np.array([np.sum(cur_num > e) for e in edges])
    counts_cur = np.diff(np.concatenate([[len(cur_num)], cur_bins, [0]]) * -1)
    assert counts_ref.sum() == len(ref_num) and counts_cur.sum() == len(cur_num)
    expected = _psi(counts_ref.astype(float), counts_cur.astype(float))
    assert _value(measured, "psi", model="cr", feature="num") == pytest.approx(expected)
    for feature in ("cat", "grp"):
        values = [r["features"][feature] for r in rows if r["features"][feature] is not None]
        categories = sorted(set(reference[feature]) | set(values))
        ref_counts = np.array([list(reference[feature]).count(c) for c in categories], float)
        cur_counts = np.array([values.count(c) for c in categories], float)
        assert _value(measured, "psi", model="cr", feature=feature) == pytest.approx(
            _psi(ref_counts, cur_counts)
        )


def test_drift_share(measured: Any) -> None:
    # By construction: num moves by up to 1 sd (drifts), cat and grp keep the reference's
    # exact proportions (cannot drift): 1 of 3 features.
    assert _value(measured, "drift", model="cr") == pytest.approx(1 / 3)


def _labeled(world: dict[str, Any], version: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    rows = [
        r
        for r in _window(world["records"], WINDOWS["long"])
        if r["model_version"] == version and r["status"] == "ok"
    ]
    kept = [r for r in rows if r["prediction_id"] in world["feedback"]]
    truth = np.array([world["feedback"][r["prediction_id"]] for r in kept])
    predicted = np.array([r["prediction"] for r in kept])
    return truth, predicted, [r["features"]["grp"] for r in kept]


def test_realized_accuracy_and_f1_against_the_reference_baseline(
    world: dict[str, Any], measured: Any
) -> None:
    truth, predicted, _ = _labeled(world, "v1")
    assert len(truth) >= 100  # realized, not estimated
    reference = world["reference"]
    base_accuracy = accuracy_score(reference["label"], reference["prediction"])
    base_f1 = f1_score(reference["label"], reference["prediction"])
    accuracy = accuracy_score(truth, predicted)
    f1 = f1_score(truth, predicted)
    assert _value(measured, "accuracy", model="cr", version="v1") == pytest.approx(accuracy)
    assert _value(measured, "f1", model="cr", version="v1") == pytest.approx(f1)
    assert _value(measured, "accuracy_drop", model="cr", version="v1") == pytest.approx(
        base_accuracy - accuracy
    )
    assert _value(measured, "f1_drop", model="cr", version="v1") == pytest.approx(base_f1 - f1)


def test_estimated_accuracy_of_an_unlabeled_version(world: dict[str, Any], measured: Any) -> None:
    reference = world["reference"]
    calibrator = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    calibrator.fit(reference["probability"], reference["label"])
    rows = [
        r
        for r in _window(world["records"], WINDOWS["long"])
        if r["model_version"] == "v2" and r["status"] == "ok"
    ]
    scores = np.array([r["probability"] for r in rows])
    calibrated = calibrator.predict(scores)
    correct = np.where(scores >= 0.5, calibrated, 1 - calibrated)
    measured_value = _value(measured, "accuracy", model="cr", version="v2")
    # the engine pools scores into fine bins before calibrating: agreement within 0.01
    assert measured_value == pytest.approx(correct.mean(), abs=0.01)
    alert = measured[("accuracy", (("model", "cr"), ("version", "v2")))]
    assert "estimated" in alert.summary


def test_mae_and_its_increase_over_the_reference(world: dict[str, Any], measured: Any) -> None:
    rows = _window(world["regression"], WINDOWS["long"])
    mae = mean_absolute_error([r["label"] for r in rows], [r["prediction"] for r in rows])
    reference = world["reg_reference"]
    base = mean_absolute_error(reference["label"], reference["prediction"])
    assert _value(measured, "mae", model="df", version="v1") == pytest.approx(mae)
    assert _value(measured, "mae_increase", model="df", version="v1") == pytest.approx(
        (mae - base) / base
    )


def test_fairness_ratio_per_group(world: dict[str, Any], measured: Any) -> None:
    truth, predicted, groups = _labeled(world, "v1")
    names = np.array(groups)
    sizes = {g: int(np.sum(names == g)) for g in set(groups)}
    reference = max(sizes, key=lambda g: sizes[g])
    rate = {g: predicted[names == g].mean() for g in sizes}
    for group in sizes:
        if group == reference:
            continue
        assert sizes[group] >= 50
        assert min(truth[names == group].sum(), (1 - truth[names == group]).sum()) >= 10
        ratio = rate[group] / rate[reference]
        expected = min(ratio, 1 / ratio)
        assert _value(measured, "fair", model="cr", version="v1", feature="grp", group=group) == (
            pytest.approx(expected)
        )
    # v2 has no labels: its fairness cannot be judged, which is nodata, not healthy
    v2 = measured[("fair", (("feature", "grp"), ("model", "cr"), ("version", "v2")))]
    assert v2.state == "nodata" and v2.value is None


def test_metrics_that_do_not_apply_make_no_alerts(measured: Any) -> None:
    rules_by_model: dict[str, set[str]] = {}
    for rule, labels in measured:
        rules_by_model.setdefault(dict(labels)["model"], set()).add(rule)
    assert not {"mae", "mae_increase"} & rules_by_model["cr"]
    assert not {"accuracy", "f1", "f1_drop", "fair"} & rules_by_model["df"]  # regression
