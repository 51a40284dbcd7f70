# ruff: noqa: S608  (SQL built only from constants and quote_identifier)
"""Which features a model logs, and how many of the scope's predictions carry each: the
choices of a sensitive feature and the missing shares the alert rules measure."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.core.scope import Scope
from monitor.core.sqlutil import quote_identifier
from monitor.core.store import LogStore
from monitor.core.views import FeatureColumn
from monitor.queries.performance import feature_presence, scope_params


def logged_features(store: LogStore, model_id: str) -> tuple[FeatureColumn, ...]:
    """The features the model logged a value for at least once (any time), in the store's
    order."""
    features = store.features
    if not features:
        return ()
    counts = store.execute(_non_null_counts([f.column for f in features]), {"model": model_id})[0]
    return tuple(f for f, n in zip(features, counts, strict=True) if n)


def present_counts(
    store: LogStore, scope: Scope, features: Sequence[FeatureColumn]
) -> tuple[int, ...]:
    """Per feature, the predictions of the scope that carry a value for it."""
    if not features:
        return ()
    row = store.execute(
        feature_presence([quote_identifier(f.column) for f in features]), scope_params(scope)
    )[0]
    return tuple(int(n) for n in row)


def _non_null_counts(columns: Sequence[str]) -> str:
    """Non-NULL values per column among a model's predictions ($model)."""
    counts = ", ".join("count(" + quote_identifier(c) + ")" for c in columns)
    return "SELECT " + counts + " FROM predictions WHERE model_id = $model"
