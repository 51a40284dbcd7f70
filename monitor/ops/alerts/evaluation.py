"""Rule evaluation: measure every rule for every model, then move each alert through its
states (pending -> firing -> resolved, nodata; `state_machine`) in one write
transaction, and notify.

Identity: an alert instance is a fingerprint (a hash of the rule id and the series'
labels). Each run of trouble of one fingerprint is an *episode* with its own `alert_id`;
at most one episode per fingerprint is open (not resolved), which a unique index enforces.

States (Prometheus semantics): the condition holds -> `pending` (since `pending_since`)
-> `firing` once it has held for the rule's `for` (at once when `for` is 0); it no longer
holds -> `resolved`. A pending episode whose condition clears is resolved without having
fired (`started_at` stays empty, nothing is notified). A series without data in its
window is `nodata`, never healthy. A resolved fingerprint that fires again opens a new
episode (episode + 1, a new alert_id). Re-evaluation updates the open episode in place.

Every transition appends to the audit table in the same transaction, and so does every
run: one row with entity "evaluation" (`last_evaluation` reads it), so "checked, all
quiet" differs from "never checked". Reached through `monitor.ops.alerts.actions`; see
docs/alerts.md.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Final

from monitor.core.config import Settings
from monitor.core.state import SYSTEM_ACTOR, StateStore, record_audit, to_text, utc_now
from monitor.findings.evaluate import evaluate as measure
from monitor.findings.model import Findings
from monitor.findings.rules_config import alerts_config
from monitor.ops.alerts import alertmanager
from monitor.ops.alerts.rows import alerts_by_ids
from monitor.ops.alerts.state_machine import apply
from monitor.ops.alerts.types import EvaluationResult, Transition, as_utc, sort_alerts
from monitor.ops.notify import Delivery, Event, deliver_all, record

if TYPE_CHECKING:  # the metric engines (scipy, fairlearn) load only when rules are evaluated
    from monitor.core.store import LogStore

EVALUATION_ENTITY: Final = "evaluation"
"""The audit entity of one evaluation run (entity_id: its evaluation time)."""
_OPEN_IDS_SQL: Final = "SELECT id FROM alerts WHERE state <> 'resolved'"


def evaluate(
    store: LogStore,
    settings: Settings,
    state: StateStore,
    *,
    now: dt.datetime | None = None,
    notify: bool = True,
    findings: Findings | None = None,
) -> EvaluationResult:
    """Evaluate every rule for every model, update the alerts and record the run (one
    audit row, in the same transaction), then notify (the webhook; Alertmanager, see
    `alertmanager.push`).

    `now` fixes the evaluation time (for windows and silences); without it the wall clock
    is used, or with `[alerts] clock = "data"` each model's newest prediction.
    `findings`: this run's measurements when the caller already made them (the
    dashboard shows the same findings it records), else they are measured here."""
    config = alerts_config(settings)
    moment = as_utc(now) if now is not None else utc_now()
    if findings is None:
        store.refresh()
        findings = measure(store, settings, moment, explicit=now is not None, config=config)
    run = findings
    transitions: list[Transition] = []
    events: list[tuple[int, Event]] = []
    touched: set[int] = set()
    with state.transaction() as tx:
        apply(tx, config, run, moment, transitions, events, touched)
        ids = sorted(touched | {int(r[0]) for r in tx.execute(_OPEN_IDS_SQL)})
        record_audit(
            tx,
            actor=SYSTEM_ACTOR,
            action="evaluate",
            entity=EVALUATION_ENTITY,
            entity_id=to_text(moment),
            after={
                "evaluated_at": moment,
                "alerts": len(ids),
                "transitions": len(transitions),
                "errors": list(run.errors),
            },
        )
    alerts = alerts_by_ids(state, ids, moment)
    deliveries: tuple[Delivery, ...] = ()
    if notify and config.webhook is not None and events:
        by_id = {a.alert_id: a for a in alerts}
        wanted = [(by_id[i], e) for i, e in events if not by_id[i].silenced(moment)]
        deliveries = deliver_all(config.webhook, wanted)
        if deliveries:
            with state.transaction() as tx:
                for delivery in deliveries:
                    record(tx, delivery)
    if notify and config.alertmanager is not None:
        deliveries += alertmanager.push(config.alertmanager, state, alerts, events, moment)
    return EvaluationResult(
        moment, sort_alerts(alerts), tuple(transitions), deliveries, tuple(run.errors)
    )


def last_evaluation(state: StateStore) -> dt.datetime | None:
    """When the rules were last evaluated on this state (the wall clock of the run, also
    for `evaluate(now=T)`); None: never."""
    newest = state.audit_log(entity=EVALUATION_ENTITY, limit=1)
    return newest[0].at if newest else None
