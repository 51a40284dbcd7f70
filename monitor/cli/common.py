"""Helpers shared by the commands: settings from the global flags, JSON output, times."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from monitor.core.config import Settings, load_settings
from monitor.core.state import STATE_FILE_NAME, StateStore
from monitor.reports.jsonable import jsonable

EXIT_OK = 0


def settings(args: argparse.Namespace) -> Settings:
    """Settings from --config / $MONITOR_CONFIG, with --data-dir on top, and the
    uploaded reference datasets attached to models (`references.with_uploaded_references`)
    when the data directory has a state database."""
    loaded = load_settings(args.config, data_dir=args.data_dir)
    state_file = loaded.data_dir / STATE_FILE_NAME
    if state_file.is_file():  # never create a state database for a read-only command
        from monitor.ops.datasets import references  # pyarrow: only when needed

        loaded = references.with_uploaded_references(loaded, StateStore(state_file))
    return loaded


def timestamp(text: str) -> dt.datetime:
    """An argparse type: ISO 8601 date or time; naive means UTC."""
    from monitor.core import schema  # pyarrow: not for `monitor --help`

    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 date or time (e.g. 2026-11-01 or 2026-11-01T12:00:00Z)"
        ) from None
    return schema.to_utc(moment)


def print_json(document: Any) -> None:
    """Print one JSON document; NaN and infinity become null (they are not JSON)."""
    json.dump(jsonable(document), sys.stdout, indent=2, allow_nan=False)
    sys.stdout.write("\n")


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def milliseconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}ms"
