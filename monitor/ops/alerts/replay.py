"""Replay the alert rules over historical data, so a fresh state store holds a history.

Logs written all at once (the demo) have a past that no rule ever watched: the first
`monitor check` would find every problem of the end at once and none that came and went
before. `replay_history` evaluates the rules at given data times, in order and without
notifications, then once more as `monitor check` would now, so alerts go pending, fire
and resolve at the times they would have. It runs only on a state store whose rules
were never evaluated and that holds no alerts: it never rewrites anyone's history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitor.core.config import Settings
from monitor.core.state import StateStore
from monitor.ops.alerts.actions import count_alerts
from monitor.ops.alerts.evaluation import evaluate, last_evaluation
from monitor.ops.alerts.types import EvaluationResult, as_utc

if TYPE_CHECKING:
    from monitor.core.store import LogStore


@dataclass(frozen=True)
class ReplayResult:
    evaluations: tuple[EvaluationResult, ...]
    """One per evaluation in time order, the last one the end state; empty when skipped."""
    skipped: str | None = None
    """Why nothing was evaluated (no times given, or the state already has a history)."""

    @property
    def final(self) -> EvaluationResult | None:
        return self.evaluations[-1] if self.evaluations else None


def replay_history(
    store: LogStore, settings: Settings, state: StateStore, times: Sequence[dt.datetime]
) -> ReplayResult:
    """Evaluate every rule (notifications off) at each of `times`, ascending, then once
    at the present (`monitor check` without `--at`: each model's newest prediction with
    `clock = "data"`). Does nothing without times or when `state` was ever evaluated or
    holds an alert."""
    if not times:
        return ReplayResult((), skipped="no times to replay")
    if last_evaluation(state) is not None or count_alerts(state)["all"]:
        return ReplayResult((), skipped="the state store already has an alert history")
    moments: list[dt.datetime | None] = [*sorted({as_utc(t) for t in times}), None]
    results = tuple(evaluate(store, settings, state, now=m, notify=False) for m in moments)
    return ReplayResult(results)
