"""`monitor drift`: which features drifted between a reference and current data.

Exit codes: 0, or 3 with --fail-on-drift when the dataset drifted; 2 on bad input.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from monitor.cli.common import EXIT_OK, print_json
from monitor.cli.tables import Tables, add_table_arguments, column_lines, open_tables
from monitor.metrics.drift.registry import CORRECTIONS, METHODS

if TYPE_CHECKING:
    from monitor.metrics.drift.report import FeatureDrift

NAME = "drift"
HELP = "feature drift between a reference and current data (files or a model's logs)"
EXIT_DRIFT = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_table_arguments(parser)
    parser.add_argument(
        "--method",
        default="auto",
        choices=["auto", *METHODS],
        help="score to show and threshold (default: auto, see docs/drift.md)",
    )
    parser.add_argument(
        "--correction",
        default="bh",
        choices=list(CORRECTIONS),
        help="multiple-testing correction across features (default: bh = Benjamini-Hochberg)",
    )
    parser.add_argument("--alpha", type=float, default=0.05, help="significance level")
    parser.add_argument(
        "--drift-share",
        type=float,
        help="dataset drift when at least this share of features drifted (default: config, 0.5)",
    )
    parser.add_argument(
        "--fail-on-drift", action="store_true", help=f"exit {EXIT_DRIFT} if the dataset drifted"
    )
    parser.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    from monitor.core.errors import InputError
    from monitor.queries.drift import with_incomparable
    from monitor.queries.drift_profile import profiles

    if not 0 < args.alpha < 1:
        raise InputError("--alpha must be between 0 and 1")
    tables = open_tables(args)
    try:
        thresholds = tables.settings.thresholds if tables.settings is not None else None
        share = args.drift_share
        if share is None:
            share = thresholds.drift_share if thresholds is not None else 0.5
        # The DuckDB scans run in a thread while scipy is imported here (about 1 s cold):
        # the profiles need only numpy and DuckDB, the statistics need scipy.
        with ThreadPoolExecutor(max_workers=1) as pool:
            future = pool.submit(profiles, tables.runner, tables.reference, tables.current)
            from monitor.metrics.drift.report import compare

            ref_profile, cur_profile = future.result()
        report = compare(
            ref_profile,
            cur_profile,
            method=args.method,
            correction=args.correction,
            alpha=args.alpha,
            drift_share=share,
            thresholds={"psi": thresholds.psi} if thresholds is not None else None,
        )
        report = with_incomparable(report, tables.reference)
        targets = _target_drift(args, tables)
    finally:
        tables.close()
    code = EXIT_DRIFT if args.fail_on_drift and report.dataset_drift else EXIT_OK
    if args.json:
        from monitor.reports.drift_export import feature_object, report_document

        document = report_document(
            report, tables.reference.label, tables.current.label, tables.reference.schema
        )
        if tables.columns is not None:
            document["columns"] = tables.columns.document()
        if targets is not None:
            document["targets"] = [
                feature_object(f) | {"role": role, "column": column} for f, role, column in targets
            ]
        print_json(document)
        return code
    share_text = "n/a" if report.share_drifted is None else f"{report.share_drifted:.0%}"
    verdict = "DRIFT" if report.dataset_drift else "no dataset drift"
    print(
        f"{verdict}: {len(report.drifted)} of {len(report.evaluated)} features drifted "
        f"({share_text}, threshold {report.drift_share_threshold:.0%}); "
        f"reference {report.reference_rows:,} rows, current {report.current_rows:,} rows"
    )
    for f in report.features:  # the status is the row's verdict ("drifted", "ok", ...)
        score = "" if f.score is None else f"{f.method} {f.score:.4g} (threshold {f.threshold:.4g})"
        print(f"  {f.feature}: {f.kind or '-'} {score} {f.status}")
    for f, role, column in targets or ():
        score = "" if f.score is None else f"{f.method} {f.score:.4g} (threshold {f.threshold:.4g})"
        print(f"  {role} drift ({column}): {f.kind or '-'} {score} {f.status}")
    for note in tables.reference.schema:
        print(f"schema: {note.note}")
    if tables.columns is not None:
        for line in column_lines(tables.columns, tables.model):
            print(line)
    return code


def _target_drift(
    args: argparse.Namespace, tables: Tables
) -> list[tuple[FeatureDrift, str, str]] | None:
    """Label, prediction and score drift of two files (None unless both sides are files),
    with each one's role and column; their kinds follow the model's task, else the values."""
    if args.reference is None or args.current is None:
        return None
    if not tables.reference.targets:
        return []
    from monitor.core.tabular import TARGET_NAMES
    from monitor.queries.drift import target_drift

    found = target_drift(
        tables.runner,
        tables.reference,
        tables.current,
        task=None if tables.model is None else tables.model.task,
        method=args.method,
        alpha=args.alpha,
    )
    columns = {TARGET_NAMES[role]: (role, c.name) for role, c in tables.reference.targets.items()}
    return [(f, *columns[f.feature]) for f in found.features]
