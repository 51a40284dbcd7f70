"""Each drift statistic against scipy (or the formula written out another way), plus
properties that must hold for any input (hypothesis)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial import distance

from monitor.metrics.drift import methods as dm
from monitor.metrics.drift.registry import KIND_EFFECT, KIND_TEST, METHODS

RNG = np.random.default_rng(123)


def _pair(n1: int, n2: int, shift: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(n1 + n2)
    a = np.sort(rng.normal(0.0, 1.0, n1))
    b = np.sort(rng.normal(shift, 1.3, n2))
    return a, b


@pytest.mark.parametrize(("n1", "n2"), [(7, 5), (300, 1000), (5000, 12000), (60000, 40000)])
def test_ks_and_wasserstein_match_scipy(n1: int, n2: int) -> None:
    a, b = _pair(n1, n2)
    d, p, w = dm.ks_and_wasserstein(a, b)
    expected = stats.ks_2samp(a, b)
    assert d == pytest.approx(expected.statistic, abs=1e-12)
    assert p == pytest.approx(expected.pvalue, rel=1e-6, abs=1e-300)
    assert w == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-9)
    assert dm.ks_2samp(a, b)[0] == d
    assert dm.wasserstein(a, b) == pytest.approx(w, rel=1e-12)


def test_ks_with_ties_matches_scipy() -> None:
    a = np.sort(RNG.integers(0, 5, 20000).astype(float))
    b = np.sort(RNG.integers(0, 6, 15000).astype(float))
    d, p, w = dm.ks_and_wasserstein(a, b)
    expected = stats.ks_2samp(a, b)
    assert d == pytest.approx(expected.statistic, abs=1e-12)
    assert p == pytest.approx(expected.pvalue, rel=1e-6, abs=1e-300)
    assert w == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-9)


def test_decile_edges_and_bins_follow_numpy() -> None:
    ref = RNG.normal(size=1001)
    edges = dm.decile_edges(ref)
    assert np.allclose(edges, np.quantile(ref, [0.1 * i for i in range(1, 10)]))
    values = RNG.normal(size=5000)
    counts = dm.bin_counts(values, edges)
    # (-inf, e1], (e1, e2], ..., (e9, inf) written out with comparisons
    bounds = [-np.inf, *edges, np.inf]
    expected = [
        int(((values > lo) & (values <= hi)).sum()) for lo, hi in itertools.pairwise(bounds)
    ]
    assert counts.tolist() == expected
    assert dm.decile_edges(np.array([3.0] * 50)).tolist() == [3.0]


def _psi_by_hand(ref: list[float], cur: list[float]) -> float:
    r = np.array(ref) / sum(ref)
    c = np.array(cur) / sum(cur)
    total = 0.0
    for ri, ci in zip(r, c, strict=True):
        ri, ci = max(ri, 1e-4), max(ci, 1e-4)
        total += (ci - ri) * math.log(ci / ri)
    return total


COUNT_CASES = [
    ([10, 20, 30, 40], [40, 30, 20, 10]),
    ([100, 0, 50], [90, 10, 50]),
    ([5, 5], [0, 10]),
    ([1000, 1, 1, 1], [1, 1, 1, 1000]),
]


@pytest.mark.parametrize(("ref", "cur"), COUNT_CASES)
def test_binned_distances_match_scipy(ref: list[float], cur: list[float]) -> None:
    p, q = np.array(ref) / sum(ref), np.array(cur) / sum(cur)
    assert dm.psi(ref, cur) == pytest.approx(_psi_by_hand(ref, cur), rel=1e-12)
    assert dm.jensenshannon(ref, cur) == pytest.approx(
        distance.jensenshannon(p, q, base=2), abs=1e-12
    )
    hellinger = np.linalg.norm(np.sqrt(p) - np.sqrt(q)) / math.sqrt(2)
    assert dm.hellinger(ref, cur) == pytest.approx(hellinger, abs=1e-12)
    floored_r, floored_c = np.maximum(p, 1e-4), np.maximum(q, 1e-4)
    assert dm.kl(ref, cur) == pytest.approx(stats.entropy(floored_c, floored_r), rel=1e-12)


@pytest.mark.parametrize(
    ("ref", "cur"),
    [([10, 20, 30], [30, 20, 10]), ([50, 50], [30, 70]), ([5, 0, 7, 9], [6, 3, 0, 11])],
)
def test_chisquare_matches_chi2_contingency(ref: list[float], cur: list[float]) -> None:
    statistic, p = dm.chisquare(ref, cur)
    table = np.array([ref, cur], dtype=float)
    table = table[:, table.sum(axis=0) > 0]
    expected = stats.chi2_contingency(table)
    assert statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert p == pytest.approx(expected.pvalue, rel=1e-10)


def test_chisquare_degenerate_tables() -> None:
    assert dm.chisquare([10], [5]) == (0.0, 1.0)
    assert dm.chisquare([10, 0], [5, 0]) == (0.0, 1.0)


@pytest.mark.parametrize(("x1", "n1", "x2", "n2"), [(20, 100, 35, 100), (400, 2000, 390, 1800)])
def test_ztest_squared_is_the_uncorrected_chisquare(x1: int, n1: int, x2: int, n2: int) -> None:
    z, p = dm.ztest(x1, n1, x2, n2)
    table = np.array([[x1, n1 - x1], [x2, n2 - x2]])
    expected = stats.chi2_contingency(table, correction=False)
    assert z**2 == pytest.approx(expected.statistic, rel=1e-10)
    assert p == pytest.approx(expected.pvalue, rel=1e-8)
    assert math.copysign(1, z) == math.copysign(1, x2 / n2 - x1 / n1)
    assert dm.ztest(0, 10, 0, 20) == (0.0, 1.0)


def test_benjamini_hochberg_and_bonferroni() -> None:
    p = RNG.uniform(0, 0.2, 30).tolist()
    bh = dm.adjust(p, "bh")
    assert np.allclose(np.array(bh, float), stats.false_discovery_control(p, method="bh"))
    assert dm.adjust(p, "bonferroni") == [min(1.0, x * 30) for x in p]
    assert dm.adjust(p, "none") == p
    with_gaps = dm.adjust([0.01, None, 0.04], "bh")
    assert with_gaps[1] is None
    assert with_gaps[0] == pytest.approx(0.02) and with_gaps[2] == pytest.approx(0.04)


def test_registry_is_consistent() -> None:
    for kind, name in KIND_TEST.items():
        assert METHODS[name].gives_p_value and kind in METHODS[name].kinds
    for kind, name in KIND_EFFECT.items():
        assert not METHODS[name].gives_p_value and kind in METHODS[name].kinds
    assert {m.name for m in dm.methods_for("numeric")} == {
        "ks", "psi", "wasserstein", "wasserstein_norm", "jensenshannon", "hellinger", "kl"
    }  # fmt: skip
    assert dm.auto_method("numeric", 500, 10**6) == "ks"
    assert dm.auto_method("categorical", 5000, 5000) == "jensenshannon"


# -- properties ---------------------------------------------------------------------------

counts = st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=12)


@st.composite
def count_pairs(draw: st.DrawFn) -> tuple[list[int], list[int]]:
    ref = draw(counts.filter(lambda c: sum(c) > 0))
    cur = draw(
        st.lists(
            st.integers(min_value=0, max_value=10_000), min_size=len(ref), max_size=len(ref)
        ).filter(lambda c: sum(c) > 0)
    )
    return ref, cur


@settings(max_examples=200, deadline=None, database=None)
@given(count_pairs())
def test_binned_properties(pair: tuple[list[int], list[int]]) -> None:
    ref, cur = pair
    assert dm.psi(ref, cur) >= 0
    assert 0 <= dm.jensenshannon(ref, cur) <= 1
    assert 0 <= dm.hellinger(ref, cur) <= 1
    assert dm.kl(ref, cur) >= 0
    assert dm.psi(ref, cur) == pytest.approx(dm.psi(cur, ref), rel=1e-9, abs=1e-12)
    assert dm.jensenshannon(ref, cur) == pytest.approx(dm.jensenshannon(cur, ref), abs=1e-12)
    assert dm.hellinger(ref, cur) == pytest.approx(dm.hellinger(cur, ref), abs=1e-12)
    _, p = dm.chisquare(ref, cur)
    assert 0 <= p <= 1


@settings(max_examples=100, deadline=None, database=None)
@given(counts.filter(lambda c: sum(c) > 0), st.integers(min_value=1, max_value=50))
def test_identical_distributions_give_zero(ref: list[int], factor: int) -> None:
    cur = [c * factor for c in ref]
    assert dm.psi(ref, cur) == pytest.approx(0, abs=1e-12)
    assert dm.jensenshannon(ref, cur) == pytest.approx(0, abs=1e-6)
    assert dm.hellinger(ref, cur) == pytest.approx(0, abs=1e-6)
    assert dm.kl(ref, cur) == pytest.approx(0, abs=1e-12)
    assert dm.chisquare(ref, cur)[1] == pytest.approx(1.0) or dm.chisquare(ref, cur)[1] > 0.99


samples = st.lists(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=60
)


@pytest.mark.filterwarnings("ignore:ks_2samp. Exact calculation unsuccessful")
@settings(max_examples=200, deadline=None, database=None)
@given(samples, samples)
def test_ks_and_wasserstein_properties(a_list: list[float], b_list: list[float]) -> None:
    a, b = np.sort(np.array(a_list)), np.sort(np.array(b_list))
    d, p, w = dm.ks_and_wasserstein(a, b)
    d2, _, w2 = dm.ks_and_wasserstein(b, a)
    assert 0 <= d <= 1 and 0 <= p <= 1 and w >= 0
    assert d == pytest.approx(d2, abs=1e-12)
    assert w == pytest.approx(w2, rel=1e-9, abs=1e-9)
    assert d == pytest.approx(stats.ks_2samp(a, b).statistic, abs=1e-12)
    assert w == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-7, abs=1e-6)
    same, p_same, w_same = dm.ks_and_wasserstein(a, a)
    assert same == 0 and w_same == 0 and p_same == pytest.approx(1.0)
