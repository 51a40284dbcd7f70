"""`monitor demo`: deterministic demo logs with known, injected problems, and the alert
history those problems would have left (the rules replayed over the demo's timeline)."""

from __future__ import annotations

import argparse
from pathlib import Path

from monitor.cli.common import EXIT_OK, print_json

NAME = "demo"
HELP = "generate deterministic demo logs with known problems, and their alert history"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", dest="demo_dir", required=True, help="where to write the demo"
    )
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--predictions", type=int, default=200_000)
    parser.add_argument("--json", action="store_true", help="print the manifest as JSON")


def run(args: argparse.Namespace) -> int:
    from monitor.demo import generate_demo

    target = Path(args.demo_dir)
    manifest = generate_demo(target, days=args.days, seed=args.seed, predictions=args.predictions)
    history = _replay_alerts(target)
    if args.json:
        print_json(manifest.to_dict())
    else:
        print(f"wrote demo data to {args.demo_dir} (see demo_manifest.json for what was injected)")
        print(history)
    return EXIT_OK


def _replay_alerts(data_dir: Path) -> str:
    """Replay the rules of the demo's own monitor.toml over its timeline (state.sqlite);
    says what came of it."""
    from monitor.core.config import DEFAULT_CONFIG_NAME, load_settings
    from monitor.core.state import StateStore
    from monitor.core.store import LogStore
    from monitor.demo.history import replay_times
    from monitor.ops.alerts.replay import replay_history

    times = replay_times(data_dir)
    settings = load_settings(data_dir / DEFAULT_CONFIG_NAME, env={})
    store = LogStore(settings.data_dir)
    try:
        result = replay_history(store, settings, StateStore.for_data_dir(settings.data_dir), times)
    finally:
        store.close()
    if result.final is None:
        return f"alert history not replayed: {result.skipped}"
    firing = sum(a.state == "firing" for a in result.final.alerts)
    return (
        f"replayed the alert rules at {len(result.evaluations)} times: {firing} alerts firing "
        "at the end (monitor alerts list --state all)"
    )
