"""First start: the demo fills an empty data directory and never overwrites user files."""

from __future__ import annotations

from pathlib import Path

from monitor.core.store import LogStore
from monitor.demo import bootstrap


def test_demo_fills_an_empty_dir_once_and_keeps_user_files(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    mine = data_dir / "monitor.toml"
    mine.write_text("# my own settings\n", encoding="utf-8")
    assert bootstrap.ensure_demo_data(data_dir) is True
    assert mine.read_text(encoding="utf-8") == "# my own settings\n"
    assert bootstrap.is_demo(data_dir)
    store = LogStore(data_dir)
    assert store.execute("SELECT count(*) FROM predictions")[0][0] == 200_000
    assert not [p for p in data_dir.iterdir() if p.name.startswith(".demo-")]  # staging gone
    assert bootstrap.ensure_demo_data(data_dir) is False  # logs exist: nothing happens
