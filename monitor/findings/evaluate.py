"""One evaluation: every rule measured for every model, as findings.

The alert state machine (`monitor.ops.alerts`), the Overview's incident board,
`monitor summary` and `monitor check` all start from `evaluate`: a verdict is decided
here once and never again by a view.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from monitor.core.config import Settings
from monitor.findings.model import Failure, Finding, Findings
from monitor.findings.rules import AlertsConfig
from monitor.findings.rules_config import alerts_config

if TYPE_CHECKING:  # the metric engines (scipy, fairlearn) load only when rules are evaluated
    from monitor.core.store import LogStore


def evaluate(
    store: LogStore,
    settings: Settings,
    moment: dt.datetime,
    *,
    explicit: bool = False,
    config: AlertsConfig | None = None,
) -> Findings:
    """Every rule for every model (configured or logged), measured over the window that
    ends at `moment`; with `[alerts] clock = "data"` and no `explicit` time, each model's
    windows end at its newest prediction instead. A rule that fails to measure is
    recorded in `errors` and never stops the others."""
    from monitor.core import catalog
    from monitor.core.catalog import Window
    from monitor.core.scope import Scope
    from monitor.findings.signals import Measurer

    config = config or alerts_config(settings)
    found = Findings(rules=len(config.rules))
    measurer = Measurer(store, settings)
    newest = {m.model_id: m.last_seen for m in catalog.inventory(store)}
    model_ids = list(dict.fromkeys([*(m.id for m in settings.models), *newest]))
    for model_id in model_ids:
        model = settings.model(model_id)
        at = moment
        if not explicit and config.clock == "data" and model_id in newest:
            at = newest[model_id]
        found.times[model_id] = at
        for rule in config.rules:
            if not rule.applies_to_model(model_id) or not measurer.applies(rule.metric, model):
                continue
            window = Window(at - rule.window, at)
            try:
                measured = measurer.measure(rule.metric, Scope(model_id, window))
            except Exception as exc:  # one broken metric must not stop the others
                message = " ".join(str(exc).split()) or type(exc).__name__
                found.failed[(rule.id, model_id)] = Failure(message, rule.info.page)
                found.errors.append(f"rule {rule.id}, model {model_id}: {message}")
                continue
            for series in measured:
                finding = Finding(rule, model_id, series, at, window)
                if series.empty_window:
                    found.empty[(rule.id, model_id)] = finding
                elif rule.matches(series.labels):
                    found.found.append(finding)
    return found
