"""One type per column for two tables read two ways: the decision, pure.

The same column can be read as different types from two files: DuckDB's CSV reader reads
Yes/No as BOOLEAN and ISO dates as DATE where Parquet keeps the text; an integer column
with a few text values is read as text. Compared as read, the categories are disjoint and
an unchanged column looks fully drifted. `decide` takes what each side was read as and a
few counts (`Facts`, counted in DuckDB by `monitor.core.tabular_reconcile`) and returns the
one way both sides are compared (`Decision`), from both sides:

- text is first taken for what a CSV reader would read it as, so that the format of a file
  does not matter: booleans when every value is true/false/t/f/yes/no (any letter case),
  numbers when every value is a number, dates when every value is an ISO date or time.
- booleans: against booleans, numbers that are all 0 or 1 and text that is all boolean
  words (y/n, 0/1 too) are booleans; other text is compared as categories, its boolean
  words read as 'true' and 'false'.
- numbers against text: numbers when at least `SHARE` of the text values read as numbers
  (the others count as missing, and the note says how many).
- dates and times against text: dates when at least `SHARE` of the text values read as
  dates; dates and times are not analysed, on either side.
- a side with no values takes the other side's type.

Anything else has no common type: the column is "incomparable", with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Family = Literal["boolean", "number", "text", "datetime", "other", "empty"]
Resolved = Literal["boolean", "number", "category", "datetime", "other", "incomparable"]
AnalysedType = Literal["DOUBLE", "BOOLEAN", "VARCHAR"]

SNIFFED_TRUE: Final = ("true", "t", "yes")
SNIFFED_FALSE: Final = ("false", "f", "no")
"""Text DuckDB's CSV reader reads as booleans (any letter case)."""
TRUE_WORDS: Final = (*SNIFFED_TRUE, "y", "1")
FALSE_WORDS: Final = (*SNIFFED_FALSE, "n", "0")
"""Text read as a boolean when the other side holds booleans."""
SHARE: Final = 0.95
"""Share of a text side's values that must read as numbers (or dates) to be compared as
numbers (or left out as dates); the same share uploads use to type a column."""
SQL_TYPES: Final[dict[Resolved, AnalysedType | None]] = {
    "boolean": "BOOLEAN",
    "number": "DOUBLE",
    "category": "VARCHAR",
    "datetime": None,
    "other": None,
    "incomparable": None,
}
_DATETIME_PREFIXES: Final = ("DATE", "TIME", "INTERVAL")
_WORDS: Final[dict[Family, str]] = {
    "boolean": "booleans",
    "number": "numbers",
    "text": "text",
    "datetime": "dates and times",
    "empty": "no values",
}


@dataclass(frozen=True)
class Facts:
    """One side's column: how it was read and a few counts of its values."""

    read_as: str
    """The type DuckDB read (BOOLEAN, BIGINT, VARCHAR, DATE, ...)."""
    sql_type: AnalysedType | None
    """The type the relation holds it as; None: not analysed (dates, lists)."""
    values: int = 0
    """Non-null values (counted for text, numbers and booleans)."""
    sniffed: int = 0
    """Text values among SNIFFED_TRUE / SNIFFED_FALSE (trimmed, any letter case)."""
    words: int = 0
    """Text values among TRUE_WORDS / FALSE_WORDS."""
    numbers: int = 0
    """Text values that read as numbers."""
    dates: int = 0
    """Text values that read as dates or times."""
    zero_one: int = 0
    """Values that are the numbers 0 or 1."""
    spellings: tuple[str, ...] = ()
    """The boolean words of a text side as written (e.g. 'No', 'Yes'), for the note."""
    example: str | None = None
    """A text value that is not a number, for the note."""


@dataclass(frozen=True)
class Decision:
    resolved: Resolved
    detail: str
    """How both sides are compared, or why they cannot be (plain text)."""
    canonical_booleans: bool = False
    """Text compared as categories with its boolean words read as 'true' / 'false'."""

    @property
    def sql_type(self) -> AnalysedType | None:
        """The type both sides are cast to; None: not analysed, or incomparable."""
        return SQL_TYPES[self.resolved]


def family(facts: Facts) -> Family:
    """What a side holds, from its type and, for text, its values: text that a CSV reader
    would read as booleans, numbers or dates (every value) holds those."""
    if facts.sql_type is None:
        upper = facts.read_as.upper()
        if upper == "NULL":
            return "empty"
        return "datetime" if upper.startswith(_DATETIME_PREFIXES) else "other"
    if facts.sql_type == "BOOLEAN":
        return "boolean"
    if facts.sql_type == "DOUBLE":
        return "number"
    if facts.values == 0:
        return "empty"
    if facts.sniffed == facts.values:
        return "boolean"
    if facts.numbers == facts.values:
        return "number"
    return "datetime" if facts.dates == facts.values else "text"


def type_word(read_as: str) -> str:
    """A type as read, in words: boolean, integer, number, text, date, timestamp, ..."""
    upper = read_as.upper()
    if upper == "VARCHAR" or upper.startswith("ENUM"):
        return "text"
    if upper.startswith(("DOUBLE", "FLOAT", "REAL", "DECIMAL")):
        return "number"
    if upper.endswith("INT") or upper in ("INTEGER", "UINTEGER"):
        return "integer"
    if upper.startswith("TIMESTAMP"):
        return "timestamp"
    return upper.lower()


def decide(
    reference: Facts, current: Facts, names: tuple[str, str] = ("the reference", "the current")
) -> Decision:
    """The one way both sides of a column are compared (rules: module docstring); `names`
    name the sides in the detail."""
    ref, cur = family(reference), family(current)
    if ref == cur or "empty" in (ref, cur):
        chosen = cur if ref == "empty" else ref
        return Decision(_SAME[chosen], _same_detail(chosen, reference, current))
    sides = {ref: (reference, names[0]), cur: (current, names[1])}
    pair = {ref, cur}
    if pair == {"boolean", "number"}:
        numbers, name = sides["number"]
        if numbers.zero_one == numbers.values:
            return Decision("boolean", "compared as booleans (1 = true, 0 = false)")
        return _incomparable(sides, f"numbers other than 0 and 1 in {name}")
    if pair == {"boolean", "text"}:
        text, _ = sides["text"]
        if text.words == text.values:
            return Decision("boolean", f"compared as booleans ({_spelled(text)})")
        return Decision(
            "category",
            "compared as categories, true/false, yes/no, t/f, y/n and 1/0 read as true and false",
            canonical_booleans=True,
        )
    if pair == {"number", "text"}:
        text, name = sides["text"]
        if text.numbers >= SHARE * text.values:
            return Decision("number", "compared as numbers" + _not_numbers(text, name))
        return _incomparable(sides, _share(text.numbers, text, name, "numbers"))
    if pair == {"datetime", "text"}:
        text, name = sides["text"]
        if text.dates >= SHARE * text.values:
            return Decision("datetime", "dates and times are not analysed")
        return _incomparable(sides, _share(text.dates, text, name, "dates"))
    return _incomparable(sides, "")


_SAME: Final[dict[Family, Resolved]] = {
    "boolean": "boolean",
    "number": "number",
    "text": "category",
    "datetime": "datetime",
    "other": "other",
    "empty": "category",
}


def _same_detail(chosen: Family, reference: Facts, current: Facts) -> str:
    if chosen == "boolean":
        spelled = [_spelled(f) for f in (reference, current) if f.sql_type == "VARCHAR"]
        return "compared as booleans" + (f" ({spelled[0]})" if spelled else "")
    if chosen in ("datetime", "other"):
        return "dates and times are not analysed" if chosen == "datetime" else "not analysed"
    return "compared as " + {"number": "numbers", "text": "categories"}.get(chosen, "categories")


def _spelled(text: Facts) -> str:
    """The boolean words as written, true ones first: 'Yes/No'."""
    truth = {w: w.strip().lower() in TRUE_WORDS for w in text.spellings}
    ordered = sorted(text.spellings, key=lambda w: (not truth[w], w))
    return "/".join(ordered) if ordered else "no values"


def _share(read: int, text: Facts, name: str, what: str) -> str:
    return f"only {read / text.values:.0%} of the values in {name} read as {what}"


def _not_numbers(text: Facts, name: str) -> str:
    missing = text.values - text.numbers
    if not missing:
        return ""
    example = f" (e.g. {text.example!r})" if text.example is not None else ""
    return (
        f"; {missing:,} of {text.values:,} values in {name} are not numbers{example} "
        "and count as missing"
    )


def _incomparable(sides: dict[Family, tuple[Facts, str]], why: str) -> Decision:
    held = [f"{_held(found)} in {name}" for found, name in sides.values()]
    return Decision("incomparable", "; ".join(held) + (f" ({why})" if why else ""))


def _held(facts: Facts) -> str:
    kind = family(facts)
    return _WORDS.get(kind) or f"type {facts.read_as}"


@dataclass(frozen=True)
class Reconciled:
    """One column read two ways, and how it is compared (for the outputs)."""

    column: str
    reference_type: str
    current_type: str
    resolved: Resolved
    detail: str
    note: str
    """The whole sentence: "holiday: read as boolean from ref.csv and text from cur.parquet;
    compared as booleans (Yes/No)"."""

    @property
    def incomparable(self) -> bool:
        return self.resolved == "incomparable"

    def document(self) -> dict[str, str]:
        """An entry of the `schema` list of the JSON documents."""
        return {
            "column": self.column,
            "reference_type": self.reference_type,
            "current_type": self.current_type,
            "compared_as": self.resolved,
            "detail": self.detail,
            "note": self.note,
        }


def needs_note(reference: Facts, current: Facts, decision: Decision) -> bool:
    """Whether a column gets a note: its sides were read as different types (other than
    two kinds of number), or text on both is compared as another type, or it is
    incomparable."""
    words = {type_word(reference.read_as), type_word(current.read_as)}
    if decision.resolved == "incomparable":
        return True
    if words == {"text"}:
        return decision.resolved != "category"
    return len(words) > 1 and not words <= {"integer", "number"}


def reconciled(
    column: str, reference: Facts, current: Facts, decision: Decision, labels: tuple[str, str]
) -> Reconciled:
    """The note of a column read two ways (`labels`: the two tables' names)."""
    how = decision.detail
    if decision.resolved == "incomparable":
        how = "incomparable: " + how
    ref_word, cur_word = type_word(reference.read_as), type_word(current.read_as)
    if ref_word == cur_word:
        read = f"read as {ref_word} from {labels[0]} and {labels[1]}"
    else:
        read = f"read as {ref_word} from {labels[0]} and {cur_word} from {labels[1]}"
    note = f"{column}: {read}; {how}"
    return Reconciled(
        column, reference.read_as, current.read_as, decision.resolved, decision.detail, note
    )
