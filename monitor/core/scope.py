"""The one value every layer passes around: what an analysis of the logs covers.

A `Scope` names a model, its versions (empty: all), a time window, the version of the
log files it was read at and the identity of the model's reference file. It is frozen
and hashable, so it is also the cache key of every aggregate the pages show: new log
files or another reference file make a new scope, and nothing stale is served.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from monitor.core.buckets import Bucket, bucket_for
from monitor.core.catalog import Window
from monitor.core.config import ModelConfig

ReferenceStamp = tuple[str, int, int] | None
"""(path, size, modification time in ns) of a reference file, None when there is none."""


def reference_stamp(path: Path | None) -> ReferenceStamp:
    """Identifies a reference file's content for cache keys."""
    if path is None or not path.is_file():
        return None
    stat = path.stat()
    return (str(path), stat.st_size, stat.st_mtime_ns)


@dataclass(frozen=True)
class Scope:
    model_id: str
    window: Window
    versions: tuple[str, ...] = ()
    """Empty means all versions."""
    data_version: str = ""
    """The log store's version when the scope was made (`LogStore.version`)."""
    reference: ReferenceStamp = None
    """The model's reference file (`reference_stamp`)."""

    @classmethod
    def of(
        cls,
        model: ModelConfig,
        window: Window,
        versions: tuple[str, ...] = (),
        *,
        data_version: str = "",
    ) -> Scope:
        return cls(model.id, window, versions, data_version, reference_stamp(model.reference))

    def bucket(self, *, finest: Bucket = "hour") -> Bucket:
        """The bucket width of charts and trends over this window (`bucket_for`)."""
        return bucket_for(self.window.end - self.window.start, finest=finest)

    def previous(self) -> Scope:
        """The same scope over the window just before this one."""
        return dataclasses.replace(self, window=self.window.previous())

    def with_window(self, window: Window) -> Scope:
        return dataclasses.replace(self, window=window)

    def with_versions(self, versions: tuple[str, ...]) -> Scope:
        return dataclasses.replace(self, versions=versions)
