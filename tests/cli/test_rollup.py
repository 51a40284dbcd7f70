"""`monitor rollup` from the command line, and the refresh after `compact` and `check`
(real processes, real files)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.logwriter import prediction, write_jsonl
from tests.ops.rollup import support

CONFIG = 'data_dir = "."\n[[models]]\nid = "m"\nsensitive_features = ["group"]\n'


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def _small_logs(data_dir: Path) -> Path:
    config = data_dir / "monitor.toml"
    config.write_text(CONFIG, encoding="utf-8")
    records = [
        prediction(f"p{i}", f"2026-11-01T1{i % 2}:00:00Z", features={"group": "ab"[i % 2]})
        for i in range(6)
    ]
    write_jsonl(data_dir, "predictions", "2026-11-01", "p.jsonl", [*records, "junk"])
    return config


def test_rollup_json_then_nothing_to_do(demo_dir: Path, tmp_path: Path) -> None:
    data_dir = support.copy_demo(demo_dir, tmp_path / "demo")
    config = str(data_dir / "monitor.toml")
    first = _cli("--config", config, "rollup", "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["engine"] == "duckdb" and report["days"] == 14
    assert len(report["written"]) == 5 * 14 and report["rows"] > 0
    assert any("invalid records left out" in p for p in report["problems"])
    again = _cli("--config", config, "rollup")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("rollup (duckdb): 0 files written")
    full = json.loads(_cli("--config", config, "rollup", "--full", "--json").stdout)
    assert len(full["written"]) == 5 * 14 and set(full["rebuilt_tables"]) == {
        "traffic",
        "labels",
        "regression",
        "features",
        "fairness",
    }


def test_usage_errors_are_one_line(tmp_path: Path) -> None:
    config = str(_small_logs(tmp_path))
    for args in (
        ("--config", config, "rollup", "--master", "local[1]"),
        ("--config", config, "--data-dir", "s3a://bucket/logs", "rollup"),
        ("--config", config, "rollup", "--engine", "flink"),
    ):
        result = _cli(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1


def test_compact_refreshes_existing_rollups_only(tmp_path: Path) -> None:
    config = str(_small_logs(tmp_path))
    compacted = _cli("--config", config, "compact", "--min-age-minutes", "0")
    assert compacted.returncode == 0 and "rollups" not in compacted.stderr
    assert not (tmp_path / "rollups").exists()  # none made without `monitor rollup`
    write_jsonl(
        tmp_path, "predictions", "2026-11-02", "q.jsonl", [prediction("q", "2026-11-02T08:00:00Z")]
    )
    assert _cli("--config", config, "rollup").returncode == 0
    result = _cli("--config", config, "compact", "--min-age-minutes", "0", "--json")
    assert result.returncode == 0, result.stderr
    json.loads(result.stdout)  # stdout stays one JSON document
    assert "rollups refreshed: 5 files written" in result.stderr
    entry = support.manifest(tmp_path)["tables"]["traffic"]["days"]["2026-11-02"]
    assert [Path(p).name for p, _, _ in entry["predictions"]] == ["q.parquet"]


def test_a_failed_refresh_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    config = str(_small_logs(tmp_path))
    assert _cli("--config", config, "rollup").returncode == 0
    (tmp_path / "rollups" / "manifest.json").write_text("{not json", encoding="utf-8")
    result = _cli("--config", config, "compact", "--min-age-minutes", "0")
    assert result.returncode == 0
    assert "warning: rollups not refreshed:" in result.stderr
    assert (tmp_path / "logs/predictions/date=2026-11-01/p.parquet").is_file()


def test_check_refreshes_the_rollups_first(tmp_path: Path) -> None:
    config = str(_small_logs(tmp_path))
    assert _cli("--config", config, "rollup").returncode == 0
    write_jsonl(
        tmp_path,
        "predictions",
        "2026-11-01",
        "late.jsonl",
        [prediction("z", "2026-11-01T23:00:00Z")],
    )
    result = _cli("--config", config, "check", "--json", "--no-notify")
    assert result.returncode in (0, 1), result.stderr
    json.loads(result.stdout)
    assert "rollups refreshed: 5 files written" in result.stderr
    traffic = support.read_rollup(tmp_path, "traffic")
    assert traffic["predictions"].sum() == 7


def test_the_duckdb_rollup_never_imports_pyspark(tmp_path: Path) -> None:
    config = str(_small_logs(tmp_path))
    probe = (
        "import sys; from monitor.cli.main import main; "
        f"code = main(['--config', {config!r}, 'rollup']); "
        "print(code, 'pyspark' in sys.modules, 'py4j' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, env=env
    )
    assert result.stdout.splitlines()[-1] == "0 False False", result.stderr
