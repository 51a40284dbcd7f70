"""One module per `monitor` sub-command, imported only when it is needed.

Each module defines `NAME`, `HELP`, `add_arguments(parser)` and `run(args) -> int`, and
is listed in `COMMANDS` (one line: name -> module). `monitor.cli.main` imports a
command's module only when that command runs or shows its --help (`monitor --help`
imports them all, for their HELP), so a command pays only for what it computes. Keep
scipy, scikit-learn, fairlearn, pandas and Plotly out of a command module's top level
(imports inside `run`, or in the modules `run` calls): tests/cli/test_lazy_imports.py
checks it.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Final

COMMANDS: Final[dict[str, str]] = {
    "demo": "monitor.cli.demo",
    "summary": "monitor.cli.summary",
    "report": "monitor.cli.report",
    "compact": "monitor.cli.compact",
    "fairness": "monitor.cli.fairness",
    "drift": "monitor.cli.drift",
    "performance": "monitor.cli.performance",
    "estimate": "monitor.cli.estimate",
    "quality": "monitor.cli.quality",
    "models": "monitor.cli.models",
    "rollback": "monitor.cli.rollback",
    "check": "monitor.cli.check",
    "exporter": "monitor.cli.exporter",
    "alerts": "monitor.cli.alerts",
    "datasets": "monitor.cli.datasets",
    "rollup": "monitor.cli.rollup",
}


def load(name: str) -> ModuleType:
    """The module of command `name`; it must say the same NAME as its entry."""
    module = importlib.import_module(COMMANDS[name])
    found = getattr(module, "NAME", None)
    if found != name:
        raise RuntimeError(f"{COMMANDS[name]} defines NAME {found!r}, listed as {name!r}")
    return module
