"""Fairness from the logs: the demo's injected gap (credit-risk v3 vs women) is found in
the right version and from the right day, and every count and rate equals a computation
on the raw log files read here with pyarrow/json/pandas (not through monitor.core.store)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
from fairlearn import metrics as flm
from sklearn.metrics import mean_absolute_error

from monitor.core import catalog
from monitor.core.config import load_settings
from monitor.core.errors import InputError
from monitor.core.store import LogStore
from monitor.metrics.fairness.audit import audit
from monitor.metrics.fairness.selection import selection_audit
from monitor.metrics.fairness.trend import trend
from monitor.queries.fairness import log_slices, log_table, model_features
from monitor.queries.fairness_predictions import prediction_slices, prediction_table

# -- the raw files, read independently ------------------------------------------------------


def _jsonl(path: Path) -> list[dict[str, Any]]:
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and record.get("prediction_id"):
            records.append(record)
    return records


def _files(data_dir: Path, kind: str) -> list[Path]:
    found: list[Path] = []
    for partition in sorted((data_dir / "logs" / kind).glob("date=*")):
        names = sorted(p for p in partition.iterdir() if not p.name.startswith("."))
        stems = {p.stem for p in names if p.suffix == ".parquet"}
        found += [p for p in names if p.suffix == ".parquet" or p.stem not in stems]
    return found


def raw_labeled(data_dir: Path, model_id: str, features: list[str]) -> pd.DataFrame:
    """Predictions of a model joined with their latest feedback label (else inline)."""
    frames = []
    for path in _files(data_dir, "predictions"):
        if path.suffix == ".parquet":
            table = pq.read_table(path).to_pandas()
            table = table[table["model_id"] == model_id]
            if table.empty:
                continue
            frame = pd.DataFrame(
                {
                    "prediction_id": table["prediction_id"],
                    "timestamp": pd.to_datetime(table["timestamp"], utc=True),
                    "version": table["model_version"],
                    "prediction": table["prediction"],
                    "inline": table["label"],
                }
            )
            for key in features:
                frame[key] = table.get(f"features.{key}")
        else:
            records = [r for r in _jsonl(path) if r.get("model_id") == model_id]
            if not records:
                continue
            frame = pd.DataFrame(
                {
                    "prediction_id": [r["prediction_id"] for r in records],
                    "timestamp": pd.to_datetime(
                        pd.Series([r.get("timestamp") for r in records], dtype=object),
                        utc=True,
                        format="ISO8601",
                    ),
                    "version": [r.get("model_version") for r in records],
                    "prediction": [r.get("prediction") for r in records],
                    "inline": [r.get("label") for r in records],
                }
            )
            for key in features:
                frame[key] = [(r.get("features") or {}).get(key) for r in records]
        frames.append(frame)
    predictions = pd.concat(frames, ignore_index=True)
    feedback_frames = []
    for path in _files(data_dir, "feedback"):
        if path.suffix == ".parquet":
            table = pq.read_table(path).to_pandas()
            feedback_frames.append(
                pd.DataFrame(
                    {
                        "prediction_id": table["prediction_id"],
                        "timestamp": pd.to_datetime(table["timestamp"], utc=True),
                        "label": table["label"],
                    }
                )
            )
        else:
            records = _jsonl(path)
            stamps = pd.to_datetime(
                pd.Series([r.get("timestamp") for r in records], dtype=object),
                utc=True,
                format="ISO8601",
                errors="coerce",
            )
            feedback_frames.append(
                pd.DataFrame(
                    {
                        "prediction_id": [r["prediction_id"] for r in records],
                        "timestamp": stamps,
                        "label": [r.get("label") for r in records],
                    }
                ).dropna(subset=["timestamp", "label"])
            )
    feedback = pd.concat(feedback_frames, ignore_index=True).sort_values("timestamp")
    latest = feedback.drop_duplicates("prediction_id", keep="last").set_index("prediction_id")
    predictions = predictions.dropna(subset=["timestamp"])
    predictions["label"] = predictions["prediction_id"].map(latest["label"])
    predictions["label"] = predictions["label"].fillna(predictions["inline"])
    return predictions


def as_float(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values.astype(object), errors="coerce")


@pytest.fixture(scope="module")
def store(demo_dir: Path) -> Any:
    opened = LogStore(demo_dir)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def settings(demo_dir: Path) -> Any:
    return load_settings(demo_dir / "monitor.toml")


@pytest.fixture(scope="module")
def credit(demo_dir: Path) -> pd.DataFrame:
    frame = raw_labeled(demo_dir, "credit-risk", ["gender", "age_group"])
    frame = frame[frame["label"].notna() & frame["prediction"].notna()].copy()
    frame["y"] = (as_float(frame["label"]) == 1).astype(int)
    frame["p"] = (as_float(frame["prediction"]) == 1).astype(int)
    return frame


def whole(store: LogStore, model_id: str) -> catalog.Window:
    info = next(m for m in catalog.inventory(store) if m.model_id == model_id)
    return catalog.Window(info.first_seen, info.last_seen)


def manifest_gap(demo_dir: Path) -> dict[str, Any]:
    manifest = json.loads((demo_dir / "demo_manifest.json").read_text())
    gap: dict[str, Any] = next(p for p in manifest["problems"] if p["name"] == "fairness_gap")
    return gap


# -- tests ------------------------------------------------------------------------------------


def test_the_injected_gap_is_found_in_v3_only(
    demo_dir: Path, store: LogStore, settings: Any, credit: pd.DataFrame
) -> None:
    gap = manifest_gap(demo_dir)
    model = settings.model("credit-risk")
    window = whole(store, "credit-risk")
    verdicts = {}
    for version in ("v1", "v2", "v3"):
        data = log_table(store, model, sensitive=["gender"], window=window, versions=[version])
        report = audit(data)
        rows = credit[credit["version"] == version]
        assert report.rows == len(rows)
        for group in report.groups:
            part = rows[rows["gender"] == group.key[0]]
            assert group.count == len(part)
            assert group.metrics["selection_rate"] == pytest.approx(part["p"].mean())
            assert group.metrics["tpr"] == pytest.approx(part.loc[part["y"] == 1, "p"].mean())
        judged = rows[rows["gender"].isin([g.key[0] for g in report.groups if not g.small])]
        assert report.summary.judged_parity_difference == pytest.approx(
            flm.demographic_parity_difference(
                judged["y"], judged["p"], sensitive_features=judged["gender"]
            )
        )
        verdicts[version] = report
    assert verdicts["v1"].summary.four_fifths_passed is True
    assert verdicts["v2"].summary.four_fifths_passed is True
    v3 = verdicts["v3"]
    assert v3.summary.four_fifths_passed is False
    assert gap["model_version"] == "v3" and gap["feature"] == "gender"
    female = next(g for g in v3.groups if g.key == (gap["group"],))
    assert female.fails_screen or v3.reference_group == female.key
    rates = {g.key[0]: g.metrics["selection_rate"] or 0.0 for g in v3.groups if not g.small}
    assert rates["female"] > 3 * rates["male"] > 0


def test_the_trend_shows_when_and_in_which_version_the_gap_opened(
    demo_dir: Path, store: LogStore, settings: Any, credit: pd.DataFrame
) -> None:
    gap = manifest_gap(demo_dir)
    start = dt.datetime.fromisoformat(gap["start"])
    model = settings.model("credit-risk")
    window = whole(store, "credit-risk")
    slices = log_slices(
        store, model, sensitive=["gender"], window=window, bucket="day", by_version=True
    )
    days = credit["timestamp"].dt.floor("D")
    grouped = credit.groupby([days, "version", "gender"]).agg(n=("p", "size"), sr=("p", "mean"))
    expected = {key: (int(row["n"]), float(row["sr"])) for key, row in grouped.iterrows()}
    result = trend(slices, reference="overall", min_group_size=30)
    assert len(result.points) == len(expected)
    for point in result.points:
        assert point.bucket is not None and point.version is not None
        n, selection_rate = expected[(pd.Timestamp(point.bucket), point.version, point.key[0])]
        assert point.count == n
        assert point.value == pytest.approx(selection_rate)
    v3_days = sorted({p.bucket for p in result.points if p.version == "v3" and p.bucket})
    assert v3_days and v3_days[0] >= start  # no v3 before the gap's start
    v3 = [s for s in result.slices if s.version == "v3" and s.passed is not None]
    older = [s for s in result.slices if s.version in ("v1", "v2") and s.passed is not None]
    assert v3 and all(s.passed is False for s in v3)
    assert all({k[0] for k in s.failing_groups} & {"female", "male"} for s in v3)
    # v1/v2 never split women from men; only the ~60-a-day nonbinary group is noisy
    assert older and all(set(s.failing_groups) <= {("nonbinary",)} for s in older)
    by_version = trend(
        log_slices(store, model, sensitive=["gender"], window=window, by_version=True),
        reference="overall",
    )
    failing = {s.version for s in by_version.slices if s.passed is False}
    assert failing == {"v3"}


def test_intersections_and_defaults_from_the_logs(
    store: LogStore, settings: Any, credit: pd.DataFrame
) -> None:
    model = settings.model("credit-risk")
    data = log_table(store, model, sensitive=["gender", "age_group"], window=whole(store, model.id))
    report = audit(data)
    expected = credit.groupby(["gender", "age_group"]).size()
    assert {g.key: g.count for g in report.groups} == {k: int(v) for k, v in expected.items()}
    assert any(g.small for g in report.groups)  # nonbinary x age band are tiny


def test_regression_model_errors_per_store(demo_dir: Path, store: LogStore, settings: Any) -> None:
    raw = raw_labeled(demo_dir, "demand-forecast", ["store_id"])
    raw = raw[raw["label"].notna() & raw["prediction"].notna()]
    model = settings.model("demand-forecast")
    report = audit(log_table(store, model, sensitive=["store_id"], window=whole(store, model.id)))
    assert report.task == "regression"
    for group in report.groups:
        rows = raw[raw["store_id"] == group.key[0]]
        assert group.count == len(rows)
        mae = mean_absolute_error(as_float(rows["label"]), as_float(rows["prediction"]))
        assert group.metrics["mae"] == pytest.approx(mae)


def test_unknown_feature_and_feature_choices(store: LogStore, settings: Any) -> None:
    model = settings.model("credit-risk")
    with pytest.raises(InputError, match="not found in the logs"):
        log_table(store, model, sensitive=["religion"], window=whole(store, model.id))
    keys = [key for key, _ in model_features(store, "credit-risk")]
    assert {"gender", "age_group", "income"} <= set(keys)
    assert "store_id" not in keys
    assert keys.index("gender") < keys.index("income")  # categorical first


# -- predictions without labels (monitor.queries.fairness_predictions) -----------------------


def test_selection_rates_need_no_labels(demo_dir: Path, store: LogStore, settings: Any) -> None:
    """Every prediction counts, labeled or not: per version and day, the counts and
    selection rates equal the raw files', and fairlearn's demographic parity over all
    groups of the newest day (no labels yet) equals the report's."""
    model = settings.model("credit-risk")
    window = whole(store, model.id)
    raw = raw_labeled(demo_dir, model.id, ["gender"])
    raw = raw[raw["prediction"].notna()].copy()
    raw["p"] = (as_float(raw["prediction"]) == 1).astype(int)
    raw["gender"] = raw["gender"].fillna("(missing)")
    slices = prediction_slices(
        store, model, sensitive=["gender"], window=window, bucket="day", by_version=True
    )
    days = raw["timestamp"].dt.floor("D")
    grouped = raw.groupby([days, "version", "gender"])["p"].agg(["size", "sum"])
    found = {
        (pd.Timestamp(str(s.bucket)), s.version, key[0]): counts
        for s in slices
        for key, counts in _counts(s.data).items()
    }
    assert found == {key: (int(r["size"]), int(r["sum"])) for key, r in grouped.iterrows()}

    day = catalog.Window.ending_at(window.end, dt.timedelta(days=1))
    data = prediction_table(store, model, sensitive=["gender"], window=day)
    rows = raw[(raw["timestamp"] >= day.start) & (raw["timestamp"] <= day.end)]
    assert rows["label"].isna().all() and data.total_rows == len(rows)
    report = selection_audit(data)
    for name, function in (
        ("demographic_parity_difference", flm.demographic_parity_difference),
        ("demographic_parity_ratio", flm.demographic_parity_ratio),
    ):
        expected = function(rows["p"], rows["p"], sensitive_features=rows["gender"])
        assert getattr(report, name) == pytest.approx(expected)
    with pytest.raises(InputError, match="binary"):
        prediction_table(
            store, settings.model("demand-forecast"), sensitive=["store_id"], window=day
        )


def _counts(data: Any) -> dict[tuple[str, ...], tuple[int, int]]:
    """(rows, rows predicted positive) per group of prediction cells."""
    found: dict[tuple[str, ...], tuple[int, int]] = {}
    for key, positive, n in zip(data.groups, data.prediction, data.rows, strict=True):
        rows, selected = found.get(key, (0, 0))
        found[key] = (rows + n, selected + (n if positive else 0))
    return found
