"""What the rollups hold per model (`model_spec`): the reference's kinds and decile edges as
numpy computes them, the config's features, and a digest that follows every change."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from monitor.core.config import load_settings
from monitor.core.store import LogStore
from monitor.queries import rollup


@pytest.fixture(scope="module")
def store(demo_dir: Path) -> Iterator[LogStore]:
    found = LogStore(demo_dir)
    yield found
    found.close()


def test_numeric_features_get_the_reference_deciles(store: LogStore, demo_dir: Path) -> None:
    settings = load_settings(demo_dir / "monitor.toml", env={})
    spec = rollup.model_spec(store, settings.model("credit-risk"), store.features)
    reference = pq.read_table(demo_dir / "reference" / "credit-risk.parquet").to_pandas()
    by_key = {f.key: f for f in spec.features}
    for key in ("income", "age", "loan_amount", "debt_ratio"):
        expected = np.unique(np.quantile(reference[key], np.linspace(0.1, 0.9, 9)))
        assert by_key[key].kind == "numeric" and by_key[key].declared
        np.testing.assert_array_equal(np.array(by_key[key].edges), expected)
    assert by_key["region"].kind == "categorical" and by_key["region"].edges is None
    assert [f.key for f in spec.sensitive] == ["gender", "age_group"]
    # the other model's features are logged, but not declared for this one
    assert not by_key["temperature"].declared
    assert spec.task == "binary" and spec.positive_label == "1"


def test_a_model_without_reference_has_no_bins(store: LogStore) -> None:
    from monitor.core.config import ModelConfig

    spec = rollup.model_spec(store, ModelConfig(id="other"), store.features)
    assert all(f.edges is None and not f.declared for f in spec.features)
    assert spec.reference_problem is None


def test_a_missing_reference_is_reported_not_raised(store: LogStore, tmp_path: Path) -> None:
    from monitor.core.config import ModelConfig

    model = ModelConfig(id="credit-risk", reference=tmp_path / "gone.parquet")
    spec = rollup.model_spec(store, model, store.features)
    assert spec.reference_problem is not None and "gone.parquet" in spec.reference_problem


def test_the_digest_follows_the_spec(store: LogStore, demo_dir: Path) -> None:
    settings = load_settings(demo_dir / "monitor.toml", env={})
    model = settings.model("credit-risk")
    spec = rollup.model_spec(store, model, store.features)
    again = rollup.model_spec(store, model, store.features)
    assert rollup.spec_digest([spec]) == rollup.spec_digest([again])
    other = dataclasses.replace(model, positive_label="0")
    changed = rollup.model_spec(store, other, store.features)
    assert rollup.spec_digest([spec]) != rollup.spec_digest([changed])
