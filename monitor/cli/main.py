"""The `monitor` command line: the dashboard's work for scripts, cron and CI.

Every `--json` command prints one JSON document on stdout. Bad input exits with code 2
and one `error: ...` line on stderr; an unexpected failure exits with 1, also as one
line (set MONITOR_DEBUG=1 for the traceback). A reader that stops early (`monitor ... |
head`) ends the command quietly with 141, as for any Unix tool killed by SIGPIPE.
Commands: one module each in `monitor.cli`, listed in `monitor.cli.commands` and imported
only when run (or asked for --help).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any, cast

from monitor.cli import commands
from monitor.core.errors import InputError, MonitorError

EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 128 + 13
"""What a shell reports for a process ended by SIGPIPE."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one `error:` line with exit code 2."""

    def error(self, message: str) -> Any:
        raise InputError(f"{message} (see '{self.prog} --help')")


class _Commands(argparse._SubParsersAction):  # type: ignore[type-arg]
    """The sub-commands, each set up from its module only when it is chosen (see
    `monitor.cli.commands`): parsing `monitor drift ...` imports the drift command alone."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        name = values[0]
        if name in commands.COMMANDS:
            _set_up(name, self._name_parser_map[name])
        super().__call__(parser, namespace, values, option_string)

    def describe_all(self) -> None:
        """Give every command its one-line help (imports every command module)."""
        for choice in self._choices_actions:
            choice.help = commands.load(choice.dest).HELP


def _set_up(name: str, sub: argparse.ArgumentParser) -> None:
    if sub.get_default("handler") is None:
        command = commands.load(name)
        sub.description = command.HELP
        command.add_arguments(sub)
        sub.set_defaults(handler=command.run)


class _MainParser(_Parser):
    """`monitor --help` lists every command with its help."""

    commands: _Commands | None = None

    def format_help(self) -> str:
        if self.commands is not None:
            self.commands.describe_all()
        return super().format_help()


def build_parser() -> argparse.ArgumentParser:
    """The `monitor` parser; a command's arguments are added when it is parsed."""
    parser = _MainParser(prog="monitor", description="Monitor deployed ML models from their logs.")
    parser.add_argument(
        "--config", help="path to monitor.toml (default: $MONITOR_CONFIG, ./monitor.toml)"
    )
    parser.add_argument(
        "--data-dir", help="data directory (overrides the config and $MONITOR_DATA_DIR)"
    )
    subparsers = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser, action=_Commands
    )
    for name in commands.COMMANDS:
        subparsers.add_parser(name, help="")  # the help is filled in by describe_all
    parser.commands = cast(_Commands, subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        exit_code: int = args.handler(args)
        return exit_code
    except MonitorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    except Exception as exc:  # the CLI never shows a traceback unless asked to
        if os.environ.get("MONITOR_DEBUG"):
            traceback.print_exc()
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(
            f"error: internal error: {message} (set MONITOR_DEBUG=1 for details)", file=sys.stderr
        )
        return EXIT_INTERNAL


def _discard_stdout() -> None:
    """Point stdout at /dev/null: the interpreter flushes it at exit, and a flush into the
    closed pipe would print a second BrokenPipeError."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":
    sys.exit(main())
