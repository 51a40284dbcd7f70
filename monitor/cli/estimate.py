"""`monitor estimate`: label-free performance of a current file, per chunk, calibrated on
a labeled reference file: binary and multiclass models from their scores
(confidence-based, as NannyML's CBPE), regression models from their inputs (direct loss
estimation, as NannyML's DLE).

Per chunk, each metric's `value` and its band (`lower`, `upper`), and the `realized`
value where the current file has labels (see monitor.queries.estimate_files and, for
the JSON document, monitor.reports.estimate_export); the fit's warnings once, each
chunk's with it. Exit codes: 0, or 2 with one `error:` line on bad input (a missing
column, a label with one outcome, scores outside [0, 1] or not numbers, a label value
that is not a class, a regression label that is not numbers, an empty file, an unknown
chunk column).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Final

from monitor.cli.common import EXIT_OK, print_json
from monitor.core.errors import InputError

if TYPE_CHECKING:
    from monitor.core.buckets import Bucket
    from monitor.core.config import Task
    from monitor.queries.estimate_types import EstimateSpec, FileEstimate

NAME = "estimate"
HELP = "label-free performance of a current file per chunk, calibrated on a labeled reference"
PERIODS: Final[tuple[Bucket, ...]] = ("hour", "day", "week")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reference", type=Path, required=True, help="labeled reference file")
    parser.add_argument("--current", type=Path, required=True, help="current file to estimate")
    parser.add_argument("--label", metavar="COL", required=True, help="true label column")
    parser.add_argument(
        "--score",
        metavar="COL",
        help="score column: the positive class's probability (multiclass: one per class, "
        "COL,COL,... or a glob such as 'y_pred_proba_*')",
    )
    parser.add_argument(
        "--prediction",
        metavar="COL",
        help="predicted label column (default: positive when score >= --threshold; "
        "multiclass: the class with the highest score); regression: required",
    )
    parser.add_argument(
        "--classes",
        metavar="A,B,...",
        help="multiclass: the class of each score column, in their order (default: the "
        "columns' names after their common prefix)",
    )
    parser.add_argument(
        "--timestamp", metavar="COL", help="time column (for --chunk-by PERIOD; not a feature)"
    )
    parser.add_argument(
        "--id", metavar="COL[,COL]", help="regression: identifier column(s), not features"
    )
    parser.add_argument(
        "--ignore", metavar="COL[,COL]", help="regression: columns that are not features"
    )
    parser.add_argument(
        "--keep-ids",
        action="store_true",
        help="regression: columns unique per row are features (default: left out as identifiers)",
    )
    parser.add_argument(
        "--task",
        choices=("binary", "multiclass", "regression"),
        help="model task (default: multiclass for several score columns, else binary)",
    )
    parser.add_argument("--threshold", type=float, help="binary: default 0.5")
    parser.add_argument(
        "--positive",
        metavar="VALUE",
        help="binary: positive label (default: 1, true, yes or positive)",
    )
    chunks = parser.add_mutually_exclusive_group()
    chunks.add_argument("--chunk-size", type=int, metavar="N", help="chunks of N rows")
    chunks.add_argument(
        "--chunk-by",
        metavar="COL:PERIOD",
        help="one chunk per hour, day or week (UTC) of column COL (or of --timestamp)",
    )
    parser.add_argument(
        "--method", choices=("isotonic", "platt"), help="binary calibration (default isotonic)"
    )
    parser.add_argument("--confidence", type=float, default=0.95, help="band level (0.95)")
    parser.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    from monitor.core.tabular import FileDatabase
    from monitor.queries.estimate_files import estimate_files

    spec = spec_of(args)
    runner = FileDatabase()
    try:
        result = estimate_files(runner, args.reference, args.current, spec)
    finally:
        runner.close()
    if args.json:
        from monitor.reports.estimate_export import estimate_document

        print_json(estimate_document(result))
    else:
        _print_table(result)
    return EXIT_OK


def spec_of(args: argparse.Namespace) -> EstimateSpec:
    """The estimate the flags ask for."""
    import dataclasses

    from monitor.cli.tables import role_names
    from monitor.queries.estimate_types import Chunking, EstimateSpec

    roles = role_names(args)
    timestamp, period = roles.timestamp, None
    if args.chunk_by is not None:
        column, _, period_text = args.chunk_by.rpartition(":")
        period = _period(period_text)
        timestamp = column.strip() or timestamp
        if timestamp is None:
            raise InputError("--chunk-by PERIOD needs a time column: --chunk-by COL:PERIOD")
    roles = dataclasses.replace(roles, timestamp=timestamp)
    task = _task(args.task, roles.score)
    if task != "binary":
        for flag, value in (("--threshold", args.threshold), ("--positive", args.positive)):
            if value is not None:
                raise InputError(f"{flag} applies to binary models only")
    return EstimateSpec(
        roles,
        task=task,
        chunking=Chunking(size=args.chunk_size, period=period),
        threshold=0.5 if args.threshold is None else args.threshold,
        positive=args.positive,
        method=args.method or "isotonic",
        confidence=args.confidence,
        classes=_classes(args.classes),
        keep_ids=args.keep_ids,
    )


def _classes(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    found = tuple(c.strip() for c in text.split(","))
    if not all(found):
        raise InputError(f"--classes {text!r} has an empty class name")
    return found


def _period(text: str) -> Bucket:
    for period in PERIODS:
        if text == period:
            return period
    raise InputError(f"--chunk-by: {text!r} is not a period (use {', '.join(PERIODS)})")


def _task(given: Task | None, score: str | None) -> Task:
    """The task given, else multiclass for several score columns, else binary."""
    if given is not None:
        return given
    several = score is not None and any(ch in score for ch in ",*?[")
    return "multiclass" if several else "binary"


def _print_table(result: FileEstimate) -> None:
    from monitor.reports.estimate_export import bound_text, estimate_rows

    method = (
        "direct loss estimation" if result.task == "regression" else f"{result.method} calibration"
    )
    print(
        f"label-free estimates ({result.task}, {method}, {result.confidence:.0%} bands): "
        f"{result.current[0]} ({result.current[1]:,} rows) against {result.reference[0]} "
        f"({result.reference[1]:,} rows)"
    )
    print(f"{_inputs_text(result)}; chunks: {result.chunking}")
    digits = 2 if result.task == "regression" else 4
    print(
        f"{'chunk':>5} {'start':>16} {'end':>16} {'rows':>9} {'labeled':>9}  {'metric':<10} "
        f"{'estimate':>10} {'lower':>10} {'upper':>10} {'realized':>10}"
    )
    rows = estimate_rows(result)
    for chunk in result.chunks:
        line = (
            f"{chunk.index:>5} {bound_text(chunk.start):>16} {bound_text(chunk.end):>16} "
            f"{chunk.rows:>9,} {chunk.labeled:>9,}"
        )
        for row in (r for r in rows if r["chunk"] == chunk.index):
            numbers = " ".join(
                f"{'n/a' if row[k] is None else format(row[k], f'.{digits}f'):>10}"
                for k in ("estimate", "lower", "upper", "realized")
            )
            print(f"{line}  {row['metric']:<10} {numbers}")
            line = " " * len(line)
        for warning in chunk.warnings:
            print(f"{line}  warning: {warning}")
            line = " " * len(line)
    for warning in result.warnings:
        print(f"warning: {warning}")


def _inputs_text(result: FileEstimate) -> str:
    """What the estimate read, in words (the second line of the text output)."""
    if result.task == "binary":
        predicted = (
            f"prediction column {result.prediction!r}"
            if result.prediction
            else f"predicted positive when score >= {result.threshold:g}"
        )
        return f"positive label {result.positive!r}, {predicted}"
    if result.task == "multiclass":
        classes = ", ".join(f"{name!r} ({column})" for name, column in result.classes)
        predicted = (
            f"prediction column {result.prediction!r}"
            if result.prediction
            else "predicted: the class with the highest score"
        )
        return f"classes {classes}; {predicted}"
    left = ", ".join(f"{e.column} ({e.reason})" for e in result.excluded)
    return (
        f"prediction column {result.prediction!r}; features {', '.join(result.features) or 'none'}"
        + (f" (left out: {left})" if left else "")
    )
