"""`monitor demo` and `monitor compact` from the command line (real processes, real files)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.logwriter import prediction, write_jsonl


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli", *args], capture_output=True, text=True, timeout=300
    )


def test_demo_writes_logs_and_refuses_to_mix(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    result = _cli(
        "demo", "--data-dir", str(target), "--days", "5", "--predictions", "5000", "--json"
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads(result.stdout)
    assert manifest == json.loads((target / "demo_manifest.json").read_text())
    summary = _cli("--config", str(target / "monitor.toml"), "summary", "--json")
    models = {m["model_id"] for m in json.loads(summary.stdout)["models"]}
    assert models == {"credit-risk", "demand-forecast"}
    again = _cli("demo", "--data-dir", str(target), "--days", "5", "--predictions", "5000")
    assert again.returncode == 2
    assert again.stderr.startswith("error: ") and len(again.stderr.strip().splitlines()) == 1


def test_compact_json_reports_what_it_did(tmp_path: Path) -> None:
    write_jsonl(
        tmp_path,
        "predictions",
        "2026-11-01",
        "p.jsonl",
        [prediction("a", "2026-11-01T10:00:00Z"), "junk"],
    )
    result = _cli("--data-dir", str(tmp_path), "compact", "--min-age-minutes", "0", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["records"] == 1 and report["invalid_records"] == 1
    assert report["compacted"] == [str(tmp_path / "logs/predictions/date=2026-11-01/p.jsonl")]
    assert (tmp_path / "logs/predictions/date=2026-11-01/p.parquet").is_file()


def test_a_reader_that_stops_early_ends_the_command_quietly(tmp_path: Path) -> None:
    """`monitor ... | head`: the pipe's read end closes before the command writes."""
    write_jsonl(
        tmp_path, "predictions", "2026-11-01", "p.jsonl", [prediction("a", "2026-11-01T10:00:00Z")]
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor.cli", "--data-dir", str(tmp_path), "summary", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    stderr = process.stderr.read()
    assert process.wait(timeout=120) == 141
    assert stderr == ""
