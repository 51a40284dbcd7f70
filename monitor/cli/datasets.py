"""`monitor datasets`: upload (add), list, show, rename and remove stored datasets.

`add` reads CSV, Parquet or JSON Lines files by their content with the same validation
and repairs as the dashboard's Datasets page, stores them as Parquet under
`<data_dir>/uploads/` and registers them in the state store. Who acts is `--by NAME`
(default: the login name), recorded as unverified. Bad input exits with 2 and one
`error:` line; nothing is written then.
"""

from __future__ import annotations

import argparse
import getpass
import os
from pathlib import Path
from typing import Any

from monitor.cli.common import EXIT_OK, print_json, settings
from monitor.core.errors import InputError
from monitor.reports.jsonable import jsonable

NAME = "datasets"
HELP = "upload reference and current datasets (CSV, Parquet, JSONL), list and remove them"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="validate and store one dataset (one or more files)")
    add.add_argument("files", nargs="+", type=Path, metavar="FILE", help="CSV, Parquet or JSONL")
    add.add_argument("--name", required=True, help="the dataset's name (unique, <= 100 chars)")
    add.add_argument("--role", required=True, choices=("reference", "current"))
    add.add_argument("--model", metavar="ID", help="attach to this model")
    add.add_argument("--label", metavar="COL", help="the true label column")
    add.add_argument("--prediction", metavar="COL", help="the model's prediction column")
    add.add_argument("--score", metavar="COL", help="the model's score/probability column")
    add.add_argument(
        "--sensitive", metavar="COL[,COL...]", help="sensitive feature columns (fairness)"
    )
    add.add_argument(
        "--id", metavar="COL[,COL...]", help="identifier column(s): left out of drift and quality"
    )
    add.add_argument(
        "--ignore", metavar="COL[,COL...]", help="columns to leave out of drift and quality"
    )
    add.add_argument(
        "--type",
        action="append",
        default=[],
        metavar="COL=TYPE",
        help="read COL as numeric, categorical, boolean, datetime or text (repeatable)",
    )
    _by(add)
    add.add_argument("--json", action="store_true")

    listing = actions.add_parser("list", help="the stored datasets, newest first")
    listing.add_argument("--role", choices=("reference", "current"))
    listing.add_argument("--json", action="store_true")

    show = actions.add_parser("show", help="one dataset: columns, types, repairs")
    show.add_argument("name")
    show.add_argument("--json", action="store_true")

    rename = actions.add_parser("rename", help="give a dataset another name")
    rename.add_argument("name")
    rename.add_argument("new_name")
    _by(rename)
    rename.add_argument("--json", action="store_true")

    remove = actions.add_parser("remove", help="delete a dataset and its stored file")
    remove.add_argument("name")
    _by(remove)
    remove.add_argument("--json", action="store_true")


def _by(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--by", metavar="NAME", help="who acts, for the audit trail (default: your login name)"
    )


def run(args: argparse.Namespace) -> int:
    from monitor.core.state import StateStore

    config = settings(args)
    ingested = None
    if args.action == "add":  # read and validate before the data directory is touched
        from monitor.ops.datasets.ingest import read_paths

        _actor(args)
        ingested = read_paths(
            args.files,
            max_bytes=config.max_upload_mb * 1024 * 1024,
            type_overrides=_types(args.type),
        )
    state = StateStore.for_data_dir(config.data_dir)
    try:
        if ingested is not None:
            return _add(args, state, config.data_dir, ingested)
        handler = {"list": _list, "show": _show, "rename": _rename, "remove": _remove}
        return handler[args.action](args, state, config.data_dir)
    finally:
        state.close()


def _actor(args: argparse.Namespace) -> Any:
    from monitor.core.state import Actor

    name = args.by
    if name is None:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            name = os.environ.get("USER") or "cli"
    if not name.strip():
        raise InputError("--by must not be empty")
    return Actor(name.strip(), verified=False)


def _names(text: str | None) -> tuple[str, ...]:
    return tuple(n.strip() for n in (text or "").split(",") if n.strip())


def _types(items: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in items:
        column, sep, kind = item.rpartition("=")
        if not sep or not column:
            raise InputError(f"--type {item!r}: write COL=TYPE, e.g. --type zip=categorical")
        found[column] = kind.strip()
    return found


def _add(args: argparse.Namespace, state: Any, data_dir: Path, ingested: Any) -> int:
    from monitor.ops.datasets.library import ColumnRoles
    from monitor.ops.datasets.storage import save_dataset

    actor = _actor(args)
    roles = ColumnRoles(
        label=args.label,
        prediction=args.prediction,
        score=args.score,
        sensitive=_names(args.sensitive),
        ids=_names(args.id),
        ignore=_names(args.ignore),
    )
    dataset = save_dataset(
        state,
        data_dir,
        ingested,
        name=args.name,
        role=args.role,
        actor=actor,
        column_roles=roles,
        model_id=args.model,
    )
    if args.json:
        print_json(document(dataset))
        return EXIT_OK
    print(
        f"saved dataset {dataset.name!r} ({dataset.role}): {dataset.rows:,} rows, "
        f"{len(dataset.columns)} columns from {dataset.source_name}"
    )
    _print_details(dataset)
    return EXIT_OK


def _list(args: argparse.Namespace, state: Any, data_dir: Path) -> int:
    from monitor.ops.datasets.library import list_datasets

    found = list_datasets(state, role=args.role)
    if args.json:
        print_json([document(d, full=False) for d in found])
        return EXIT_OK
    if not found:
        print("no datasets stored yet (add one with: monitor datasets add FILE --name ...)")
    for d in found:
        model = f" model {d.model_id}" if d.model_id else ""
        print(
            f"{d.name!r} {d.role}{model}: {d.rows:,} rows, {len(d.columns)} columns, "
            f"from {d.source_name}, {d.created_at:%Y-%m-%d %H:%M} UTC by {d.created_by}"
        )
    return EXIT_OK


def _show(args: argparse.Namespace, state: Any, data_dir: Path) -> int:
    from monitor.ops.datasets.library import get_dataset

    dataset = get_dataset(state, args.name)
    if args.json:
        print_json(document(dataset))
        return EXIT_OK
    print(
        f"{dataset.name!r} ({dataset.role}): {dataset.rows:,} rows from {dataset.source_name}, "
        f"sha256 {dataset.sha256[:12]}, stored in {dataset.path}"
    )
    _print_details(dataset)
    return EXIT_OK


def _rename(args: argparse.Namespace, state: Any, data_dir: Path) -> int:
    from monitor.ops.datasets.library import rename_dataset

    dataset = rename_dataset(state, args.name, args.new_name, _actor(args))
    if args.json:
        print_json(document(dataset, full=False))
    else:
        print(f"renamed {args.name!r} to {dataset.name!r}")
    return EXIT_OK


def _remove(args: argparse.Namespace, state: Any, data_dir: Path) -> int:
    from monitor.ops.datasets.storage import delete_dataset

    delete_dataset(state, data_dir, args.name, _actor(args))
    if args.json:
        print_json({"removed": args.name})
    else:
        print(f"removed dataset {args.name!r} and its stored file")
    return EXIT_OK


def document(dataset: Any, *, full: bool = True) -> dict[str, Any]:
    """A dataset as JSON: its registration, and with `full` the column reports."""
    doc: dict[str, Any] = {
        "id": dataset.id,
        "name": dataset.name,
        "role": dataset.role,
        "model_id": dataset.model_id,
        "source_name": dataset.source_name,
        "path": str(dataset.path),
        "sha256": dataset.sha256,
        "rows": dataset.rows,
        "columns": [{"name": n, "type": t} for n, t in dataset.columns],
        "column_roles": jsonable(dataset.column_roles),
        "created_by": dataset.created_by,
        "created_verified": dataset.created_verified,
        "created_at": dataset.created_at,
    }
    if full:
        details = dict(dataset.details)
        doc["columns"] = details.pop("columns", doc["columns"])
        doc["details"] = details
    return dict(jsonable(doc))


def _print_details(dataset: Any) -> None:
    details = dataset.details
    fmt = details.get("format")
    extra = [f"format {fmt}"]
    if details.get("encoding"):
        extra.append(f"encoding {details['encoding']}")
    if details.get("delimiter"):
        extra.append(f"delimiter {details['delimiter']!r}")
    print("  " + ", ".join(extra))
    for repair in details.get("repairs", ()):
        print(f"  repaired: {repair}")
    roles = dataset.column_roles
    for column in details.get("columns", ()):
        role = ""
        if column["name"] == roles.label:
            role = " [label]"
        elif column["name"] == roles.prediction:
            role = " [prediction]"
        elif column["name"] == roles.score:
            role = " [score]"
        elif column["name"] in roles.sensitive:
            role = " [sensitive]"
        elif column["name"] in roles.ids:
            role = " [id]"
        elif column["name"] in roles.ignore:
            role = " [ignored]"
        problems = "; ".join(column["problems"])
        print(
            f"  {column['name']!r}: {column['type']}{role}, {column['missing']:,} missing"
            + (f" ({problems})" if problems else "")
        )
