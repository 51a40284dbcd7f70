"""Drift does not depend on the file format (issue 13): the same pandas frames written as
CSV, TSV, Parquet or JSONL give the same statistics in every ordered pair of formats, as
when both are CSV, and those statistics are scipy's on the same data."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial import distance

from monitor.core.tabular import FileDatabase, file_relation
from monitor.core.tabular_reconcile import reconcile
from monitor.metrics.drift.report import DriftReport
from monitor.queries.drift import drift_between

WRITERS: dict[str, Callable[[pd.DataFrame, Path], None]] = {
    "csv": lambda frame, path: frame.to_csv(path, index=False),
    "tsv": lambda frame, path: frame.to_csv(path, sep="\t", index=False),
    "parquet": lambda frame, path: frame.to_parquet(path),
    "jsonl": lambda frame, path: frame.to_json(path, orient="records", lines=True),
}
FORMATS = tuple(WRITERS)
PAIRS: list[tuple[str, str]] = [(a, b) for a, b in itertools.product(FORMATS, repeat=2)]


def write(folder: Path, stem: str, frame: pd.DataFrame, fmt: str) -> Path:
    path = folder / f"{stem}.{fmt}"
    if not path.exists():
        WRITERS[fmt](frame, path)
    return path


def drift(folder: Path, ref: pd.DataFrame, cur: pd.DataFrame, pair: tuple[str, str]) -> DriftReport:
    database = FileDatabase()
    try:
        return drift_between(
            database,
            file_relation(database, write(folder, "ref", ref, pair[0])),
            file_relation(database, write(folder, "cur", cur, pair[1])),
        )
    finally:
        database.close()


def assert_same(found: DriftReport, expected: DriftReport) -> None:
    """Every feature's verdict, counts and statistics equal (numbers to 1e-12)."""
    assert [f.feature for f in found.features] == [f.feature for f in expected.features]
    assert (found.reference_rows, found.current_rows) == (
        expected.reference_rows,
        expected.current_rows,
    )
    assert found.share_drifted == expected.share_drifted
    for one, other in zip(found.features, expected.features, strict=True):
        assert (one.kind, one.method, one.status, one.test) == (
            other.kind,
            other.method,
            other.status,
            other.test,
        )
        assert (one.reference_count, one.current_count) == (
            other.reference_count,
            other.current_count,
        )
        assert set(one.stats) == set(other.stats), one.feature
        for name, value in one.stats.items():
            wanted = other.stats[name]
            if value is None or wanted is None:
                assert value is wanted
            else:
                assert math.isclose(value, wanted, rel_tol=1e-12, abs_tol=1e-12), (one, name)


def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(13)

    def frame(rows: int, yes: float, visits: float, start: str) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "holiday": np.where(rng.random(rows) < yes, "Yes", "No"),
                "day": pd.date_range(start, periods=rows, freq="D").strftime("%Y-%m-%d"),
                "visits": rng.poisson(visits, rows),
                "city": rng.choice(["oslo", "rome", "lima"], rows),
            }
        )

    return frame(600, 0.3, 4.0, "2023-01-01"), frame(450, 0.42, 4.6, "2024-06-01")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, DriftReport]]:
    folder = tmp_path_factory.mktemp("formats")
    ref, cur = frames()
    yield folder, drift(folder, ref, cur, ("csv", "csv"))


def test_both_csv_matches_scipy(files: tuple[Path, DriftReport]) -> None:
    _, report = files
    ref, cur = frames()
    found = {f.feature: f for f in report.features}
    assert list(found) == ["holiday", "visits", "city"]  # the date column is not analysed
    holiday = found["holiday"]
    ref_yes, cur_yes = int((ref["holiday"] == "Yes").sum()), int((cur["holiday"] == "Yes").sum())
    table = np.array([[len(ref) - ref_yes, ref_yes], [len(cur) - cur_yes, cur_yes]])
    assert holiday.kind == "binary" and holiday.method == "ztest"
    assert holiday.stats["chisquare"] == pytest.approx(
        stats.chi2_contingency(table).statistic, rel=1e-12
    )
    z = holiday.stats["ztest"]
    assert z is not None
    assert z**2 == pytest.approx(
        stats.chi2_contingency(table, correction=False).statistic, rel=1e-12
    )
    assert holiday.stats["jensenshannon"] == pytest.approx(
        distance.jensenshannon(table[0], table[1], base=2), abs=1e-12
    )
    visits = found["visits"]
    assert visits.stats["ks"] == pytest.approx(
        stats.ks_2samp(ref["visits"], cur["visits"]).statistic, abs=1e-12
    )
    assert visits.stats["wasserstein"] == pytest.approx(
        stats.wasserstein_distance(ref["visits"], cur["visits"]), abs=1e-12
    )
    cities = sorted(set(ref["city"]))
    counts = np.array([[int((f["city"] == c).sum()) for c in cities] for f in (ref, cur)])
    assert found["city"].stats["chisquare"] == pytest.approx(
        stats.chi2_contingency(counts).statistic, rel=1e-12
    )


@pytest.mark.parametrize("pair", PAIRS, ids=["-".join(p) for p in PAIRS])
def test_every_pair_of_formats_gives_the_csv_statistics(
    files: tuple[Path, DriftReport], pair: tuple[str, str]
) -> None:
    folder, both_csv = files
    ref, cur = frames()
    found = drift(folder, ref, cur, pair)
    assert_same(found, both_csv)
    holiday = next(f for f in found.features if f.feature == "holiday")
    assert holiday.stats["jensenshannon"] is not None and holiday.stats["jensenshannon"] < 0.2


@pytest.mark.parametrize("pair", PAIRS, ids=["-".join(p) for p in PAIRS])
def test_every_pair_of_formats_notes_the_columns_read_two_ways(
    files: tuple[Path, DriftReport], pair: tuple[str, str]
) -> None:
    """Yes/No is BOOLEAN from CSV/TSV and text from Parquet/JSONL; ISO dates are DATE from
    CSV/TSV/JSONL and text from Parquet: a note exactly where a side was not read as the
    type compared, and the date column left out on both sides."""
    folder, _ = files
    database = FileDatabase()
    paths = [folder / f"{stem}.{fmt}" for stem, fmt in zip(("ref", "cur"), pair, strict=True)]
    ref, cur = reconcile(database, *(file_relation(database, p) for p in paths))
    database.close()
    booleans = ["boolean" if fmt in ("csv", "tsv") else "text" for fmt in pair]
    dates = ["text" if fmt == "parquet" else "date" for fmt in pair]
    expected = {
        note
        for name, read, how in (
            ("holiday", booleans, "compared as booleans (Yes/No)"),
            ("day", dates, "dates and times are not analysed"),
        )
        if (note := _note(name, read, [str(p) for p in paths], how))
    }
    assert {n.note for n in ref.schema} == expected
    assert "day" not in {c.name for c in (*ref.features, *cur.features)}
    assert dict(ref.unsupported) == {
        "day": "DATE" if pair != ("parquet", "parquet") else "VARCHAR (dates)"
    }


def _note(name: str, read: list[str], labels: list[str], how: str) -> str | None:
    """The expected note: none when both sides were read as the type compared."""
    if read[0] != read[1]:
        return f"{name}: read as {read[0]} from {labels[0]} and {read[1]} from {labels[1]}; {how}"
    if read[0] == "text":
        return f"{name}: read as text from {labels[0]} and {labels[1]}; {how}"
    return None


# -- random frames ------------------------------------------------------------------------

SPELLINGS = [("Yes", "No"), ("true", "false"), ("T", "F"), ("yes", "NO"), ("TRUE", "False")]


@st.composite
def random_frame(draw: st.DrawFn, words: tuple[str, str]) -> pd.DataFrame:
    rows = draw(st.integers(6, 40))
    day = st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)).map(dt.date.isoformat)
    return pd.DataFrame(
        {
            "flag": draw(st.lists(st.sampled_from(words), min_size=rows, max_size=rows)),
            "count": draw(st.lists(st.integers(0, 12), min_size=rows, max_size=rows)),
            "day": draw(st.lists(day, min_size=rows, max_size=rows)),
            "group": draw(st.lists(st.sampled_from("abc"), min_size=rows, max_size=rows)),
        }
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_frames_give_the_same_statistics_in_any_two_formats(data: st.DataObject) -> None:
    words = data.draw(st.sampled_from(SPELLINGS))
    ref, cur = data.draw(random_frame(words)), data.draw(random_frame(words))
    pair = data.draw(st.sampled_from(PAIRS))
    with tempfile.TemporaryDirectory() as folder:
        found = drift(Path(folder), ref, cur, pair)
        expected = drift(Path(folder), ref, cur, ("csv", "csv"))
    assert_same(found, expected)
    assert "day" not in {f.feature for f in found.features}
