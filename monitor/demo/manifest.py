"""What the demo wrote and what it injected, as frozen dataclasses and deterministic JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

MANIFEST_NAME = "demo_manifest.json"


@dataclass(frozen=True)
class InjectedProblem:
    """One injected problem; `start`/`end` are ISO UTC timestamps, the window is [start, end)."""

    name: str
    model_id: str
    start: str
    end: str
    description: str
    model_version: str | None = None
    feature: str | None = None
    group: str | None = None


@dataclass(frozen=True)
class VersionPeriod:
    """When a model version served traffic, and how much of it."""

    model_id: str
    version: str
    start: str
    end: str
    traffic: str


@dataclass(frozen=True)
class InvalidLine:
    """A deliberately malformed JSONL line: `path` relative to the data dir, `line` 1-based."""

    path: str
    line: int
    kind: str
    model_id: str
    reason: str


@dataclass(frozen=True)
class WrittenFile:
    """A log or reference file; `records` counts valid records only."""

    path: str
    kind: str
    model_id: str
    format: str
    date: str | None
    records: int
    invalid_records: int


@dataclass(frozen=True)
class ModelSummary:
    model_id: str
    task: str
    versions: tuple[str, ...]
    predictions: int
    feedback: int
    system_records: int
    reference_rows: int


@dataclass(frozen=True)
class DemoManifest:
    seed: int
    days: int
    predictions: int
    start: str  # first day (date)
    end: str  # last day (date)
    span_start: str
    span_end: str
    jsonl_dates: tuple[str, ...]
    models: tuple[ModelSummary, ...]
    versions: tuple[VersionPeriod, ...]
    problems: tuple[InjectedProblem, ...]
    invalid_lines: tuple[InvalidLine, ...]
    files: tuple[WrittenFile, ...]

    @property
    def invalid_records(self) -> int:
        return len(self.invalid_lines)

    def problem(self, name: str, model_id: str | None = None) -> InjectedProblem:
        """The first injected problem called `name` (for `model_id`, if given)."""
        for problem in self.problems:
            if problem.name == name and model_id in (None, problem.model_id):
                return problem
        raise KeyError(name)

    def model(self, model_id: str) -> ModelSummary:
        for summary in self.models:
            if summary.model_id == model_id:
                return summary
        raise KeyError(model_id)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["invalid_records"] = self.invalid_records
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
