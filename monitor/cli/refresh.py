"""Running the rollup job from the commands: `monitor rollup`, and the refresh after
`monitor compact` and `monitor check` (a module of its own so that those commands do not
import another command's module)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from monitor.core.errors import InputError

if TYPE_CHECKING:
    from monitor.core.config import Settings
    from monitor.ops.rollup.engine import Engine
    from monitor.ops.rollup.job import RollupReport


def refresh(
    args: argparse.Namespace,
    *,
    engine: str = "duckdb",
    master: str | None = None,
    full: bool = False,
) -> RollupReport:
    """Run the rollup job for the command's settings (also after compact and check)."""
    from monitor.ops.rollup.job import run_rollup
    from monitor.ops.rollup.storage import is_uri, storage_for

    location = args.data_dir if args.data_dir and is_uri(args.data_dir) else None
    settings = _settings(args, uri=location is not None)
    if location is not None and engine != "spark":
        raise InputError(f"--data-dir {location}: a URI needs --engine spark")
    if master is not None and engine != "spark":
        raise InputError("--master applies to --engine spark")
    root = location or str(settings.data_dir)
    if engine == "spark":
        from monitor.ops.rollup.spark_engine import SparkEngine

        job_engine: Engine = SparkEngine(root, master=master)
    else:
        from monitor.ops.rollup.duckdb_engine import DuckDBEngine

        job_engine = DuckDBEngine(settings.data_dir)
    return run_rollup(job_engine, settings, storage_for(root), full=full)


def _settings(args: argparse.Namespace, *, uri: bool) -> Settings:
    from monitor.cli.common import settings
    from monitor.core.config import load_settings

    if uri:  # the logs are not on this machine: references resolve as in the config file
        return load_settings(args.config)
    return settings(args)


def refresh_if_present(args: argparse.Namespace) -> None:
    """After `compact` and `check`: bring existing rollups (a manifest in the data
    directory) up to date with DuckDB. Never fails the command: a problem is one warning
    on stderr, and the job only ever replaces rollup files atomically (the logs are read)."""
    try:
        from monitor.ops.rollup.manifest import MANIFEST_PATH

        if not (_settings(args, uri=False).data_dir / MANIFEST_PATH).is_file():
            return
        report = refresh(args)
        print(
            f"rollups refreshed: {len(report.written)} files written in {report.seconds:.1f}s",
            file=sys.stderr,
        )
    except Exception as exc:
        print(f"warning: rollups not refreshed: {exc}", file=sys.stderr)
