"""What every model server adds to a prediction: latency, errors, and labels arriving later."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from monitor.demo.batch import Column, FeedbackBatch, PredictionBatch
from monitor.demo.spec import ERROR_MESSAGES
from monitor.demo.timeline import US_PER_DAY, BoolArray, FloatArray, IntArray, Window, in_window

LATENCY_MEDIAN_MS = 38.0
LATENCY_SPIKE_FACTOR = 5.5
BASE_ERROR_RATE = 0.003
BURST_ERROR_RATE = 0.3


@dataclass(frozen=True)
class Labels:
    """The true label of every prediction, when it would arrive, and whether it ever does."""

    values: Column
    arrival_us: IntArray
    labeled: BoolArray


def draw_latency(rng: np.random.Generator, times: IntArray, spike: Window | None) -> FloatArray:
    """Lognormal latency around LATENCY_MEDIAN_MS, several times slower inside `spike`."""
    n = len(times)
    latency = rng.lognormal(np.log(LATENCY_MEDIAN_MS), 0.3, n)
    slow = rng.lognormal(np.log(LATENCY_SPIKE_FACTOR), 0.25, n)
    if spike is not None:
        latency = np.where(in_window(times, spike), latency * slow, latency)
    return latency


def draw_errors(rng: np.random.Generator, times: IntArray, burst: Window | None) -> IntArray:
    """Index into ERROR_MESSAGES per request, -1 for success.

    Outside a burst the rare failures are timeouts; inside it, 30% of requests fail
    with any of the messages.
    """
    n = len(times)
    u = rng.random(n)
    message = rng.integers(0, len(ERROR_MESSAGES), n)
    errors = np.where(u < BASE_ERROR_RATE, 0, -1)
    if burst is not None:
        errors = np.where(in_window(times, burst) & (u < BURST_ERROR_RATE), message, errors)
    return errors.astype(np.int64)


def label_arrival(
    rng: np.random.Generator,
    times: IntArray,
    *,
    min_days: float,
    mean_extra_days: float,
    max_days: float,
) -> IntArray:
    """Prediction time plus a delay: `min_days` + a truncated exponential, at most `max_days`."""
    top = 1.0 - np.exp(-(max_days - min_days) / mean_extra_days)
    extra = -mean_extra_days * np.log1p(-rng.random(len(times)) * top)
    delay = np.floor((min_days + extra) * US_PER_DAY).astype(np.int64)
    arrival: IntArray = times + np.minimum(delay, int(max_days * US_PER_DAY))
    return arrival


def feedback_for(
    batch: PredictionBatch, labels: Labels, unlabeled_from: int, now: int
) -> FeedbackBatch:
    """Feedback records for a day of predictions: labeled ones, arrived by `now`."""
    keep = labels.labeled & (batch.timestamp_us < unlabeled_from) & (labels.arrival_us < now)
    index = np.flatnonzero(keep)
    return FeedbackBatch(
        batch.spec.id_prefix,
        batch.numbers[index],
        labels.arrival_us[index],
        labels.values.take(index),
    )
