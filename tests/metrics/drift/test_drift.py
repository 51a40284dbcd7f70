"""The drift engine over real files in DuckDB, checked against scipy/numpy on the same data."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy import stats
from scipy.spatial import distance

from monitor.core.config import ModelConfig
from monitor.core.tabular import FileDatabase, file_relation
from monitor.metrics.drift.profile import NumericSide
from monitor.metrics.drift.report import DriftReport, FeatureDrift
from monitor.queries import drift_profile
from monitor.queries.drift import drift_between


@pytest.fixture
def db() -> Iterator[FileDatabase]:
    database = FileDatabase()
    yield database
    database.close()


def write(path: Path, columns: Mapping[str, Any]) -> Path:
    pq.write_table(pa.table(dict(columns)), path)
    return path


def compare_files(
    db: FileDatabase, ref: Path, cur: Path, model: ModelConfig | None = None, **options: Any
) -> DriftReport:
    return drift_between(
        db, file_relation(db, ref, model=model), file_relation(db, cur, model=model), **options
    )


def by_name(report: DriftReport) -> dict[str, FeatureDrift]:
    return {f.feature: f for f in report.features}


def psi_numpy(ref: np.ndarray, cur: np.ndarray) -> float:
    edges = np.unique(np.quantile(ref, np.linspace(0.1, 0.9, 9)))
    bounds = np.concatenate([[-np.inf], edges, [np.inf]])
    r = np.array([((ref > lo) & (ref <= hi)).mean() for lo, hi in itertools.pairwise(bounds)])
    c = np.array([((cur > lo) & (cur <= hi)).mean() for lo, hi in itertools.pairwise(bounds)])
    r, c = np.maximum(r, 1e-4), np.maximum(c, 1e-4)
    return float(np.sum((c - r) * np.log(c / r)))


def decile_shares(ref: np.ndarray, values: np.ndarray) -> np.ndarray:
    edges = np.unique(np.quantile(ref, np.linspace(0.1, 0.9, 9)))
    return np.histogram(values, np.concatenate([[-np.inf], edges, [np.inf]]))[0] / values.size


def test_numeric_and_categorical_stats_match_scipy(db: FileDatabase, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    ref_x, cur_x = rng.normal(10, 2, 3000), rng.normal(10.5, 2.2, 2500)
    ref_c = rng.choice(["a", "b", "c"], 3000, p=[0.5, 0.3, 0.2])
    cur_c = rng.choice(["a", "b", "c", "d"], 2500, p=[0.4, 0.3, 0.2, 0.1])
    ref = write(tmp_path / "ref.parquet", {"x": ref_x, "c": ref_c})
    cur = write(tmp_path / "cur.parquet", {"x": cur_x, "c": cur_c})
    report = compare_files(db, ref, cur)
    x, c = by_name(report)["x"], by_name(report)["c"]

    ks = stats.ks_2samp(ref_x, cur_x)
    w1 = stats.wasserstein_distance(ref_x, cur_x)
    # The status is the verdict: a drifted row never reads "ok" (issue 12).
    assert x.kind == "numeric" and x.exact and x.status == "drifted" and x.drifted
    assert x.stats["ks"] == pytest.approx(ks.statistic, abs=1e-12)
    assert x.stats["ks_p_value"] == pytest.approx(ks.pvalue, rel=1e-6)
    assert x.stats["wasserstein"] == pytest.approx(w1, rel=1e-9)
    assert x.stats["wasserstein_norm"] == pytest.approx(w1 / np.std(ref_x), rel=1e-9)
    assert x.stats["psi"] == pytest.approx(psi_numpy(ref_x, cur_x), rel=1e-9)
    p, q = decile_shares(ref_x, ref_x), decile_shares(ref_x, cur_x)
    assert x.stats["jensenshannon"] == pytest.approx(
        distance.jensenshannon(p, q, base=2), abs=1e-12
    )
    assert x.method == "wasserstein_norm" and x.score == x.stats["wasserstein_norm"]

    labels = ["a", "b", "c", "d"]
    ref_counts = [int((ref_c == k).sum()) for k in labels]
    cur_counts = [int((cur_c == k).sum()) for k in labels]
    chi = stats.chi2_contingency(np.array([ref_counts, cur_counts]))
    assert c.kind == "categorical" and c.new_categories == ("d",)
    assert c.stats["chisquare"] == pytest.approx(chi.statistic, rel=1e-10)
    assert c.stats["chisquare_p_value"] == pytest.approx(chi.pvalue, rel=1e-8, abs=1e-300)
    assert c.stats["jensenshannon"] == pytest.approx(
        distance.jensenshannon(ref_counts, cur_counts, base=2), abs=1e-12
    )
    assert set(c.stats) == {"chisquare", "chisquare_p_value", "psi", "jensenshannon"} | {
        "hellinger",
        "kl",
    }
    assert c.drifted  # a new category with 10% of the rows


def test_small_samples_use_the_test_and_its_p_value(db: FileDatabase, tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    ref_x, cur_x = rng.normal(0, 1, 400), rng.normal(0.8, 1, 300)
    ref = write(tmp_path / "ref.parquet", {"x": ref_x})
    cur = write(tmp_path / "cur.parquet", {"x": cur_x})
    x = by_name(compare_files(db, ref, cur))["x"]
    expected = stats.ks_2samp(ref_x, cur_x)
    assert x.method == "ks" and x.threshold == 0.05
    assert x.score == pytest.approx(expected.statistic) and x.p_value == pytest.approx(
        expected.pvalue, rel=1e-6
    )
    assert x.effect_method == "wasserstein_norm" and x.drifted


def test_binary_features_use_the_z_test(db: FileDatabase, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    ref_b, cur_b = rng.random(800) < 0.2, rng.random(900) < 0.35
    ref_i, cur_i = (
        (rng.random(800) < 0.5).astype(np.int64),
        (rng.random(900) < 0.5).astype(np.int64),
    )
    ref = write(tmp_path / "ref.parquet", {"flag": ref_b, "ones": ref_i})
    cur = write(tmp_path / "cur.parquet", {"flag": cur_b, "ones": cur_i})
    found = by_name(compare_files(db, ref, cur))
    flag, ones = found["flag"], found["ones"]
    assert flag.kind == "binary" and ones.kind == "binary"
    table = np.array([[ref_b.sum(), (~ref_b).sum()], [cur_b.sum(), (~cur_b).sum()]])
    expected = stats.chi2_contingency(table, correction=False)
    assert flag.method == "ztest"
    z = flag.stats["ztest"]
    assert z is not None
    assert z**2 == pytest.approx(expected.statistic, rel=1e-9)
    assert flag.p_value == pytest.approx(expected.pvalue, rel=1e-8)
    assert z > 0  # the share of True rose
    assert flag.drifted and not ones.drifted


def test_kind_override_from_config(db: FileDatabase, tmp_path: Path) -> None:
    values = np.arange(2000) % 7
    ref = write(tmp_path / "ref.parquet", {"day": values.astype(float)})
    cur = write(tmp_path / "cur.parquet", {"day": np.roll(values, 3).astype(float)})
    model = ModelConfig(id="m", feature_kinds={"day": "categorical"})
    day = by_name(compare_files(db, ref, cur, model=model))["day"]
    assert day.kind == "categorical" and "chisquare" in day.stats
    assert by_name(compare_files(db, ref, cur))["day"].kind == "numeric"


def test_known_shifts_are_caught_and_null_features_are_not(
    db: FileDatabase, tmp_path: Path
) -> None:
    rng = np.random.default_rng(4)
    n = 20_000
    ref = {f"f{i}": rng.normal(0, 1, n) for i in range(10)}
    cur = {f"f{i}": rng.normal(0, 1, n) for i in range(10)}
    cur["f0"] = rng.normal(0.5, 1, n)  # mean shift
    cur["f1"] = rng.normal(0, 2, n)  # variance change
    report = compare_files(
        db, write(tmp_path / "r.parquet", ref), write(tmp_path / "c.parquet", cur)
    )
    assert {f.feature for f in report.drifted} == {"f0", "f1"}
    assert report.share_drifted == pytest.approx(0.2)
    assert not report.dataset_drift
    shifted = compare_files(
        db,
        write(tmp_path / "r2.parquet", ref),
        write(tmp_path / "c2.parquet", {k: v + 1 for k, v in cur.items()}),
    )
    assert shifted.dataset_drift and shifted.share_drifted == 1.0


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_null_data_flags_at_most_the_expected_false_positives(
    db: FileDatabase, tmp_path: Path, seed: int
) -> None:
    """20 features, same distribution, 100k rows a side (the sampled path): with BH the
    family-wise false-positive rate under the global null is <= alpha, so no feature (and,
    with the effect-size gate, not even a raw p-value below alpha counts)."""
    rng = np.random.default_rng(seed)
    n = 100_000
    ref = write(tmp_path / "r.parquet", {f"f{i}": rng.normal(0, 1, n) for i in range(20)})
    cur = write(tmp_path / "c.parquet", {f"f{i}": rng.normal(0, 1, n) for i in range(20)})
    for correction in ("bh", "bonferroni"):
        report = compare_files(db, ref, cur, correction=correction, method="ks")
        assert not report.drifted, [(f.feature, f.p_value_adjusted) for f in report.drifted]
        assert not report.dataset_drift and report.share_drifted == 0
    raw = compare_files(db, ref, cur, correction="none", method="ks")
    assert sum(f.p_value is not None and f.p_value < 0.05 for f in raw.features) <= 4


def test_corrections_change_the_adjusted_p_values(db: FileDatabase, tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    ref = {f"f{i}": rng.normal(0, 1, 500) for i in range(6)}
    cur = {f"f{i}": rng.normal(0.1 * i, 1, 500) for i in range(6)}
    r, c = write(tmp_path / "r.parquet", ref), write(tmp_path / "c.parquet", cur)
    raw = [f.stats["ks_p_value"] for f in compare_files(db, r, c, correction="none").features]
    bh = [f.p_value_adjusted for f in compare_files(db, r, c, correction="bh").features]
    bonf = [f.p_value_adjusted for f in compare_files(db, r, c, correction="bonferroni").features]
    assert np.allclose(np.array(bh, float), stats.false_discovery_control(raw, method="bh"))
    assert np.allclose(np.array(bonf, float), np.minimum(1, np.array(raw, float) * 6))


def test_large_samples_bin_in_sql_and_sample_within_the_stated_error(
    db: FileDatabase, tmp_path: Path
) -> None:
    """Above EXACT_LIMIT rows, PSI/JS use every row (DuckDB histogram against the
    reference deciles, edges from a 50k sample) and KS/Wasserstein a 50k sample a side.
    Stated error (docs/drift.md): |D - D_exact| <= 0.015, |W1 - W1_exact| <= 0.03 std."""
    rng = np.random.default_rng(6)
    n = 200_000
    ref_x = rng.lognormal(0, 0.6, n)
    cur_x = rng.lognormal(0.1, 0.6, n)
    ref = write(tmp_path / "r.parquet", {"x": ref_x})
    cur = write(tmp_path / "c.parquet", {"x": cur_x})
    x = by_name(compare_files(db, ref, cur))["x"]
    assert not x.exact
    exact = stats.ks_2samp(ref_x, cur_x)
    w1 = stats.wasserstein_distance(ref_x, cur_x)
    assert abs(x.stats["ks"] - exact.statistic) <= 0.015
    assert abs(x.stats["wasserstein"] - w1) <= 0.03 * np.std(ref_x)
    assert abs(x.stats["wasserstein_norm"] - w1 / np.std(ref_x)) <= 0.03
    # PSI from full-data bin counts against the sample's deciles: within sampling error of
    # the edges of the exact-deciles PSI.
    assert x.stats["psi"] == pytest.approx(psi_numpy(ref_x, cur_x), rel=0.1)
    assert x.reference_count == n and x.current_count == n


def test_sampled_psi_uses_every_row(db: FileDatabase, tmp_path: Path) -> None:
    """With given edges, the bin counts of a large side come from SQL over every row."""
    rng = np.random.default_rng(7)
    ref_x, cur_x = rng.normal(0, 1, 120_000), rng.normal(0.2, 1, 90_000)
    ref = file_relation(db, write(tmp_path / "r.parquet", {"x": ref_x}))
    cur = file_relation(db, write(tmp_path / "c.parquet", {"x": cur_x}))
    ref_profile = drift_profile.profile_reference(db, ref)
    cur_profile = drift_profile.profile_current(db, cur, ref_profile)
    edges = ref_profile.edges["x"]
    side = cur_profile.columns["x"]
    assert isinstance(side, NumericSide) and side.bins is not None
    bounds = np.concatenate([[-np.inf], edges, [np.inf]])
    assert side.bins.tolist() == np.histogram(cur_x, bounds)[0].tolist()
    reference_side = ref_profile.profile.columns["x"]
    assert isinstance(reference_side, NumericSide)
    assert reference_side.std == pytest.approx(np.std(ref_x), rel=1e-9)
    assert side.std is None  # not computed for a current side (only the reference's is used)


def test_degenerate_features_get_a_status(db: FileDatabase, tmp_path: Path) -> None:
    n = 200
    rng = np.random.default_rng(8)
    ref = {
        "constant": np.full(n, 3.0),
        "all_null": pa.array([None] * n, pa.float64()),
        "only_ref": rng.normal(size=n),
        "with_inf": np.where(np.arange(n) % 10 == 0, np.inf, rng.normal(size=n)),
        "few": pa.array([1.0, 2.0] + [None] * (n - 2), pa.float64()),
        "cat": rng.choice(["a", "b"], n),
        "same_constant": np.full(n, 1.5),
    }
    cur = {
        "constant": np.where(np.arange(n) % 2 == 0, 3.0, 4.0),
        "all_null": rng.normal(size=n),
        "only_cur": rng.normal(size=n),
        "with_inf": np.where(np.arange(n) % 7 == 0, np.nan, rng.normal(size=n)),
        "few": rng.normal(size=n),
        "cat": rng.choice(["a", "b", "z"], n),
        "same_constant": np.full(n, 1.5),
    }
    report = compare_files(
        db, write(tmp_path / "r.parquet", ref), write(tmp_path / "c.parquet", cur)
    )
    found = by_name(report)
    # Judged on KS D (W1/std is undefined for a constant reference); drifted, so its
    # status says so rather than "constant in reference" (issue 12).
    assert found["constant"].status == "drifted"
    assert found["constant"].stats["wasserstein_norm"] is None
    assert found["constant"].effect_method == "ks" and found["constant"].drifted
    assert found["same_constant"].status == "constant in reference"
    assert not found["same_constant"].drifted
    assert found["all_null"].status == "no values in reference" and found["all_null"].score is None
    assert found["only_ref"].status == "missing in current"
    assert found["only_cur"].status == "missing in reference"
    assert found["few"].status == "not enough data"
    with_inf = found["with_inf"]
    assert with_inf.status == "ok" and with_inf.reference_count == n - 20
    assert with_inf.current_count == n - len(range(0, n, 7))
    assert all(v is None or np.isfinite(v) for v in with_inf.stats.values())
    assert found["cat"].new_categories == ("z",)
    assert report.evaluated and all(f.status for f in report.features)


def test_a_single_row_is_not_enough(db: FileDatabase, tmp_path: Path) -> None:
    ref = write(tmp_path / "r.parquet", {"x": np.arange(100.0), "c": ["a", "b"] * 50})
    cur = write(tmp_path / "c.parquet", {"x": [5.0], "c": ["a"]})
    report = compare_files(db, ref, cur)
    assert {f.status for f in report.features} == {"not enough data"}
    assert report.share_drifted is None and not report.dataset_drift


def test_type_changed_between_sides(db: FileDatabase, tmp_path: Path) -> None:
    ref = write(tmp_path / "r.parquet", {"x": np.arange(100.0)})
    cur = write(tmp_path / "c.parquet", {"x": [f"v{i}" for i in range(100)]})
    x = by_name(compare_files(db, ref, cur))["x"]
    # Numbers on one side and text that is not numbers on the other have no common type
    # (issue 13: "incomparable" with the reason, was "type changed").
    assert x.status.startswith("incomparable (numbers in ") and not x.drifted and not x.judged
    assert "only 0% of the values in" in x.status


def test_reference_profile_is_cached_per_file_version(db: FileDatabase, tmp_path: Path) -> None:
    path = write(tmp_path / "r.parquet", {"x": np.arange(100.0)})
    first = drift_profile.profile_reference(db, file_relation(db, path))
    assert drift_profile.profile_reference(db, file_relation(db, path)) is first
    write(path, {"x": np.arange(200.0)})
    again = drift_profile.profile_reference(db, file_relation(db, path))
    assert again is not first and again.profile.rows == 200


def test_feature_kinds_in_config_are_validated(tmp_path: Path) -> None:
    from monitor.core.config import parse_settings
    from monitor.core.errors import ConfigError

    raw = {"models": [{"id": "m", "feature_kinds": {"day": "categorical", "flag": "binary"}}]}
    settings = parse_settings(raw, base_dir=tmp_path)
    assert dict(settings.model("m").feature_kinds) == {"day": "categorical", "flag": "binary"}
    with pytest.raises(ConfigError, match="feature_kinds"):
        parse_settings(
            {"models": [{"id": "m", "feature_kinds": {"x": "ordinal"}}]}, base_dir=tmp_path
        )
