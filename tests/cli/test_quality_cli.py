"""`monitor quality` limits from monitor.toml: `[thresholds]` decides a feature's status
in file mode as on logs, and with --model that model's alert rules override them. The
shares are checked against pandas on the files written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.cli.test_drift_cli import cli, real_cli
from tests.conftest import REPO_ROOT

COMPAS = REPO_ROOT / "tests" / "data" / "compas_for_aequitas.csv"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, pd.DataFrame]:
    """COMPAS split 40/60; the current side has 7% of `race` missing and 3% of `sex` a
    category the reference never had."""
    folder = tmp_path_factory.mktemp("quality")
    frame = pd.read_csv(COMPAS)
    in_reference = np.random.default_rng(1).random(len(frame)) < 0.4
    reference, current = frame[in_reference].copy(), frame[~in_reference].copy()
    rows = len(current)
    current.loc[current.index[: int(0.07 * rows)], "race"] = None
    current.loc[current.index[-int(0.03 * rows) :], "sex"] = "Unknown"
    reference.to_parquet(folder / "ref.parquet")
    current.to_csv(folder / "cur.csv", index=False)
    return folder / "ref.parquet", folder / "cur.csv", current


def config(folder: Path, text: str) -> str:
    path = folder / "monitor.toml"
    path.write_text('data_dir = "data"\n' + text, encoding="utf-8")
    return str(path)


def statuses(toml: str, *extra: str, files: tuple[Path, Path, Any]) -> dict[str, Any]:
    reference, current, _ = files
    result = cli("--config", toml, "quality", "--reference", str(reference), "--current",
                 str(current), "--label", "label_value", "--prediction", "score",
                 "--id", "entity_id", *extra, "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    return {f["feature"]: f for f in json.loads(result.stdout)["features"]}


def test_thresholds_of_the_config_decide_the_file_mode_status(
    files: tuple[Path, Path, pd.DataFrame], tmp_path: Path
) -> None:
    current = files[2]
    missing = current["race"].isna().mean()
    new = (current["sex"] == "Unknown").mean()
    assert 0.05 < missing < 0.10 and 0.02 < new < 0.05  # inside the defaults

    defaults = statuses(config(tmp_path, ""), files=files)
    assert defaults["race"]["missing_share"] == pytest.approx(missing, rel=1e-12)
    assert defaults["sex"]["new_category_share"] == pytest.approx(new, rel=1e-12)
    assert defaults["race"]["status"] == defaults["sex"]["status"] == "ok"

    strict = config(tmp_path, "[thresholds]\nmissing_share = 0.05\nnew_category_share = 0.02\n")
    found = statuses(strict, files=files)
    assert found["race"]["status"] == "often missing"
    assert found["sex"]["status"] == "new categories"
    assert found["age_cat"]["status"] == "ok"
    gate = cli("--config", strict, "quality", "--reference", str(files[0]), "--current",
               str(files[1]), "--id", "entity_id", "--fail-on-issues")  # fmt: skip
    assert gate.returncode == 3  # the new category


def test_model_alert_rules_override_the_thresholds(
    files: tuple[Path, Path, pd.DataFrame], tmp_path: Path
) -> None:
    toml = config(
        tmp_path,
        '[thresholds]\nmissing_share = 0.05\n\n[[models]]\nid = "scores"\n\n'
        '[[alerts.rules]]\nid = "missing_share"\nthreshold = 0.08\n'
        'labels = { model = "scores" }\n',
    )
    assert statuses(toml, files=files)["race"]["status"] == "often missing"  # 0.05
    assert statuses(toml, "--model", "scores", files=files)["race"]["status"] == "ok"  # 0.08


def test_the_help_says_where_the_limits_come_from() -> None:
    text = " ".join(real_cli("quality", "--help").stdout.split())
    assert "often missing above thresholds.missing_share" in text
    assert "with --model, that model's alert rules on those metrics override them" in text
