"""Arguments shared by `monitor drift` and `monitor quality`: which two tables to compare.

Each side is a file (--reference / --current: CSV, Parquet or JSONL), a window of a
model's logs (--model with --reference-window / --current-window START:END), or, for the
reference, the model's reference dataset from the config. Without --current or
--current-window, the current side is the day ending at the model's newest prediction.
"""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from monitor.cli.common import settings
from monitor.core import catalog, schema
from monitor.core.catalog import Window
from monitor.core.config import ModelConfig, Settings
from monitor.core.errors import InputError
from monitor.core.tabular import FileDatabase, Relation, Runner, file_relation, log_relation, rows
from monitor.core.tabular import reference_relation as model_reference


def add_table_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reference", type=Path, help="reference file (CSV, Parquet, JSONL)")
    parser.add_argument("--current", type=Path, help="current file (CSV, Parquet, JSONL)")
    parser.add_argument("--model", help="model id: compare its logs (log form)")
    parser.add_argument(
        "--reference-window",
        type=window,
        help="reference = the model's logs in START:END (default: its reference dataset)",
    )
    parser.add_argument(
        "--current-window",
        type=window,
        help="current = the model's logs in START:END (default: the last day of its logs)",
    )
    parser.add_argument("--versions", help="only these model versions, comma-separated")
    parser.add_argument("--features", help="only these features, comma-separated")


def window(text: str) -> Window:
    """START:END (or START..END), ISO 8601 dates or times, naive = UTC; a date-only END
    includes that whole day."""
    candidates = []
    if ".." in text:
        candidates.append(tuple(text.split("..", 1)))
    candidates += [(text[:i], text[i + 1 :]) for i, ch in enumerate(text) if ch == ":"]
    for start_text, end_text in candidates:
        try:
            start = dt.datetime.fromisoformat(start_text.strip())
            end = dt.datetime.fromisoformat(end_text.strip())
        except ValueError:
            continue
        if len(end_text.strip()) == 10:
            end = end + dt.timedelta(days=1) - dt.timedelta(microseconds=1)
        start, end = schema.to_utc(start), schema.to_utc(end)
        if start > end:
            raise argparse.ArgumentTypeError(f"{text!r}: START is after END")
        return Window(start, end)
    raise argparse.ArgumentTypeError(
        f"{text!r} is not START:END with ISO 8601 dates or times (e.g. 2026-11-01:2026-11-07)"
    )


@dataclass
class Tables:
    runner: Runner
    reference: Relation
    current: Relation
    model: ModelConfig | None
    settings: Settings | None
    current_window: Window | None = None
    """The window of the model's logs the current side covers (log form)."""

    def close(self) -> None:
        close = getattr(self.runner, "close", None)
        if callable(close):
            close()


def _split(text: str | None, flag: str) -> list[str] | None:
    if text is None:
        return None
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise InputError(f"{flag} is empty")
    return items


def open_tables(args: argparse.Namespace, *, labels: bool = False) -> Tables:
    """The runner and both relations the arguments name (see the module docstring)."""
    features = _split(args.features, "--features")
    versions = tuple(_split(args.versions, "--versions") or ())
    uses_logs = args.model is not None and (args.reference is None or args.current is None)
    if args.model is None and (args.reference is None or args.current is None):
        raise InputError("give --reference FILE and --current FILE, or --model ID")
    if args.model is None and (args.reference_window or args.current_window):
        raise InputError("--reference-window and --current-window need --model")
    config = settings(args) if args.model is not None else None
    model = config.model(args.model) if config is not None else None
    runner: Runner
    if uses_logs:
        from monitor.core.store import LogStore

        assert config is not None
        runner = LogStore(config.data_dir)
    else:
        runner = FileDatabase()
    try:
        if args.reference is not None:
            reference = file_relation(runner, args.reference, features=features, model=model)
        elif args.reference_window is not None:
            assert model is not None
            reference = log_relation(
                runner,  # type: ignore[arg-type]
                model,
                args.reference_window,
                versions,
                labels=labels,
                features=features,
            )
        else:
            assert model is not None
            reference = model_reference(runner, model)
        span: Window | None = None
        if args.current is not None:
            current = file_relation(runner, args.current, features=features, model=model)
        else:
            assert model is not None and config is not None
            span = args.current_window or _last_day(runner, model.id)
            current = log_relation(
                runner,  # type: ignore[arg-type]
                model,
                span,
                versions,
                labels=labels,
                features=features,
            )
    except BaseException:
        close = getattr(runner, "close", None)
        if callable(close):
            close()
        raise
    for relation in (reference, current):
        if relation.time_alias is not None and not rows(runner, relation):
            runner_close = getattr(runner, "close", None)
            if callable(runner_close):
                runner_close()
            raise InputError(f"no predictions in {relation.label}")
    if not {c.name for c in reference.features} & {c.name for c in current.features}:
        raise InputError(
            f"no shared columns between the reference ({reference.label}) and the current "
            f"data ({current.label})"
        )
    window_used = None if args.current is not None else span
    return Tables(runner, reference, current, model, config, window_used)


def _last_day(runner: Runner, model_id: str) -> Window:
    from monitor.core.store import LogStore

    assert isinstance(runner, LogStore)
    for info in catalog.inventory(runner):
        if info.model_id == model_id:
            return Window.ending_at(info.last_seen)
    raise InputError(f"no predictions logged for model {model_id!r}")
