"""What the logs contain: models, their versions and time extents; and time windows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from monitor.core.store import LogStore

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

    def previous(self) -> Window:
        """The window of the same length that ends just before this one starts."""
        step = dt.timedelta(microseconds=1)
        return Window(self.start - (self.end - self.start) - step, self.start - step)


def inventory(store: LogStore) -> tuple[ModelInfo, ...]:
    """Every model in the logs with its versions, oldest version first."""
    merged: dict[tuple[str, str], VersionInfo] = {}
    for piece in store.version_slices():
        key = (piece.model_id, piece.version)
        seen = merged.get(key)
        merged[key] = (
            VersionInfo(piece.version, piece.predictions, piece.first_seen, piece.last_seen)
            if seen is None
            else VersionInfo(
                piece.version,
                seen.predictions + piece.predictions,
                min(seen.first_seen, piece.first_seen),
                max(seen.last_seen, piece.last_seen),
            )
        )
    versions: dict[str, list[VersionInfo]] = {}
    for (model_id, _), info in sorted(merged.items(), key=lambda kv: (kv[0][0], kv[1].first_seen)):
        versions.setdefault(model_id, []).append(info)
    return tuple(ModelInfo(m, tuple(v)) for m, v in versions.items())


def latest_window(
    models: tuple[ModelInfo, ...], span: dt.timedelta = DEFAULT_SPAN
) -> Window | None:
    """The `span` ending at the newest prediction: old logs still show something."""
    if not models:
        return None
    return Window.ending_at(max(m.last_seen for m in models), span)
