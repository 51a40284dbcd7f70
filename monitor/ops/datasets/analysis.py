"""Stored datasets read for analysis: as a relation for drift and data quality, and as
the fairness engine's input, by their saved column roles."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from monitor.core.config import TASKS, ModelConfig, Settings
from monitor.core.errors import InputError
from monitor.ops.datasets.library import Dataset

if TYPE_CHECKING:
    from monitor.core.reconcile import Reconciled
    from monitor.core.tabular import Relation, Runner
    from monitor.metrics.fairness.groups import GroupData
    from monitor.ops.datasets.ingest import Ingested
    from monitor.queries.column_roles import Excluded


@dataclass(frozen=True)
class Pair:
    """An uploaded pair as relations for drift and data quality, and the columns left
    out of the features (roles, unsupported types, identifiers) with why."""

    reference: Relation
    current: Relation
    excluded: tuple[Excluded, ...]


def dataset_relation(runner: Runner, dataset: Dataset, task: str | None = None) -> Relation:
    """The stored Parquet as a relation for drift and data quality: the label,
    prediction and score columns are the targets (as a model's are), the identifier and
    ignored columns left out, every other supported column a feature. `task` (binary,
    multiclass, regression; default binary) decides whether targets compare as classes
    or as numbers."""
    from monitor.core import tabular
    from monitor.queries import column_roles

    task = task or "binary"
    if task not in TASKS:
        raise InputError(f"task must be one of {', '.join(TASKS)} (got {task!r})")
    if not dataset.path.is_file():
        raise InputError(
            f"the stored file of dataset {dataset.name!r} is missing ({dataset.path}): "
            "remove the dataset and upload it again"
        )
    roles = dataset.column_roles
    model = ModelConfig(
        id=f"dataset {dataset.name}",
        task=cast(Any, task),
        label_column=roles.label or column_roles.NO_COLUMN,
        prediction_column=roles.prediction or column_roles.NO_COLUMN,
        score_column=roles.score,
    )
    relation = tabular.file_relation(runner, dataset.path, model=model)
    left_out = column_roles.RoleNames(ids=roles.ids, ignore=roles.ignore)
    relation = column_roles.without_roles(relation, left_out)
    return dataclasses.replace(relation, label=f"dataset {dataset.name!r}")


def pair_relations(
    runner: Runner, reference: Dataset, current: Dataset, task: str | None = None
) -> Pair:
    """Both datasets as relations (`dataset_relation`), without the columns either
    dataset's roles leave out and, unless either was saved with `keep_ids`, without the
    identifier-like columns (`monitor.queries.column_roles`)."""
    from monitor.queries import column_roles

    ref_roles, cur_roles = reference.column_roles, current.column_roles
    roles = column_roles.RoleNames(
        ids=tuple(dict.fromkeys([*ref_roles.ids, *cur_roles.ids])),
        ignore=tuple(dict.fromkeys([*ref_roles.ignore, *cur_roles.ignore])),
    )
    found = column_roles.split_columns(
        runner,
        dataset_relation(runner, reference, task),
        dataset_relation(runner, current, task),
        roles,
        detect=not (ref_roles.keep_ids or cur_roles.keep_ids),
    )
    return Pair(*found)


def upload_schema(reference: Ingested, current: Ingested) -> tuple[Reconciled, ...]:
    """How an uploaded pair not saved yet will be compared: the columns read as different
    types on the two sides, each with how it is compared or why it cannot be
    (`monitor.core.tabular_reconcile`), named by the uploaded files. Both tables are read
    back from Parquet, as they will be once saved."""
    import tempfile

    import pyarrow.parquet as pq

    from monitor.core import tabular
    from monitor.core.tabular_reconcile import reconcile

    database = tabular.FileDatabase()
    try:
        with tempfile.TemporaryDirectory(prefix="monitor-schema-") as folder:
            sides = []
            for role, ingested in (("reference", reference), ("current", current)):
                path = Path(folder) / f"{role}.parquet"
                pq.write_table(ingested.table, path)
                relation = tabular.file_relation(database, path)
                sides.append(dataclasses.replace(relation, label=ingested.source_name))
            return reconcile(database, sides[0], sides[1])[0].schema
    except (InputError, OSError):  # advisory: the saved pair says it again on Drift
        return ()
    finally:
        database.close()


def attached_model(settings: Settings, *found: Dataset) -> ModelConfig | None:
    """The configured model the first of the datasets is attached to, if any (a model
    whose configuration is only the defaults and a reference, such as one known from the
    logs with an uploaded reference attached, has nothing to apply)."""
    configured = {m.id: m for m in settings.models if not _defaults_only(m)}
    for dataset in found:
        if dataset.model_id is not None and dataset.model_id in configured:
            return configured[dataset.model_id]
    return None


def _defaults_only(model: ModelConfig) -> bool:
    plain = ModelConfig(id=model.id)
    return plain == dataclasses.replace(
        model,
        reference=None,
        label_column=plain.label_column,
        prediction_column=plain.prediction_column,
        score_column=plain.score_column,
    )


def excluded_text(excluded: Sequence[Excluded]) -> str:
    """The columns of a pair not analysed, and why, in words (plain text)."""
    text = "Not analysed: " + "; ".join(f"{e.column} ({e.detail})" for e in excluded) + "."
    if any(e.reason == "identifier" for e in excluded):
        text += " Columns unique per row are analysed when a dataset of the pair is saved "
        text += "with 'Analyse columns unique per row'."
    return text


def fairness_data(
    dataset: Dataset,
    *,
    sensitive: Sequence[str] | None = None,
    threshold: float | None = None,
    task: Literal["binary", "regression"] = "binary",
    positive_label: str = "1",
) -> GroupData:
    """The fairness engine's input from a stored dataset and its column roles (the
    sensitive columns default to the saved ones; a score needs a threshold)."""
    from monitor.queries.fairness import load_file

    roles = dataset.column_roles
    if roles.label is None:
        raise InputError(f"dataset {dataset.name!r} has no label column: set one to judge fairness")
    chosen = list(sensitive) if sensitive else list(roles.sensitive)
    if not chosen:
        raise InputError(f"dataset {dataset.name!r} has no sensitive columns: choose at least one")
    use_score = roles.prediction is None
    if use_score and roles.score is None:
        raise InputError(
            f"dataset {dataset.name!r} has no prediction or score column: set one to judge fairness"
        )
    return load_file(
        dataset.path,
        label=roles.label,
        sensitive=chosen,
        prediction=None if use_score else roles.prediction,
        score=roles.score if use_score else None,
        threshold=threshold if use_score else None,
        task=task,
        positive_label=positive_label,
    )
