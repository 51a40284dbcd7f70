"""Data-quality results as documents: `monitor quality --json`, CSV and JSON downloads."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from typing import Any

from monitor.metrics.quality import QualityReport
from monitor.reports.jsonable import jsonable


def report_document(report: QualityReport, reference: str, current: str) -> dict[str, Any]:
    features = []
    for f in report.features:
        item = dataclasses.asdict(f)
        item["new_categories"] = [{"category": k, "count": n} for k, n in f.new_categories]
        item["valid_range"] = list(f.valid_range) if f.valid_range else None
        features.append(item)
    document: dict[str, Any] = jsonable(
        {
            "reference": reference,
            "current": current,
            "reference_rows": report.reference_rows,
            "current_rows": report.current_rows,
            "missing_columns": list(report.missing_columns),
            "unexpected_columns": list(report.unexpected_columns),
            "type_changes": [
                {"feature": n, "reference": a, "current": b} for n, a, b in report.type_changes
            ],
            "duplicate_ids": report.duplicate_ids,
            "invalid_records": report.invalid_records,
            "features": features,
        }
    )
    return document


def report_json(report: QualityReport, reference: str, current: str) -> str:
    return json.dumps(report_document(report, reference, current), indent=2, allow_nan=False)


def report_csv(report: QualityReport) -> str:
    head = [f.name for f in dataclasses.fields(report.features[0])] if report.features else []
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(head)
    for feature in report.features:
        row = []
        for name in head:
            value = getattr(feature, name)
            if name == "new_categories":
                value = ";".join(f"{k}={n}" for k, n in value)
            elif isinstance(value, tuple):
                value = ";".join(str(v) for v in value)
            row.append("" if value is None else value)
        writer.writerow(row)
    return buffer.getvalue()
