"""The demo generator writes what docs/log-format.md describes, deterministically, with
every injected problem visible in the raw files.

The files are read here with pyarrow and json only (no store module), so these tests
check the data itself, not another module's reading of it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import monitor.demo.generate as demo_generate
import monitor.demo.writers as demo_writers
from monitor.core.errors import InputError
from monitor.core.schema import FEEDBACK_SCHEMA, PREDICTION_BASE_SCHEMA, SYSTEM_SCHEMA
from monitor.demo import DEFAULT_END, DemoManifest, demo_config_toml, generate_demo

DAYS = 10
PREDICTIONS = 60_000  # enough labeled v3 canary rows for an accuracy comparison
CR, DF = "credit-risk", "demand-forecast"
REQUIRED = {
    "predictions": ("prediction_id", "timestamp", "model_id"),
    "feedback": ("prediction_id", "timestamp", "label"),
    "system": ("timestamp",),
}


# --- reading the raw files, following docs/log-format.md ---------------------------


def _timestamp(value: Any) -> pd.Timestamp | None:
    try:
        if isinstance(value, bool):
            return None
        if isinstance(value, int | float):
            return pd.Timestamp(value, unit="ms", tz="UTC")
        moment = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return pd.Timestamp(moment).tz_convert("UTC")


def _canon(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


def _parse(text: str, kind: str) -> tuple[list[dict[str, Any]], int]:
    """Valid records (flattened like the Parquet columns) and the number of invalid lines."""
    records, invalid = [], 0
    for line in text.split("\n"):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            invalid += 1
            continue
        if not isinstance(record, dict) or any(k not in record for k in REQUIRED[kind]):
            invalid += 1
            continue
        moment = _timestamp(record["timestamp"])
        if moment is None:
            invalid += 1
            continue
        record["timestamp"] = moment
        for key, value in (record.pop("features", None) or {}).items():
            record[f"features.{key}"] = value
        if "metadata" in record:
            record["metadata"] = json.dumps(record["metadata"])
        for key in ("prediction", "label"):
            if key in record:
                record[key] = _canon(record[key])
        records.append(record)
    return records, invalid


def _read_jsonl(path: Path, kind: str) -> tuple[list[dict[str, Any]], int]:
    return _parse(path.read_text(encoding="utf-8"), kind)


def _files(root: Path, kind: str, model: str | None = None) -> list[Path]:
    files = sorted(p for p in (root / "logs" / kind).rglob("*") if p.is_file())
    if model is not None:
        files = [p for p in files if p.stem.endswith(model)]
    return files


def _load(root: Path, kind: str, model: str | None = None) -> tuple[pd.DataFrame, int]:
    frames, invalid = [], 0
    for path in _files(root, kind, model):
        if path.suffix == ".parquet":
            frame = pq.read_table(path).to_pandas()
        else:
            records, bad = _read_jsonl(path, kind)
            invalid += bad
            frame = pd.DataFrame(records)
        frame["partition"] = path.parent.name.removeprefix("date=")
        frames.append(frame)
    data = pd.concat(frames, ignore_index=True)
    data["timestamp"] = pd.to_datetime(data["timestamp"], utc=True)
    return data, invalid


def _hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _window(manifest: DemoManifest, name: str, model: str = CR) -> tuple[pd.Timestamp, ...]:
    problem = manifest.problem(name, model)
    return pd.Timestamp(problem.start), pd.Timestamp(problem.end)


# --- fixtures ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoManifest]:
    root = tmp_path_factory.mktemp("demo")
    return root, generate_demo(root, days=DAYS, predictions=PREDICTIONS)


@pytest.fixture(scope="module")
def root(demo: tuple[Path, DemoManifest]) -> Path:
    return demo[0]


@pytest.fixture(scope="module")
def manifest(demo: tuple[Path, DemoManifest]) -> DemoManifest:
    return demo[1]


@pytest.fixture(scope="module")
def credit(root: Path) -> pd.DataFrame:
    return _load(root, "predictions", CR)[0]


@pytest.fixture(scope="module")
def demand(root: Path) -> pd.DataFrame:
    return _load(root, "predictions", DF)[0]


@pytest.fixture(scope="module")
def credit_labeled(root: Path, credit: pd.DataFrame) -> pd.DataFrame:
    """credit-risk predictions that succeeded, joined to their feedback label."""
    feedback = _load(root, "feedback", CR)[0]
    feedback = feedback.rename(columns={"timestamp": "label_time", "label": "y"})
    ok = credit[credit["status"] == "ok"]
    return ok.merge(feedback[["prediction_id", "label_time", "y"]], on="prediction_id")


# --- determinism ------------------------------------------------------------------


def test_same_arguments_give_identical_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate_demo(first, days=5, predictions=5_000)
    generate_demo(second, days=5, predictions=5_000)
    generate_demo(other, days=5, predictions=5_000, seed=8)

    hashes = _hashes(first)
    assert len(hashes) > 30
    assert hashes == _hashes(second)
    other_hashes = _hashes(other)
    prediction_files = [name for name in hashes if name.startswith("logs/predictions/")]
    assert prediction_files
    for name in prediction_files:
        assert hashes[name] != other_hashes[name], name


# --- counts, formats and the manifest ---------------------------------------------


def test_valid_prediction_records_add_up_and_invalid_lines_match_manifest(
    root: Path, manifest: DemoManifest, credit: pd.DataFrame, demand: pd.DataFrame
) -> None:
    assert len(credit) + len(demand) == PREDICTIONS
    assert len(credit) == manifest.model(CR).predictions
    assert len(demand) == manifest.model(DF).predictions
    assert credit["prediction_id"].is_unique and demand["prediction_id"].is_unique
    assert set(credit["model_id"]) == {CR} and set(demand["model_id"]) == {DF}

    invalid = sum(_load(root, kind)[1] for kind in ("predictions", "feedback", "system"))
    assert invalid == manifest.invalid_records == 4
    reasons = {line.reason for line in manifest.invalid_lines}
    assert len(reasons) == 4


def test_invalid_lines_are_where_the_manifest_says(root: Path, manifest: DemoManifest) -> None:
    for entry in manifest.invalid_lines:
        text = (root / entry.path).read_text(encoding="utf-8")
        line = text.split("\n")[entry.line - 1]
        assert _parse(line, entry.kind) == ([], 1), (entry, line)
        if "half-written" in entry.reason:
            assert not text.endswith("\n")
            assert entry.line == len(text.split("\n"))
    truncated = [p for p in root.rglob("*.jsonl") if not p.read_bytes().endswith(b"\n")]
    assert len(truncated) == 1


def test_manifest_lists_every_file_with_its_record_count(
    root: Path, manifest: DemoManifest
) -> None:
    listed = {f.path: f for f in manifest.files}
    on_disk = {p.relative_to(root).as_posix() for p in (root / "logs").rglob("*") if p.is_file()}
    assert on_disk == {path for path in listed if path.startswith("logs/")}
    for path, entry in listed.items():
        if entry.format == "parquet":
            assert pq.ParquetFile(root / path).metadata.num_rows == entry.records
        else:
            records, invalid = _read_jsonl(root / path, entry.kind)
            assert (len(records), invalid) == (entry.records, entry.invalid_records)
    text = (root / "demo_manifest.json").read_text(encoding="utf-8")
    assert text == manifest.to_json()
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert json.loads(text)["invalid_records"] == 4


def test_older_days_are_parquet_and_the_last_three_jsonl(
    root: Path, manifest: DemoManifest
) -> None:
    end = DEFAULT_END
    live = {(end - dt.timedelta(days=d)).isoformat() for d in range(3)}
    assert set(manifest.jsonl_dates) == live
    for kind in ("predictions", "feedback", "system"):
        for path in _files(root, kind):
            date = path.parent.name.removeprefix("date=")
            assert path.suffix == (".jsonl" if date in live else ".parquet"), path
            assert path.name in {f"part-{m}.parquet" for m in (CR, DF)} | {
                f"demo-{m}.jsonl" for m in (CR, DF)
            }


def test_parquet_columns_follow_the_schema(root: Path) -> None:
    expected_features = {
        CR: {
            "income": pa.float64(),
            "age": pa.float64(),
            "loan_amount": pa.float64(),
            "credit_score": pa.float64(),
            "debt_ratio": pa.float64(),
            "employment_type": pa.string(),
            "region": pa.string(),
            "gender": pa.string(),
            "age_group": pa.string(),
        },
        DF: {
            "temperature": pa.float64(),
            "day_of_week": pa.float64(),
            "store_id": pa.string(),
            "promo": pa.bool_(),
            "price": pa.float64(),
        },
    }
    base = len(PREDICTION_BASE_SCHEMA)
    for model, features in expected_features.items():
        for path in _files(root, "predictions", model):
            if path.suffix != ".parquet":
                continue
            schema = pq.read_schema(path)
            assert pa.schema(list(schema)[:base]).equals(PREDICTION_BASE_SCHEMA)
            rest = {f.name.removeprefix("features."): f.type for f in list(schema)[base:]}
            assert rest == features
    for kind, expected in (("feedback", FEEDBACK_SCHEMA), ("system", SYSTEM_SCHEMA)):
        for path in _files(root, kind):
            if path.suffix == ".parquet":
                assert pq.read_schema(path).remove_metadata().equals(expected), path


def test_jsonl_lines_are_compact_sdk_records(root: Path) -> None:
    path = next(p for p in _files(root, "predictions", CR) if p.suffix == ".jsonl")
    line = path.read_text(encoding="utf-8").split("\n")[0]
    record = json.loads(line)
    assert line == json.dumps(record, separators=(",", ":"), ensure_ascii=False)
    assert record["timestamp"].endswith("+00:00")
    assert record["prediction"] in (0, 1) and 0.0 <= record["probability"] <= 1.0
    assert set(record["features"]) >= {"income", "gender", "age_group", "credit_score"}
    assert record["prediction_id"].startswith("cr-") and isinstance(record["metadata"], dict)


def test_records_sit_in_the_partition_of_their_utc_date(root: Path) -> None:
    for kind in ("predictions", "feedback", "system"):
        frame, _ = _load(root, kind)
        dates = frame["timestamp"].dt.strftime("%Y-%m-%d")
        assert (dates == frame["partition"]).all(), kind


def test_config_and_reference_files(root: Path, manifest: DemoManifest) -> None:
    text = (root / "monitor.toml").read_text(encoding="utf-8")
    assert text == demo_config_toml(".")
    config = tomllib.loads(text)
    assert config["data_dir"] == "."
    assert tomllib.loads(demo_config_toml("data"))["data_dir"] == "data"
    models = {m["id"]: m for m in config["models"]}
    assert set(models) == {CR, DF}
    assert models[CR]["task"] == "binary" and models[CR]["positive_label"] == "1"
    assert models[CR]["sensitive_features"] == ["gender", "age_group"]
    assert models[DF]["task"] == "regression"
    assert "gig_worker" not in models[CR]["feature_categories"]["employment_type"]

    credit_ref = pq.read_table(root / models[CR]["reference"]).to_pandas()
    assert len(credit_ref) == 20_000
    assert {"income", "gender", "age_group", "label", "prediction", "probability"} <= set(
        credit_ref.columns
    )
    assert not any(c.startswith("features.") for c in credit_ref.columns)
    assert "gig_worker" not in set(credit_ref["employment_type"])
    assert 0.17 < credit_ref["label"].mean() < 0.23
    assert credit_ref["credit_score"].isna().mean() < 0.05
    demand_ref = pq.read_table(root / models[DF]["reference"]).to_pandas()
    assert {"temperature", "store_id", "promo", "price", "label", "prediction"} <= set(
        demand_ref.columns
    )


# --- injected problems, each computed from the raw records ------------------------


def test_missing_value_spike_on_one_day(manifest: DemoManifest, credit: pd.DataFrame) -> None:
    start, end = _window(manifest, "missing_values")
    assert end - start == pd.Timedelta(days=1)
    missing = credit["features.credit_score"].isna()
    by_day = missing.groupby(credit["timestamp"].dt.date).mean()
    assert by_day[start.date()] > 0.3
    assert by_day.drop(start.date()).max() < 0.05


def test_new_category_appears_on_its_day(manifest: DemoManifest, credit: pd.DataFrame) -> None:
    start, _ = _window(manifest, "new_category")
    gig = credit["features.employment_type"] == "gig_worker"
    before = credit["timestamp"] < start
    assert not gig[before].any()
    assert 0.05 < gig[~before].mean() < 0.2


def test_income_drifts_upward_over_the_last_days(
    manifest: DemoManifest, credit: pd.DataFrame
) -> None:
    start, _ = _window(manifest, "feature_drift")
    income = credit["features.income"]
    baseline = income[credit["timestamp"] < start].mean()
    daily = income[credit["timestamp"] >= start].groupby(credit["timestamp"].dt.date).mean()
    assert len(daily) >= 3
    assert daily.iloc[-1] > 1.3 * baseline
    assert np.all(np.diff(daily.to_numpy()) > 0)


def test_v2_rolls_out_gradually(manifest: DemoManifest, credit: pd.DataFrame) -> None:
    period = next(v for v in manifest.versions if (v.model_id, v.version) == (CR, "v2"))
    rollout_start = pd.Timestamp(period.start)
    rollout_end = rollout_start + pd.Timedelta(days=2)
    no_canary = credit[credit["model_version"] != "v3"]
    share = (no_canary["model_version"] == "v2").groupby(no_canary["timestamp"].dt.date).mean()
    assert share[share.index < rollout_start.date()].max() == 0.0
    during = share[(share.index >= rollout_start.date()) & (share.index < rollout_end.date())]
    assert 0.1 < during.iloc[0] < during.iloc[-1] < 0.9
    assert share[share.index >= rollout_end.date()].min() == 1.0


def test_v3_canary_is_unfair_to_women(manifest: DemoManifest, credit: pd.DataFrame) -> None:
    start, _ = _window(manifest, "fairness_gap")
    ok = credit[credit["status"] == "ok"]
    positive = ok["prediction"] == "1"
    canary = ok["timestamp"] >= start
    v3_share = (credit.loc[credit["timestamp"] >= start, "model_version"] == "v3").mean()
    assert 0.07 < v3_share < 0.13
    rate = positive[canary].groupby([ok["model_version"], ok["features.gender"]]).mean()
    assert rate["v3", "female"] > rate["v2", "female"] + 0.15
    assert rate["v3", "female"] > rate["v3", "male"] + 0.15
    # v1 and v2 treat women and men alike (over the whole span).
    overall = positive.groupby([ok["model_version"], ok["features.gender"]]).mean()
    for version in ("v1", "v2"):
        assert abs(overall[version, "female"] - overall[version, "male"]) < 0.03, version


def test_v3_canary_is_less_accurate_than_v2(
    manifest: DemoManifest, credit_labeled: pd.DataFrame
) -> None:
    start, _ = _window(manifest, "canary_regression")
    window = credit_labeled[credit_labeled["timestamp"] >= start]
    correct = (window["prediction"] == window["y"]).groupby(window["model_version"])
    assert correct.size()["v3"] >= 150
    accuracy = correct.mean()
    assert accuracy["v3"] < accuracy["v2"] - 0.04


def test_error_burst(manifest: DemoManifest, demand: pd.DataFrame) -> None:
    start, end = _window(manifest, "error_burst", DF)
    inside = (demand["timestamp"] >= start) & (demand["timestamp"] < end)
    failed = demand["status"] == "error"
    assert failed[inside].mean() > 0.2
    assert failed[~inside].mean() < 0.02
    assert demand.loc[inside & failed, "error"].nunique() >= 2
    assert demand.loc[failed, "prediction"].isna().all()
    assert demand.loc[failed, "error"].notna().all()


def test_latency_spike(root: Path, manifest: DemoManifest, credit: pd.DataFrame) -> None:
    start, end = _window(manifest, "latency_spike")
    inside = (credit["timestamp"] >= start) & (credit["timestamp"] < end)
    latency = credit["latency_ms"]
    assert 30 < latency[~inside].median() < 50
    assert latency[inside].quantile(0.95) > 3 * latency[~inside].quantile(0.95)

    system, _ = _load(root, "system", CR)
    hot = (system["timestamp"] >= start) & (system["timestamp"] < end)
    assert system.loc[hot, "cpu_percent"].mean() > system.loc[~hot, "cpu_percent"].mean() + 20
    assert system.loc[hot, "queue_depth"].mean() > 3 * system.loc[~hot, "queue_depth"].mean()


def test_system_metrics_every_five_minutes_for_two_hosts(root: Path) -> None:
    for model in (CR, DF):
        system, _ = _load(root, "system", model)
        assert sorted(system["host"].unique()) == [f"{model}-a", f"{model}-b"]
        per_host_day = system.groupby(["host", system["timestamp"].dt.date]).size()
        assert (per_host_day == 288).all()
        assert system["cpu_percent"].between(0, 100).all()
        # CPU follows the daily traffic cycle.
        hourly = system.groupby(system["timestamp"].dt.hour)["cpu_percent"].mean()
        assert hourly[13:16].mean() > hourly[1:4].mean() + 10


def test_traffic_has_a_daily_cycle(credit: pd.DataFrame) -> None:
    per_hour = credit.groupby(credit["timestamp"].dt.hour).size()
    assert per_hour[12:17].mean() > 3 * per_hour[0:5].mean()


def test_default_rate_rises_during_the_label_shift(
    manifest: DemoManifest, credit_labeled: pd.DataFrame
) -> None:
    start, end = _window(manifest, "label_shift")
    unlabeled_start, _ = _window(manifest, "unlabeled_tail")
    assert end <= unlabeled_start
    default = credit_labeled["y"] == "1"
    time = credit_labeled["timestamp"]
    assert 0.15 < default[time < start].mean() < 0.25
    assert default[(time >= start) & (time < end)].mean() > 0.3


def test_labels_arrive_late_and_never_for_the_last_two_days(
    root: Path, manifest: DemoManifest, credit: pd.DataFrame, credit_labeled: pd.DataFrame
) -> None:
    unlabeled_start, span_end = _window(manifest, "unlabeled_tail")
    assert span_end - unlabeled_start == pd.Timedelta(days=2)
    assert (credit_labeled["timestamp"] < unlabeled_start).all()
    assert (credit_labeled["label_time"] < span_end).all()
    delay_days = (
        credit_labeled["label_time"] - credit_labeled["timestamp"]
    ).dt.total_seconds() / 86_400
    assert delay_days.min() >= 1.0
    assert delay_days.max() <= 7.0
    assert delay_days.median() < 3.0
    # ~10% of old enough predictions are never labeled.
    old = credit[
        (credit["status"] == "ok") & (credit["timestamp"] < unlabeled_start - pd.Timedelta(days=7))
    ]
    labeled = old["prediction_id"].isin(credit_labeled["prediction_id"]).mean()
    assert 0.85 < labeled < 0.95

    feedback, _ = _load(root, "feedback", DF)
    demand, _ = _load(root, "predictions", DF)
    joined = demand.merge(feedback, on="prediction_id", suffixes=("", "_label"))
    assert len(joined) == len(feedback)
    delay = joined["timestamp_label"] - joined["timestamp"]
    assert delay.between(pd.Timedelta(days=1), pd.Timedelta(hours=30)).all()
    assert (joined["timestamp"] < unlabeled_start).all()


# --- large mode, refusals ---------------------------------------------------------


def test_large_runs_keep_jsonl_to_the_capped_last_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo_generate, "LARGE_PREDICTIONS", 5_000)
    monkeypatch.setattr(demo_writers, "JSONL_CAP", 300)
    manifest = generate_demo(tmp_path, days=5, predictions=20_000)
    last = DEFAULT_END.isoformat()
    assert manifest.jsonl_dates == (last,)
    jsonl = list(tmp_path.rglob("*.jsonl"))
    assert jsonl and all(p.parent.name == f"date={last}" for p in jsonl)
    for path in jsonl:
        kind = path.parent.parent.name
        assert len(_read_jsonl(path, kind)[0]) <= 300
    assert (tmp_path / f"logs/predictions/date={last}/part-{CR}.parquet").exists()
    credit, bad_credit = _load(tmp_path, "predictions", CR)
    demand, bad_demand = _load(tmp_path, "predictions", DF)
    assert len(credit) + len(demand) == 20_000
    invalid = bad_credit + bad_demand + _load(tmp_path, "feedback")[1]
    assert invalid == manifest.invalid_records == 4


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"days": 2}, "at least 3"),
        ({"predictions": 999}, "at least 1000"),
        ({"seed": -1}, "seed"),
    ],
)
def test_invalid_arguments_are_refused(
    tmp_path: Path, kwargs: dict[str, int], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        generate_demo(tmp_path / "out", **kwargs)  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists()


def test_a_directory_with_logs_is_refused(tmp_path: Path) -> None:
    existing = tmp_path / "logs" / "predictions" / "date=2026-11-01" / "server.jsonl"
    existing.parent.mkdir(parents=True)
    existing.write_text('{"prediction_id":"x","timestamp":0,"model_id":"m"}\n')
    with pytest.raises(InputError, match="already contains logs"):
        generate_demo(tmp_path, days=3, predictions=1_000)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["server.jsonl"]


def test_an_existing_config_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "monitor.toml").write_text('data_dir = "."\n')
    with pytest.raises(InputError, match=r"monitor\.toml"):
        generate_demo(tmp_path, days=3, predictions=1_000)
    assert (tmp_path / "monitor.toml").read_text() == 'data_dir = "."\n'


def test_smallest_demo_works(tmp_path: Path) -> None:
    manifest = generate_demo(tmp_path, days=3, predictions=1_000)
    credit, _ = _load(tmp_path, "predictions", CR)
    demand, _ = _load(tmp_path, "predictions", DF)
    assert len(credit) + len(demand) == 1_000
    assert manifest.invalid_records == 4
    for problem in manifest.problems:
        assert pd.Timestamp(problem.start) < pd.Timestamp(problem.end), problem
