"""How an alert's age reads: on one clock, never the wall clock against data times."""

from __future__ import annotations

import datetime as dt

from monitor.ops.alerts.format import episode_age
from monitor.ops.alerts.types import Alert

T = dt.datetime(2026, 11, 12, tzinfo=dt.UTC)


def _alert(state: str, **times: dt.datetime | None) -> Alert:
    return Alert(
        alert_id=1,
        fingerprint="f",
        episode=1,
        rule="f1_drop",
        severity="warning",
        state=state,  # type: ignore[arg-type]
        value=0.08,
        threshold=0.05,
        comparator=">",
        labels={"model": "m"},
        summary="",
        page="performance",
        pending_since=times.get("pending_since"),
        started_at=times.get("started_at"),
        resolved_at=times.get("resolved_at"),
        last_evaluated_at=times.get("last", T) or T,
        acknowledged_by=None,
        acknowledged_verified=False,
        acknowledged_at=None,
        note=None,
        silenced_until=None,
        silence_reason=None,
    )


def test_the_age_is_counted_to_the_last_check_on_the_alerts_own_clock() -> None:
    # Data-clock alerts of historical logs: years before the wall clock, and still
    # "for 8 d 23 h", not "2 y ago".
    last = T + dt.timedelta(days=8, hours=23, minutes=59)
    firing = _alert("firing", started_at=T, pending_since=T, last=last)
    assert (
        episode_age(firing) == "firing since 2026-11-12 00:00 UTC (for 8 d 23 h at the last check)"
    )
    new = _alert("firing", started_at=last, last=last)
    assert episode_age(new) == ("firing since 2026-11-20 23:59 UTC (new at the last check)")
    pending = _alert("pending", pending_since=T, last=T + dt.timedelta(minutes=3))
    assert (
        episode_age(pending) == "pending since 2026-11-12 00:00 UTC (for 3 min at the last check)"
    )
    resolved = _alert("resolved", started_at=T, resolved_at=T + dt.timedelta(hours=2))
    assert episode_age(resolved) == "resolved 2026-11-12 02:00 UTC"
    assert episode_age(_alert("firing")) is None
