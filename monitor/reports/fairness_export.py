"""Fairness results as the documents the CLI prints and the page downloads (JSON, CSV).

The JSON shape (one document): rows, sensitive_features, reference_group, tau, overall,
groups (each with `group` as {feature: value}, `count`, every metric under its name,
`ppr` included, `small`, `disparity`, and `ci` when bootstrapped) and summary; per
attribute, a list of such documents under `attributes`. See docs/fairness.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from monitor.metrics.fairness.attributes import AttributeAudit, passed
from monitor.metrics.fairness.audit import FairnessReport, GroupResult
from monitor.metrics.fairness.bootstrap import Interval
from monitor.metrics.fairness.groups import GroupKey, group_label
from monitor.metrics.fairness.trend import FairnessTrend


def group_object(features: Sequence[str], key: GroupKey) -> dict[str, str]:
    return dict(zip(features, key, strict=True))


def _intervals(ci: Mapping[str, Interval | None]) -> dict[str, list[float] | None]:
    return {name: None if v is None else [v[0], v[1]] for name, v in ci.items()}


def _group(report: FairnessReport, group: GroupResult) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "group": group_object(report.features, group.key),
        "label": group.label,
        "count": group.count,
    }
    if report.task == "binary":
        entry |= {"positives": group.positives, "negatives": group.negatives}
    entry |= dict(group.metrics)
    entry |= {
        "small": group.small,
        "small_reason": group.small_reason,
        "disparity": dict(group.disparity),
        "fails_screen": group.fails_screen,
    }
    if report.bootstrap and group.ci:
        entry["ci"] = _intervals(group.ci)
    return entry


def report_document(report: FairnessReport) -> dict[str, Any]:
    """The fairness report as one JSON-ready document."""
    summary = report.summary
    reference: Any
    if report.reference_group is not None:
        reference = group_object(report.features, report.reference_group)
    else:
        reference = "overall" if report.reference == "overall" else None
    document: dict[str, Any] = {
        "task": report.task,
        "rows": report.rows,
        "unlabeled_rows": report.unlabeled_rows,
        "skipped_rows": report.skipped_rows,
        "sensitive_features": list(report.features),
        "reference": report.reference,
        "reference_group": reference,
        "metric": report.metric,
        "tau": report.tau,
        "min_group_size": report.min_group_size,
        "min_class_count": report.min_class_count,
        "bootstrap": report.bootstrap,
        "overall": dict(report.overall),
        "groups": [_group(report, g) for g in report.groups],
        "summary": {
            "demographic_parity_difference": summary.demographic_parity_difference,
            "demographic_parity_ratio": summary.demographic_parity_ratio,
            "equalized_odds_difference": summary.equalized_odds_difference,
            "equalized_odds_ratio": summary.equalized_odds_ratio,
            "equal_opportunity_difference": summary.equal_opportunity_difference,
            "judged_parity_difference": summary.judged_parity_difference,
            "judged_parity_ratio": summary.judged_parity_ratio,
            "judged_equalized_odds_difference": summary.judged_equalized_odds_difference,
            "judged_equalized_odds_ratio": summary.judged_equalized_odds_ratio,
            "judged_equal_opportunity_difference": summary.judged_equal_opportunity_difference,
            "four_fifths_passed": summary.four_fifths_passed,
            "failing_groups": [group_object(report.features, k) for k in summary.failing_groups],
            "judged_groups": summary.judged_groups,
        },
        "notes": list(report.notes),
    }
    if report.bootstrap:
        document |= {"ci_level": report.ci_level, "seed": report.seed}
        document["overall_ci"] = _intervals(report.overall_ci)
        document["summary"]["ci"] = _intervals(summary.ci)
    return document


def attributes_document(audits: Sequence[AttributeAudit]) -> dict[str, Any]:
    """The per-attribute audits as one document: `per_attribute`, the attributes in
    order, the four-fifths screen over all of them, and under `attributes` one report
    document per attribute, keyed by its `attribute`."""
    return {
        "per_attribute": True,
        "sensitive_features": [a.attribute for a in audits],
        "four_fifths_passed": passed(audits),
        "attributes": [{"attribute": a.attribute} | report_document(a.report) for a in audits],
    }


def trend_document(trend: FairnessTrend, features: Sequence[str]) -> dict[str, Any]:
    return {
        "metric": trend.metric,
        "reference": trend.reference,
        "reference_group": None
        if trend.reference_group is None
        else group_object(features, trend.reference_group),
        "points": [
            {
                "bucket": p.bucket,
                "version": p.version,
                "group": group_object(features, p.key),
                "count": p.count,
                "value": p.value,
                "disparity": p.disparity,
                "small": p.small,
            }
            for p in trend.points
        ],
        "slices": [
            {
                "bucket": s.bucket,
                "version": s.version,
                "rows": s.rows,
                "reference_value": s.reference_value,
                "passed": s.passed,
                "failing_groups": [group_object(features, k) for k in s.failing_groups],
            }
            for s in trend.slices
        ],
    }


def report_csv(report: FairnessReport) -> str:
    """One row per group: the feature values, counts, flags, metrics, disparities, CIs."""
    fixed = ["group", "count", "positives", "negatives", "small", "small_reason"]
    feature_columns = [f if f not in fixed else f"feature:{f}" for f in report.features]
    header = [*feature_columns, *fixed, *report.metrics]
    header += [f"disparity_{m}" for m in report.metrics]
    if report.bootstrap:
        header += [f"ci_{end}_{m}" for m in report.metrics for end in ("low", "high")]
    header.append("fails_screen")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for g in report.groups:
        row: list[Any] = [*g.key, group_label(g.key), g.count, g.positives, g.negatives]
        row += [g.small, g.small_reason or ""]
        row += [_cell(g.metrics.get(m)) for m in report.metrics]
        row += [_cell(g.disparity.get(m)) for m in report.metrics]
        if report.bootstrap:
            for m in report.metrics:
                interval = g.ci.get(m)
                row += ["", ""] if interval is None else [interval[0], interval[1]]
        row.append(g.fails_screen)
        writer.writerow(row)
    return buffer.getvalue()


def _cell(value: float | None) -> Any:
    return "" if value is None else value


def to_json(document: Any) -> str:
    """A document as JSON text (datetimes as ISO 8601)."""
    return json.dumps(document, indent=2, allow_nan=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def group_rows(report: FairnessReport, metric: str) -> list[dict[str, Any]]:
    """The page's table: one row per group, the chosen metric first, then the others."""
    rows: list[dict[str, Any]] = []
    for g in report.groups:
        interval = g.ci.get(metric)
        row: dict[str, Any] = {
            "group": g.label,
            "count": g.count,
            "too small": g.small,
            "why": g.small_reason or "",
            metric: g.metrics.get(metric),
            "CI low": None if interval is None else interval[0],
            "CI high": None if interval is None else interval[1],
            "ratio to reference": g.disparity.get(metric),
            "fails screen": g.fails_screen,
        }
        if report.task == "binary":
            row |= {"positives": g.positives, "negatives": g.negatives}
        row |= {m: g.metrics.get(m) for m in report.metrics if m != metric}
        rows.append(row)
    return rows
