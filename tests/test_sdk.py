"""PredictionLogger: real files under tmp_path, read back line by line."""

from __future__ import annotations

import collections
import datetime as dt
import json
import math
import subprocess
import sys
import threading
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from monitor.core import schema
from monitor.sdk import LoggerStats, PredictionLogger


def read_records(data_dir: Path, kind: str = "predictions") -> list[dict[str, Any]]:
    """Every record of one kind; fails on a file without a final newline or a bad line."""
    records = []
    for path in sorted((data_dir / "logs" / kind).glob("date=*/*.jsonl")):
        data = path.read_bytes()
        assert data.endswith(b"\n"), f"{path} does not end with a newline"
        for line in data.decode("utf-8").splitlines():
            record = json.loads(line)
            assert isinstance(record, dict)
            records.append(record)
    return records


def partitions(data_dir: Path, kind: str = "predictions") -> list[str]:
    return sorted(p.name for p in (data_dir / "logs" / kind).iterdir())


def test_four_threads_lose_nothing_and_duplicate_nothing(tmp_path: Path) -> None:
    per_thread, threads = 50_000, 4
    log = PredictionLogger(tmp_path, model_id="m", queue_size=300_000, flush_interval=0.05)
    returned: list[list[str]] = [[] for _ in range(threads)]
    start = threading.Barrier(threads)

    def produce(slot: int) -> None:
        ids = returned[slot]
        start.wait()
        for i in range(per_thread):
            ids.append(log.log_prediction(features={"x": i, "t": slot}, prediction=i % 2))

    workers = [threading.Thread(target=produce, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    log.close()

    expected = collections.Counter(pid for ids in returned for pid in ids)
    assert len(expected) == per_thread * threads  # generated ids are unique
    records = read_records(tmp_path)
    assert collections.Counter(r["prediction_id"] for r in records) == expected
    assert all(r["model_id"] == "m" and r["status"] == "ok" for r in records)
    stats = log.stats()
    assert stats == LoggerStats(
        enqueued=200_000,
        written=200_000,
        dropped=0,
        sampled_out=0,
        invalid=0,
        failed=0,
        io_errors=0,
        pending=0,
        last_error=None,
    )


def test_tiny_queue_drops_are_counted_exactly_and_lines_stay_whole(tmp_path: Path) -> None:
    attempts = 20_000
    log = PredictionLogger(tmp_path, model_id="m", queue_size=10, flush_interval=0.01)
    ids = [log.log_prediction(features={"i": i}, prediction=i) for i in range(attempts)]
    log.close()
    stats = log.stats()
    records = read_records(tmp_path)
    assert stats.dropped > 0
    assert stats.written + stats.dropped == attempts
    assert stats.enqueued == stats.written == len(records)
    assert stats.pending == stats.invalid == stats.failed == 0
    written_ids = [r["prediction_id"] for r in records]
    assert len(set(written_ids)) == len(written_ids)
    assert set(written_ids) <= set(ids)


def kept_by_rule(seed: int, rate: float, ids: list[str]) -> set[str]:
    """The sampling rule as documented, computed independently of the logger."""
    return {pid for pid in ids if zlib.crc32(f"{seed}:{pid}".encode()) / 2**32 < rate}


def test_sampling_is_deterministic_and_matches_the_rate(tmp_path: Path) -> None:
    n, rate = 10_000, 0.3
    ids = [f"req-{i}" for i in range(n)]
    kept: dict[str, set[str]] = {}
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        with PredictionLogger(
            tmp_path / name, model_id="m", sample_rate=rate, sample_seed=seed
        ) as log:
            for pid in ids:
                assert log.log_prediction(features={}, prediction=1, prediction_id=pid) == pid
                log.log_feedback(pid, 1)
        kept[name] = {r["prediction_id"] for r in read_records(tmp_path / name)}
        feedback = {r["prediction_id"] for r in read_records(tmp_path / name, "feedback")}
        assert feedback == kept[name]  # labels follow their predictions
        stats = log.stats()
        assert stats.written == 2 * len(kept[name])
        assert stats.sampled_out == 2 * (n - len(kept[name]))

    assert kept["a"] == kept["b"] == kept_by_rule(7, rate, ids)
    assert kept["c"] == kept_by_rule(8, rate, ids)
    assert kept["c"] != kept["a"]
    sd = math.sqrt(n * rate * (1 - rate))
    for name in kept:
        assert abs(len(kept[name]) - n * rate) <= 4 * sd


def test_unwritable_data_dir_counts_failures_and_never_raises(tmp_path: Path) -> None:
    # A regular file as parent: mkdir fails with NotADirectoryError even for root.
    (tmp_path / "afile").write_text("not a directory")
    log = PredictionLogger(tmp_path / "afile" / "sub", model_id="m", flush_interval=0.01)
    for i in range(25):
        log.log_prediction(features={"i": i}, prediction=i)
    log.log_system(cpu_percent=1.0)
    log.close()
    stats = log.stats()
    assert stats.failed == 26
    assert stats.written == 0
    assert stats.io_errors >= 1
    assert stats.pending == 0
    assert stats.last_error is not None
    assert "Not a directory" in stats.last_error
    assert "afile" in stats.last_error


def test_io_error_is_retried_on_the_next_batch(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("in the way")
    log = PredictionLogger(blocker, model_id="m")
    log.log_prediction(features={}, prediction=0, prediction_id="lost")
    assert log.flush(timeout=5)
    assert log.stats().failed == 1
    blocker.unlink()
    log.log_prediction(features={}, prediction=1, prediction_id="kept")
    log.close()
    assert [r["prediction_id"] for r in read_records(blocker)] == ["kept"]
    stats = log.stats()
    assert (stats.written, stats.failed, stats.io_errors) == (1, 1, 1)


def test_records_land_in_the_partition_of_their_utc_date(tmp_path: Path) -> None:
    plus_two = dt.timezone(dt.timedelta(hours=2))
    with PredictionLogger(tmp_path, model_id="m") as log:
        log.log_prediction(
            features={},
            prediction=1,
            prediction_id="late-local",
            timestamp=dt.datetime(2026, 3, 2, 1, 30, tzinfo=plus_two),  # 2026-03-01 23:30 UTC
        )
        log.log_prediction(
            features={},
            prediction=1,
            prediction_id="naive",
            timestamp=dt.datetime(2026, 3, 2, 0, 0, 1),  # naive = UTC
        )
        log.log_prediction(
            features={},
            prediction=1,
            prediction_id="epoch",
            timestamp=dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC).timestamp(),
        )
    assert partitions(tmp_path) == ["date=2026-03-01", "date=2026-03-02"]
    day1 = tmp_path / "logs" / "predictions" / "date=2026-03-01"
    day2 = tmp_path / "logs" / "predictions" / "date=2026-03-02"
    lines1 = [json.loads(line) for f in day1.iterdir() for line in f.read_text().splitlines()]
    lines2 = [json.loads(line) for f in day2.iterdir() for line in f.read_text().splitlines()]
    assert {r["prediction_id"]: r["timestamp"] for r in lines1} == {
        "late-local": "2026-03-01T23:30:00.000000+00:00",
        "epoch": "2026-03-01T12:00:00.000000+00:00",
    }
    assert {r["prediction_id"]: r["timestamp"] for r in lines2} == {
        "naive": "2026-03-02T00:00:01.000000+00:00"
    }


def test_late_record_after_rotation_reopens_the_old_file_on_a_new_line(tmp_path: Path) -> None:
    day1 = dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)
    day2 = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)
    with PredictionLogger(tmp_path, model_id="m") as log:
        log.log_prediction(features={}, prediction=1, prediction_id="a", timestamp=day1)
        assert log.flush(timeout=5)
        log.log_prediction(features={}, prediction=1, prediction_id="b", timestamp=day2)
        assert log.flush(timeout=5)  # the day-1 file is closed now
        (old,) = (tmp_path / "logs" / "predictions" / "date=2026-03-01").iterdir()
        with old.open("ab") as handle:
            handle.write(b'{"prediction_id":"half-writ')  # a writer died mid-line
        log.log_prediction(features={}, prediction=1, prediction_id="c", timestamp=day1)
    lines = old.read_text().splitlines()
    assert lines[1] == '{"prediction_id":"half-writ'
    assert json.loads(lines[2])["prediction_id"] == "c"


def test_non_finite_and_numpy_values_and_unserializable_objects(tmp_path: Path) -> None:
    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("cannot print me")

    with PredictionLogger(tmp_path, model_id="m") as log:
        log.log_prediction(
            features={
                "nan": float("nan"),
                "inf": float("inf"),
                "ninf": np.float64("-inf"),
                "f32": np.float32(0.5),
                "i64": np.int64(7),
                "flag": np.bool_(True),
                "text": "é",
            },
            prediction=np.int64(1),
            probability=np.float64(0.25),
            prediction_id="good-1",
        )
        log.log_prediction(features={"bad": Unprintable()}, prediction=1, prediction_id="bad")
        log.log_prediction(features={}, prediction=1, prediction_id="bad-ts", timestamp="soon")  # type: ignore[arg-type]
        log.log_prediction(features={"x": 1.5}, prediction=0, prediction_id="good-2")
    records = {r["prediction_id"]: r for r in read_records(tmp_path)}
    assert set(records) == {"good-1", "good-2"}
    assert records["good-1"]["features"] == {
        "nan": None,
        "inf": None,
        "ninf": None,
        "f32": 0.5,
        "i64": 7,
        "flag": True,
        "text": "é",
    }
    assert records["good-1"]["prediction"] == 1
    assert records["good-1"]["probability"] == 0.25
    stats = log.stats()
    assert (stats.written, stats.invalid, stats.pending) == (2, 2, 0)
    assert stats.last_error is not None and "invalid record" in stats.last_error


def test_record_fields_defaults_and_overrides(tmp_path: Path) -> None:
    with PredictionLogger(tmp_path, model_id="m", model_version="1", host="web 1") as log:
        generated = log.log_prediction(features={"a": 1}, prediction="cat", latency_ms=2.5)
        log.log_prediction(
            features={"a": 2},
            prediction="dog",
            model_id="other",
            model_version="2",
            status="error",
            error="boom",
            request_id="r1",
            metadata={"k": [1, 2]},
            label="dog",
            probability={"cat": 0.1, "dog": 0.9},
            prediction_id="given",
        )
        log.log_feedback(generated, "cat")
        log.log_system(cpu_percent=50.0, memory_mb=100.0, queue_depth=3, gpu_percent=7)
    records = {r["prediction_id"]: r for r in read_records(tmp_path)}
    first = records[generated]
    assert {k: v for k, v in first.items() if k != "timestamp"} == {
        "prediction_id": generated,
        "model_id": "m",
        "model_version": "1",
        "features": {"a": 1},
        "prediction": "cat",
        "latency_ms": 2.5,
        "status": "ok",
    }
    second = records["given"]
    assert (second["model_id"], second["model_version"]) == ("other", "2")
    assert (second["status"], second["error"], second["request_id"]) == ("error", "boom", "r1")
    assert second["metadata"] == {"k": [1, 2]}
    assert second["probability"] == {"cat": 0.1, "dog": 0.9}
    assert second["label"] == "dog"
    (feedback,) = read_records(tmp_path, "feedback")
    assert (feedback["prediction_id"], feedback["label"]) == (generated, "cat")
    (system,) = read_records(tmp_path, "system")
    assert system["host"] == "web 1"
    assert (system["cpu_percent"], system["memory_mb"], system["queue_depth"]) == (50.0, 100.0, 3)
    assert system["gpu_percent"] == 7
    (path,) = (tmp_path / "logs" / "system").glob("date=*/*.jsonl")
    assert path.name.startswith("system-web_1-")


def test_ids_differ_between_loggers(tmp_path: Path) -> None:
    with (
        PredictionLogger(tmp_path / "a", model_id="m") as a,
        PredictionLogger(tmp_path / "b", model_id="m") as b,
    ):
        ids_a = {a.log_prediction(features={}, prediction=1) for _ in range(100)}
        ids_b = {b.log_prediction(features={}, prediction=1) for _ in range(100)}
    assert len(ids_a) == len(ids_b) == 100
    assert not ids_a & ids_b


def test_calls_after_close_are_dropped_without_raising(tmp_path: Path) -> None:
    log = PredictionLogger(tmp_path, model_id="m")
    log.log_prediction(features={}, prediction=1)
    log.close()
    log.close()  # idempotent
    pid = log.log_prediction(features={}, prediction=2)
    log.log_feedback(pid, 1)
    log.log_system(cpu_percent=1.0)
    assert log.flush(timeout=1)
    stats = log.stats()
    assert (stats.written, stats.dropped, stats.enqueued) == (1, 3, 1)
    assert len(read_records(tmp_path)) == 1


def test_invalid_arguments_raise_value_error(tmp_path: Path) -> None:
    for kwargs, message in (
        ({"sample_rate": 0.0}, "sample_rate"),
        ({"sample_rate": 1.5}, "sample_rate"),
        ({"queue_size": 0}, "queue_size"),
        ({"flush_interval": 0}, "flush_interval"),
        ({"flush_interval": -1.0}, "flush_interval"),
    ):
        with pytest.raises(ValueError, match=message):
            PredictionLogger(tmp_path, **kwargs)
    with PredictionLogger(tmp_path) as log, pytest.raises(ValueError, match="model_id"):
        log.log_prediction(features={}, prediction=1)


def test_interpreter_exit_writes_queued_records(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from monitor.sdk import PredictionLogger\n"
        "log = PredictionLogger(sys.argv[1], model_id='m', flush_interval=3600)\n"
        "for i in range(1000):\n"
        "    log.log_prediction(features={'i': i}, prediction=i)\n"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, timeout=60)
    assert sorted(r["features"]["i"] for r in read_records(tmp_path)) == list(range(1000))


def test_timestamps_are_written_exactly_as_schema_formats_them(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    epochs = [float(e) for e in rng.uniform(1.7e9, 1.7e9 + 3 * 86_400, 2_000)]
    epochs += [1.7e9 + k * 0.5e-6 for k in range(-5, 6)]
    epochs += [1_700_000_000.9999996, 1_700_000_000.9999994, -0.5, -1.0000001, 0.0, 86_399.99999951]
    with PredictionLogger(tmp_path, model_id="m") as log:
        ids = {
            log.log_prediction(features={}, prediction=1, timestamp=epoch): epoch
            for epoch in epochs
        }
    written = {r["prediction_id"]: r["timestamp"] for r in read_records(tmp_path)}
    assert written == {pid: schema.format_timestamp(epoch) for pid, epoch in ids.items()}
