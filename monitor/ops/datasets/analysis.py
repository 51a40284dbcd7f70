"""Stored datasets read for analysis: as a relation for drift and data quality, and as
the fairness engine's input, by their saved column roles."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final, Literal, cast

from monitor.core.config import TASKS, ModelConfig
from monitor.core.errors import InputError
from monitor.ops.datasets.library import Dataset

if TYPE_CHECKING:
    from monitor.core.tabular import Relation, Runner
    from monitor.metrics.fairness.groups import GroupData

_NO_COLUMN: Final = "\x00none"
"""A column name no dataset has (names never hold control characters): the stand-in for
a role that is not set, where `tabular.file_relation` wants a name."""


def dataset_relation(runner: Runner, dataset: Dataset, task: str | None = None) -> Relation:
    """The stored Parquet as a relation for drift and data quality: the label,
    prediction and score columns are the targets (as a model's are), every other
    supported column a feature. `task` (binary, multiclass, regression; default binary)
    decides whether targets compare as classes or as numbers."""
    from monitor.core import tabular

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
        label_column=roles.label or _NO_COLUMN,
        prediction_column=roles.prediction or _NO_COLUMN,
        score_column=roles.score,
    )
    relation = tabular.file_relation(runner, dataset.path, model=model)
    return dataclasses.replace(relation, label=f"dataset {dataset.name!r}")


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
