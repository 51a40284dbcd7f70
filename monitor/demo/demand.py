"""demand-forecast: a regression model of units sold per store, with an error burst."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from monitor.demo.batch import Column, PredictionBatch, error_column
from monitor.demo.serving import Labels, draw_errors, draw_latency, label_arrival
from monitor.demo.spec import DEMAND, STORE_IDS
from monitor.demo.timeline import US_PER_DAY, US_PER_HOUR, FloatArray, IntArray, Scenario, in_window

_STORES = len(STORE_IDS)
_STORE_WEIGHT = np.linspace(1.6, 0.6, _STORES) / np.linspace(1.6, 0.6, _STORES).sum()
_BASE_DEMAND = 30.0 + 10.0 * ((np.arange(_STORES) * 7) % _STORES)
_BASE_PRICE = np.round(2.5 + 1.5 * ((np.arange(_STORES) * 5) % _STORES), 2)
_MODEL_NOISE = (0.2, 0.12)  # v1, v2 multiplicative error
_CHANNELS = ("batch", "api")
PROMO_SHARE = 0.15


def _weekday(times: IntArray) -> IntArray:
    """0 = Monday ... 6 = Sunday (1970-01-01 was a Thursday)."""
    result: IntArray = (times // US_PER_DAY + 3) % 7
    return result


def _temperature(rng: np.random.Generator, times: IntArray, day_offset: FloatArray) -> FloatArray:
    hour = (times % US_PER_DAY) / US_PER_HOUR
    daily = 5.0 * np.sin(2.0 * np.pi * (hour - 9.0) / 24.0)
    return np.round(9.0 + daily + day_offset + rng.normal(0.0, 1.5, len(times)), 1)


def _features_and_demand(
    rng: np.random.Generator, times: IntArray, day_offset: FloatArray
) -> tuple[tuple[Column, ...], FloatArray]:
    """Feature columns (order of spec.DEMAND.features) and the expected demand."""
    n = len(times)
    temperature = _temperature(rng, times, day_offset)
    weekday = _weekday(times)
    store = rng.choice(_STORES, size=n, p=_STORE_WEIGHT).astype(np.int64)
    promo = rng.random(n) < PROMO_SHARE
    list_price = _BASE_PRICE[store]
    price = np.round(list_price * np.where(promo, 0.8, 1.0) * rng.lognormal(0.0, 0.05, n), 2)
    expected = (
        _BASE_DEMAND[store]
        * np.exp(0.3 * promo + 0.01 * (temperature - 10.0) + 0.15 * (weekday >= 5))
        * (price / list_price) ** -1.2
    )
    columns = (
        Column(temperature),
        Column(weekday.astype(np.float64), integral=True),
        Column(store, categories=STORE_IDS),
        Column(promo),
        Column(price),
    )
    return columns, expected


def _forecast(rng: np.random.Generator, expected: FloatArray, version: IntArray) -> FloatArray:
    noise = rng.normal(0.0, 1.0, len(version)) * np.array(_MODEL_NOISE)[version]
    forecast: FloatArray = np.round(expected * np.exp(noise), 1)
    return forecast


def demand_batch(
    rng: np.random.Generator, times: IntArray, first_number: int, sc: Scenario
) -> tuple[PredictionBatch, Labels]:
    """One day of demand-forecast predictions and the units actually sold."""
    n = len(times)
    features, expected = _features_and_demand(rng, times, np.full(n, rng.normal(0.0, 2.5)))
    version = in_window(times, sc.demand_v2).astype(np.int64)
    forecast = _forecast(rng, expected, version)
    latency = draw_latency(rng, times, None) * 0.6
    errors = draw_errors(rng, times, sc.error_burst)
    failed = errors >= 0
    sold = rng.poisson(expected).astype(np.float64)
    arrival = label_arrival(rng, times, min_days=1.0, mean_extra_days=0.1, max_days=1.25)
    batch = PredictionBatch(
        spec=DEMAND,
        numbers=np.arange(first_number, first_number + n, dtype=np.int64),
        timestamp_us=times,
        version=Column(version, categories=DEMAND.versions),
        features=features,
        prediction=Column(np.where(failed, np.nan, forecast), null=failed),
        probability=None,
        latency_ms=np.round(latency, 2),
        error=error_column(errors),
        request_number=rng.integers(0, 10**12, n, dtype=np.int64),
        channel=Column(rng.choice(2, size=n, p=[0.8, 0.2]).astype(np.int64), categories=_CHANNELS),
    )
    labeled = ~failed & (rng.random(n) < 0.95)
    return batch, Labels(Column(sold, integral=True), arrival, labeled)


def demand_reference(rng: np.random.Generator, rows: int, before: int) -> pa.Table:
    """Training data: four weeks before `before` (µs), forecast by v1."""
    days = rng.integers(1, 29, rows)
    times = np.sort(before - days * US_PER_DAY + rng.integers(0, US_PER_DAY, rows))
    features, expected = _features_and_demand(rng, times, rng.normal(0.0, 2.5, 28)[days - 1])
    forecast = _forecast(rng, expected, np.zeros(rows, np.int64))
    sold = rng.poisson(expected).astype(np.float64)
    names = [name for name, _ in DEMAND.features]
    arrays = [c.to_arrow() for c in features] + [pa.array(sold), pa.array(forecast)]
    return pa.Table.from_arrays(arrays, names=[*names, "label", "prediction"])
