# ruff: noqa: S608  (SQL built from the relation's safe aliases; values bound)
"""The samples of the domain classifier (monitor.metrics.drift.multivariate): a seeded
reservoir sample of each side, numbers with NaN/inf nulled and the rest as text. Apart
from monitor.queries.drift so that only this imports scikit-learn."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from monitor.core.tabular import Relation, Runner, TabColumn
from monitor.core.tabular_reconcile import reconcile
from monitor.metrics.drift.multivariate import SAMPLE_ROWS, SEED, MultivariateDrift, domain_drift
from monitor.metrics.drift.registry import Kind
from monitor.queries.drift_profile import finite_sql, profile_reference, text_sql


def _value(column: TabColumn, kind: Kind) -> str:
    if kind == "numeric" and column.sql_type == "DOUBLE":
        return finite_sql(column.alias)
    return text_sql(column)


def _sample(
    runner: Runner, relation: Relation, columns: Sequence[tuple[TabColumn, Kind]]
) -> dict[str, Any]:
    picks = ", ".join(f"{_value(c, k)} AS {c.alias}" for c, k in columns)
    sql = (
        f"SELECT {picks} FROM ({relation.sql}) "
        f"USING SAMPLE reservoir({SAMPLE_ROWS} ROWS) REPEATABLE ({SEED})"
    )
    return runner.fetch_arrays(sql, relation.params)


def multivariate_drift(runner: Runner, reference: Relation, current: Relation) -> MultivariateDrift:
    """Domain-classifier drift over the features both sides have (with the same type,
    once reconciled)."""
    reference, current = reconcile(runner, reference, current)
    kinds_found = profile_reference(runner, reference).kinds
    pairs = [
        (c, found)
        for c in reference.features
        if (found := current.feature(c.name)) is not None and found.sql_type == c.sql_type
    ]
    kinds: dict[str, Kind] = {c.name: kinds_found[c.name] for c, _ in pairs}
    ref_sample = _sample(runner, reference, [(c, kinds[c.name]) for c, _ in pairs])
    cur_sample = _sample(runner, current, [(f, kinds[f.name]) for _, f in pairs])
    return domain_drift(
        {c.name: ref_sample[c.alias] for c, _ in pairs},
        {f.name: cur_sample[f.alias] for _, f in pairs},
        kinds,
    )
