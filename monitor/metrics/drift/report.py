"""Drift of each feature, of the model's outputs and labels, and of the dataset.

A feature is drifted only when its change is statistically significant (the p-value of
the kind's test, corrected across features: Benjamini-Hochberg by default) AND at least
a minimum effect size (the chosen distance and its threshold, or the kind's default
effect size when the chosen method is itself a test). That one decision is the row's
`status` ("drifted", else "ok" or "constant in reference"; `drifted` reads it), so a
view can never show a drifted row as "ok". The dataset drifts when the share of drifted
features reaches `drift_share`. Degenerate features get a status instead of a number.
`compare` is pure (profiles in, report out); `monitor.queries.drift` adds the SQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Final

from monitor.metrics.drift import methods as dm
from monitor.metrics.drift.methods import KIND_EFFECT, KIND_TEST, METHODS, Correction, Kind
from monitor.metrics.drift.profile import (
    MAX_CATEGORIES,
    OTHER,
    CategoricalSide,
    NumericSide,
    Profile,
    ReferenceProfile,
)

MIN_VALUES: Final = 5
"""Fewer non-null values than this on either side: 'not enough data'."""
FALLBACK_EFFECT: Final = 0.1
"""Numeric features whose reference is constant are judged on KS D >= this instead of
the normalised Wasserstein distance (undefined: the reference std is 0)."""
MAX_NEW_CATEGORIES: Final = 20

OK: Final = "ok"
"""Judged and not drifted."""
CONSTANT: Final = "constant in reference"
"""Judged (numeric effect size: KS D) and not drifted."""
DRIFTED: Final = "drifted"
"""Judged and drifted: significant after the correction and at least the effect size."""
JUDGED: Final = (OK, CONSTANT, DRIFTED)
"""Statuses of the features that count for the dataset share; the others say why a
feature could not be judged."""
NOT_ENOUGH: Final = "not enough data"


@dataclass(frozen=True)
class FeatureDrift:
    feature: str
    kind: Kind | None
    method: str | None
    """The method whose score is shown (what `auto` chose, or the one asked for)."""
    score: float | None
    p_value: float | None
    """The method's own p-value when it is a test, else None."""
    threshold: float | None
    status: str
    """The row's verdict: DRIFTED, OK, CONSTANT, or why it could not be judged."""
    stats: Mapping[str, float | None] = field(default_factory=dict)
    """Every method applicable to the kind (p-values as `<test>_p_value`)."""
    test: str | None = None
    """The significance test that gates the verdict."""
    p_value_adjusted: float | None = None
    effect_method: str | None = None
    effect_size: float | None = None
    effect_threshold: float | None = None
    reference_count: int = 0
    current_count: int = 0
    exact: bool = True
    """KS and Wasserstein used every value (else a seeded sample of each side)."""
    new_categories: tuple[str, ...] = ()

    @property
    def drifted(self) -> bool:
        return self.status == DRIFTED

    @property
    def judged(self) -> bool:
        """Whether a verdict was reached (the feature counts for the dataset share)."""
        return self.status in JUDGED


@dataclass(frozen=True)
class DriftReport:
    reference_rows: int
    current_rows: int
    dataset_drift: bool
    share_drifted: float | None
    drift_share_threshold: float
    correction: Correction
    alpha: float
    method: str
    features: tuple[FeatureDrift, ...]

    @property
    def drifted(self) -> tuple[FeatureDrift, ...]:
        return tuple(f for f in self.features if f.drifted)

    @property
    def evaluated(self) -> tuple[FeatureDrift, ...]:
        return tuple(f for f in self.features if f.judged)


@dataclass(frozen=True)
class Options:
    method: str = "auto"
    correction: Correction = "bh"
    alpha: float = 0.05
    drift_share: float = 0.5
    thresholds: Mapping[str, float] = field(default_factory=dict)
    """Per-method threshold overrides (e.g. psi from config)."""
    min_effect: float | None = None
    """Overrides the default effect-size threshold used when the method is a test."""


def validate(method: str, correction: str) -> None:
    from monitor.core.errors import InputError

    if method != "auto" and method not in METHODS:
        raise InputError(f"unknown method {method!r} (use auto, {', '.join(METHODS)})")
    if correction not in dm.CORRECTIONS:
        raise InputError(f"unknown correction {correction!r} (use bh, bonferroni, none)")


def compare(
    reference: ReferenceProfile,
    current: Profile,
    *,
    method: str = "auto",
    correction: Correction = "bh",
    alpha: float = 0.05,
    drift_share: float = 0.5,
    thresholds: Mapping[str, float] | None = None,
    min_effect: float | None = None,
    features: Sequence[str] | None = None,
) -> DriftReport:
    """Compare a current profile with a reference profile, feature by feature."""
    validate(method, correction)
    options = Options(method, correction, alpha, drift_share, dict(thresholds or {}), min_effect)
    names = list(reference.profile.types)
    names += [n for n in current.types if n not in reference.profile.types]
    if features is not None:
        names = [n for n in names if n in set(features)]
    partial = [_feature(name, reference, current, options) for name in names]
    gating = dm.adjust([f.p_value_adjusted for f in partial], correction)
    results = tuple(_verdict(f, q, options) for f, q in zip(partial, gating, strict=True))
    evaluated = [f for f in results if f.judged]
    share = sum(f.drifted for f in evaluated) / len(evaluated) if evaluated else None
    return DriftReport(
        reference.profile.rows,
        current.rows,
        share is not None and share >= drift_share,
        share,
        drift_share,
        correction,
        alpha,
        method,
        results,
    )


def _missing(name: str, kind: Kind | None, status: str, ref: int = 0, cur: int = 0) -> FeatureDrift:
    return FeatureDrift(name, kind, None, None, None, None, status, {}, None, None,
                        reference_count=ref, current_count=cur)  # fmt: skip


def _feature(
    name: str, reference: ReferenceProfile, current: Profile, options: Options
) -> FeatureDrift:
    """Every statistic of one feature; `p_value_adjusted` holds the raw gating p-value
    until `compare` corrects them all together."""
    kind = reference.kinds.get(name)
    ref_side = reference.profile.columns.get(name)
    cur_side = current.columns.get(name)
    if name not in reference.profile.types or kind is None:
        return _missing(name, None, "missing in reference")
    if name not in current.types:
        return _missing(name, kind, "missing in current")
    if ref_side is None or cur_side is None or type(ref_side) is not type(cur_side):
        found = current.types.get(name)
        return _missing(name, kind, f"type changed ({found} in current)")
    if isinstance(ref_side, NumericSide) and isinstance(cur_side, NumericSide):
        ref_n, cur_n = ref_side.finite, cur_side.finite
        new: tuple[str, ...] = ()
        stats, status = _numeric_stats(ref_side, cur_side), OK
        exact = ref_side.exact and cur_side.exact
        if ref_n >= MIN_VALUES and (ref_side.std or 0.0) == 0.0:
            status = CONSTANT
    else:
        assert isinstance(ref_side, CategoricalSide) and isinstance(cur_side, CategoricalSide)
        ref_n, cur_n = ref_side.present, cur_side.present
        stats, new = _categorical_stats(kind, ref_side, cur_side)
        status, exact = OK, True
        if ref_n >= MIN_VALUES and len(ref_side.counts) < 2:
            status = CONSTANT
    if ref_n == 0:
        return _missing(name, kind, "no values in reference", ref_n, cur_n)
    if cur_n == 0:
        return _missing(name, kind, "no values in current", ref_n, cur_n)
    if min(ref_n, cur_n) < MIN_VALUES:
        return _missing(name, kind, NOT_ENOUGH, ref_n, cur_n)
    chosen = options.method
    if chosen == "auto" or kind not in METHODS[chosen].kinds:
        chosen = dm.auto_method(kind, ref_n, cur_n)
    described = METHODS[chosen]
    threshold = options.thresholds.get(chosen, described.threshold)
    if described.relative_to_std and isinstance(ref_side, NumericSide):
        threshold = threshold * (ref_side.std or 0.0)
    test = chosen if described.gives_p_value else KIND_TEST[kind]
    if described.gives_p_value:
        threshold = options.alpha
        effect_method = KIND_EFFECT[kind]
        effect_threshold = options.min_effect
        if effect_threshold is None:
            effect_threshold = options.thresholds.get(
                effect_method, METHODS[effect_method].threshold
            )
    else:
        effect_method, effect_threshold = chosen, threshold
    effect = stats.get(effect_method)
    if effect is None and kind == "numeric":
        effect_method, effect, effect_threshold = "ks", stats.get("ks"), FALLBACK_EFFECT
    return FeatureDrift(
        name,
        kind,
        chosen,
        stats.get(chosen),
        stats.get(f"{chosen}_p_value") if described.gives_p_value else None,
        threshold,
        status,
        stats,
        test,
        stats.get(f"{test}_p_value"),
        effect_method,
        effect,
        effect_threshold,
        ref_n,
        cur_n,
        exact,
        new,
    )


def _verdict(partial: FeatureDrift, adjusted: float | None, options: Options) -> FeatureDrift:
    if partial.status not in (OK, CONSTANT):
        return partial
    significant = adjusted is not None and adjusted < options.alpha
    large = (
        partial.effect_size is not None
        and partial.effect_threshold is not None
        and partial.effect_size >= partial.effect_threshold
    )
    status = DRIFTED if significant and large else partial.status
    return replace(partial, p_value_adjusted=adjusted, status=status)


def _numeric_stats(ref: NumericSide, cur: NumericSide) -> dict[str, float | None]:
    stats: dict[str, float | None] = {}
    if ref.values.size and cur.values.size:
        d, p, w = dm.ks_and_wasserstein(ref.values, cur.values)
        stats |= {"ks": d, "ks_p_value": p, "wasserstein": w}
        stats["wasserstein_norm"] = w / ref.std if ref.std else None
    if ref.bins is not None and cur.bins is not None and ref.bins.sum() and cur.bins.sum():
        stats |= _binned(ref.bins.tolist(), cur.bins.tolist())
    return stats


def _binned(ref: Sequence[float], cur: Sequence[float]) -> dict[str, float | None]:
    return {
        "psi": dm.psi(ref, cur),
        "jensenshannon": dm.jensenshannon(ref, cur),
        "hellinger": dm.hellinger(ref, cur),
        "kl": dm.kl(ref, cur),
    }


def align_categories(
    ref: Mapping[str, int], cur: Mapping[str, int]
) -> tuple[list[str], list[float], list[float], tuple[str, ...]]:
    """Shared categories (the reference's most frequent MAX_CATEGORIES, then new ones),
    the rest pooled into OTHER; returns (labels, reference counts, current counts, new)."""
    kept = [k for k, _ in sorted(ref.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_CATEGORIES]]
    new_all = sorted((k for k in cur if k not in ref), key=lambda k: (-cur[k], k))
    labels = kept + new_all[:MAX_NEW_CATEGORIES]
    index = set(labels)
    ref_counts = [float(ref.get(k, 0)) for k in labels]
    cur_counts = [float(cur.get(k, 0)) for k in labels]
    ref_other = sum(v for k, v in ref.items() if k not in index)
    cur_other = sum(v for k, v in cur.items() if k not in index)
    if ref_other or cur_other:
        labels.append(OTHER)
        ref_counts.append(float(ref_other))
        cur_counts.append(float(cur_other))
    return labels, ref_counts, cur_counts, tuple(new_all)


def _categorical_stats(
    kind: Kind, ref: CategoricalSide, cur: CategoricalSide
) -> tuple[dict[str, float | None], tuple[str, ...]]:
    _, ref_counts, cur_counts, new = align_categories(ref.counts, cur.counts)
    stats: dict[str, float | None] = {}
    if sum(ref_counts) and sum(cur_counts):
        chi2, p = dm.chisquare(ref_counts, cur_counts)
        stats |= {"chisquare": chi2, "chisquare_p_value": p}
        stats |= _binned(ref_counts, cur_counts)
        if kind == "binary":
            positive = positive_category(ref.counts, cur.counts)
            z, pz = dm.ztest(
                ref.counts.get(positive, 0), ref.present, cur.counts.get(positive, 0), cur.present
            )
            stats = {"ztest": z, "ztest_p_value": pz, **stats}
    return stats, new


def positive_category(*counts: Mapping[str, int]) -> str:
    """The category counted as a success by the z-test: the last in sorted order
    ('true' over 'false', '1' over '0')."""
    labels = sorted({k for c in counts for k in c})
    return labels[-1] if labels else ""
