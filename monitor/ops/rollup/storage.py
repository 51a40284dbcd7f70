"""Where rollup files and the manifest are written: a local folder (hidden temp file, fsync,
atomic rename, fsync of the folder, as compaction does) or an object store URI
(`s3a://bucket/prefix`, written through pyarrow's filesystems: one PUT per object, which
object stores apply atomically, so a reader sees the old object or the new one).

A test hook: with MONITOR_ROLLUP_CRASH_AFTER=N in the environment, the N-th file written
by this process (rollup files and manifest alike) raises `SimulatedCrash` after its temp
file is complete and before the rename; with MONITOR_ROLLUP_CRASH_SIGNAL=KILL as well, the
process kills itself there with SIGKILL instead (no cleanup of any kind runs). Tests stop
the job this way to check that the manifest stays consistent and a rerun repairs all.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
from pathlib import Path
from typing import Any, Final, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

CRASH_ENV: Final = "MONITOR_ROLLUP_CRASH_AFTER"
CRASH_SIGNAL_ENV: Final = "MONITOR_ROLLUP_CRASH_SIGNAL"


class SimulatedCrash(RuntimeError):
    """Raised by the MONITOR_ROLLUP_CRASH_AFTER test hook."""


class Storage(Protocol):
    def write_bytes(self, relative: str, data: bytes) -> None: ...

    def read_bytes(self, relative: str) -> bytes | None:
        """The object's bytes, or None when there is none."""
        ...

    def delete(self, relative: str) -> None: ...

    def describe(self, relative: str) -> str: ...


_written = 0


def _crash_hook() -> None:
    global _written
    limit = os.environ.get(CRASH_ENV)
    if not limit:
        return
    _written += 1
    if _written >= int(limit):
        if os.environ.get(CRASH_SIGNAL_ENV) == "KILL":
            os.kill(os.getpid(), signal.SIGKILL)
        raise SimulatedCrash(f"{CRASH_ENV}={limit}: stopped between a write and its rename")


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def write_bytes(self, relative: str, data: bytes) -> None:
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name("." + target.name + ".tmp")
        with open(temp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        _crash_hook()
        os.replace(temp, target)
        _fsync_dir(target.parent)

    def read_bytes(self, relative: str) -> bytes | None:
        try:
            return (self.root / relative).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, relative: str) -> None:
        path = self.root / relative
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # the day's folder, when it is empty now
            path.parent.rmdir()

    def describe(self, relative: str) -> str:
        return str(self.root / relative)


class ObjectStorage:
    """An object store (or any pyarrow filesystem) under a URI; s3a:// is read as s3://."""

    def __init__(self, uri: str) -> None:
        from pyarrow import fs

        normalized = "s3://" + uri[len("s3a://") :] if uri.startswith("s3a://") else uri
        found: tuple[Any, str] = fs.FileSystem.from_uri(normalized)
        self.filesystem, self.prefix = found
        self.uri = uri.rstrip("/")

    def _path(self, relative: str) -> str:
        return self.prefix.rstrip("/") + "/" + relative

    def write_bytes(self, relative: str, data: bytes) -> None:
        _crash_hook()
        parent = self._path(relative).rsplit("/", 1)[0]
        self.filesystem.create_dir(parent, recursive=True)
        with self.filesystem.open_output_stream(self._path(relative)) as stream:
            stream.write(data)

    def read_bytes(self, relative: str) -> bytes | None:
        from pyarrow import fs

        info = self.filesystem.get_file_info(self._path(relative))
        if info.type != fs.FileType.File:
            return None
        with self.filesystem.open_input_stream(self._path(relative)) as stream:
            data: bytes = stream.read()
            return data

    def delete(self, relative: str) -> None:
        from pyarrow import fs

        if self.filesystem.get_file_info(self._path(relative)).type == fs.FileType.File:
            self.filesystem.delete_file(self._path(relative))

    def describe(self, relative: str) -> str:
        return self.uri + "/" + relative


def is_uri(location: str) -> bool:
    return "://" in location


def storage_for(location: str | Path) -> Storage:
    text = str(location)
    return ObjectStorage(text) if is_uri(text) else LocalStorage(Path(text))


def parquet_bytes(table: pa.Table) -> bytes:
    """A rollup file's bytes: zstd, statistics on, equal tables give equal bytes."""
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd", write_statistics=True)
    return sink.getvalue()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
