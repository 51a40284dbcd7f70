"""generate_demo: write a month of logs for two models with known, injected problems."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Final

import numpy as np

from monitor.core.errors import InputError
from monitor.core.schema import LOGS_DIR
from monitor.demo.batch import FeedbackBatch, PredictionBatch, concat_feedback
from monitor.demo.credit import CANARY_SHARE, GIG_SHARE, credit_batch, credit_reference
from monitor.demo.demand import demand_batch, demand_reference
from monitor.demo.manifest import (
    MANIFEST_NAME,
    DemoManifest,
    InjectedProblem,
    ModelSummary,
    VersionPeriod,
    WrittenFile,
)
from monitor.demo.serving import Labels, feedback_for
from monitor.demo.spec import (
    CREDIT,
    CREDIT_ID,
    DEMAND,
    DEMAND_ID,
    NEW_EMPLOYMENT_TYPE,
    ModelSpec,
    demo_config_toml,
)
from monitor.demo.system import system_batch
from monitor.demo.timeline import (
    IntArray,
    Scenario,
    Window,
    allocate,
    build_scenario,
    sample_times,
    us_to_datetime,
)
from monitor.demo.writers import Corruption, LogWriter, write_parquet, write_text

DEFAULT_END: Final = dt.date(2026, 11, 20)
REFERENCE_ROWS: Final = 20_000
LARGE_PREDICTIONS: Final = 1_000_000  # above this only the last day is (partly) JSONL
CONFIG_NAME: Final = "monitor.toml"

# Random streams: default_rng([seed, purpose, index]) keeps every day independent of
# the others, so days can be generated one at a time in any size.
_DAY_STREAM = {CREDIT_ID: 1, DEMAND_ID: 2}
_WEIGHTS_STREAM, _REFERENCE_STREAM = 3, 4

BatchFn = Callable[[np.random.Generator, IntArray, int, Scenario], tuple[PredictionBatch, Labels]]


def _rng(seed: int, purpose: int, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, purpose, index])


def _validate(days: int, seed: int, predictions: int) -> None:
    if days < 3:
        raise InputError(f"days must be at least 3 (got {days}): the demo needs a labeled past")
    if predictions < 1000:
        raise InputError(f"predictions must be at least 1000 (got {predictions})")
    if not 0 <= seed < 2**32:
        raise InputError(f"seed must be between 0 and {2**32 - 1} (got {seed})")


def _refuse_existing(data_dir: Path) -> None:
    if data_dir.exists() and not data_dir.is_dir():
        raise InputError(f"{data_dir} exists and is not a directory")
    logs = data_dir / LOGS_DIR
    if logs.is_dir() and any(p.is_file() for p in logs.rglob("*")):
        raise InputError(
            f"{data_dir} already contains logs under {logs}; the demo refuses to mix its "
            "records with existing ones. Choose an empty directory or remove logs/ first."
        )
    ours = [CONFIG_NAME, MANIFEST_NAME, *(spec.reference_path for spec in (CREDIT, DEMAND))]
    existing = [name for name in ours if (data_dir / name).exists()]
    if existing:
        raise InputError(
            f"{data_dir} already contains {', '.join(existing)}; the demo will not overwrite "
            "them. Choose an empty directory."
        )


def _jsonl_days(days: int, predictions: int) -> frozenset[int]:
    live = 1 if predictions > LARGE_PREDICTIONS else 3
    return frozenset(range(days - live, days))


def _corruptions(jsonl_days: frozenset[int]) -> tuple[Corruption, ...]:
    ordered = sorted(jsonl_days)
    first, middle, last = ordered[0], ordered[len(ordered) // 2], ordered[-1]
    return (
        Corruption("predictions", CREDIT_ID, first, "garbage", "not JSON (garbage text)"),
        Corruption(
            "predictions", DEMAND_ID, middle, "missing_id", "valid JSON without prediction_id"
        ),
        Corruption("feedback", CREDIT_ID, middle, "bad_timestamp", "timestamp cannot be read"),
        Corruption(
            "predictions", CREDIT_ID, last, "truncated", "half-written last line, no newline"
        ),
    )


def _day_counts(seed: int, spec: ModelSpec, total: int, sc: Scenario) -> IntArray:
    """Predictions per day: fewer on weekends for credit, more for retail demand."""
    weekday = np.array([sc.day(d).weekday() for d in range(sc.days)])
    weekend = np.where(weekday >= 5, 0.8 if spec is CREDIT else 1.25, 1.0)
    noise = _rng(seed, _WEIGHTS_STREAM, _DAY_STREAM[spec.model_id]).uniform(0.95, 1.05, sc.days)
    return allocate(total, weekend * noise)


def _split_due(
    pending: list[FeedbackBatch], until: int
) -> tuple[FeedbackBatch | None, list[FeedbackBatch]]:
    """Feedback that has arrived before `until` (sorted by time), and the rest."""
    if not pending:
        return None, []
    merged = concat_feedback(pending)
    due = merged.timestamp_us < until
    today = np.flatnonzero(due)
    today = today[np.lexsort((merged.numbers[today], merged.timestamp_us[today]))]
    later = np.flatnonzero(~due)
    return merged.take_rows(today), ([merged.take_rows(later)] if len(later) else [])


def _generate_model(
    spec: ModelSpec,
    make_batch: BatchFn,
    total: int,
    seed: int,
    sc: Scenario,
    writer: LogWriter,
    spike: Window | None,
) -> tuple[int, int]:
    """Write every day of one model, holding one day in memory at a time.

    Returns the number of feedback and system records written.
    """
    counts = _day_counts(seed, spec, total, sc)
    average = total / sc.days
    pending: list[FeedbackBatch] = []
    first = feedback = system = 0
    for day in range(sc.days):
        rng = _rng(seed, _DAY_STREAM[spec.model_id], day)
        times = sample_times(rng, sc.day_start(day), int(counts[day]))
        batch, labels = make_batch(rng, times, first, sc)
        first += len(batch)
        writer.write("predictions", spec.model_id, day, batch)
        pending.append(feedback_for(batch, labels, sc.unlabeled[0], sc.span[1]))
        arrived, pending = _split_due(pending, sc.day_start(day + 1))
        if arrived is not None:
            writer.write("feedback", spec.model_id, day, arrived)
            feedback += len(arrived)
        metrics = system_batch(rng, spec.hosts, sc.day_start(day), counts[day] / average, spike)
        writer.write("system", spec.model_id, day, metrics)
        system += len(metrics)
    return feedback, system


def _iso(us: int) -> str:
    return us_to_datetime(us).isoformat()


def _problem(name: str, model: str, window: Window, text: str, **where: str) -> InjectedProblem:
    return InjectedProblem(name, model, _iso(window[0]), _iso(window[1]), text, **where)


def _problems(sc: Scenario) -> tuple[InjectedProblem, ...]:
    gig = f"~{GIG_SHARE:.0%} of requests have employment_type 'gig_worker', unknown to the config"
    canary = f"v3 canary ({CANARY_SHARE:.0%} of traffic): noisier scores, accuracy below v2's"
    unlabeled = "predictions of the last two days have no labels yet"
    return (
        _problem(
            "feature_drift",
            CREDIT_ID,
            sc.income_drift,
            "income mean rises steadily, +60% by the end of the span",
            feature="income",
        ),
        _problem(
            "new_category",
            CREDIT_ID,
            sc.new_category,
            gig,
            feature="employment_type",
            group=NEW_EMPLOYMENT_TYPE,
        ),
        _problem(
            "missing_values",
            CREDIT_ID,
            sc.missing_spike,
            "credit_score is null in ~40% of requests for one day (1% otherwise)",
            feature="credit_score",
        ),
        _problem(
            "label_shift",
            CREDIT_ID,
            sc.label_shift,
            "default rate rises from ~20% to ~35%; the models do not see it",
        ),
        _problem("canary_regression", CREDIT_ID, sc.canary, canary, model_version="v3"),
        _problem(
            "fairness_gap",
            CREDIT_ID,
            sc.canary,
            "v3 over-predicts default for gender=female; v1 and v2 have no such gap",
            model_version="v3",
            feature="gender",
            group="female",
        ),
        _problem(
            "latency_spike",
            CREDIT_ID,
            sc.latency_spike,
            "latency ~5.5x normal for three hours; CPU, memory and queue depth of its hosts spike",
        ),
        _problem(
            "error_burst",
            DEMAND_ID,
            sc.error_burst,
            "~30% of requests fail for two hours, with three distinct error messages",
        ),
        _problem(
            "delayed_labels",
            CREDIT_ID,
            sc.span,
            "labels arrive as feedback 1-7 days after the prediction (most within 3); ~10% never",
        ),
        _problem(
            "delayed_labels",
            DEMAND_ID,
            sc.span,
            "labels (units sold) arrive 24-30 hours after the prediction; ~5% never",
        ),
        _problem("unlabeled_tail", CREDIT_ID, sc.unlabeled, unlabeled),
        _problem("unlabeled_tail", DEMAND_ID, sc.unlabeled, unlabeled),
    )


def _versions(sc: Scenario) -> tuple[VersionPeriod, ...]:
    start, end = (_iso(t) for t in sc.span)
    rollout_start, rollout_end = (_iso(t) for t in sc.v2_rollout)
    canary, demand_v2 = _iso(sc.canary[0]), _iso(sc.demand_v2[0])
    return (
        VersionPeriod(CREDIT_ID, "v1", start, rollout_end, "all traffic until v2 takes over"),
        VersionPeriod(CREDIT_ID, "v2", rollout_start, end, "0 -> 100% over two days, then all"),
        VersionPeriod(CREDIT_ID, "v3", canary, end, f"{CANARY_SHARE:.0%} canary (from v1/v2)"),
        VersionPeriod(DEMAND_ID, "v1", start, demand_v2, "all traffic"),
        VersionPeriod(DEMAND_ID, "v2", demand_v2, end, "all traffic (switched at once)"),
    )


def _write_references(data_dir: Path, seed: int, sc: Scenario) -> list[WrittenFile]:
    tables = (
        (CREDIT, credit_reference(_rng(seed, _REFERENCE_STREAM, 1), REFERENCE_ROWS)),
        (DEMAND, demand_reference(_rng(seed, _REFERENCE_STREAM, 2), REFERENCE_ROWS, sc.span[0])),
    )
    files = []
    for spec, table in tables:
        write_parquet(table, data_dir / spec.reference_path)
        files.append(
            WrittenFile(
                spec.reference_path, "reference", spec.model_id, "parquet", None, table.num_rows, 0
            )
        )
    return files


def generate_demo(
    data_dir: Path,
    *,
    days: int = 30,
    seed: int = 7,
    predictions: int = 200_000,
    end: dt.date = DEFAULT_END,
) -> DemoManifest:
    """Write demo logs, reference data, monitor.toml and demo_manifest.json into `data_dir`.

    Deterministic: the same arguments give byte-identical files. `predictions` is the
    total number of valid prediction records over both models and all days. Raises
    InputError for days < 3, predictions < 1000, or a directory that already holds logs.
    """
    _validate(days, seed, predictions)
    data_dir = Path(data_dir)
    _refuse_existing(data_dir)
    end = dt.date(end.year, end.month, end.day)
    sc = build_scenario(end, days)
    jsonl_days = _jsonl_days(days, predictions)
    totals = allocate(predictions, np.array([CREDIT.traffic_share, DEMAND.traffic_share]))
    summaries = []
    plan: tuple[tuple[ModelSpec, BatchFn, Window | None], ...] = (
        (CREDIT, credit_batch, sc.latency_spike),
        (DEMAND, demand_batch, None),
    )
    with LogWriter(data_dir, sc, jsonl_days, _corruptions(jsonl_days)) as writer:
        for (spec, make_batch, spike), total in zip(plan, totals.tolist(), strict=True):
            feedback, system = _generate_model(spec, make_batch, total, seed, sc, writer, spike)
            summaries.append(
                ModelSummary(
                    spec.model_id, spec.task, spec.versions, total, feedback, system, REFERENCE_ROWS
                )
            )
    files = [*writer.files, *_write_references(data_dir, seed, sc)]
    manifest = DemoManifest(
        seed=seed,
        days=days,
        predictions=predictions,
        start=sc.start.isoformat(),
        end=sc.end.isoformat(),
        span_start=_iso(sc.span[0]),
        span_end=_iso(sc.span[1]),
        jsonl_dates=tuple(sc.day(d).isoformat() for d in sorted(jsonl_days)),
        models=tuple(summaries),
        versions=_versions(sc),
        problems=_problems(sc),
        invalid_lines=tuple(writer.invalid_lines),
        files=tuple(sorted(files, key=lambda f: f.path)),
    )
    write_text(data_dir / CONFIG_NAME, demo_config_toml("."))
    write_text(data_dir / MANIFEST_NAME, manifest.to_json())
    return manifest


__all__ = ["DEFAULT_END", "generate_demo"]
