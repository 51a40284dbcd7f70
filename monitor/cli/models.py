"""`monitor models`: versions of each model, canary comparison, aliases and notes.

- `models list [--model ID] [--json]`: per model `model_id`, `current_version` (the
  `champion` alias holder, else the version with most predictions in the last 24 hours),
  `current_source` (alias or traffic), the `window` and `versions` (`version`,
  `first_seen`, `last_seen`, `predictions` (all time), `window_predictions`,
  `traffic_share`, `alias`, `aliases`, `error_rate`, `latency_p95_ms` and the headline
  metric, e.g. `accuracy`, with `accuracy_estimated`). The window defaults to the last 24
  hours of each model's traffic.
- `models compare --model ID --baseline V --candidate V [--json]`: both versions over the
  period both served in the window (default: the last 7 days of traffic) and the canary
  verdict. Exit 0 when the verdict is promote, 3 when reject, 4 when inconclusive.
- `models alias --model ID --version V [--alias champion] --by NAME`: point an alias at
  a version (moves it from the version that held it); audited.
- `models note --model ID --version V --text TEXT --by NAME`: a note on a version.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TYPE_CHECKING, Final

from monitor.cli.common import EXIT_OK, percent, print_json, settings, timestamp

if TYPE_CHECKING:
    from monitor.core.catalog import ModelInfo, Window
    from monitor.core.config import Settings
    from monitor.core.state import StateStore
    from monitor.core.store import LogStore
    from monitor.ops.registry.compare import Comparison
    from monitor.ops.registry.version_metrics import VersionMetrics

NAME = "models"
HELP = "model versions: list, compare a canary, set an alias, add a note"
EXIT_REJECT: Final = 3
EXIT_INCONCLUSIVE: Final = 4
LIST_SPAN: Final = dt.timedelta(days=1)
COMPARE_SPAN: Final = dt.timedelta(days=7)


def add_window_arguments(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument("--since", type=timestamp, help=f"window start (default: {default})")
    parser.add_argument(
        "--until", type=timestamp, help="window end (default: the model's newest prediction)"
    )


def window_of(info: ModelInfo, args: argparse.Namespace, span: dt.timedelta) -> Window:
    """The window from --since/--until, defaulting to `span` ending at the newest prediction."""
    from monitor.core.catalog import Window
    from monitor.core.errors import InputError

    until = args.until or info.last_seen
    since = args.since or until - span
    if since > until:
        raise InputError("--since is after --until")
    return Window(since, until)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="each model's versions and current version")
    listing.add_argument("--model", metavar="ID", help="only this model")
    add_window_arguments(listing, "24 hours before --until")
    listing.add_argument("--json", action="store_true")

    compare = actions.add_parser(
        "compare",
        help="two versions side by side with the canary verdict "
        "(exit 0 promote, 3 reject, 4 inconclusive)",
    )
    compare.add_argument("--model", required=True, metavar="ID")
    compare.add_argument("--baseline", required=True, metavar="V", help="e.g. the champion")
    compare.add_argument("--candidate", required=True, metavar="V", help="e.g. the canary")
    add_window_arguments(compare, "7 days before --until")
    compare.add_argument("--json", action="store_true")

    alias = actions.add_parser("alias", help="point an alias (default champion) at a version")
    alias.add_argument("--model", required=True, metavar="ID")
    alias.add_argument("--version", required=True, metavar="V")
    alias.add_argument("--alias", default="champion", help="default champion")
    alias.add_argument("--by", required=True, metavar="NAME", help="who does it (audited)")
    alias.add_argument("--note", help="why (kept in the audit trail)")

    note = actions.add_parser("note", help="add a note to a version")
    note.add_argument("--model", required=True, metavar="ID")
    note.add_argument("--version", required=True, metavar="V")
    note.add_argument("--text", required=True)
    note.add_argument("--by", required=True, metavar="NAME", help="who writes it (audited)")


def run(args: argparse.Namespace) -> int:
    from monitor.core.state import StateStore
    from monitor.core.store import LogStore

    config = settings(args)
    store = LogStore(config.data_dir)
    state = StateStore.for_data_dir(config.data_dir)
    try:
        if args.action == "list":
            return _list(args, config, store, state)
        if args.action == "compare":
            return _compare(args, config, store)
        return _alias(args, store, state) if args.action == "alias" else _note(args, store, state)
    finally:
        state.close()
        store.close()


def _list(args: argparse.Namespace, config: Settings, store: LogStore, state: StateStore) -> int:
    from monitor.core import catalog
    from monitor.ops.registry import versions as registry

    models = [m for m in catalog.inventory(store) if args.model in (None, m.model_id)]
    if args.model is not None and not models:
        registry.usage(store, config, args.model)  # raises the "unknown model" error
    found = [
        registry.model_versions(
            state, registry.usage(store, config, m.model_id, window_of(m, args, LIST_SPAN))
        )
        for m in models
    ]
    if args.json:
        print_json({"models": [f.to_document() for f in found]})
        return EXIT_OK
    if not found:
        print(f"no predictions logged under {config.data_dir}")
    for entry in found:
        print(
            f"{entry.model_id}: current {entry.current_version or '(unversioned)'} "
            f"({'champion alias' if entry.current_source == 'alias' else 'most recent traffic'})"
        )
        for v in entry.usage.versions:
            held = ", ".join(entry.aliases_of(v.version))
            value = "n/a" if v.metric_value is None else f"{v.metric_value:.3f}"
            print(
                f"  {v.version or '(unversioned)'}{f' [{held}]' if held else ''}: "
                f"{v.predictions:,} predictions {v.first_seen:%Y-%m-%d %H:%M} .. "
                f"{v.last_seen:%Y-%m-%d %H:%M} UTC; in the window {percent(v.traffic_share)} "
                f"of traffic, error rate {percent(v.error_rate)}, {entry.usage.metric} {value}"
                f"{' (estimated)' if v.metric_estimated else ''}"
            )
    return EXIT_OK


def _compare(args: argparse.Namespace, config: Settings, store: LogStore) -> int:
    from monitor.ops.registry.compare import compare
    from monitor.ops.registry.version_metrics import model_info

    info = model_info(store, args.model)
    result = compare(
        store,
        config,
        args.model,
        args.baseline,
        args.candidate,
        window_of(info, args, COMPARE_SPAN),
    )
    if args.json:
        print_json(result.to_document())
    else:
        _print_comparison(result)
    if result.verdict == "promote":
        return EXIT_OK
    return EXIT_REJECT if result.verdict == "reject" else EXIT_INCONCLUSIVE


def _print_comparison(result: Comparison) -> None:
    print(f"{result.model_id}: {result.candidate.version} vs {result.baseline.version}")
    for metrics in (result.baseline, result.candidate):
        print("  " + describe_metrics(metrics))
    print(f"verdict: {result.verdict}")
    for reason in result.reasons:
        print(f"  - {reason}")
    for note in result.notes:
        print(f"  note: {note}")


def describe_metrics(metrics: VersionMetrics) -> str:
    value = "n/a" if metrics.value is None else f"{metrics.value:.3f}"
    p95 = "n/a" if metrics.latency_p95_ms is None else f"{metrics.latency_p95_ms:,.0f} ms"
    return (
        f"{metrics.version}: {metrics.metric} {value}"
        f"{' (estimated)' if metrics.estimated else f' ({metrics.labeled:,} labels)'}, "
        f"error rate {percent(metrics.error_rate)}, p95 {p95}, {metrics.predictions:,} "
        f"predictions, drift {metrics.drift.state}, fairness {metrics.fairness.state} "
        f"[{metrics.window.start:%Y-%m-%d %H:%M} .. {metrics.window.end:%Y-%m-%d %H:%M} UTC]"
    )


def _alias(args: argparse.Namespace, store: LogStore, state: StateStore) -> int:
    from monitor.core.state import Actor
    from monitor.ops.registry import versions as registry

    done = registry.set_alias(
        state,
        store,
        args.model,
        args.version,
        actor=Actor(args.by),
        alias=args.alias,
        note=args.note,
    )
    print(f"{args.model}: {done.alias} -> {done.version} (by {done.set_by})")
    return EXIT_OK


def _note(args: argparse.Namespace, store: LogStore, state: StateStore) -> int:
    from monitor.core.state import Actor
    from monitor.ops.registry import versions as registry

    note = registry.add_note(
        state, store, args.model, args.version, args.text, actor=Actor(args.by)
    )
    print(f"note #{note.id} on {args.model} {args.version}")
    return EXIT_OK
