"""The pure decision of one type per column (monitor.core.reconcile), with facts counted
here in plain Python from the values themselves."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.core.reconcile import (
    FALSE_WORDS,
    SHARE,
    SNIFFED_FALSE,
    SNIFFED_TRUE,
    TRUE_WORDS,
    Facts,
    decide,
    family,
    needs_note,
    reconciled,
    type_word,
)

NAMES = ("ref.csv", "cur.parquet")


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _date(text: str) -> bool:
    import datetime as dt

    try:
        dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return False
    return True


def text_facts(values: Sequence[str | None]) -> Facts:
    """What DuckDB counts for a text column, counted in Python."""
    present = [v for v in values if v is not None]
    words = [v for v in present if v.strip().lower() in (*TRUE_WORDS, *FALSE_WORDS)]
    sniffed = [v for v in present if v.strip().lower() in (*SNIFFED_TRUE, *SNIFFED_FALSE)]
    not_numbers = sorted(v for v in present if not _number(v))
    return Facts(
        "VARCHAR",
        "VARCHAR",
        values=len(present),
        sniffed=len(sniffed),
        words=len(words),
        numbers=sum(_number(v) for v in present),
        zero_one=sum(_number(v) and float(v) in (0, 1) for v in present),
        dates=sum(_date(v) for v in present),
        spellings=tuple(sorted(set(words))),
        example=not_numbers[0] if not_numbers else None,
    )


def number_facts(values: Sequence[float]) -> Facts:
    return Facts("BIGINT", "DOUBLE", values=len(values), zero_one=sum(v in (0, 1) for v in values))


BOOLEAN = Facts("BOOLEAN", "BOOLEAN", values=10)
DATE = Facts("DATE", None)


def test_yes_no_text_against_booleans_is_compared_as_booleans() -> None:
    decision = decide(BOOLEAN, text_facts(["Yes", "No", "No", None]), NAMES)
    assert decision.resolved == "boolean" and decision.sql_type == "BOOLEAN"
    assert decision.detail == "compared as booleans (Yes/No)"
    note = reconciled("holiday", BOOLEAN, text_facts(["Yes", "No"]), decision, NAMES)
    assert note.note == (
        "holiday: read as boolean from ref.csv and text from cur.parquet; "
        "compared as booleans (Yes/No)"
    )
    assert note.document()["compared_as"] == "boolean"


@pytest.mark.parametrize(
    ("values", "resolved"),
    [
        (["true", "False", " t ", "f"], "boolean"),
        (["y", "n", "1", "0"], "boolean"),
        (["Yes", "No", "maybe"], "category"),
    ],
)
def test_text_against_booleans(values: list[str], resolved: str) -> None:
    decision = decide(text_facts(values), BOOLEAN)
    assert decision.resolved == resolved
    assert decision.canonical_booleans == (resolved == "category")


def test_numbers_against_booleans() -> None:
    assert decide(number_facts([0, 1, 1]), BOOLEAN).resolved == "boolean"
    found = decide(number_facts([0, 1, 2]), BOOLEAN, ("a.parquet", "b.csv"))
    assert found.resolved == "incomparable" and found.sql_type is None
    assert (
        found.detail
        == "numbers in a.parquet; booleans in b.csv (numbers other than 0 and 1 in a.parquet)"
    )


def test_integers_with_a_few_text_values_are_numbers() -> None:
    text = text_facts([str(i) for i in range(97)] + ["n/a", "n/a", "?"])
    decision = decide(number_facts(list(range(50))), text, NAMES)
    assert decision.resolved == "number"
    assert decision.detail == (
        "compared as numbers; 3 of 100 values in cur.parquet are not numbers (e.g. '?') "
        "and count as missing"
    )
    mostly_text = text_facts([str(i) for i in range(60)] + ["x"] * 40)
    refused = decide(number_facts([1.0]), mostly_text, NAMES)
    assert refused.resolved == "incomparable"
    assert refused.detail.endswith("(only 60% of the values in cur.parquet read as numbers)")


def test_dates_against_iso_text_are_left_out_on_both_sides() -> None:
    iso = text_facts(["2024-01-01", "2024-02-29", "2024-03-01T10:00:00"])
    assert decide(DATE, iso).resolved == "datetime"
    assert decide(DATE, iso).sql_type is None
    assert decide(DATE, text_facts(["a", "b"])).resolved == "incomparable"
    assert decide(DATE, number_facts([1.0])).resolved == "incomparable"


def test_a_side_without_values_takes_the_other_side_s_type() -> None:
    empty = text_facts([None, None])
    assert family(empty) == "empty"
    assert decide(empty, number_facts([2.5])).resolved == "number"
    assert decide(BOOLEAN, empty).resolved == "boolean"


def test_text_is_taken_for_what_a_csv_reader_reads() -> None:
    assert family(text_facts(["Yes", "no"])) == "boolean"
    assert family(text_facts(["1", "2.5", None])) == "number"
    assert family(text_facts(["2024-01-01", "2024-01-02 10:00:00"])) == "datetime"
    assert family(text_facts(["1", "x"])) == "text"


def test_notes_only_for_types_read_two_ways() -> None:
    numbers, double = number_facts([1]), Facts("DOUBLE", "DOUBLE")
    assert not needs_note(numbers, double, decide(numbers, double))
    yes_no = text_facts(["Yes"])
    assert needs_note(BOOLEAN, yes_no, decide(BOOLEAN, yes_no))
    assert needs_note(yes_no, yes_no, decide(yes_no, yes_no))
    plain = text_facts(["oslo"])
    assert not needs_note(plain, plain, decide(plain, plain))
    assert [type_word(t) for t in ("VARCHAR", "BIGINT", "DECIMAL(10,2)", "TIMESTAMP_NS")] == [
        "text",
        "integer",
        "number",
        "timestamp",
    ]


# -- properties -----------------------------------------------------------------------

spellings = st.sampled_from([*TRUE_WORDS, *FALSE_WORDS, "Yes", "NO", "True", "FALSE", " t", "F "])
sniffed_words = st.sampled_from([*SNIFFED_TRUE, *SNIFFED_FALSE, "Yes", "NO", "True", "FALSE"])
texts = st.lists(
    st.one_of(st.none(), st.text(max_size=6), spellings, st.integers(-9, 9).map(str)), max_size=30
)


@st.composite
def facts(draw: st.DrawFn) -> Facts:
    kind = draw(st.sampled_from(["text", "number", "boolean", "date", "list"]))
    if kind == "text":
        return text_facts(draw(texts))
    if kind == "number":
        return number_facts(draw(st.lists(st.integers(-2, 3).map(float), max_size=20)))
    if kind == "boolean":
        return Facts("BOOLEAN", "BOOLEAN", values=draw(st.integers(0, 20)))
    return DATE if kind == "date" else Facts("INTEGER[]", None)


@settings(max_examples=300, deadline=None)
@given(facts(), facts())
def test_the_decision_is_symmetric_and_always_says_how(a: Facts, b: Facts) -> None:
    one, other = decide(a, b, NAMES), decide(b, a, NAMES[::-1])
    assert one.resolved == other.resolved
    assert one.canonical_booleans == other.canonical_booleans
    assert one.detail and other.detail
    assert (one.sql_type is None) == (one.resolved in ("datetime", "other", "incomparable"))
    if family(a) == family(b):
        assert one.resolved != "incomparable"


@settings(max_examples=300, deadline=None)
@given(st.lists(sniffed_words, min_size=1, max_size=30), facts())
def test_boolean_words_decide_as_a_sniffed_boolean_does(words: list[str], other: Facts) -> None:
    """What a CSV reader reads as BOOLEAN and the same words kept as text (Parquet) are
    decided alike against anything: the format of a file does not change the comparison."""
    as_text, as_boolean = text_facts(words), Facts("BOOLEAN", "BOOLEAN", values=len(words))
    assert decide(as_text, other).resolved == decide(as_boolean, other).resolved
    assert decide(as_text, other).sql_type == decide(as_boolean, other).sql_type


@settings(max_examples=200, deadline=None)
@given(texts, st.lists(st.integers(-5, 5).map(float), min_size=1, max_size=10))
def test_numbers_against_text_follow_the_share(
    values: list[str | None], numbers: list[float]
) -> None:
    text = text_facts(values)
    decision = decide(number_facts(numbers), text)
    if family(text) in ("empty", "number"):
        assert decision.resolved == "number"
    elif family(text) == "text":
        numeric = text.numbers >= SHARE * text.values
        assert decision.resolved == ("number" if numeric else "incomparable")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=1, max_size=30), facts())
def test_text_of_integers_decides_as_integers_do(values: list[int], other: Facts) -> None:
    """Integers a CSV reader reads as BIGINT and the same integers kept as text are
    decided alike against anything."""
    as_text, as_numbers = text_facts([str(v) for v in values]), number_facts(values)
    assert decide(as_text, other).resolved == decide(as_numbers, other).resolved
