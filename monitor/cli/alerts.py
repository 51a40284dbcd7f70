"""`monitor alerts`: list alerts and act on them (acknowledge, silence), as from the
dashboard. Actions from the command line are recorded under the `--by` name, marked
unverified (nobody signed in)."""

from __future__ import annotations

import argparse
import datetime as dt

from monitor.cli.common import EXIT_OK, print_json, settings, timestamp

NAME = "alerts"
HELP = "list alerts; acknowledge, unacknowledge, silence or unsilence them"
STATES = ("firing", "pending", "nodata", "acknowledged", "silenced", "resolved", "active", "all")


def until(text: str) -> dt.datetime:
    """An argparse type: an ISO 8601 time, or a duration from now such as 2h or 1d."""
    from monitor.core.state import utc_now
    from monitor.findings.rules import parse_duration

    try:
        return utc_now() + parse_duration(text)
    except ValueError:
        pass
    try:
        return timestamp(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither an ISO 8601 time (e.g. 2026-12-01T09:00:00Z) "
            "nor a duration from now (e.g. 2h, 1d)"
        ) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="list alerts (default: the unresolved ones)")
    listing.add_argument(
        "--state",
        choices=STATES,
        default="active",
        help="firing, pending, nodata or resolved; acknowledged or silenced (unresolved "
        "alerts with that human action); active = every unresolved alert (default); all",
    )
    listing.add_argument("--model", metavar="ID", help="only this model's alerts")
    listing.add_argument("--json", action="store_true")

    for name, text in (("ack", "acknowledge an alert"), ("unack", "take an acknowledgement back")):
        sub = actions.add_parser(name, help=text, description=text)
        sub.add_argument("alert_id", type=int, metavar="ALERT_ID")
        sub.add_argument("--by", required=True, metavar="NAME", help="who acts (recorded)")
        sub.add_argument("--note", metavar="TEXT", help="why (kept as plain text)")
        sub.add_argument("--json", action="store_true")

    quiet = actions.add_parser("silence", help="silence a fingerprint until a time")
    quiet.add_argument("fingerprint", metavar="FINGERPRINT")
    quiet.add_argument(
        "--until", required=True, type=until, metavar="T", help="ISO 8601 time or 2h, 1d, ..."
    )
    quiet.add_argument("--by", required=True, metavar="NAME", help="who acts (recorded)")
    quiet.add_argument("--reason", required=True, metavar="TEXT", help="why (shown to all)")
    quiet.add_argument("--json", action="store_true")

    loud = actions.add_parser("unsilence", help="lift the silence on a fingerprint")
    loud.add_argument("fingerprint", metavar="FINGERPRINT")
    loud.add_argument("--by", required=True, metavar="NAME", help="who acts (recorded)")


def run(args: argparse.Namespace) -> int:
    from monitor.core.state import Actor, StateStore, utc_now
    from monitor.ops.alerts import actions as alerts

    state = StateStore.for_data_dir(settings(args).data_dir)
    try:
        if args.action == "list":
            now = utc_now()
            found = alerts.list_alerts(state, state_filter=args.state, model_id=args.model, now=now)
            if args.json:
                print_json({"alerts": [alerts.alert_document(a, now) for a in found]})
                return EXIT_OK
            for alert in found:
                print(alerts.alert_line(alert, now))
            if not found:
                print(f"no {args.state} alerts")
            return EXIT_OK
        actor = Actor(args.by, verified=False)
        if args.action in ("ack", "unack"):
            act = alerts.acknowledge if args.action == "ack" else alerts.unacknowledge
            alert = act(state, args.alert_id, actor, args.note)
            if args.json:
                print_json(alerts.alert_document(alert))
            else:
                done = "acknowledged" if args.action == "ack" else "unacknowledged"
                print(f"alert {alert.alert_id} {done} by {args.by} (unverified)")
            return EXIT_OK
        if args.action == "silence":
            silence = alerts.silence(
                state, args.fingerprint, until=args.until, actor=actor, reason=args.reason
            )
            if args.json:
                print_json(silence)
            else:
                shown = silence.until.isoformat(timespec="seconds")
                print(f"fingerprint {silence.fingerprint} silenced until {shown}")
            return EXIT_OK
        alerts.unsilence(state, args.fingerprint, actor)
        print(f"fingerprint {args.fingerprint} is no longer silenced")
        return EXIT_OK
    finally:
        state.close()
