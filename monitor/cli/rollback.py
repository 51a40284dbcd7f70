"""`monitor rollback`: mark a model for rollback, list, apply and cancel marks.

- `rollback mark --model ID [--from V] [--to V] --reason TEXT --by NAME [--alert ID ...]
  [--json]`: from V (default: the current version) to V (default: the newest version
  first seen before it that is healthy), with evidence over the evidence window (default:
  the last 7 days of traffic): the `from` version judged on its own traffic (its metrics
  against the model's baseline, the checks that failed), the target, the two side by
  side. The text output ends with the `from` version's verdict.
- `rollback list [--status requested|applied|cancelled|all] [--model ID] [--json]`: by
  default the open (requested) marks, newest first: the document a deploy pipeline
  reads, also kept in `<data_dir>/rollbacks.json`. Each mark has `id`, `model_id`,
  `from_version`, `to_version`, `reason`, `alert_ids`, `requested_by`,
  `requested_verified`, `requested_at`, `status`, `closed_by`, `closed_verified`,
  `closed_at`, `close_note` and `evidence`.
- `rollback apply ID --by NAME`: the rollback was done; the champion alias moves to the
  target. `rollback cancel ID --by NAME`: it is not wanted. Only an open mark can be
  applied or cancelled (exit 2 otherwise).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from monitor.cli.common import EXIT_OK, print_json, settings
from monitor.cli.models import add_window_arguments, window_of

if TYPE_CHECKING:
    from monitor.core.config import Settings
    from monitor.core.state import StateStore
    from monitor.ops.registry.rollback_marks import RollbackMark

NAME = "rollback"
HELP = "rollback marks: mark a model version for rollback, list, apply, cancel"
STATUS_CHOICES = ("requested", "applied", "cancelled", "all")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    mark = actions.add_parser("mark", help="request a rollback of a version")
    mark.add_argument("--model", required=True, metavar="ID")
    mark.add_argument(
        "--from",
        dest="from_version",
        metavar="VERSION",
        help="the version to roll back (default: the current version)",
    )
    mark.add_argument(
        "--to",
        metavar="VERSION",
        help="target (default: the newest healthy version first seen before --from)",
    )
    mark.add_argument("--reason", required=True, help="what is wrong with the version")
    mark.add_argument("--by", required=True, metavar="NAME", help="who asks (audited)")
    mark.add_argument(
        "--alert",
        type=int,
        action="extend",
        nargs="+",
        default=[],
        metavar="ID",
        help="ids of the alerts that motivated it (see `monitor alerts list`)",
    )
    add_window_arguments(mark, "7 days before --until (the evidence window)")
    mark.add_argument("--json", action="store_true")

    listing = actions.add_parser("list", help="rollback marks (default: the open ones)")
    listing.add_argument("--status", choices=STATUS_CHOICES, default="requested")
    listing.add_argument("--model", metavar="ID", help="only this model")
    listing.add_argument("--json", action="store_true")

    for name, text in (
        ("apply", "the rollback was carried out: close the mark, move the champion alias"),
        ("cancel", "the rollback is not wanted: close the mark"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("id", type=int, metavar="ID", help="the mark's id")
        action.add_argument("--by", required=True, metavar="NAME", help="who does it (audited)")
        action.add_argument("--note", help="kept in the audit trail")
        action.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    from monitor.core.state import Actor, StateStore
    from monitor.ops.registry import rollback
    from monitor.ops.registry.rollback_marks import marks_document

    config = settings(args)
    state = StateStore.for_data_dir(config.data_dir)
    try:
        if args.action == "list":
            found = rollback.marks(state, status=args.status, model_id=args.model)
            if args.json:
                print_json(marks_document(found))
            elif not found:
                print(f"no {'' if args.status == 'all' else args.status + ' '}rollback marks")
            for item in () if args.json else found:
                print(describe(item))
            return EXIT_OK
        if args.action == "mark":
            result = _mark(args, config, state)
        elif args.action == "apply":
            result = rollback.apply(state, args.id, actor=Actor(args.by), note=args.note)
        else:
            result = rollback.cancel(state, args.id, actor=Actor(args.by), note=args.note)
    finally:
        state.close()
    if args.json:
        print_json(result.to_document())
    else:
        print(describe(result))
        if args.action == "mark":
            print(f"evidence: {result.evidence.get('summary', '')}")
    return EXIT_OK


def _mark(args: argparse.Namespace, config: Settings, state: StateStore) -> RollbackMark:
    from monitor.core.state import Actor
    from monitor.core.store import LogStore
    from monitor.ops.registry import rollback
    from monitor.ops.registry.rollback_evidence import EVIDENCE_SPAN
    from monitor.ops.registry.version_metrics import model_info

    store = LogStore(config.data_dir)
    try:
        return rollback.mark(
            state,
            store,
            config,
            args.model,
            reason=args.reason,
            actor=Actor(args.by),
            from_version=args.from_version,
            to_version=args.to,
            alert_ids=args.alert,
            window=window_of(model_info(store, args.model), args, EVIDENCE_SPAN),
        )
    finally:
        store.close()


def describe(mark: RollbackMark) -> str:
    closed = (
        f", {mark.status} by {mark.closed_by} at {mark.closed_at:%Y-%m-%d %H:%M} UTC"
        if mark.closed_at is not None
        else ""
    )
    alerts = f" alerts {', '.join(map(str, mark.alert_ids))};" if mark.alert_ids else ""
    return (
        f"#{mark.id} {mark.model_id}: {mark.from_version} -> {mark.to_version} [{mark.status}] "
        f"requested by {mark.requested_by} at {mark.requested_at:%Y-%m-%d %H:%M} UTC{closed};"
        f"{alerts} reason: {mark.reason}"
    )
