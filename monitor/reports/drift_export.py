"""Drift results as documents: the `monitor drift --json` document, CSV and JSON downloads."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from monitor.core.reconcile import Reconciled
from monitor.metrics.drift.registry import METHODS
from monitor.metrics.drift.report import DriftReport, FeatureDrift
from monitor.reports.jsonable import jsonable

STAT_COLUMNS = [m for name in METHODS for m in (name, f"{name}_p_value")]


def feature_object(f: FeatureDrift) -> dict[str, Any]:
    return {
        "feature": f.feature,
        "kind": f.kind,
        "method": f.method,
        "score": f.score,
        "p_value": f.p_value,
        "threshold": f.threshold,
        "drifted": f.drifted,
        "status": f.status,
        "stats": dict(f.stats),
        "test": f.test,
        "p_value_adjusted": f.p_value_adjusted,
        "effect_method": f.effect_method,
        "effect_size": f.effect_size,
        "effect_threshold": f.effect_threshold,
        "reference_count": f.reference_count,
        "current_count": f.current_count,
        "exact": f.exact,
        "new_categories": list(f.new_categories),
    }


def report_document(
    report: DriftReport, reference: str, current: str, schema: Sequence[Reconciled] = ()
) -> dict[str, Any]:
    """The document `monitor drift --json` prints (see docs/drift.md); `schema`: the
    columns read as different types on the two sides, and how each was compared."""
    document: dict[str, Any] = jsonable(
        {
            "reference": reference,
            "current": current,
            "reference_rows": report.reference_rows,
            "current_rows": report.current_rows,
            "dataset_drift": report.dataset_drift,
            "share_drifted": report.share_drifted,
            "drift_share_threshold": report.drift_share_threshold,
            "correction": report.correction,
            "alpha": report.alpha,
            "method": report.method,
            "features": [feature_object(f) for f in report.features],
            "schema": [note.document() for note in schema],
        }
    )
    return document


def report_json(report: DriftReport, reference: str, current: str) -> str:
    return json.dumps(report_document(report, reference, current), indent=2, allow_nan=False)


def report_csv(report: DriftReport) -> str:
    """One row per feature: the verdict fields, then every statistic (empty when n/a)."""
    head = ["feature", "kind", "method", "score", "p_value", "threshold", "drifted", "status"]
    head += ["test", "p_value_adjusted", "effect_method", "effect_size", "effect_threshold"]
    head += ["reference_count", "current_count", "exact", "new_categories"]
    used = [c for c in STAT_COLUMNS if any(c in f.stats for f in report.features)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(head + used)
    for f in report.features:
        row = jsonable(feature_object(f))
        values = [row[h] for h in head[:-1]] + [";".join(row["new_categories"])]
        writer.writerow(
            ["" if v is None else v for v in values]
            + ["" if row["stats"].get(c) is None else row["stats"][c] for c in used]
        )
    return buffer.getvalue()
