"""`monitor report`: one model's shareable HTML report of a window (docs/reports.md).

One self-contained file: the executive summary of `monitor summary` for the same model
and window, then performance, drift, data quality, fairness, system health and the
alerts of the window. Exit codes: 0 written, 2 bad input (unknown model or version, a
window that ends before it starts, an output that cannot be written).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
from pathlib import Path

from monitor.cli.common import EXIT_OK, settings, timestamp

NAME = "report"
HELP = "a self-contained HTML report of one model and window, to share or print"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="ID", help="the model")
    parser.add_argument(
        "--since", type=timestamp, help="window start (default: a day before --until)"
    )
    parser.add_argument(
        "--until", type=timestamp, help="window end (default: the model's newest prediction)"
    )
    parser.add_argument(
        "--version",
        action="append",
        default=[],
        metavar="V",
        help="only this version in the sections (repeat for several; default all)",
    )
    parser.add_argument("--output", required=True, type=Path, metavar="FILE.html")


def run(args: argparse.Namespace) -> int:
    from monitor.core.errors import InputError
    from monitor.core.state import STATE_FILE_NAME, StateStore
    from monitor.core.store import LogStore
    from monitor.reporting.build import build_report
    from monitor.reporting.html import render

    output: Path = args.output
    if not output.parent.is_dir():
        raise InputError(f"cannot write {output}: {output.parent} is not a directory")
    if output.is_dir():
        raise InputError(f"cannot write {output}: it is a directory")
    config = settings(args)
    state_file = config.data_dir / STATE_FILE_NAME
    state = StateStore(state_file) if state_file.is_file() else None  # never create one
    store = LogStore(config.data_dir)
    try:
        report = build_report(
            store,
            config,
            model_id=args.model,
            since=args.since,
            until=args.until,
            versions=args.version,
            state=state,
        )
    finally:
        store.close()
    size = _write(output, render(report).encode("utf-8"))
    print(f"wrote {output} ({size / 1e6:.1f} MB): {report.model_id}, {report.status}")
    return EXIT_OK


def _write(path: Path, data: bytes) -> int:
    """Write next to the target, then rename: a reader never sees half a report."""
    from monitor.core.errors import InputError

    try:
        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
        )
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return len(data)
