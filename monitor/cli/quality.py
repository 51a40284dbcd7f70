"""`monitor quality`: missing, out-of-range and new values, schema changes, duplicates.

Exit codes: 0, or 3 with --fail-on-issues when a schema change, an out-of-range value, a
new category, a duplicate id or an invalid record was found; 2 on bad input.

A feature's status (often missing, new categories) uses `missing_share` and
`new_category_share` from `[thresholds]` of monitor.toml (--config, $MONITOR_CONFIG or
./monitor.toml; built-in defaults without one), in file mode as on logs; with --model,
that model's alert rules override them, as on the Data quality page.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from monitor.cli.common import EXIT_OK, percent, print_json, settings
from monitor.cli.tables import Tables, add_table_arguments, column_lines, open_tables

if TYPE_CHECKING:
    from monitor.metrics.quality import Limits

NAME = "quality"
HELP = "data quality of current data against a reference (files or a model's logs)"
THRESHOLDS_HELP = (
    "Limits: a feature is often missing above thresholds.missing_share and has new "
    "categories above thresholds.new_category_share of monitor.toml (--config, "
    "$MONITOR_CONFIG or ./monitor.toml; built-in defaults without one), for files as for "
    "logs; with --model, that model's alert rules on those metrics override them."
)
EXIT_ISSUES = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = THRESHOLDS_HELP
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
        limits = _limits(args, tables)
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
            limits=limits,
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


def _limits(args: argparse.Namespace, tables: Tables) -> Limits:
    """The missing and new-category limits: the config's `[thresholds]` (the settings the
    log form loaded, else the config file's, in file mode), with --model's alert rules
    on top (`model_thresholds`)."""
    from monitor.findings.rules_config import model_thresholds
    from monitor.metrics.quality import Limits

    config = tables.settings if tables.settings is not None else settings(args)
    found = model_thresholds(config, None if tables.model is None else tables.model.id)
    return Limits(found.missing_share, found.new_category_share)
