"""`monitor check`: evaluate every alert rule, update the alerts, print them; a CI/cron gate.

Exit codes: 0 nothing blocking; 1 an alert at or above `--fail-on` (default critical) is
firing and is neither acknowledged nor silenced; 2 bad input or configuration. Exit code
1 is also what any command returns on an internal error (with one `error: internal
error: ...` line on stderr), so a gate that must tell them apart reads `--json`: its
`blocking` list is what failed the check.
"""

from __future__ import annotations

import argparse

from monitor.cli.common import EXIT_OK, print_json, settings, timestamp
from monitor.cli.refresh import refresh_if_present

NAME = "check"
HELP = "evaluate the alert rules, update the alerts and exit 1 when one is blocking"
EXIT_BLOCKING = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fail-on",
        choices=("warning", "critical"),
        default="critical",
        help="exit 1 when a firing alert of this severity or above is neither acknowledged "
        "nor silenced (default critical)",
    )
    parser.add_argument(
        "--at",
        type=timestamp,
        metavar="T",
        help="evaluate as of this time (ISO 8601; default: now, or each model's newest "
        'prediction with [alerts] clock = "data")',
    )
    parser.add_argument(
        "--no-notify",
        action="store_true",
        help="update the alerts but notify no webhook or Alertmanager",
    )
    parser.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    from monitor.core.state import StateStore
    from monitor.core.store import LogStore
    from monitor.ops.alerts import actions as alerts

    config = settings(args)
    refresh_if_present(args)
    store = LogStore(config.data_dir)
    state = StateStore.for_data_dir(config.data_dir)
    try:
        result = alerts.evaluate(store, config, state, now=args.at, notify=not args.no_notify)
    finally:
        store.close()
        state.close()
    blocking = alerts.blocking(result.alerts, fail_on=args.fail_on, now=result.evaluated_at)
    code = EXIT_BLOCKING if blocking else EXIT_OK
    if args.json:
        print_json(
            {
                "evaluated_at": result.evaluated_at,
                "fail_on": args.fail_on,
                "exit_code": code,
                "blocking": [a.alert_id for a in blocking],
                "alerts": [alerts.alert_document(a, result.evaluated_at) for a in result.alerts],
                "transitions": result.transitions,
                "notifications": result.notifications,
                "errors": list(result.errors),
            }
        )
        return code
    for alert in result.alerts:
        print(alerts.alert_line(alert, result.evaluated_at))
    for error in result.errors:
        print(f"could not evaluate {error}")
    counts = {s: 0 for s in ("firing", "pending", "nodata")}
    for alert in result.alerts:
        if alert.state in counts:
            counts[alert.state] += 1
    failed = sum(not d.ok for d in result.notifications)
    print(
        f"{counts['firing']} firing, {counts['pending']} pending, {counts['nodata']} no data; "
        f"{len(result.transitions)} changes; {len(result.notifications)} notifications"
        + (f" ({failed} failed)" if failed else "")
    )
    if blocking:
        shown = ", ".join(str(a.alert_id) for a in blocking)
        print(f"failing: {len(blocking)} firing alert(s) at or above {args.fail_on}: {shown}")
    return code
