"""Which label a prediction gets (delayed, early, repeated feedback), multiclass metrics
against scikit-learn, and windows where a class or every positive is missing."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from sklearn import metrics as skm

from monitor.core import catalog, schema
from monitor.core.catalog import Window
from monitor.core.config import ModelConfig, parse_settings
from monitor.core.scope import Scope
from monitor.core.store import LogStore
from monitor.queries import performance as sql
from monitor.queries.performance_labels import LOOKBACK, label_arrival
from monitor.queries.performance_report import performance
from tests.logwriter import prediction, write_jsonl, write_parquet
from tests.performance_truth import labeled_predictions, read_feedback

DAY = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
WINDOW = Window(DAY, DAY + dt.timedelta(days=3))
BINARY = ModelConfig(id="m", task="binary", positive_label="1")


def _at(hours: float) -> str:
    return (DAY + dt.timedelta(hours=hours)).isoformat()


def _feedback(pid: str, when: str, label: object) -> dict[str, object]:
    return {"prediction_id": pid, "timestamp": when, "label": label}


@pytest.fixture(scope="module")
def label_store(tmp_path_factory: pytest.TempPathFactory) -> LogStore:
    """Six ok predictions and one error; feedback after, before, twice, over an inline label."""
    data_dir = tmp_path_factory.mktemp("labels")
    write_jsonl(
        data_dir,
        "predictions",
        "2026-11-01",
        "p.jsonl",
        [
            prediction("p1", _at(10), prediction=1, probability=0.9),
            prediction("p2", _at(10.1), prediction=0, probability=0.2),
            prediction("p3", _at(10.2), prediction=1, probability=0.7),
            prediction("p4", _at(10.3), prediction=0, probability=0.4, label=1),
            prediction("p5", _at(10.4), prediction=1, probability=0.6, label=0),
            prediction("p6", _at(10.5), prediction=0, probability=0.1),
            prediction("p7", _at(10.6), prediction=None, probability=None, status="error"),
        ],
    )
    # p1: after the prediction. p2: *before* it (a clock off by a day). p3: twice, the
    # later record (label 0) written first, in another file and format. p4: feedback
    # overrides the inline label 1.
    write_jsonl(
        data_dir,
        "feedback",
        "2026-11-02",
        "f.jsonl",
        [
            _feedback("p1", "2026-11-02T09:00:00Z", 1),
            _feedback("p3", "2026-11-02T09:00:00Z", 1),
            _feedback("p4", "2026-11-02T09:00:00Z", 0),
        ],
    )
    write_jsonl(data_dir, "feedback", "2026-10-31", "early.jsonl", [_feedback("p2", _at(-30), 1.0)])
    table = pa.Table.from_pylist(
        [
            {
                "prediction_id": "p3",
                "timestamp": dt.datetime(2026, 11, 3, 8, tzinfo=dt.UTC),
                "label": "0",
            }
        ],
        schema=schema.FEEDBACK_SCHEMA,
    )
    write_parquet(data_dir, "feedback", "2026-11-03", "a-later.parquet", table)
    return LogStore(data_dir)


def test_latest_feedback_wins_then_inline(label_store: LogStore) -> None:
    report = performance(label_store, BINARY, Scope.of(BINARY, WINDOW), bucket="day")
    overall = report.overall()
    assert overall is not None
    assert (overall.predictions, overall.labeled) == (6, 5)
    # truth/prediction: p1 1/1, p2 1/0 (early feedback), p3 0/1 (latest of two),
    # p4 0/0 (feedback over inline 1), p5 0/1 (inline only); p6 unlabeled; p7 an error.
    truth = ["1", "1", "0", "0", "0"]
    predicted = ["1", "0", "1", "0", "1"]
    assert overall.confusion is not None
    expected = skm.confusion_matrix(truth, predicted, labels=["0", "1"])
    assert np.array_equal(overall.confusion.array(), expected)
    assert overall.metrics["accuracy"].value == pytest.approx(skm.accuracy_score(truth, predicted))
    assert overall.metrics["precision"].value == pytest.approx(
        skm.precision_score(truth, predicted, pos_label="1")
    )
    assert overall.coverage == pytest.approx(5 / 6)


def _rows(store: LogStore, query: str, params: dict[str, object]) -> set[tuple[str, str | None]]:
    return {(pid, label) for pid, label in store.execute(query, params)}


def test_window_rows_agree_with_the_labeled_view(label_store: LogStore, demo_dir: Path) -> None:
    """performance_sql re-states the `labeled` view's rule for one window (faster), with
    and without the semi-join; every prediction must get the view's label."""
    everything = Window(
        dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
    )
    demo = LogStore(demo_dir)
    for store, model_id in ((label_store, "m"), (demo, "credit-risk"), (demo, "demand-forecast")):
        params = sql.window_params(everything, model_id, None, None)
        view = _rows(
            store,
            "SELECT prediction_id, label FROM labeled WHERE timestamp BETWEEN $start AND $end "
            "AND model_id = $model AND ($versions IS NULL OR list_contains($versions, "
            "coalesce(model_version, '')))",
            params,
        )
        assert sum(label is not None for _, label in view) > 0
        for restrict in (True, False):
            rows = sql.window_rows(restrict=restrict)
            mine = _rows(store, "WITH " + rows + " SELECT prediction_id, label FROM _rows", params)
            assert mine == view, (model_id, restrict)


def test_feedback_is_restricted_for_short_windows_only(demo_dir: Path) -> None:
    store = LogStore(demo_dir)
    slices = store.version_slices()
    model = next(m for m in catalog.inventory(store) if m.model_id == "credit-risk")
    day = Window.ending_at(model.last_seen, dt.timedelta(days=1))
    assert sql.restrict_feedback(slices, "credit-risk", day)
    assert not sql.restrict_feedback(
        slices, "credit-risk", Window(model.first_seen, model.last_seen)
    )
    before = Window(
        model.first_seen - dt.timedelta(days=9), model.first_seen - dt.timedelta(days=1)
    )
    assert sql.restrict_feedback(slices, "credit-risk", before)


def test_binary_window_without_positives_does_not_crash(tmp_path: Path) -> None:
    rows = [
        prediction(f"q{i}", _at(i * 0.1), prediction=0, probability=0.1 + i / 100, label=0)
        for i in range(30)
    ]
    write_jsonl(tmp_path, "predictions", "2026-11-01", "p.jsonl", rows)
    scope = Scope.of(BINARY, WINDOW)
    overall = performance(LogStore(tmp_path), BINARY, scope, bucket="day").overall()
    assert overall is not None
    metrics = overall.metrics
    assert metrics["accuracy"].value == 1.0
    for name in ("precision", "recall", "f1", "roc_auc"):
        assert metrics[name].value is None, name
    assert metrics["log_loss"].value == pytest.approx(
        skm.log_loss([0] * 30, [0.1 + i / 100 for i in range(30)], labels=[0, 1])
    )


CLASSES = ("cat", "dog", "eel")


@pytest.fixture(scope="module")
def multiclass(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[LogStore, list[dict[str, object]]]:
    """Day 1: three classes. Day 2: 'eel' is neither predicted nor true. Day 3: only
    'cat' is true and 'eel' only predicted."""
    data_dir = tmp_path_factory.mktemp("multiclass")
    rng = np.random.default_rng(5)
    records: list[dict[str, object]] = []
    for day, (n, truths, predicted) in enumerate(
        [(300, CLASSES, CLASSES), (200, CLASSES[:2], CLASSES[:2]), (60, ("cat",), ("cat", "eel"))]
    ):
        lines = []
        for i in range(n):
            truth = str(rng.choice(truths))
            guess = truth if rng.random() < 0.7 else str(rng.choice(predicted))
            if guess not in predicted:
                guess = predicted[0]
            weights = rng.dirichlet(np.ones(3))
            probabilities = {c: float(w) for c, w in zip(CLASSES, weights, strict=True)}
            probabilities[guess] = float(max(weights) + 0.5)
            total = sum(probabilities.values())
            probabilities = {c: p / total for c, p in probabilities.items()}
            record = prediction(
                f"d{day}-{i}",
                (DAY + dt.timedelta(days=day, minutes=i)).isoformat(),
                model="mc",
                prediction=guess,
                probability=probabilities,
                label=truth if i % 10 else None,
            )
            lines.append(record)
            records.append({"day": day, **record})
        write_jsonl(
            data_dir,
            "predictions",
            (DAY + dt.timedelta(days=day)).date().isoformat(),
            "p.jsonl",
            lines,
        )
    return LogStore(data_dir), records


def test_multiclass_metrics_match_sklearn_with_missing_classes(
    multiclass: tuple[LogStore, list[dict[str, object]]],
) -> None:
    store, records = multiclass
    settings = parse_settings({"models": [{"id": "mc", "task": "multiclass"}]}, base_dir=Path("."))
    model = settings.model("mc")
    report = performance(store, model, Scope.of(model, WINDOW), bucket="day")
    buckets = report.buckets()
    assert len(buckets) == 3
    for day, group in enumerate(buckets):
        rows = [r for r in records if r["day"] == day]
        labeled = [r for r in rows if r["label"] is not None]
        y = [str(r["label"]) for r in labeled]
        p = [str(r["prediction"]) for r in labeled]
        present = sorted(set(y) | set(p))
        assert (group.predictions, group.labeled) == (len(rows), len(labeled))
        assert group.confusion is not None and list(group.confusion.classes) == present
        assert np.array_equal(group.confusion.array(), skm.confusion_matrix(y, p, labels=present))
        m = group.metrics
        assert m["accuracy"].value == pytest.approx(skm.accuracy_score(y, p))
        assert m["f1_macro"].value == pytest.approx(skm.f1_score(y, p, average="macro"))
        assert m["f1_weighted"].value == pytest.approx(skm.f1_score(y, p, average="weighted"))
        precision, recall, _, support = skm.precision_recall_fscore_support(
            y, p, labels=present, zero_division=np.nan
        )
        for i, scores in enumerate(group.per_class):
            assert scores.label == present[i]
            assert scores.support == support[i]
            for mine, theirs in (
                (scores.precision.value, precision[i]),
                (scores.recall.value, recall[i]),
            ):
                assert (mine is None and np.isnan(theirs)) or mine == pytest.approx(theirs)
        confidence = [max(json.loads(json.dumps(r["probability"])).values()) for r in rows]
        assert group.confidence is not None
        assert abs(group.confidence[2] - float(np.median(confidence))) < 1e-3
        entropy = [
            -sum(v * np.log2(v) for v in dict(r["probability"]).values() if v > 0)  # type: ignore[call-overload]
            for r in rows
        ]
        assert group.entropy_mean == pytest.approx(float(np.mean(entropy)))
    day3 = buckets[2].per_class
    assert [c.label for c in day3] == ["cat", "eel"]
    assert day3[1].recall.value is None  # no true 'eel': recall undefined, not 0


# -- when labels arrive (monitor.queries.performance_labels) --------------------------------


def test_label_arrival_follows_the_labeled_view(label_store: LogStore) -> None:
    """Six ok predictions (the error does not count), five labeled; the newest labeled is
    p5 (inline label); delays from the first feedback record, never negative ones (p2)."""
    found = label_arrival(label_store, Scope.of(BINARY, WINDOW))
    assert found.lookback == Window(WINDOW.end - LOOKBACK, WINDOW.end)
    assert (found.predictions, found.labeled) == (6, 5)
    assert found.coverage == pytest.approx(5 / 6)
    assert found.newest_labeled == DAY + dt.timedelta(hours=10.4)
    feedback_at = DAY + dt.timedelta(days=1, hours=9)  # p1, p3 (first of two), p4
    delays = [(feedback_at - DAY).total_seconds() / 3600 - h for h in (10, 10.2, 10.3)]
    assert found.delay_days == pytest.approx(tuple(np.quantile(delays, [0.1, 0.5, 0.9]) / 24))


def test_label_arrival_on_the_demo_matches_the_raw_files(demo_dir: Path) -> None:
    store = LogStore(demo_dir)
    model = ModelConfig(id="credit-risk", task="binary", positive_label="1")
    info = next(m for m in catalog.inventory(store) if m.model_id == model.id)
    rows = labeled_predictions(demo_dir, model.id)
    first = read_feedback(demo_dir).groupby("prediction_id")["timestamp"].min()
    for versions in ((), ("v3",)):
        day = Window.ending_at(info.last_seen, dt.timedelta(days=1))
        found = label_arrival(store, Scope.of(model, day, versions))
        inside = rows[
            (rows["timestamp"] >= info.last_seen - LOOKBACK)
            & (rows["timestamp"] <= info.last_seen)
            & (rows["version"].isin(versions) if versions else True)
        ]
        labeled = inside[inside["truth"].notna()]
        assert (found.predictions, found.labeled) == (len(inside), len(labeled))
        assert found.newest_labeled == labeled["timestamp"].max()
        delay = (inside["prediction_id"].map(first) - inside["timestamp"]).dt.total_seconds()
        delay = delay[delay >= 0] / 86400
        assert found.delay_days == pytest.approx(tuple(np.quantile(delay, [0.1, 0.5, 0.9])))
        in_day = inside[inside["timestamp"] >= day.start]
        assert in_day["truth"].isna().all()  # the demo's last day has no labels yet
        assert found.newest_labeled is not None and found.newest_labeled < day.start
