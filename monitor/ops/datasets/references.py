"""Uploaded reference datasets attached to models, applied to the settings: the model's
log analyses (drift, performance baselines) then compare against the upload."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from monitor.core.config import ModelConfig, Settings
from monitor.core.state import StateStore
from monitor.ops.datasets.library import Dataset, list_datasets


def attached_references(state: StateStore) -> dict[str, Dataset]:
    """The newest reference dataset attached to each model (model id -> dataset): one
    read of the state database."""
    found: dict[str, Dataset] = {}
    for dataset in list_datasets(state, role="reference"):  # newest first
        if dataset.model_id is not None:
            found.setdefault(dataset.model_id, dataset)
    return found


def apply_references(settings: Settings, references: Mapping[str, Dataset]) -> Settings:
    """`settings` with each model's reference replaced by its attached upload (see
    `with_uploaded_references`)."""
    if not references:
        return settings

    def attach(model: ModelConfig, dataset: Dataset) -> ModelConfig:
        roles = dataset.column_roles
        return dataclasses.replace(
            model,
            reference=dataset.path,
            reference_origin=f"the uploaded dataset {dataset.name!r} attached to it as its "
            "reference (monitor datasets list; upload it again or remove it)",
            label_column=roles.label or model.label_column,
            prediction_column=roles.prediction or model.prediction_column,
            score_column=roles.score or model.score_column,
        )

    configured = {m.id for m in settings.models}
    models = [attach(m, references[m.id]) if m.id in references else m for m in settings.models]
    models += [
        attach(ModelConfig(id=model_id), references[model_id])
        for model_id in sorted(references)
        if model_id not in configured
    ]
    return dataclasses.replace(settings, models=tuple(models))


def with_uploaded_references(settings: Settings, state: StateStore) -> Settings:
    """Settings in which every model with an uploaded reference dataset attached (the
    newest one) uses it as `reference`, with its label, prediction and score columns
    where the upload names them (the configured names otherwise). It takes precedence
    over monitor.toml's `reference`: attaching is the user's later, explicit act. A model
    known only from the logs gets a ModelConfig (defaults plus the reference)."""
    return apply_references(settings, attached_references(state))
