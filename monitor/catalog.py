"""What the logs contain: models, their versions and time extents; and time windows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from monitor.store import LogStore

DEFAULT_SPAN = dt.timedelta(days=1)


@dataclass(frozen=True)
class VersionInfo:
    version: str
    """'' when predictions were logged without a version."""
    predictions: int
    first_seen: dt.datetime
    last_seen: dt.datetime


@dataclass(frozen=True)
class ModelInfo:
    model_id: str
    versions: tuple[VersionInfo, ...]

    @property
    def predictions(self) -> int:
        return sum(v.predictions for v in self.versions)

    @property
    def first_seen(self) -> dt.datetime:
        return min(v.first_seen for v in self.versions)

    @property
    def last_seen(self) -> dt.datetime:
        return max(v.last_seen for v in self.versions)


@dataclass(frozen=True)
class Window:
    """A time window, both ends inclusive, in UTC."""

    start: dt.datetime
    end: dt.datetime

    @classmethod
    def ending_at(cls, end: dt.datetime, span: dt.timedelta = DEFAULT_SPAN) -> Window:
        return cls(end - span, end)


def inventory(store: LogStore) -> tuple[ModelInfo, ...]:
    """Every model in the logs with its versions, oldest version first."""
    versions: dict[str, list[VersionInfo]] = {}
    for model_id, version, predictions, first, last in store.fetch("inventory"):
        versions.setdefault(model_id, []).append(
            VersionInfo(version, int(predictions), first, last)
        )
    return tuple(ModelInfo(m, tuple(v)) for m, v in versions.items())


def latest_window(
    models: tuple[ModelInfo, ...], span: dt.timedelta = DEFAULT_SPAN
) -> Window | None:
    """The `span` ending at the newest prediction: old logs still show something."""
    if not models:
        return None
    return Window.ending_at(max(m.last_seen for m in models), span)
