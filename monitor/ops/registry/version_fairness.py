"""The four-fifths screen per sensitive feature, on one version's traffic and on the
model's reference dataset.

A feature that fails the screen on a version's traffic but passes on the reference
dataset is a problem of that version; one that fails on both was already in the data the
model learned from (a note, not held against the version). Same engine as the Fairness
page (`monitor.metrics.fairness.audit`: largest group as the reference group, selection
rate for classifiers, MAE for regression, small groups not judged).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

from monitor.core.catalog import Window
from monitor.core.config import ModelConfig
from monitor.core.errors import MonitorError
from monitor.core.scope import reference_stamp
from monitor.core.store import LogStore
from monitor.metrics.fairness import audit as fairness
from monitor.metrics.fairness.groups import GroupData
from monitor.metrics.fairness.rates import Task
from monitor.queries.fairness import load_file, log_table


@dataclass(frozen=True)
class Screen:
    """The screen of one feature on one table."""

    passed: bool | None
    """None: no group large enough to compare with the reference group."""
    metric: str
    """The screened metric: selection_rate (classifiers) or mae (regression)."""
    reference_group: str | None
    group: str | None
    """The judged group furthest from the reference group."""
    ratio: float | None
    """That group's metric divided by the reference group's."""
    note: str | None = None
    """Why it could not be judged."""

    @property
    def fairness_ratio(self) -> float | None:
        """`ratio` folded to min(r, 1/r), as the `fairness_ratio` alert metric: below tau fails."""
        return None if self.ratio is None else fold(self.ratio)

    def to_document(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "metric": self.metric,
            "reference_group": self.reference_group,
            "group": self.group,
            "ratio": self.ratio,
            "fairness_ratio": self.fairness_ratio,
            "note": self.note,
        }


@dataclass(frozen=True)
class FeatureScreen:
    """One sensitive feature: the screen on the version's traffic and on the reference."""

    feature: str
    tau: float
    version: Screen
    reference: Screen

    def to_document(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "tau": self.tau,
            "version": self.version.to_document(),
            "reference": self.reference.to_document(),
        }


def fold(ratio: float) -> float:
    return min(ratio, 1 / ratio) if ratio > 0 else 0.0


def screens(
    store: LogStore, model: ModelConfig, version: str, window: Window, *, tau: float
) -> tuple[FeatureScreen, ...]:
    """Each sensitive feature of the model screened on the version's labeled predictions
    in `window` and on the reference dataset."""
    found = []
    for feature in model.sensitive_features:
        traffic = _screen(
            partial(
                log_table, store, model, sensitive=[feature], window=window, versions=(version,)
            ),
            tau,
        )
        found.append(FeatureScreen(feature, tau, traffic, _reference_screen(model, feature, tau)))
    return tuple(found)


def _reference_screen(model: ModelConfig, feature: str, tau: float) -> Screen:
    stamp = reference_stamp(model.reference)
    if stamp is None:
        return Screen(None, "", None, None, None, "no reference dataset")
    task = "regression" if model.task == "regression" else "binary"
    columns = (model.label_column, model.prediction_column, model.positive_label or "1")
    return _reference_file_screen(stamp, columns, feature, task, tau)


@lru_cache(maxsize=64)
def _reference_file_screen(
    stamp: tuple[str, int, int], columns: tuple[str, str, str], feature: str, task: Task, tau: float
) -> Screen:
    """The reference file's screen, kept per file content (`stamp`): the same for every
    version checked."""
    label, prediction, positive = columns
    read = partial(
        load_file,
        Path(stamp[0]),
        label=label,
        prediction=prediction,
        sensitive=[feature],
        task=task,
        positive_label=positive,
    )
    return _screen(read, tau)


def _screen(read: Callable[[], GroupData], tau: float) -> Screen:
    try:
        report = fairness.audit(read(), tau=tau)
    except MonitorError as exc:
        return Screen(None, "", None, None, None, str(exc))
    reference = None if report.reference_group is None else "/".join(report.reference_group)
    worst: tuple[str, float] | None = None
    for group in report.groups:
        ratio = group.disparity.get(report.metric)
        if group.small or group.key == report.reference_group or ratio is None:
            continue
        if worst is None or fold(ratio) < fold(worst[1]):
            worst = (group.label, ratio)
    passed = report.summary.four_fifths_passed
    note = None if passed is not None else "no group large enough to compare"
    label, ratio = worst if worst is not None else (None, None)
    return Screen(passed, report.metric, reference, label, ratio, note)
