"""When to replay the alert rules over a demo, so its alert history shows its incidents.

The demo's short incidents (`latency_spike`, `error_burst`) are watched by one-hour
rules; evaluated hourly from the first hour inside each incident to the hour after it,
an alert goes pending, fires and resolves at data times inside and just after the
incident. The problems that last to the end (`ONSETS`) get one evaluation a day after
they start, so their alerts say "since" about when they began, not since the first
incident. The caller evaluates once more at the end (each model's newest prediction).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Final

from monitor.demo.bootstrap import is_demo
from monitor.demo.manifest import MANIFEST_NAME

INCIDENTS: Final = ("latency_spike", "error_burst")
"""Injected problems short enough to come and go within the demo's span."""
ONSETS: Final = ("new_category", "feature_drift", "canary_regression", "fairness_gap")
"""Injected problems that start mid-span and last to its end."""
ONSET_DELAY: Final = dt.timedelta(days=1)
"""After a problem starts, when its daily and weekly rules have a day of it to judge."""
STEP: Final = dt.timedelta(hours=1)
"""The window of the health rules (latency_p95, error_rate) that watch the incidents."""


def replay_times(data_dir: Path) -> tuple[dt.datetime, ...]:
    """The data times (UTC, ascending) at which to evaluate the rules over the demo in
    `data_dir`: every `STEP` from one step into each incident to one step after its end.
    Empty when `data_dir` holds no demo (no manifest)."""
    if not is_demo(data_dir):
        return ()
    manifest = json.loads((data_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    times: set[dt.datetime] = set()
    for problem in manifest["problems"]:
        start = dt.datetime.fromisoformat(problem["start"])
        end = dt.datetime.fromisoformat(problem["end"])
        if problem["name"] in ONSETS and start + ONSET_DELAY < end:
            times.add(start + ONSET_DELAY)
        if problem["name"] not in INCIDENTS:
            continue
        moment = start + STEP
        while moment <= end + STEP:
            times.add(moment)
            moment += STEP
    return tuple(sorted(times))
