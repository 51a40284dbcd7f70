"""A command pays only for what it computes: which heavy libraries a fresh interpreter
has loaded after building the parser, showing help, or running a command.

Measured honestly (`python -X importtime -m monitor.cli ...`): scipy.stats ~0.3 s,
scikit-learn ~0.5 s, pandas ~0.15 s. `monitor summary` needs scikit-learn only to fit a
calibrator on a reference dataset, scipy only for drift statistics, fairlearn (with
pandas and scikit-learn) only for the fairness status of sensitive features; over logs
without references or sensitive features it needs none of them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from monitor.cli.commands import COMMANDS
from monitor.demo import demo_config_toml

HEAVY = ("scipy", "sklearn", "fairlearn", "pandas", "plotly", "streamlit")
CAR_LOAN = Path(__file__).resolve().parents[1] / "data" / "nannyml" / "car_loan_{}.parquet"

_PROBE = """
import contextlib, io, json, sys
from monitor.cli.main import build_parser, main
mode, args = sys.argv[1], sys.argv[2:]
if mode == "parser":
    build_parser()
elif mode == "help":
    build_parser().format_help()
else:
    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = main(args)
    assert code == 0, code
    json.loads(out.getvalue())
print(json.dumps(sorted(name for name in sys.modules if not name.startswith("_"))))
"""


def _loaded(mode: str, *args: str) -> set[str]:
    """Top-level packages and monitor.cli modules a fresh interpreter has after `mode`."""
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, mode, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")},
    )
    assert result.returncode == 0, result.stderr
    names = json.loads(result.stdout)
    return {n.split(".")[0] for n in names} | {n for n in names if n.startswith("monitor.cli.")}


def test_building_the_parser_imports_no_command_and_no_heavy_library() -> None:
    loaded = _loaded("parser")
    assert not loaded & set(HEAVY)
    assert not loaded & set(COMMANDS.values())
    assert "duckdb" not in loaded and "pyarrow" not in loaded


def test_help_reads_every_command_without_heavy_libraries() -> None:
    loaded = _loaded("help")
    assert set(COMMANDS.values()) <= loaded
    assert not loaded & set(HEAVY)


def test_one_command_imports_only_its_own_module() -> None:
    loaded = _loaded(
        "run",
        "drift",
        "--reference",
        str(CAR_LOAN).format("reference"),
        "--current",
        str(CAR_LOAN).format("analysis"),
        "--json",
    )
    assert {m for m in COMMANDS.values() if m in loaded} == {"monitor.cli.drift"}
    assert "scipy" in loaded  # KS and chi-square p-values: the drift it computes
    assert not loaded & {"sklearn", "fairlearn", "pandas", "plotly", "streamlit"}


def test_summary_without_references_or_sensitive_features_loads_no_heavy_library(
    demo_dir: Path, tmp_path: Path
) -> None:
    lines = [
        "sensitive_features = []" if line.startswith("sensitive_features") else line
        for line in demo_config_toml(str(demo_dir)).splitlines()
        if not line.startswith("reference")
    ]
    (tmp_path / "monitor.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    loaded = _loaded("run", "--config", str(tmp_path / "monitor.toml"), "summary", "--json")
    assert {m for m in COMMANDS.values() if m in loaded} == {"monitor.cli.summary"}
    assert not loaded & set(HEAVY)
    # with the demo's references and sensitive features, the work needs them (measured)
    full = _loaded("run", "--config", str(demo_dir / "monitor.toml"), "summary", "--json")
    assert {"scipy", "sklearn", "fairlearn"} <= full
    assert not full & {"plotly", "streamlit"}


def test_every_command_module_is_listed_under_its_name() -> None:
    """A module that defines a command (NAME) is one line in COMMANDS, under that NAME."""
    from monitor.cli import commands

    folder = Path(commands.__file__).parent
    defining = {
        f"monitor.cli.{path.stem}"
        for path in folder.glob("*.py")
        if any(line.startswith("NAME = ") for line in path.read_text(encoding="utf-8").splitlines())
    }
    assert defining == set(COMMANDS.values())
    for name in COMMANDS:
        module = commands.load(name)
        assert name == module.NAME and module.HELP
        assert callable(module.add_arguments) and callable(module.run)
