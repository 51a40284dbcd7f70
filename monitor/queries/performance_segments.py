"""Where a model is wrong: error rate or MAE per category of one feature in a scope
(SQL in monitor.queries.performance, results from monitor.metrics.performance.segments)."""

from __future__ import annotations

from monitor.core.config import ModelConfig
from monitor.core.errors import InputError
from monitor.core.scope import Scope
from monitor.core.sqlutil import quote_identifier
from monitor.core.store import LogStore
from monitor.metrics.intervals import CONFIDENCE
from monitor.metrics.performance.segments import (
    TOP,
    Kind,
    SegmentReport,
    cut_edges,
    feature_order,
    segment_report,
)
from monitor.queries import performance as sql


def segment_features(store: LogStore, model: ModelConfig, scope: Scope) -> tuple[str, ...]:
    """Features the model logged in the scope, in the order to offer them
    (`feature_order`)."""
    columns = store.features
    if not columns:
        return ()
    found = store.execute(
        sql.feature_presence([quote_identifier(f.column) for f in columns]),
        sql.scope_params(scope),
    )
    present = {f.key: f.sql_type for f, n in zip(columns, found[0], strict=True) if n}
    return feature_order(model, present)


def segments(
    store: LogStore,
    model: ModelConfig,
    scope: Scope,
    *,
    feature: str,
    top: int = TOP,
    confidence: float = CONFIDENCE,
) -> SegmentReport:
    """Error rate or MAE per category of the feature `feature` (its key, without the
    `features.` prefix): the `top` most frequent values, or quintiles of a numeric one."""
    column = next((f for f in store.features if f.key == feature), None)
    if column is None:
        raise InputError(f"no feature {feature!r} in the logs")
    quoted = quote_identifier(column.column)
    params = sql.scope_params(scope) | {"top": int(top)}
    edges: tuple[float, ...] = ()
    kind: Kind = "numeric" if column.sql_type == "DOUBLE" else "text"
    if kind == "numeric":
        found = store.execute(sql.numeric_edges(quoted), sql.scope_params(scope))
        edges = cut_edges(found[0][0] if found else None)
        params["edges"] = list(edges)
    restrict = sql.restrict_feedback(store.version_slices(), scope.model_id, scope.window)
    rows = store.execute(sql.segment_counts(quoted, kind, model.task, restrict=restrict), params)
    return segment_report(
        model.id,
        feature,
        rows,
        regression=model.task == "regression",
        kind=kind,
        edges=edges,
        confidence=confidence,
    )
