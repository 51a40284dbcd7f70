"""Non-blocking prediction logger for model servers.

`PredictionLogger.log_prediction` only captures the time and appends a tuple to an
in-memory queue; one background thread serializes the records and appends them as
JSONL to ``<data_dir>/logs/<kind>/date=YYYY-MM-DD/<kind>-<host>-<pid>-<prefix>.jsonl``
(see docs/log-format.md). I/O errors are counted in `stats()`, never raised.

Over 400 lines on purpose: one class whose queue, writer thread and file handles share
state under one lock; split, the locking would span modules.
"""

from __future__ import annotations

import atexit
import datetime as dt
import io
import itertools
import json
import math
import os
import re
import socket
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from monitor.core import schema

_PRED: Final = 0
_FEEDBACK: Final = 1
_SYSTEM: Final = 2
_KINDS: Final[tuple[schema.RecordKind, ...]] = ("predictions", "feedback", "system")
# allow_nan=False: NaN must never reach a file as the non-JSON token NaN.
# Without the json_safe pass, bool/None dict keys would be spelled true/null rather than
# True/None; nothing else differs.
_encode: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
_UNSAFE_NAME_CHARS: Final = re.compile(r"[^A-Za-z0-9._]+")

Timestamp = dt.datetime | float | None


@dataclass(frozen=True)
class LoggerStats:
    """Counters of a logger. Once idle: enqueued == written + invalid + failed + pending."""

    enqueued: int  # accepted into the queue
    written: int  # lines written to a file
    dropped: int  # refused: queue full or logger closed
    sampled_out: int  # skipped by sampling
    invalid: int  # could not be serialized (bad value or timestamp)
    failed: int  # lost to I/O errors
    io_errors: int  # I/O error events (one per failed file write)
    pending: int  # enqueued but not yet written or failed
    last_error: str | None


class _Tally:
    """Exact counter bumped by producer threads without a lock.

    `next()` on an itertools.count is atomic under the GIL; reading consumes one value,
    so reads are subtracted (readers take a lock, they are rare).
    """

    __slots__ = ("_count", "_lock", "_reads", "bump")

    def __init__(self) -> None:
        self._count = itertools.count()
        self._reads = 0
        self._lock = threading.Lock()
        self.bump: Callable[[], int] = self._count.__next__

    def value(self) -> int:
        with self._lock:
            current = next(self._count) - self._reads
            self._reads += 1
            return current


def _epoch(value: Timestamp) -> float:
    if isinstance(value, dt.datetime):
        return schema.to_utc(value).timestamp()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise TypeError(f"timestamp must be a datetime or epoch seconds, got {value!r}")


class PredictionLogger:
    """Log predictions, feedback and system metrics from a model server.

    Thread-safe. The queue bound is approximate: concurrent producers may overshoot
    `queue_size` by at most the number of producer threads. Objects passed in (such as
    `features`) are serialized later by the writer thread: do not mutate them after the
    call. A call that races with `close()` may stay in `pending` instead of being written.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        *,
        model_id: str | None = None,
        model_version: str | None = None,
        sample_rate: float = 1.0,
        sample_seed: int = 0,
        flush_interval: float = 1.0,
        queue_size: int = 10_000,
        host: str | None = None,
        fsync: bool = False,
    ) -> None:
        if not 0.0 < sample_rate <= 1.0:
            raise ValueError(f"sample_rate must be in (0, 1], got {sample_rate!r}")
        if queue_size < 1:
            raise ValueError(f"queue_size must be at least 1, got {queue_size!r}")
        if not flush_interval > 0:
            raise ValueError(f"flush_interval must be > 0 seconds, got {flush_interval!r}")
        self._data_dir = Path(data_dir)
        self._model_id = model_id
        self._model_version = model_version
        # Keep iff crc32(f"{seed}:{prediction_id}") / 2**32 < sample_rate. The seed prefix is
        # hashed once: crc32(b, crc32(a)) == crc32(a + b).
        self._seed_crc = zlib.crc32(f"{sample_seed}:".encode())
        self._threshold = sample_rate * 2**32 if sample_rate < 1.0 else None
        self._flush_interval = flush_interval
        self._queue_size = queue_size
        self._half = max(queue_size // 2, 1)
        self._host = host if host is not None else socket.gethostname()
        self._fsync = fsync
        self._prefix = os.urandom(6).hex()
        self._id_prefix = self._prefix + "-"
        self._ids = itertools.count()

        self._queue: deque[tuple[Any, ...]] = deque()
        self._wake = threading.Event()
        self._dropped = _Tally()
        self._sampled_out = _Tally()
        # Guards the writer's counters so stats() and flush() see consistent numbers.
        self._lock = threading.Condition(threading.Lock())
        self._taken = 0
        self._written = 0
        self._invalid = 0
        self._failed = 0
        self._io_errors = 0
        self._last_error: str | None = None
        self._files: dict[tuple[str, str], io.FileIO] = {}
        self._newest_date = ""
        self._stamp_second = math.nan
        self._stamp_prefix = ""
        self._closed = False
        self._stopping = False
        self._writer_done = False
        self._close_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="monitor-sdk-writer", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    # ---- producer side: keep these paths minimal --------------------------------------

    def log_prediction(
        self,
        *,
        features: Mapping[str, Any] | None,
        prediction: Any,
        model_id: str | None = None,
        model_version: str | None = None,
        probability: float | Mapping[str, float] | None = None,
        latency_ms: float | None = None,
        status: str = schema.STATUS_OK,
        error: str | None = None,
        request_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        label: Any = None,
        prediction_id: str | None = None,
        timestamp: Timestamp = None,
    ) -> str:
        """Queue one prediction and return its id; never blocks on I/O."""
        if model_id is None:
            model_id = self._model_id
            if model_id is None:
                raise ValueError("model_id is required: pass it here or to PredictionLogger")
        if prediction_id is None:
            prediction_id = self._id_prefix + str(next(self._ids))
        else:
            prediction_id = str(prediction_id)
        if self._closed:
            self._dropped.bump()
            return prediction_id
        threshold = self._threshold
        if (
            threshold is not None
            and zlib.crc32(prediction_id.encode(), self._seed_crc) >= threshold
        ):
            self._sampled_out.bump()
            return prediction_id
        queue = self._queue
        depth = len(queue)
        if depth >= self._queue_size:
            self._dropped.bump()
            return prediction_id
        queue.append(
            (_PRED, time.time() if timestamp is None else timestamp, prediction_id, model_id,
             model_version, features, prediction, probability, latency_ms, status, error,
             request_id, metadata, label)
        )  # fmt: skip
        if depth >= self._half and not self._wake.is_set():
            self._wake.set()
        return prediction_id

    def log_feedback(self, prediction_id: str, label: Any, *, timestamp: Timestamp = None) -> None:
        """Queue the true label of a prediction; sampled out iff its prediction was."""
        prediction_id = str(prediction_id)
        threshold = self._threshold
        if (
            threshold is not None
            and not self._closed
            and zlib.crc32(prediction_id.encode(), self._seed_crc) >= threshold
        ):
            self._sampled_out.bump()
            return
        self._enqueue((_FEEDBACK, time.time() if timestamp is None else timestamp,
                       prediction_id, label))  # fmt: skip

    def log_system(
        self,
        *,
        host: str | None = None,
        cpu_percent: float | None = None,
        memory_mb: float | None = None,
        queue_depth: float | None = None,
        timestamp: Timestamp = None,
        **extra: Any,
    ) -> None:
        """Queue one system-metrics record; `extra` fields are written as they are."""
        self._enqueue((_SYSTEM, time.time() if timestamp is None else timestamp,
                       host or self._host, cpu_percent, memory_mb, queue_depth, extra))  # fmt: skip

    def _enqueue(self, item: tuple[Any, ...]) -> None:
        queue = self._queue
        depth = len(queue)
        if self._closed or depth >= self._queue_size:
            self._dropped.bump()
            return
        queue.append(item)
        if depth >= self._half and not self._wake.is_set():
            self._wake.set()

    # ---- control ---------------------------------------------------------------------

    def stats(self) -> LoggerStats:
        with self._lock:
            enqueued = self._taken + len(self._queue)
            done = self._written + self._invalid + self._failed
            return LoggerStats(
                enqueued=enqueued,
                written=self._written,
                dropped=self._dropped.value(),
                sampled_out=self._sampled_out.value(),
                invalid=self._invalid,
                failed=self._failed,
                io_errors=self._io_errors,
                pending=enqueued - done,
                last_error=self._last_error,
            )

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every record queued so far is written or failed; False on timeout."""
        with self._lock:
            target = self._taken + len(self._queue)

            def done() -> bool:
                return self._written + self._invalid + self._failed >= target

            if not self._writer_done:
                self._wake.set()
                self._lock.wait_for(lambda: done() or self._writer_done, timeout)
            return done()

    def close(self) -> None:
        """Write everything queued, stop the writer thread and close files. Idempotent."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
            atexit.unregister(self.close)
            self._stopping = True
            self._wake.set()
            self._thread.join()
            self._drain()  # anything appended by a producer that raced with close()
            self._close_files(keep=None)

    def __enter__(self) -> PredictionLogger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- writer thread ---------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stopping:
                self._wake.wait(self._flush_interval)
                self._wake.clear()
                try:
                    self._drain()
                except Exception as exc:  # a bug here must not silently stop all logging
                    self._last_error = f"writer error: {type(exc).__name__}: {exc}"
        finally:
            with self._lock:
                self._writer_done = True
                self._lock.notify_all()  # wake flush() callers: nothing more will be written

    def _drain(self) -> None:
        queue = self._queue
        with self._lock:
            count = len(queue)
            batch = [queue.popleft() for _ in range(count)]
            self._taken += count
        if not batch:
            return
        groups: dict[tuple[str, str], list[bytes]] = {}
        invalid = 0
        for item in batch:
            try:
                kind, stamp, record = self._to_record(item)
                try:  # plain values (the usual case) need no schema.json_safe pass
                    line = _encode(record)
                except (TypeError, ValueError):  # numpy, NaN, other objects
                    line = _encode(schema.json_safe(record))
            except Exception as exc:  # any bad value must not stop the other records
                invalid += 1
                self._last_error = f"invalid record skipped: {type(exc).__name__}: {exc}"
                continue
            groups.setdefault((kind, stamp[:10]), []).append(line.encode() + b"\n")
        written = failed = io_errors = 0
        for key, lines in groups.items():
            try:
                self._write(key, b"".join(lines))
                written += len(lines)
            except OSError as exc:
                failed += len(lines)
                io_errors += 1
                self._last_error = f"cannot write {key[0]} log for {key[1]}: {exc}"
                handle = self._files.pop(key, None)
                if handle is not None:
                    self._close_quietly(handle)
        newest = max(date for _, date in groups) if groups else ""
        if newest > self._newest_date:  # daily rotation: the files of older days are done
            self._newest_date = newest
        self._close_files(keep=self._newest_date)
        with self._lock:
            self._written += written
            self._invalid += invalid
            self._failed += failed
            self._io_errors += io_errors
            self._lock.notify_all()

    def _to_record(self, item: tuple[Any, ...]) -> tuple[str, str, dict[str, Any]]:
        """(kind, ISO UTC timestamp, record) of a queued item; raises if it is invalid."""
        when = item[1]
        stamp = self._format_timestamp(when if type(when) is float else _epoch(when))
        code = item[0]
        record: dict[str, Any]
        optional: tuple[tuple[str, Any], ...]
        if code == _PRED:
            (_, _, pid, model_id, version, features, prediction, probability, latency_ms,
             status, error, request_id, metadata, label) = item  # fmt: skip
            record = {"prediction_id": pid, "timestamp": stamp, "model_id": model_id}
            version = version if version is not None else self._model_version
            if version is not None:
                record["model_version"] = version
            if features is not None:
                record["features"] = features
            record["prediction"] = prediction
            optional = (("probability", probability), ("latency_ms", latency_ms),
                        ("status", status), ("error", error), ("request_id", request_id),
                        ("metadata", metadata), ("label", label))  # fmt: skip
        elif code == _FEEDBACK:
            record = {"prediction_id": item[2], "timestamp": stamp, "label": item[3]}
            optional = ()
        else:
            _, _, host, cpu, memory, depth, extra = item
            record = {"timestamp": stamp, "host": host}
            optional = (("cpu_percent", cpu), ("memory_mb", memory), ("queue_depth", depth))
            optional += tuple(extra.items())
        for name, value in optional:
            if value is not None:
                record[name] = value
        return _KINDS[code], stamp, record

    def _format_timestamp(self, epoch: float) -> str:
        """schema.format_timestamp(epoch), 4x faster: the date and time part is cached per second.

        Splits and rounds (half even) the microseconds exactly as datetime.fromtimestamp does.
        """
        fraction, second = math.modf(epoch)
        micros = round(fraction * 1e6)
        if micros >= 1_000_000:
            second, micros = second + 1, micros - 1_000_000
        elif micros < 0:
            second, micros = second - 1, micros + 1_000_000
        if second != self._stamp_second:
            self._stamp_prefix = schema.format_timestamp(second)[:19]  # YYYY-MM-DDTHH:MM:SS
            self._stamp_second = second
        return f"{self._stamp_prefix}.{micros:06d}+00:00"

    def _write(self, key: tuple[str, str], data: bytes) -> None:
        handle = self._files.get(key)
        if handle is None:
            handle = self._open(*key)
            self._files[key] = handle
        view = memoryview(data)
        while view:  # one write() in practice; a raw write may be partial
            count = handle.write(view)
            if not count:
                raise OSError(f"write to {handle.name!r} made no progress")
            view = view[count:]
        handle.flush()
        if self._fsync:
            os.fsync(handle.fileno())

    def _open(self, kind: str, date: str) -> io.FileIO:
        # "-" is replaced too: it separates the parts of the file name.
        host = _UNSAFE_NAME_CHARS.sub("_", self._host).strip("._") or "unknown"
        folder = self._data_dir / schema.LOGS_DIR / kind / f"date={date}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{kind}-{host}-{os.getpid()}-{self._prefix}.jsonl"
        handle = io.FileIO(path, "a+")
        try:
            if handle.seek(0, os.SEEK_END) > 0:
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) != b"\n":  # a write failed halfway: end that line
                    handle.write(b"\n")
        except OSError:
            self._close_quietly(handle)
            raise
        return handle

    def _close_files(self, keep: str | None) -> None:
        for key in [key for key in self._files if key[1] != keep]:
            self._close_quietly(self._files.pop(key))

    def _close_quietly(self, handle: io.FileIO) -> None:
        try:
            handle.close()
        except OSError as exc:
            self._last_error = f"cannot close log file: {exc}"
