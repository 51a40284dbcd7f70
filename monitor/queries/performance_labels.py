"""When labels arrive: for a scope whose window has few or no labels, how far back the
newest labeled prediction is and how long labels usually take (one aggregate query,
`monitor.queries.performance.label_arrival`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from monitor.core.catalog import Window
from monitor.core.scope import Scope
from monitor.core.store import LogStore
from monitor.queries import performance as sql

LOOKBACK: Final = dt.timedelta(days=14)
"""How far before the window's end to look for labeled predictions (at least the window)."""


@dataclass(frozen=True)
class LabelArrival:
    """Labels of a model's predictions (its versions in the scope) in `lookback`, the
    window extended back to LOOKBACK before its end."""

    lookback: Window
    predictions: int
    labeled: int
    newest_labeled: dt.datetime | None
    """Timestamp of the newest prediction with a label (None: none in `lookback`)."""
    delay_days: tuple[float, float, float] | None
    """10%, 50% and 90% quantiles of the delay from a prediction to its first feedback
    record, in days, over the labels received so far (None: no feedback)."""

    @property
    def coverage(self) -> float | None:
        return self.labeled / self.predictions if self.predictions else None


def label_arrival(
    store: LogStore, scope: Scope, *, lookback: dt.timedelta = LOOKBACK
) -> LabelArrival:
    """`LabelArrival` of the scope (see the class)."""
    window = scope.window
    extended = Window(min(window.start, window.end - lookback), window.end)
    restrict = sql.restrict_feedback(store.version_slices(), scope.model_id, extended)
    rows = store.execute(
        sql.label_arrival(restrict=restrict), sql.scope_params(scope.with_window(extended))
    )
    predictions, labeled, newest, quantiles = rows[0] if rows else (0, 0, None, None)
    delay = (
        (float(quantiles[0]), float(quantiles[1]), float(quantiles[2]))
        if quantiles is not None and all(q is not None for q in quantiles)
        else None
    )
    return LabelArrival(extended, int(predictions or 0), int(labeled or 0), newest, delay)
