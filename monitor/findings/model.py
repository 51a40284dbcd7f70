"""A finding: one rule's verdict on one series (model, version, feature, group) at one
time, decided once and read by every view (Overview, pages, alerts, summary, check).

A finding is stateless: whether it is new, acknowledged or silenced is the alert's
business (`monitor.ops.alerts`), joined by `fingerprint`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from monitor.core.catalog import Window
from monitor.findings.rules import Rule, Severity, format_duration
from monitor.findings.text import describe_labels, fingerprint, format_value

SEVERITY_RANK: Final[dict[Severity, int]] = {"critical": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Series:
    labels: Mapping[str, str]
    """Always `model`; plus the metric's dimensions (version, feature, group)."""
    value: float | None
    """None: no data (see `note`)."""
    note: str = ""
    """How the value was found (e.g. "estimated"), or why there is none."""
    empty_window: bool = False
    """The model logged no predictions in the window at all (a model-level series)."""
    metric: str | None = None
    """The metric behind a drop or a ratio, in words (e.g. "F1", "selection rate")."""
    observed: float | None = None
    """For a drop: the metric's value (the series' value is the drop)."""
    baseline: float | None = None
    """For a drop: the baseline it is compared with."""
    ratio: float | None = None
    """For a fairness ratio: the group's metric / the reference group's, unfolded."""
    reference: str | None = None
    """For a fairness ratio: the reference group."""


@dataclass(frozen=True)
class Finding:
    rule: Rule
    model_id: str
    series: Series
    at: dt.datetime
    """When the window ends (the data time of the evaluation)."""
    window: Window

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.rule.id, self.series.labels)

    @property
    def value(self) -> float | None:
        return self.series.value

    @property
    def breached(self) -> bool:
        """The rule's condition holds (a problem); False without data."""
        return self.value is not None and self.rule.holds(self.value)

    @property
    def severity(self) -> Severity | None:
        """How bad a breach is (the rule's severity, or critical past its critical
        threshold); None when the condition does not hold."""
        if self.value is None or not self.breached:
            return None
        return self.rule.severity_of(self.value)

    @property
    def version(self) -> str | None:
        return self.series.labels.get("version")

    @property
    def signal(self) -> str:
        return self.rule.metric

    @property
    def page(self) -> str:
        return self.rule.info.page

    @property
    def subject(self) -> str:
        """Who the finding is about: "credit-risk v3", "credit-risk" ..."""
        version = self.version
        return f"{self.model_id} {version}" if version else self.model_id

    @property
    def headline(self) -> str:
        """What is wrong, in the words of the metric, without the subject."""
        info, series = self.rule.info, self.series
        if series.value is None:
            return f"no data for {info.title}: {series.note}"
        if series.ratio is not None and series.reference is not None:
            who = " ".join(v for k, v in series.labels.items() if k in ("feature", "group"))
            return (
                f"{who}: {series.metric or info.title} {series.ratio:.3g}x the "
                f"{series.reference} group's (ratio {series.value:.3g}, below "
                f"{format_value(self.rule.threshold, info.unit)})"
            )
        if series.observed is not None and series.baseline is not None:
            name = series.metric or info.title
            return f"{name} {series.observed:.3g} vs {series.baseline:.3g} baseline"
        feature = series.labels.get("feature")
        prefix = f"{feature}: " if feature else ""
        return (
            f"{prefix}{info.title} {format_value(series.value, info.unit)} "
            f"(threshold {self.rule.comparator} {format_value(self.rule.threshold, info.unit)})"
        )

    @property
    def summary(self) -> str:
        """The alert's one-line summary: value, threshold, series, window and how found."""
        rule, series, info = self.rule, self.series, self.rule.info
        where = describe_labels(series.labels)
        span = format_duration(rule.window)
        if series.value is None:
            return f"no data for {info.title} of {where} over {span}: {series.note}"
        text = (
            f"{info.title} {format_value(series.value, info.unit)} {rule.comparator} "
            f"{format_value(rule.threshold, info.unit)} for {where} over {span}"
        )
        return f"{text} ({series.note})" if series.note else text

    @property
    def link(self) -> tuple[str, dict[str, str]]:
        """The page that explains the finding and the filters that show it there."""
        params = {"model": self.model_id}
        if self.version:
            params["version"] = self.version
        return self.page, params

    @property
    def magnitude(self) -> float:
        """How far past its threshold the value is, relative to it (for ordering)."""
        value, threshold = self.value, self.rule.threshold
        if value is None:
            return 0.0
        scale = abs(threshold) or 1.0
        if self.rule.comparator in ("<", "<="):
            return (threshold - value) / scale
        return (value - threshold) / scale


@dataclass
class Findings:
    """Everything one evaluation measured, before any alert state is written."""

    found: list[Finding] = field(default_factory=list)
    """Every measured series (breached or not, with or without a value)."""
    empty: dict[tuple[str, str], Finding] = field(default_factory=dict)
    """(rule, model) -> the no-predictions finding of a model with an empty window."""
    failed: dict[tuple[str, str], Failure] = field(default_factory=dict)
    """(rule, model) -> why its measurement raised (its open alerts stay as they are)."""
    errors: list[str] = field(default_factory=list)
    times: dict[str, dt.datetime] = field(default_factory=dict)
    """model -> the time its windows ended at."""
    rules: int = 0
    """How many rules were evaluated."""

    def problems(self, model_id: str | None = None) -> tuple[Finding, ...]:
        """Breached findings, worst first: critical before warning, then by how far past
        the threshold, then by subject."""
        return worst_first(f for f in self.found if f.breached and model_id in (None, f.model_id))

    def models(self) -> tuple[str, ...]:
        return tuple(self.times)

    def unmeasured(self, model_id: str | None = None) -> tuple[Unmeasured, ...]:
        """The rules that could not be measured, one entry per model and reason (a
        missing reference file stops every drift and quality rule of its model)."""
        grouped: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for (rule_id, model), failure in self.failed.items():
            if model_id in (None, model):
                grouped.setdefault((model, failure.reason), []).append((rule_id, failure.page))
        return tuple(
            Unmeasured(model, tuple(r for r, _ in rules), reason, tuple(p for _, p in rules))
            for (model, reason), rules in grouped.items()
        )


@dataclass(frozen=True)
class Failure:
    """Why one rule could not be measured for one model, and the page of its metric."""

    reason: str
    page: str


@dataclass(frozen=True)
class Unmeasured:
    """Rules of one model that could not be measured for one reason: no verdict, which
    every view says rather than showing the model as healthy."""

    model_id: str
    rules: tuple[str, ...]
    reason: str
    pages: tuple[str, ...]
    """The page of each rule's metric (drift, data_quality...)."""

    @property
    def headline(self) -> str:
        return f"{self.model_id}: {', '.join(self.rules)} not measured: {self.reason}"


def worst_first(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    return tuple(
        sorted(
            findings,
            key=lambda f: (
                SEVERITY_RANK[f.severity or "info"],
                -f.magnitude,
                f.subject,
                f.rule.id,
                f.fingerprint,
            ),
        )
    )
