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
from monitor.core.tabular_reconcile import reconcile
from monitor.queries import column_roles
from monitor.queries.column_roles import ColumnUse, RoleNames


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
    parser.add_argument(
        "--features", help="only these features, comma-separated (identifiers included)"
    )
    add_role_arguments(parser)
    parser.add_argument(
        "--keep-ids",
        action="store_true",
        help="analyse columns unique per row as features (default: left out as identifiers)",
    )


def add_role_arguments(parser: argparse.ArgumentParser, *, targets: bool = True) -> None:
    """Column roles of files: targets (not features) and columns left out."""
    if targets:
        for role, what in (
            ("label", "true label"),
            ("prediction", "prediction"),
            ("score", "score / probability"),
        ):
            parser.add_argument(
                f"--{role}", metavar="COL", help=f"{what} column of the files (a target)"
            )
    parser.add_argument("--id", metavar="COL[,COL]", help="identifier column(s): left out")
    parser.add_argument("--timestamp", metavar="COL", help="timestamp column: left out")
    parser.add_argument("--ignore", metavar="COL[,COL]", help="columns to leave out")


def role_names(args: argparse.Namespace) -> RoleNames:
    """The roles the flags name (empty when the command has no such flag)."""

    def one(flag: str) -> str | None:
        value = getattr(args, flag, None)
        if value is None:
            return None
        if not value.strip():
            raise InputError(f"--{flag} is empty")
        return str(value).strip()

    return RoleNames(
        label=one("label"),
        prediction=one("prediction"),
        score=one("score"),
        ids=tuple(_split(getattr(args, "id", None), "--id") or ()),
        timestamp=one("timestamp"),
        ignore=tuple(_split(getattr(args, "ignore", None), "--ignore") or ()),
    )


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
    columns: ColumnUse | None = None
    """Roles and left-out columns, when a side is a file (--reference / --current)."""

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
    roles = role_names(args)
    uses_logs = args.model is not None and (args.reference is None or args.current is None)
    if args.model is None and (args.reference is None or args.current is None):
        raise InputError("give --reference FILE and --current FILE, or --model ID")
    if args.model is None and (args.reference_window or args.current_window):
        raise InputError("--reference-window and --current-window need --model")
    if args.reference is None and args.current is None and (roles.named() or args.keep_ids):
        raise InputError(
            "--label, --prediction, --score, --id, --timestamp, --ignore and --keep-ids "
            "apply to files: give --reference FILE and/or --current FILE"
        )
    config = settings(args) if args.model is not None else None
    model = config.model(args.model) if config is not None else None
    file_model, defaults = column_roles.target_model(roles, model, skip=features or ())
    runner: Runner
    if uses_logs:
        from monitor.core.store import LogStore

        assert config is not None
        runner = LogStore(config.data_dir)
    else:
        runner = FileDatabase()
    try:
        if args.reference is not None:
            reference = file_relation(runner, args.reference, model=file_model)
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
            current = file_relation(runner, args.current, model=file_model)
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
        use = None
        if args.reference is not None or args.current is not None:
            reference, current, use = _file_columns(
                runner, args, (reference, current), roles, defaults, features
            )
        for relation in (reference, current):
            if relation.time_alias is not None and not rows(runner, relation):
                raise InputError(f"no predictions in {relation.label}")
        reference, current = reconcile(runner, reference, current)
    except BaseException:
        close = getattr(runner, "close", None)
        if callable(close):
            close()
        raise
    if not {c.name for c in reference.features} & {c.name for c in current.features}:
        close = getattr(runner, "close", None)
        if callable(close):
            close()
        raise InputError(
            f"no shared columns between the reference ({reference.label}) and the current "
            f"data ({current.label})"
        )
    window_used = None if args.current is not None else span
    return Tables(runner, reference, current, model, config, window_used, use)


def _file_columns(
    runner: Runner,
    args: argparse.Namespace,
    pair: tuple[Relation, Relation],
    roles: RoleNames,
    defaults: tuple[column_roles.TargetRole, ...],
    features: list[str] | None,
) -> tuple[Relation, Relation, ColumnUse]:
    """The file sides' roles checked, `--features` applied to them, and the id,
    timestamp, ignored and identifier-like columns left out (`column_roles`)."""
    reference, current = pair
    files = [r for r, path in zip(pair, (args.reference, args.current), strict=True) if path]
    names = {name for relation in files for name in column_roles.column_names(relation)}
    column_roles.check_names(roles, names, " or ".join(dict.fromkeys(r.label for r in files)))
    if features is not None:
        if args.reference is not None:
            reference = column_roles.only_features(reference, features)
        if args.current is not None:
            current = column_roles.only_features(current, features)
    reference, current, excluded = column_roles.split_columns(
        runner, reference, current, roles, detect=not args.keep_ids, keep=features or ()
    )
    found = column_roles.found_targets(roles, *files)
    used = tuple(role for role in defaults if found.target(role) is not None)
    return reference, current, ColumnUse(found, used, excluded)


def _last_day(runner: Runner, model_id: str) -> Window:
    from monitor.core.store import LogStore

    assert isinstance(runner, LogStore)
    for info in catalog.inventory(runner):
        if info.model_id == model_id:
            return Window.ending_at(info.last_seen)
    raise InputError(f"no predictions logged for model {model_id!r}")


_HINTS: dict[str, str] = {
    "identifier": " (--keep-ids, or naming it in --features, analyses it)",
    "id": "",
    "timestamp": "",
    "ignore": "",
    "unsupported": "",
}


def column_lines(use: ColumnUse, model: ModelConfig | None) -> list[str]:
    """The roles and the left-out columns, in words (the text output of the commands)."""
    roles = use.roles
    found = [
        f"{role} {roles.target(role)!r}" for role in column_roles.TARGET_ROLES if roles.target(role)
    ]
    if found:
        line = "targets: " + ", ".join(found)
        if use.defaults:
            source = f"model {model.id}'s columns" if model is not None else "their default names"
            line += f" ({', '.join(use.defaults)} by {source}; --label/--prediction/--score choose)"
    elif model is None:
        line = (
            "targets: none (no --label/--prediction/--score, and no column named "
            + ", ".join(column_roles.DEFAULT_NAMES.values())
            + ")"
        )
    else:
        line = f"targets: none (model {model.id}'s label, prediction and score columns are absent)"
    lines = [line]
    for excluded in use.excluded:
        lines.append(f"left out: {excluded.column}: {excluded.detail}{_HINTS[excluded.reason]}")
    return lines
