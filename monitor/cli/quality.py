"""`monitor quality`: missing, out-of-range and new values, schema changes, duplicates.

Exit codes: 0, or 3 with --fail-on-issues when a schema change, an out-of-range value, a
new category, a duplicate id or an invalid record was found; 2 on bad input.
"""

from __future__ import annotations

import argparse

from monitor.cli.common import EXIT_OK, percent, print_json
from monitor.cli.tables import add_table_arguments, column_lines, open_tables

NAME = "quality"
HELP = "data quality of current data against a reference (files or a model's logs)"
EXIT_ISSUES = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_table_arguments(parser)
    parser.add_argument(
        "--fail-on-issues", action="store_true", help=f"exit {EXIT_ISSUES} when issues were found"
    )
    parser.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    from monitor.core.store import LogStore
    from monitor.metrics.health import service as health
    from monitor.queries.quality import quality_report
    from monitor.reports.quality_export import report_document

    tables = open_tables(args)
    try:
        invalid = None
        window = tables.current_window
        if isinstance(tables.runner, LogStore) and tables.model is not None and window:
            records = tables.runner.invalid_records()
            invalid = health.invalid_in_window(records, window, tables.model.id)
        model = tables.model
        report = quality_report(
            tables.runner,
            tables.reference,
            tables.current,
            ranges=model.feature_ranges if model is not None else None,
            categories=model.feature_categories if model is not None else None,
            invalid_records=invalid,
        )
    finally:
        tables.close()
    issues = bool(
        report.missing_columns
        or report.unexpected_columns
        or report.type_changes
        or report.duplicate_ids
        or report.invalid_records
        or any(f.out_of_range or f.new_categories for f in report.features)
    )
    code = EXIT_ISSUES if args.fail_on_issues and issues else EXIT_OK
    if args.json:
        document = report_document(report, tables.reference.label, tables.current.label)
        if tables.columns is not None:
            document["columns"] = tables.columns.document()
        print_json(document)
        return code
    duplicates = "n/a" if report.duplicate_ids is None else report.duplicate_ids
    invalid_text = "n/a" if report.invalid_records is None else report.invalid_records
    print(
        f"reference {report.reference_rows:,} rows, current {report.current_rows:,} rows; "
        f"duplicate ids: {duplicates}; invalid records: {invalid_text}"
    )
    for name in report.missing_columns:
        print(f"  missing column: {name}")
    for name in report.unexpected_columns:
        print(f"  unexpected column: {name}")
    for name, before, after in report.type_changes:
        print(f"  type changed: {name} {before} -> {after}")
    for f in report.features:
        new = ", ".join(k for k, _ in f.new_categories)
        print(
            f"  {f.feature}: missing {percent(f.missing_share)}, out of range "
            f"{percent(f.out_of_range_share)}{', new: ' + new if new else ''}"
            f"{', constant' if f.constant else ''} ({f.status})"
        )
    if tables.columns is not None:
        for line in column_lines(tables.columns, tables.model):
            print(line)
    return code
