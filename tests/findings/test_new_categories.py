"""The new-categories rule on the demo: the share of values in neither the reference nor
the config, per categorical feature, checked against pandas on the raw log files."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from monitor.core.config import load_settings
from monitor.core.store import LogStore
from monitor.findings.evaluate import evaluate
from tests.ui.test_drift import logged

MODEL = "credit-risk"


def test_unknown_categories_are_a_data_quality_finding(demo_dir: Path) -> None:
    settings = load_settings(demo_dir / "monitor.toml", env={})
    store = LogStore(demo_dir)
    try:
        found = evaluate(store, settings, dt.datetime.now(dt.UTC))
        mine = {
            f.series.labels["feature"]: f
            for f in found.found
            if f.rule.id == "new_categories" and f.model_id == MODEL
        }
        assert set(mine) == {"employment_type", "region", "gender", "age_group"}
        gig = mine["employment_type"]
        frame = logged(demo_dir, "employment_type")
        window = frame[(frame.timestamp >= gig.window.start) & (frame.timestamp <= gig.window.end)]
        values = window.value.dropna()
        known = set(pd.read_parquet(demo_dir / "reference" / f"{MODEL}.parquet").employment_type)
        known |= set(settings.model(MODEL).feature_categories["employment_type"])
        expected = float((~values.isin(known)).mean())
        assert expected > 0.05 and set(values[~values.isin(known)]) == {"gig_worker"}
        assert gig.value == pytest.approx(expected, rel=1e-12)
        assert gig.breached and gig.severity == "warning" and gig.page == "data_quality"
        assert (
            gig.headline == f"employment_type: new-category share {expected:.1%} (threshold > 5.0%)"
        )
        assert not [f for f in mine.values() if f is not gig and f.breached]
        assert gig in found.problems(MODEL)

        raised = dataclasses.replace(
            settings, thresholds=dataclasses.replace(settings.thresholds, new_category_share=0.5)
        )
        calm = evaluate(store, raised, dt.datetime.now(dt.UTC))
        assert not [f for f in calm.problems(MODEL) if f.rule.id == "new_categories"]
    finally:
        store.close()
