"""Data quality over real files and logs, checked against pandas on the same data."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from monitor.cli.main import main
from monitor.core.catalog import Window
from monitor.core.config import ModelConfig, Thresholds, load_settings, parse_settings
from monitor.core.errors import ConfigError
from monitor.core.store import LogStore
from monitor.core.tabular import FileDatabase, file_relation, log_relation, reference_relation
from monitor.findings.rules_config import alerts_config
from monitor.metrics.health import service as health
from monitor.metrics.quality import FeatureQuality, Limits, new_category_shares
from monitor.queries.drift_profile import profiles
from monitor.queries.quality import (
    correlations,
    known_categories,
    quality_over_time,
    quality_report,
)
from tests.logwriter import prediction, write_jsonl


@pytest.fixture
def db() -> Iterator[FileDatabase]:
    database = FileDatabase()
    yield database
    database.close()


def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    n, m = 1000, 800
    ref = pd.DataFrame(
        {
            "amount": rng.uniform(0, 100, n),
            "age": rng.integers(18, 90, n).astype(float),
            "city": rng.choice(["paris", "rome", "oslo"], n),
            "gone": rng.normal(size=n),
            "typed": rng.normal(size=n),
        }
    )
    amount = rng.uniform(-10, 120, m)
    amount[:40] = np.nan
    amount[40:45] = np.inf
    cur = pd.DataFrame(
        {
            "amount": amount,
            "age": np.full(m, 30.0),
            "city": rng.choice(np.array(["paris", "rome", "lima", "kyiv", None], object), m),
            "extra": rng.normal(size=m),
            "typed": [f"t{i}" for i in range(m)],
        }
    )
    return ref, cur


def by_name(features: tuple[FeatureQuality, ...]) -> dict[str, FeatureQuality]:
    return {f.feature: f for f in features}


def test_quality_of_files_matches_pandas(db: FileDatabase, tmp_path: Path) -> None:
    ref, cur = frames()
    ref.to_parquet(tmp_path / "ref.parquet", index=False)
    cur.to_parquet(tmp_path / "cur.parquet", index=False)
    report = quality_report(
        db,
        file_relation(db, tmp_path / "ref.parquet"),
        file_relation(db, tmp_path / "cur.parquet"),
        ranges={"amount": (0.0, 100.0)},
        categories={"city": ["lima"]},
    )
    found = by_name(report.features)
    assert report.reference_rows == 1000 and report.current_rows == 800
    assert report.missing_columns == ("gone",)
    assert report.unexpected_columns == ("extra",)
    assert report.type_changes == (("typed", "DOUBLE", "VARCHAR"),)
    assert report.duplicate_ids is None  # files have no prediction ids

    amount = found["amount"]
    values = cur["amount"]
    finite = values[np.isfinite(values)]
    assert amount.missing == int(values.isna().sum()) == 40  # NaN reads as missing in Parquet
    assert amount.non_finite == 5
    assert amount.out_of_range == int(((finite < 0) | (finite > 100)).sum())
    assert amount.out_of_range_share == pytest.approx(amount.out_of_range / len(finite))
    assert amount.valid_range == (0.0, 100.0) and amount.range_source == "config"

    age = found["age"]
    assert age.range_source == "reference"
    assert age.valid_range == (ref["age"].min(), ref["age"].max())
    assert age.constant and age.out_of_range == 0

    city = found["city"]
    counts = cur["city"].value_counts()
    assert city.missing == int(cur["city"].isna().sum())
    assert city.missing_share == pytest.approx(cur["city"].isna().mean())
    assert dict(city.new_categories) == {"kyiv": int(counts["kyiv"])}  # lima is configured
    assert city.new_category_share == pytest.approx(counts["kyiv"] / cur["city"].notna().sum())
    assert city.reference_cardinality == 3 and city.current_cardinality == 4
    assert found["gone"].status == "missing in current"
    assert found["extra"].status == "not in reference"
    assert found["typed"].status == "type changed (DOUBLE -> VARCHAR)"


def test_new_categories_and_missing_values_above_their_limits_are_a_status(
    db: FileDatabase, tmp_path: Path
) -> None:
    """Contradiction 4: 12% unknown categories must not read "ok"."""
    ref, cur = frames()
    ref.to_parquet(tmp_path / "ref.parquet", index=False)
    cur.to_parquet(tmp_path / "cur.parquet", index=False)
    reference = file_relation(db, tmp_path / "ref.parquet")
    current = file_relation(db, tmp_path / "cur.parquet")
    values = cur["city"].dropna()
    share = values.isin(["lima", "kyiv"]).mean()  # neither is a reference category
    missing = cur["city"].isna().mean()
    assert 0.3 < share < 0.7 and 0.1 < missing < 0.3

    report = quality_report(db, reference, current)  # [thresholds] defaults: 10%, 5%
    city = by_name(report.features)["city"]
    assert city.new_category_share == pytest.approx(share)
    assert city.missing_share == pytest.approx(missing)
    assert city.status == "often missing, new categories"
    assert by_name(report.features)["age"].status == "ok"  # constant, none missing
    assert by_name(report.features)["gone"].status == "missing in current"  # schema first

    lenient = quality_report(
        db, reference, current, limits=Limits(missing_share=0.5, new_category_share=share)
    )
    assert by_name(lenient.features)["city"].status == "ok"  # the rules' comparator is >
    unjudged = quality_report(db, reference, current, limits=Limits(None, None))
    assert by_name(unjudged.features)["city"].status == "ok"


def test_the_alert_rule_and_the_report_share_one_new_category_definition(
    db: FileDatabase, tmp_path: Path
) -> None:
    ref, cur = frames()
    ref.to_parquet(tmp_path / "ref.parquet", index=False)
    cur.to_parquet(tmp_path / "cur.parquet", index=False)
    reference = file_relation(db, tmp_path / "ref.parquet")
    current = file_relation(db, tmp_path / "cur.parquet")
    configured = {"city": ["lima"]}
    report = quality_report(db, reference, current, categories=configured)
    ref_profile, cur_profile = profiles(db, reference, current)
    shares = {
        f.feature: f for f in new_category_shares(ref_profile.profile, cur_profile, configured)
    }
    counts = cur["city"].value_counts()
    city = by_name(report.features)["city"]
    assert shares["city"].share == pytest.approx(city.new_category_share)
    assert shares["city"].share == pytest.approx(counts["kyiv"] / cur["city"].notna().sum())
    assert shares["city"].new == city.new_categories == (("kyiv", int(counts["kyiv"])),)
    assert shares["city"].new_values == int(counts["kyiv"])


def test_new_category_share_threshold_is_configurable(tmp_path: Path) -> None:
    assert Thresholds().new_category_share == 0.05
    settings = parse_settings({"thresholds": {"new_category_share": 0.2}}, base_dir=tmp_path)
    assert settings.thresholds.new_category_share == 0.2
    rules = {r.id: r for r in alerts_config(settings).rules}
    rule = rules["new_categories"]
    assert (rule.metric, rule.comparator, rule.threshold) == ("new_category_share", ">", 0.2)
    assert rule.info.page == "data_quality" and rule.critical is None
    with pytest.raises(ConfigError, match="new_category_share"):
        parse_settings({"thresholds": {"new_category_share": -1}}, base_dir=tmp_path)


def test_correlations_match_pandas(db: FileDatabase, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=500)
    ref = pd.DataFrame({"x": x, "y": 2 * x + rng.normal(size=500), "z": rng.normal(size=500)})
    cur = ref.copy()
    cur["y"] = -cur["x"] + rng.normal(scale=0.1, size=500)
    cur.loc[:20, "z"] = np.nan
    ref.to_parquet(tmp_path / "r.parquet")
    cur.to_parquet(tmp_path / "c.parquet")
    found = correlations(
        db, file_relation(db, tmp_path / "r.parquet"), file_relation(db, tmp_path / "c.parquet")
    )
    assert found.features == ("x", "y", "z")
    for side, frame in (("reference", ref), ("current", cur)):
        matrix = np.array(getattr(found, side), dtype=float)
        assert np.allclose(matrix, frame.corr().to_numpy(), atol=1e-10), side


def test_duplicate_ids_and_missing_over_time_in_logs(tmp_path: Path) -> None:
    records = [
        prediction("a", "2026-11-01T01:00:00Z", features={"x": 1.0, "c": "u"}),
        prediction("a", "2026-11-01T02:00:00Z", features={"x": None, "c": "u"}),
        prediction("b", "2026-11-01T03:00:00Z", features={"x": 3.0, "c": None}),
        prediction("c", "2026-11-02T01:00:00Z", features={"x": None, "c": "v"}),
        prediction("c", "2026-11-02T02:00:00Z", features={"x": None, "c": "v"}),
        prediction("c", "2026-11-02T03:00:00Z", features={"x": 6.0, "c": "v"}),
    ]
    write_jsonl(tmp_path, "predictions", "2026-11-01", "p.jsonl", records[:3])
    write_jsonl(tmp_path, "predictions", "2026-11-02", "p.jsonl", records[3:])
    store = LogStore(tmp_path)
    try:
        window = Window(
            dt.datetime(2026, 11, 1, tzinfo=dt.UTC), dt.datetime(2026, 11, 3, tzinfo=dt.UTC)
        )
        current = log_relation(store, ModelConfig(id="m"), window)
        found = quality_over_time(
            store,
            current,
            width_us=86_400_000_000,
            ranges={"x": (0.0, 2.0)},
            known={"c": ["u"]},
        )
        assert [s.date() for s in found.starts] == [dt.date(2026, 11, 1), dt.date(2026, 11, 2)]
        assert found.rows == (3, 3)
        shares = dict(zip(found.features, found.missing, strict=True))
        assert shares["x"] == pytest.approx((1 / 3, 2 / 3))
        assert shares["c"] == pytest.approx((1 / 3, 0.0))
        outside = dict(zip(found.features, found.out_of_range, strict=True))
        assert outside["x"] == pytest.approx((1 / 2, 1.0))  # 3.0 and 6.0 are above 2.0
        assert outside["c"] == (None, None)
        new = dict(zip(found.features, found.new_categories, strict=True))
        assert new["c"] == pytest.approx((0.0, 1.0))  # "v" is not known
        assert new["x"] == (None, None)
        report = quality_report(store, current, current)
        assert report.duplicate_ids == 3  # a twice, c three times: 3 repeats
    finally:
        store.close()


def test_demo_missing_values_and_new_category_on_their_days(demo_dir: Path) -> None:
    settings = load_settings(demo_dir / "monitor.toml", env={})
    manifest = json.loads((demo_dir / "demo_manifest.json").read_text())
    problems = {p["name"]: p for p in manifest["problems"]}
    model = settings.model("credit-risk")
    store = LogStore(settings.data_dir)
    try:
        span = Window(
            dt.datetime.fromisoformat(manifest["span_start"]),
            dt.datetime.fromisoformat(manifest["span_end"]) - dt.timedelta(microseconds=1),
        )
        current = log_relation(store, model, span)
        reference = reference_relation(store, model)
        daily = quality_over_time(
            store,
            current,
            width_us=86_400_000_000,
            known=known_categories(store, reference, model.feature_categories),
        )
        shares = dict(zip(daily.features, daily.missing, strict=True))["credit_score"]
        spike_day = dt.datetime.fromisoformat(problems["missing_values"]["start"]).date()
        by_day = {start.date(): share for start, share in zip(daily.starts, shares, strict=True)}
        spike = by_day[spike_day]
        assert spike is not None and spike > 0.3
        assert all(s is not None and s < 0.05 for d, s in by_day.items() if d != spike_day)

        first_gig = dt.datetime.fromisoformat(problems["new_category"]["start"]).date()
        gig = dict(zip(daily.features, daily.new_categories, strict=True))["employment_type"]
        for start, share in zip(daily.starts, gig, strict=True):
            assert share is not None
            assert (share > 0.05) == (start.date() >= first_gig), (start, share)
        for day in (first_gig - dt.timedelta(days=1), first_gig):
            start = dt.datetime.combine(day, dt.time(), dt.UTC)
            window = Window(start, start + dt.timedelta(days=1, microseconds=-1))
            report = quality_report(
                store,
                reference,
                log_relation(store, model, window),
                categories=model.feature_categories,
            )
            new = dict(by_name(report.features)["employment_type"].new_categories)
            assert (set(new) == {"gig_worker"}) == (day == first_gig), (day, new)
        everything = health.invalid_in_window(store.invalid_records(), span)
        assert everything == manifest["invalid_records"] == 4
    finally:
        store.close()


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def test_quality_cli(tmp_path: Path, demo_dir: Path) -> None:
    ref, cur = frames()
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.to_parquet(tmp_path / "cur.parquet", index=False)
    code, out, err = cli(
        "quality", "--reference", str(tmp_path / "ref.csv"), "--current",
        str(tmp_path / "cur.parquet"), "--json",
    )  # fmt: skip
    assert code == 0, err
    document: dict[str, Any] = json.loads(out)
    assert document["missing_columns"] == ["gone"]
    assert document["unexpected_columns"] == ["extra"]
    city = next(f for f in document["features"] if f["feature"] == "city")
    assert {c["category"] for c in city["new_categories"]} == {"lima", "kyiv"}
    code, _, _ = cli(
        "quality", "--reference", str(tmp_path / "ref.csv"), "--current",
        str(tmp_path / "cur.parquet"), "--fail-on-issues",
    )  # fmt: skip
    assert code == 3
    empty = tmp_path / "empty.csv"
    empty.write_text("amount\n")
    code, _, err = cli("quality", "--reference", str(empty), "--current", str(empty))
    assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1
    code, out, err = cli(
        "--config", str(demo_dir / "monitor.toml"), "quality", "--model", "credit-risk", "--json"
    )
    assert code == 0, err
    logged = json.loads(out)
    assert logged["reference_rows"] == 20_000 and logged["duplicate_ids"] == 0
    assert isinstance(logged["invalid_records"], int)
