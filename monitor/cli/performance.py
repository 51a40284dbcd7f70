"""`monitor performance`: realized and estimated performance of a model per time bucket.

`--json` prints one document: the window, the baseline, the whole window (`overall`,
and per version in `by_version`) and `buckets`, oldest first, each with `start`,
`predictions`, `labeled`, `coverage`, the task's `metrics` (null when nothing in the
bucket is labeled; every metric has `value`, `low`/`high` (95% band), `n` and `delta` to
the baseline) and `estimated` metrics (binary models with a usable reference; null
otherwise). Buckets pool the chosen versions unless `--by-version` is given.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from monitor.cli.common import EXIT_OK, print_json, settings, timestamp

if TYPE_CHECKING:
    from monitor.metrics.intervals import Metric
    from monitor.metrics.performance.baseline import Baseline
    from monitor.metrics.performance.groups import GroupPerformance
    from monitor.metrics.performance.report import PerformanceReport

NAME = "performance"
HELP = "realized and estimated model performance per time bucket"
DEFAULT_SPAN = dt.timedelta(days=30)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="ID", help="the model")
    parser.add_argument(
        "--version",
        action="append",
        metavar="V",
        help="only this version (repeat for several; default all versions pooled)",
    )
    parser.add_argument(
        "--bucket", choices=("hour", "day", "week"), default="day", help="default day"
    )
    parser.add_argument(
        "--since", type=timestamp, help="window start (default: 30 days before --until)"
    )
    parser.add_argument(
        "--until", type=timestamp, help="window end (default: the model's newest prediction)"
    )
    parser.add_argument(
        "--by-version", action="store_true", help="one bucket per version instead of pooled"
    )
    parser.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    from monitor.core import catalog
    from monitor.core.catalog import Window
    from monitor.core.errors import InputError
    from monitor.core.scope import Scope
    from monitor.core.store import LogStore
    from monitor.queries.performance_report import performance

    config = settings(args)
    store = LogStore(config.data_dir)
    try:
        found = [m for m in catalog.inventory(store) if m.model_id == args.model]
        if not found:
            raise InputError(f"no predictions logged for model {args.model!r}")
        info = found[0]
        until = args.until or info.last_seen
        since = args.since or max(info.first_seen, until - DEFAULT_SPAN)
        if since > until:
            raise InputError("--since is after --until")
        known = {v.version for v in info.versions}
        unknown = sorted(set(args.version or ()) - known)
        if unknown:
            raise InputError(
                f"model {args.model!r} has no version {unknown[0]!r} "
                f"(logged: {', '.join(sorted(known)) or 'none'})"
            )
        model = config.model(args.model)
        scope = Scope.of(model, Window(since, until), tuple(args.version or ()))
        report = performance(store, model, scope, bucket=args.bucket)
    finally:
        store.close()
    document = report_document(report, by_version=args.by_version)
    if args.json:
        print_json(document)
    else:
        _print_table(document)
    return EXIT_OK


def report_document(report: PerformanceReport, *, by_version: bool) -> dict[str, Any]:
    """The JSON document of a PerformanceReport."""
    baseline = report.baseline
    versions = report.versions_seen
    if by_version:
        buckets = [g for v in versions for g in report.buckets(v)]
        buckets.sort(key=lambda g: (g.start, g.version))
    else:
        buckets = list(report.buckets())
    return {
        "model_id": report.model_id,
        "task": report.task,
        "positive_label": report.positive_label,
        "window": {"start": report.window.start, "end": report.window.end},
        "bucket": report.bucket,
        "versions": list(report.versions) or None,
        "baseline": {
            "source": baseline.source,
            "reference_rows": baseline.reference_rows,
            "note": baseline.note,
            "metrics": {k: _metric(m, None) for k, m in baseline.metrics.items()},
        },
        "estimation_note": report.estimation_note,
        "overall": _group(report.overall(), baseline),
        "by_version": [_group(report.overall(v), baseline) for v in versions],
        "buckets": [_group(g, baseline) for g in buckets],
    }


def _metric(metric: Metric, delta: float | None) -> dict[str, Any]:
    return {
        "value": metric.value,
        "low": metric.low,
        "high": metric.high,
        "n": metric.n,
        "delta": delta,
    }


def _metrics(metrics: Mapping[str, Metric], baseline: Baseline) -> dict[str, Any] | None:
    from monitor.metrics.performance.baseline import deviation

    if not metrics:
        return None
    return {k: _metric(m, deviation(k, m.value, baseline)) for k, m in metrics.items()}


def _group(group: GroupPerformance | None, baseline: Baseline) -> dict[str, Any] | None:
    if group is None:
        return None
    estimated = group.estimated
    check = group.estimate_check
    return {
        "start": group.start,
        "version": group.version,
        "predictions": group.predictions,
        "labeled": group.labeled,
        "coverage": group.coverage,
        "metrics": _metrics(group.metrics, baseline),
        "auc_max_error": group.auc_bound,
        "confusion": (
            {"classes": list(group.confusion.classes), "counts": group.confusion.counts}
            if group.confusion
            else None
        ),
        "per_class": [
            {
                "label": c.label,
                "support": c.support,
                "predicted": c.predicted,
                "precision": c.precision.value,
                "recall": c.recall.value,
                "f1": c.f1,
            }
            for c in group.per_class
        ],
        "estimated": (
            {
                "predictions": estimated.predictions,
                "metrics": _metrics(estimated.metrics, baseline),
                "check": (
                    {
                        "labeled": check.labeled,
                        "estimated_accuracy": _metric(check.estimated, None),
                        "realized_accuracy": check.realized,
                        "agrees": check.agrees,
                    }
                    if check
                    else None
                ),
            }
            if estimated
            else None
        ),
    }


def _fmt(value: float | None, regression: bool) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3g}" if regression else f"{value:.1%}"


def _print_table(document: dict[str, Any]) -> None:
    task = document["task"]
    name = "mae" if task == "regression" else "accuracy"
    regression = task == "regression"
    window = document["window"]
    print(
        f"{document['model_id']} ({task}), {name} per {document['bucket']}, "
        f"{window['start']:%Y-%m-%d %H:%M} .. {window['end']:%Y-%m-%d %H:%M} UTC"
    )
    base = document["baseline"]["metrics"].get(name)
    source = document["baseline"]["source"] or "none"
    print(f"baseline ({source}): {_fmt(base and base['value'], regression)}")
    print(
        f"{'start':<17} {'version':<8} {'predictions':>11} {'labeled':>8} {'coverage':>8}  "
        f"{name:<24} estimated"
    )
    for bucket in document["buckets"]:
        metric = (bucket["metrics"] or {}).get(name)
        realized = (
            f"{_fmt(metric['value'], regression)} [{_fmt(metric['low'], regression)}, "
            f"{_fmt(metric['high'], regression)}]"
            if metric
            else "no labels"
        )
        estimated = bucket["estimated"] and (bucket["estimated"]["metrics"] or {}).get(name)
        print(
            f"{bucket['start']:%Y-%m-%d %H:%M} {bucket['version'] or 'all':<8} "
            f"{bucket['predictions']:>11,} {bucket['labeled']:>8,} "
            f"{_fmt(bucket['coverage'], False):>8}  {realized:<24} "
            f"{_fmt(estimated['value'], regression) if estimated else ''}"
        )
