"""What a rollback mark keeps as evidence, and its default target.

The evidence is about the version being rolled back (`from`): its own metrics on its own
traffic against the model's baseline and the checks that failed (`health.check`); beside
it the target's own check and the two side by side (`compare`, target as baseline; each
over its own window when they did not serve at the same time).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from monitor.core.catalog import Window
from monitor.core.config import Settings, Thresholds
from monitor.core.errors import InputError
from monitor.core.store import LogStore
from monitor.metrics.performance.report import ReferenceFit
from monitor.ops.registry.compare import Comparison, compare
from monitor.ops.registry.health import VersionCheck, check, last_healthy
from monitor.ops.registry.version_metrics import json_number, model_info, window_document
from monitor.queries.performance_reference import fit_reference

EVIDENCE_SPAN: Final = dt.timedelta(days=7)
"""Default evidence window: the last 7 days of the model's traffic; the shortest the page
judges on (labels arrive days after the predictions)."""


@dataclass(frozen=True)
class RollbackEvidence:
    model_id: str
    window: Window
    """The evidence window asked for; each version's own window is in its metrics."""
    thresholds: Thresholds
    source: VersionCheck
    """The version rolled back (`from`), judged on its own traffic."""
    target: VersionCheck
    """The version rolled back to, judged the same way."""
    comparison: Comparison
    """Target (baseline) and source (candidate) side by side."""

    @property
    def versions(self) -> tuple[str, str]:
        """(from, to)."""
        return self.source.version, self.target.version

    def to_document(self) -> dict[str, Any]:
        """The mark's `evidence`: the `from` version's check at the top (version,
        verdict, summary, failed, missing, notes, checks, metrics), then `target`
        and `comparison`."""
        return {
            "model_id": self.model_id,
            "window": window_document(self.window),
            "thresholds": {k: json_number(v) for k, v in vars(self.thresholds).items()},
            **self.source.to_document(),
            "target": self.target.to_document(),
            "comparison": self.comparison.to_document(),
        }


def evidence_window(window: Window) -> Window:
    """A window chosen for other reasons (the page's sidebar), widened to at least
    EVIDENCE_SPAN before its end: a day of traffic has too few labels to judge a version."""
    if window.end - window.start >= EVIDENCE_SPAN:
        return window
    return Window(window.end - EVIDENCE_SPAN, window.end)


def gather(
    store: LogStore,
    settings: Settings,
    model_id: str,
    from_version: str,
    to_version: str,
    window: Window,
    *,
    reference: ReferenceFit | None = None,
    checks: Sequence[VersionCheck] = (),
) -> RollbackEvidence:
    """The evidence for rolling `from_version` back to `to_version`. `checks`: versions
    already checked over the same window (`health.check_all`), reused."""
    info = model_info(store, model_id)
    fit = reference or fit_reference(store, settings.model(model_id))
    known = {c.version: c for c in checks}

    def checked(version: str) -> VersionCheck:
        found = known.get(version)
        if found is not None:
            return found
        return check(store, settings, model_id, version, window, reference=fit, info=info)

    source, target = checked(from_version), checked(to_version)
    comparison = compare(
        store,
        settings,
        model_id,
        to_version,
        from_version,
        window,
        reference=fit,
        apart="own_windows",
    )
    return RollbackEvidence(model_id, window, settings.thresholds, source, target, comparison)


def default_target(
    store: LogStore,
    settings: Settings,
    model_id: str,
    from_version: str,
    window: Window,
    *,
    reference: ReferenceFit | None = None,
) -> str:
    """The newest version first seen before `from_version` that is healthy; InputError
    naming each version checked and why it is not healthy when there is none."""
    healthy = last_healthy(store, settings, model_id, from_version, window, reference=reference)
    if healthy.found is not None:
        return healthy.found.version
    checked = "; ".join(f"{v}: {', '.join(p)}" for v, p in healthy.rejected)
    raise InputError(
        f"no version of {model_id} before {from_version} is healthy"
        + (f" (checked {checked})" if checked else " (there is none)")
        + "; name the target version explicitly"
    )
