"""Label-free estimates of a file (monitor.queries.estimate_files) as the JSON document of
`monitor estimate --json` and as table rows (the command's text output and the
Performance page's table on uploaded datasets), so that both show the same numbers."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Final

from monitor.queries.estimate_types import ChunkEstimate, FileEstimate

ROW_COLUMNS: Final[tuple[str, ...]] = (
    *("chunk", "start", "end", "rows", "labeled", "metric"),
    *("estimate", "lower", "upper", "realized"),
)


def estimate_document(result: FileEstimate) -> dict[str, Any]:
    """{"task", "method", "confidence", "positive", "prediction", "threshold",
    "chunking", "reference": {"path", "rows"}, "current": {...}, "classes", "features",
    "excluded", "chunks": [{"chunk", "start", "end", "rows", "labeled", "metrics": {name:
    {"value", "lower", "upper", "realized"}}, "warnings": [...]}], "warnings": [...]}:
    start/end are row indexes (0-based, inclusive) of chunks of rows, ISO times (end
    exclusive) of chunks by time. "classes" ({class: score column}, multiclass),
    "features" and "excluded" ([{"column", "reason", "detail"}], regression) are null
    for the other tasks. The top-level warnings are said once (the fit, the input), a
    chunk's are about that chunk."""
    regression = result.task == "regression"
    return {
        "task": result.task,
        "method": result.method,
        "confidence": result.confidence,
        "positive": result.positive,
        "prediction": result.prediction,
        "threshold": result.threshold,
        "chunking": result.chunking,
        "reference": {"path": result.reference[0], "rows": result.reference[1]},
        "current": {"path": result.current[0], "rows": result.current[1]},
        "classes": dict(result.classes) if result.task == "multiclass" else None,
        "features": list(result.features) if regression else None,
        "excluded": [dataclasses.asdict(e) for e in result.excluded] if regression else None,
        "chunks": [_chunk(c) for c in result.chunks],
        "warnings": list(result.warnings),
    }


def _chunk(chunk: ChunkEstimate) -> dict[str, Any]:
    return {
        "chunk": chunk.index,
        "start": chunk.start,
        "end": chunk.end,
        "rows": chunk.rows,
        "labeled": chunk.labeled,
        "metrics": {
            name: {
                "value": m.value,
                "lower": m.lower,
                "upper": m.upper,
                "realized": m.realized,
            }
            for name, m in chunk.metrics.items()
        },
        "warnings": list(chunk.warnings),
    }


def estimate_rows(result: FileEstimate) -> list[dict[str, Any]]:
    """One row per chunk and metric, with the ROW_COLUMNS."""
    return [
        {
            "chunk": chunk.index,
            "start": chunk.start,
            "end": chunk.end,
            "rows": chunk.rows,
            "labeled": chunk.labeled,
            "metric": name,
            "estimate": metric.value,
            "lower": metric.lower,
            "upper": metric.upper,
            "realized": metric.realized,
        }
        for chunk in result.chunks
        for name, metric in chunk.metrics.items()
    ]


def bound_text(value: int | dt.datetime) -> str:
    """A chunk's start or end in words: a row index, or a UTC time."""
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    return str(value)
