"""`monitor check` and `monitor alerts`: exit codes, JSON fields, one-line errors; and the
`active_alerts` counts of `monitor summary`."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from monitor.cli.main import main
from tests.ops.alerts.support import minutes, series, write_predictions

CONFIG = """
data_dir = "."

[alerts]
default_rules = false

[[alerts.rules]]
id = "very_slow"
metric = "latency_p95_ms"
threshold = 300.0
window = "10m"
severity = "critical"

[[alerts.rules]]
id = "slow"
metric = "latency_p95_ms"
threshold = 50.0
window = "10m"
severity = "warning"
"""
ISSUE_FIELDS = {
    "alert_id",
    "fingerprint",
    "rule",
    "severity",
    "state",
    "value",
    "threshold",
    "labels",
    "started_at",
    "acknowledged_by",
    "acknowledged_at",
    "note",
}


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """Model a: latency 100 ms (only the warning rule holds); model b: 500 ms (both)."""
    write_predictions(tmp_path, "a", series("a", 0, 60, latency_ms=100.0))
    write_predictions(tmp_path, "b", series("b", 0, 60, latency_ms=500.0))
    path = tmp_path / "monitor.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    code, out, err = _run(capsys, *args)
    assert err == "", err
    return code, json.loads(out)


def _error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code, out, err = _run(capsys, *args)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    return err.strip()


AT = minutes(30).isoformat()


def test_check_gates_on_unacknowledged_firing_alerts(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c = str(config)
    code, report = _json(capsys, "--config", c, "check", "--at", AT, "--json")
    assert code == 1 and report["exit_code"] == 1 and report["fail_on"] == "critical"
    by_rule = {(a["rule"], a["labels"]["model"]): a for a in report["alerts"]}
    assert set(by_rule) == {("very_slow", "b"), ("slow", "a"), ("slow", "b")}
    critical = by_rule[("very_slow", "b")]
    assert report["blocking"] == [critical["alert_id"]]
    assert set(critical) >= ISSUE_FIELDS
    assert (critical["state"], critical["value"], critical["threshold"]) == ("firing", 500.0, 300.0)
    assert dt.datetime.fromisoformat(critical["started_at"]) == minutes(30)
    assert critical["acknowledged_by"] is None
    assert report["errors"] == [] and report["notifications"] == []
    assert {(t["before"], t["after"]) for t in report["transitions"]} == {(None, "firing")}

    assert _run(capsys, "--config", c, "check", "--at", minutes(200).isoformat())[0] == 0
    code, out, _ = _run(capsys, "--config", c, "check", "--at", AT)  # nodata -> firing again
    assert code == 1
    assert f"#{critical['alert_id']} FIRING critical very_slow" in out
    assert "failing: 1 firing alert(s) at or above critical" in out

    code, out, _ = _run(
        capsys, "--config", c, "alerts", "ack", str(critical["alert_id"]), "--by", "ann"
    )
    assert (
        code == 0
        and out.strip() == f"alert {critical['alert_id']} acknowledged by ann (unverified)"
    )
    assert _run(capsys, "--config", c, "check", "--at", AT)[0] == 0  # acknowledged: passes
    warning = _json(capsys, "--config", c, "check", "--at", AT, "--fail-on", "warning", "--json")
    assert warning[0] == 1
    assert sorted(warning[1]["blocking"]) == sorted(
        by_rule[("slow", m)]["alert_id"] for m in ("a", "b")
    )


def test_alerts_list_ack_and_refusals(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    c = str(config)
    _run(capsys, "--config", c, "check", "--at", AT)
    code, listing = _json(capsys, "--config", c, "alerts", "list", "--json")
    assert code == 0 and len(listing["alerts"]) == 3
    assert all(set(a) >= ISSUE_FIELDS for a in listing["alerts"])
    only_a = _json(capsys, "--config", c, "alerts", "list", "--model", "a", "--json")[1]
    assert [a["labels"] for a in only_a["alerts"]] == [{"model": "a"}]
    first = listing["alerts"][0]["alert_id"]
    code, acked = _json(
        capsys,
        "--config",
        c,
        "alerts",
        "ack",
        str(first),
        "--by",
        "ann",
        "--note",
        "<i>on it</i>",
        "--json",
    )
    assert code == 0 and acked["acknowledged_by"] == "ann" and acked["note"] == "<i>on it</i>"
    assert acked["acknowledged_verified"] is False
    error = _error(capsys, "--config", c, "alerts", "ack", str(first), "--by", "ben")
    when = dt.datetime.fromisoformat(acked["acknowledged_at"]).strftime("%Y-%m-%d %H:%M:%S UTC")
    assert error == f"error: alert {first} was already acknowledged by ann (unverified) at {when}"
    listed = _json(capsys, "--config", c, "alerts", "list", "--state", "acknowledged", "--json")
    assert [a["alert_id"] for a in listed[1]["alerts"]] == [first]
    assert _run(capsys, "--config", c, "alerts", "unack", str(first), "--by", "ben")[0] == 0
    assert _json(capsys, "--config", c, "alerts", "list", "--state", "acknowledged", "--json")[
        1
    ] == {"alerts": []}
    assert "no alert with id 999" in _error(
        capsys, "--config", c, "alerts", "ack", "999", "--by", "x"
    )
    assert "--by" in _error(capsys, "--config", c, "alerts", "ack", str(first))
    assert "invalid choice" in _error(capsys, "--config", c, "alerts", "list", "--state", "bogus")
    assert "ALERT_ID" in _error(capsys, "--config", c, "alerts", "ack", "seven", "--by", "x")


def test_silence_from_the_command_line(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    c = str(config)
    code, report = _json(capsys, "--config", c, "check", "--at", AT, "--json")
    assert code == 1
    critical = next(a for a in report["alerts"] if a["rule"] == "very_slow")
    fp = critical["fingerprint"]
    error = _error(
        capsys,
        "--config",
        c,
        "alerts",
        "silence",
        fp,
        "--until",
        "next week",
        "--by",
        "x",
        "--reason",
        "y",
    )
    assert "'next week' is neither an ISO 8601 time" in error
    past = _error(
        capsys,
        "--config",
        c,
        "alerts",
        "silence",
        fp,
        "--until",
        "2020-01-01",
        "--by",
        "x",
        "--reason",
        "y",
    )
    assert "must end in the future" in past
    assert "--reason" in _error(
        capsys, "--config", c, "alerts", "silence", fp, "--until", "2h", "--by", "x"
    )
    assert "no alert has fingerprint" in _error(
        capsys,
        "--config",
        c,
        "alerts",
        "silence",
        "nope",
        "--until",
        "2h",
        "--by",
        "x",
        "--reason",
        "y",
    )
    code, silence = _json(
        capsys,
        "--config",
        c,
        "alerts",
        "silence",
        fp,
        "--until",
        "2h",
        "--by",
        "ann",
        "--reason",
        "deploy",
        "--json",
    )
    assert code == 0 and silence["fingerprint"] == fp and silence["created_by"] == "ann"
    until = dt.datetime.fromisoformat(silence["until"])
    assert dt.timedelta(minutes=119) < until - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=2)
    silenced = _json(capsys, "--config", c, "alerts", "list", "--state", "silenced", "--json")[1]
    assert [a["fingerprint"] for a in silenced["alerts"]] == [fp]
    assert silenced["alerts"][0]["silence_reason"] == "deploy" and silenced["alerts"][0]["silenced"]
    # silenced, the critical alert no longer fails the check (judged at --at's time)
    assert _run(capsys, "--config", c, "check", "--at", AT)[0] == 0
    code, out, _ = _run(capsys, "--config", c, "alerts", "unsilence", fp, "--by", "ann")
    assert code == 0 and "no longer silenced" in out
    assert "is not silenced" in _error(
        capsys, "--config", c, "alerts", "unsilence", fp, "--by", "ann"
    )


def test_the_real_process_exit_codes(config: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "monitor.cli", "--config", str(config), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert cli("check", "--at", AT, "--no-notify").returncode == 1
    bad = cli("check", "--at", "yesterday")
    assert bad.returncode == 2 and bad.stderr.startswith("error: ")
    assert len(bad.stderr.strip().splitlines()) == 1


def test_summary_counts_active_alerts_by_severity(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c = str(config)
    before = _json(capsys, "--config", c, "summary", "--json")[1]
    assert [m["active_alerts"] for m in before["models"]] == [
        {"info": 0, "warning": 0, "critical": 0}
    ] * 2
    assert not (config.parent / "state.sqlite").exists()  # a summary creates no state store
    report = _json(capsys, "--config", c, "check", "--at", AT, "--json")[1]
    slow_a = next(a for a in report["alerts"] if a["labels"]["model"] == "a")
    _run(capsys, "--config", c, "alerts", "ack", str(slow_a["alert_id"]), "--by", "ann")
    summary = _json(capsys, "--config", c, "summary", "--json")[1]
    con = sqlite3.connect(config.parent / "state.sqlite")
    try:
        expected: dict[str, dict[str, int]] = {}
        for model, severity in con.execute(
            "SELECT model_id, severity FROM alerts WHERE state <> 'resolved'"
            " AND acknowledged_by IS NULL"
        ):
            counts = expected.setdefault(model, {"info": 0, "warning": 0, "critical": 0})
            counts[severity] += 1
    finally:
        con.close()
    found = {m["model_id"]: m["active_alerts"] for m in summary["models"]}
    assert found == {"a": {"info": 0, "warning": 0, "critical": 0}, **expected}
    assert found["b"] == {"info": 0, "warning": 1, "critical": 1}
