"""`monitor report` as a real process over the demo: its summary is `monitor summary`'s,
its tables hold the numbers pandas, scikit-learn and fairlearn compute from the log files,
it is one self-contained file, bad input is one error line, and names that are markup
stay text."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path

import fairlearn.metrics as fm
import pytest
import sklearn.metrics as skm

from tests.performance_truth import canonical, labeled_predictions
from tests.registry_support import between, p95, raw_predictions
from tests.report_support import (
    EVIL,
    SECTIONS,
    cli,
    demo_with_alerts,
    embedded_summary,
    hostile_logs,
    read_sections,
    table_with,
)

MODEL = "credit-risk"


@pytest.fixture(scope="module")
def demo(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's monitor.toml, with alerts in its state store."""
    return demo_with_alerts(demo_dir, tmp_path_factory.mktemp("report") / "demo")


@pytest.fixture(scope="module")
def week(demo: Path) -> tuple[str, str]:
    """The last 7 days of credit-risk's logs, as --since and --until."""
    found = cli("--config", demo, "summary", "--model", MODEL, "--json")
    end = dt.datetime.fromisoformat(json.loads(found.stdout)["models"][0]["window"]["end"])
    return (end - dt.timedelta(days=7)).isoformat(), end.isoformat()


@pytest.fixture(scope="module")
def report(demo: Path, week: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> str:
    output = tmp_path_factory.mktemp("out") / "report.html"
    since, until = week
    done = cli(
        "--config", demo, "report", "--model", MODEL, "--since", since, "--until", until,
        "--output", output,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"wrote {output} (")
    return output.read_text(encoding="utf-8")


def test_the_embedded_summary_is_monitor_summary_of_the_same_window(
    demo: Path, week: tuple[str, str], report: str
) -> None:
    since, until = week
    found = cli("--config", demo, "summary", "--model", MODEL, "--since", since, "--until", until,
                "--json")  # fmt: skip
    assert found.returncode == 0, found.stderr
    summary = json.loads(found.stdout)
    assert embedded_summary(report) == summary
    assert summary["models"][0]["window"] == {"start": since, "end": until}
    shown = table_with(read_sections(report)["summary"], "value")
    predictions = next(r["value"] for r in shown if r[""] == "predictions")
    assert predictions == f"{summary['models'][0]['predictions']:,}"


def test_health_and_performance_tables_hold_what_the_logs_say(
    demo: Path, week: tuple[str, str], report: str
) -> None:
    start, end = (dt.datetime.fromisoformat(t) for t in week)
    rows = between(raw_predictions(demo.parent), start, end)
    rows = rows[rows["model_id"] == MODEL]
    sections = read_sections(report)
    assert sections["health"].lead.startswith(f"{len(rows):,} predictions, error rate ")
    by_version = {r["version"]: r for r in table_with(sections["health"], "traffic share")}
    assert sorted(by_version) == sorted(rows["version"].unique())
    for version, mine in rows.groupby("version"):
        shown = by_version[str(version)]
        assert shown["predictions"] == f"{len(mine):,}"
        assert shown["error rate"] == f"{(mine['status'] == 'error').mean():.1%}"
        assert shown["p95"] == f"{p95(mine['latency_ms']):,.0f} ms"

    labeled = between(labeled_predictions(demo.parent, MODEL), start, end)
    labeled = labeled[labeled["truth"].notna()]
    truth, predicted = labeled["truth"].map(canonical), labeled["prediction"].map(canonical)
    accuracy = next(
        r for r in table_with(sections["performance"], "whole window") if r["metric"] == "Accuracy"
    )
    assert accuracy["whole window"] == f"{skm.accuracy_score(truth, predicted):.1%}"
    assert f"on {len(labeled):,} labeled of " in sections["performance"].lead


def test_fairness_rates_are_fairlearns(demo: Path, week: tuple[str, str], report: str) -> None:
    start, end = (dt.datetime.fromisoformat(t) for t in week)
    labeled = between(labeled_predictions(demo.parent, MODEL, ("gender",)), start, end)
    labeled = labeled[labeled["truth"].notna()]
    rates = fm.MetricFrame(
        metrics=fm.selection_rate,
        y_true=labeled["truth"].map(canonical) == "1",
        y_pred=labeled["prediction"].map(canonical) == "1",
        sensitive_features=labeled["gender"],
    ).by_group
    shown = {r["group"]: r for r in table_with(read_sections(report)["fairness"], "screen")}
    assert sorted(shown) == sorted(rates.index)
    for group, rate in rates.items():
        assert shown[str(group)]["count"] == f"{(labeled['gender'] == group).sum():,}"
        assert float(shown[str(group)]["Selection rate P(ŷ=1)"]) == pytest.approx(rate, rel=1e-3)


def test_the_report_is_one_self_contained_file(report: str) -> None:
    assert list(read_sections(report)) == list(SECTIONS)
    assert all(read_sections(report)[s].charts >= 1 for s in SECTIONS)
    tags = re.findall(r"<script\b[^>]*>", report, flags=re.IGNORECASE)
    assert tags.count("<script>") == 2  # plotly.js, then the loader
    assert all(t == "<script>" or 'type="application/json"' in t for t in tags)
    assert not re.search(r"<script[^>]*\bsrc\s*=", report, flags=re.IGNORECASE)
    assert not re.search(r"<(link|img|iframe)\b", report, flags=re.IGNORECASE)
    assert report.count("* plotly.js v") == 1
    assert "Content-Security-Policy" in report and "default-src 'none'" in report
    toc = re.findall(r'<li><a href="#(\w+)">', report)
    assert toc == list(SECTIONS)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "no-such-model"], "error: unknown model 'no-such-model'"),
        (["--model", MODEL, "--version", "v9"], "error: model 'credit-risk' has no version 'v9'"),
        (
            ["--model", MODEL, "--since", "2026-11-10", "--until", "2026-11-01"],
            "error: --since is after --until",
        ),
        (["--model", MODEL, "--since", "yesterday"], "error: argument --since: 'yesterday'"),
    ],
)
def test_bad_input_is_one_error_line_and_no_file(
    demo: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    output = tmp_path / "report.html"
    done = cli("--config", demo, "report", *args, "--output", output)
    assert done.returncode == 2
    assert done.stderr.startswith(message), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not output.exists() and list(tmp_path.iterdir()) == []


def test_an_output_that_cannot_be_written_is_one_error_line(demo: Path, tmp_path: Path) -> None:
    for output in (tmp_path / "missing" / "report.html", tmp_path):
        done = cli("--config", demo, "report", "--model", MODEL, "--output", output)
        assert done.returncode == 2
        assert done.stderr.startswith(f"error: cannot write {output}: ")
    missing = cli("--config", demo, "report", "--model", MODEL)
    assert missing.returncode == 2 and "--output" in missing.stderr


def test_names_that_are_markup_appear_escaped_only(tmp_path: Path) -> None:
    config = hostile_logs(tmp_path / "logs")
    output = tmp_path / "report.html"
    done = cli("--config", config, "report", "--model", EVIL, "--output", output)
    assert done.returncode == 0, done.stderr
    text = output.read_text(encoding="utf-8")
    assert EVIL not in text and "alert(1)</" not in text
    assert html.escape(EVIL) in text  # in the markup: as text
    assert json.dumps(EVIL).replace("<", "\\u003c").replace(">", "\\u003e") in text  # JSON
    sections = read_sections(text)
    assert EVIL in {r["feature"] for r in table_with(sections["drift"], "score")}
    assert EVIL in {r["version"] for r in table_with(sections["health"], "traffic share")}
    assert EVIL in {r["group"] for r in table_with(sections["fairness"], "screen")}
    assert EVIL in {r["message"] for r in table_with(sections["health"], "message")}
    assert embedded_summary(text)["models"][0]["model_id"] == EVIL
    assert all(sections[s].charts >= 1 for s in ("drift", "quality", "fairness", "health"))
