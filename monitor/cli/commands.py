"""One module per `monitor` sub-command.

Each module defines `NAME`, `HELP`, `add_arguments(parser)` and `run(args) -> int`, and
is listed in `COMMANDS`; `monitor.cli` wires them into argparse and handles errors.
"""

from __future__ import annotations

from types import ModuleType

from monitor.cli import (
    alerts,
    check,
    compact,
    datasets,
    demo,
    drift,
    fairness,
    models,
    performance,
    quality,
    rollback,
    summary,
)

COMMANDS: tuple[ModuleType, ...] = (
    demo,
    summary,
    compact,
    fairness,
    drift,
    performance,
    quality,
    models,
    rollback,
    check,
    alerts,
    datasets,
)
