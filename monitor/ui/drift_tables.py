"""The Drift page's tiles, sentences and tables as plain values (no Streamlit; the caches
are in `monitor.ui.drift`). Every verdict shown here is read from the results (a row's
`status`, `monitor.metrics.drift.targets`, the domain classifier's `drifted`), never
decided again; p-values are written by `format_p_value`."""

from __future__ import annotations

from typing import Any, Final

from monitor.metrics.drift.multivariate import MultivariateDrift
from monitor.metrics.drift.pvalue import format_p_value
from monitor.metrics.drift.report import DriftReport, FeatureDrift
from monitor.metrics.drift.targets import Target, target_verdict

CORRECTION_NAMES: Final[dict[str, str]] = {
    "bh": "Benjamini-Hochberg",
    "bonferroni": "Bonferroni",
    "none": "none",
}
TOP_DRIVERS: Final = 3
"""Features of the domain classifier named in the multivariate sentence."""


def p_text(p: float | None) -> str | None:
    return None if p is None else format_p_value(p)


def _why(f: FeatureDrift) -> str:
    """One row's verdict with its evidence: 'probability: wasserstein_norm 0.215 >= 0.1,
    ks adjusted p 1.67e-39: drifted'."""
    if f.effect_size is None or f.effect_threshold is None:
        return f"{f.feature}: {f.status}"
    sign = ">=" if f.effect_size >= f.effect_threshold else "<"
    adjusted = p_text(f.p_value_adjusted) or "n/a"
    return (
        f"{f.feature}: {f.effect_method} {f.effect_size:.3g} {sign} {f.effect_threshold:g}, "
        f"{f.test} adjusted p {adjusted}: {'drifted' if f.drifted else 'not drifted'}"
    )


def target_tile(targets: DriftReport, name: Target) -> tuple[str, str | None]:
    """(value, help) of the tile of prediction or label drift: "yes" when any of its rows
    is drifted (prediction drift: the prediction or the probability), "no" when its rows
    were judged and none drifted, "n/a" with the reason when none was tested."""
    verdict = target_verdict(targets, name)
    if not verdict.tested:
        reasons = "; ".join(_why(f) for f in verdict.untested)
        return "n/a", reasons or f"no {name} column to compare"
    rows = "; ".join(_why(f) for f in (*verdict.judged, *verdict.untested))
    return ("yes" if verdict.drifted else "no"), rows


def dataset_statement(report: DriftReport, *, rule: str | None) -> str:
    """What was measured over the features, in words, and the share the dataset-drift
    `rule` needs (the verdict itself is that rule's finding, shown above the tiles)."""
    judged = len(report.evaluated)
    if not judged:
        return "No feature could be compared (see the status column)."
    share = f"{report.share_drifted:.0%}" if report.share_drifted is not None else "n/a"
    correction = CORRECTION_NAMES.get(report.correction, report.correction)
    tested = (
        f"adjusted p < {report.alpha:g}, {correction}"
        if report.correction != "none"
        else f"p < {report.alpha:g}, uncorrected"
    )
    needs = f"{report.drift_share_threshold:.0%}"
    who = f"the {rule} rule" if rule else "dataset drift"
    return (
        f"{len(report.drifted)} of {judged} features drifted ({share}): each changed "
        f"significantly ({tested}) by at least its effect-size threshold. "
        f"{who[0].upper()}{who[1:]} needs {needs} of the features."
    )


def multivariate_statement(domain: MultivariateDrift, report: DriftReport) -> str:
    """The domain classifier's result in words, its strongest features marked as the
    per-feature table marks them."""
    if domain.auc is None:
        return f"Domain classifier: {domain.status}."
    p = p_text(domain.p_value) or "n/a"
    verdict = "drifted" if domain.drifted else "not drifted"
    text = (
        f"A classifier tells current rows from reference rows with AUC {domain.auc:.3f} "
        f"(drift at >= {domain.threshold:g} when significant; Mann-Whitney p {p}): {verdict}."
    )
    drivers = [(n, v) for n, v in domain.importances[:TOP_DRIVERS] if v > 0]
    if not drivers:
        return text
    marked = {f.feature: f for f in report.features}
    named = ", ".join(f"{n} ({marked[n].status})" if n in marked else n for n, _ in drivers)
    text += f" It relies most on {named}"
    if domain.drifted and not any(n in marked and marked[n].drifted for n, _ in drivers):
        text += ": none drifted on its own, so the change is in how the features combine"
    return text + "."


def ranked_features(report: DriftReport) -> list[str]:
    """The features with a kind, drifted ones first (otherwise in the report's order)."""
    return [f.feature for f in sorted(report.features, key=lambda f: not f.drifted) if f.kind]


def feature_rows(report: DriftReport) -> list[dict[str, Any]]:
    """One row per feature; `drifted` and `status` are the same decision."""
    return [
        {
            "feature": f.feature,
            "kind": f.kind,
            "method": f.method,
            "score": f.score,
            "p-value": p_text(f.p_value),
            "threshold": f.threshold,
            "adjusted p": p_text(f.p_value_adjusted),
            "effect": f.effect_size,
            "drifted": f.drifted,
            "status": f.status,
            "new categories": ", ".join(f.new_categories),
        }
        for f in report.features
    ]


def target_rows(targets: DriftReport) -> list[dict[str, Any]]:
    """One row per output (prediction, label, score) the scope has."""
    return [
        {
            "output": f.feature,
            "method": f.method,
            "score": f.score,
            "effect": f.effect_size,
            "adjusted p": p_text(f.p_value_adjusted),
            "drifted": f.drifted,
            "status": f.status,
            "values (current)": f.current_count,
        }
        for f in targets.features
    ]
