"""The Drift page's tiles and tables as plain values (no Streamlit; the caches are in
`monitor.ui.drift`)."""

from __future__ import annotations

from typing import Any

from monitor.metrics.drift.report import DriftReport


def target_tile(targets: DriftReport, name: str) -> tuple[str, str | None]:
    """(value, help) of the tile of an output (`prediction`, `label`): drifted yes/no with
    its effect and adjusted p, or "n/a" with the reason when it was not tested."""
    found = next((f for f in targets.features if f.feature == name), None)
    if found is None or found.effect_size is None:
        return "n/a", None if found is None else found.status
    return (
        "yes" if found.drifted else "no",
        f"{found.effect_method} {found.effect_size:.3g} (threshold "
        f"{found.effect_threshold:g}); {found.test} adjusted p {found.p_value_adjusted:.3g}",
    )


def ranked_features(report: DriftReport) -> list[str]:
    """The features with a kind, drifted ones first (otherwise in the report's order)."""
    return [f.feature for f in sorted(report.features, key=lambda f: not f.drifted) if f.kind]


def feature_rows(report: DriftReport) -> list[dict[str, Any]]:
    return [
        {
            "feature": f.feature,
            "kind": f.kind,
            "method": f.method,
            "score": f.score,
            "p-value": f.p_value,
            "threshold": f.threshold,
            "adjusted p": f.p_value_adjusted,
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
            "adjusted p": f.p_value_adjusted,
            "drifted": f.drifted,
            "status": f.status,
            "values (current)": f.current_count,
        }
        for f in targets.features
    ]
