"""Uploads read by content: a table of bad inputs, each refused with its own clear message
(and the data directory left exactly as it was) or repaired as documented in
docs/datasets.md (the repair sentence is checked, and the values that were stored)."""

from __future__ import annotations

import codecs
import gzip
import io
import sqlite3
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.core.errors import InputError
from monitor.core.state import Actor, StateStore
from monitor.ops.datasets.ingest import (
    Ingested,
    UploadError,
    compare_schemas,
    read_path,
    read_upload,
    read_uploads,
)
from monitor.ops.datasets.library import ColumnRoles, get_dataset
from monitor.ops.datasets.storage import save_dataset

ACTOR = Actor("tester")
LIMIT = 1024 * 1024


def _parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def _zip(entries: dict[str, bytes]) -> bytes:
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return sink.getvalue()


def _sqlite_bytes(tmp: Path) -> bytes:
    path = tmp / "db.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (a INTEGER)")
    con.commit()
    con.close()
    return path.read_bytes()


PARQUET = _parquet(pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]}))
XLSX = _zip(
    {
        "[Content_Types].xml": b"<Types/>",
        "xl/workbook.xml": b"<workbook/>",
        "xl/worksheets/sheet1.xml": b"<worksheet/>",
    }
)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(50)


@dataclass(frozen=True)
class Refusal:
    id: str
    data: bytes
    phrase: str
    overrides: dict[str, str] = field(default_factory=dict)
    max_bytes: int = LIMIT
    name: str | None = None
    roles: ColumnRoles = field(default_factory=ColumnRoles)


REFUSALS = [
    Refusal("empty file", b"", "the file is empty (0 bytes)"),
    Refusal("single newline", b"\n", "holds only whitespace"),
    Refusal("only whitespace", b"  \t \r\n \n\n   ", "holds only whitespace"),
    Refusal("header only", b"age,sex,income\n", "header line but no data rows"),
    Refusal("header only, no newline", b"age,sex,income", "header line but no data rows"),
    Refusal("header all empty", b",,,\n1,2,3,4\n", "no column names (all 4 are empty)"),
    Refusal("every value empty", b"a,b\n,\n , \n", "no usable columns: every value"),
    Refusal("zip renamed to .csv", _zip({"data.csv": b"a,b\n1,2\n"}), "ZIP archive"),
    Refusal("excel xlsx", XLSX, "Excel workbook (.xlsx"),
    Refusal("old excel xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "old Microsoft"),
    Refusal("truncated parquet", PARQUET[: len(PARQUET) // 2], "truncated or damaged"),
    Refusal("corrupt parquet", b"PAR1" + b"\x07" * 200 + b"PAR1", "cannot read this Parquet file"),
    Refusal(
        "parquet without rows",
        _parquet(pa.table({"a": pa.array([], pa.int64())})),
        "holds no rows",
    ),
    Refusal("oversized", b"a,b\n" + b"1,2\n" * 300_000, "above the upload limit of 1 MB"),
    Refusal("pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "PDF document"),
    Refusal("png", PNG, "PNG image"),
    Refusal("jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG image"),
    Refusal("gzip", gzip.compress(b"a,b\n1,2\n"), "gzip-compressed"),
    Refusal("elf executable", b"\x7fELF\x02\x01\x01" + bytes(100), "ELF executable"),
    Refusal("nul bytes in text", b"a,b\n1,\x002\n3,4\n", "contains NUL bytes"),
    Refusal("control characters", b"a,b\n" + bytes(range(1, 9)) * 40, "binary file"),
    Refusal("html page", b"<!DOCTYPE html>\n<html><body>404</body></html>", "web page (HTML)"),
    Refusal("json array", b'[{"a": 1}, {"a": 2}]', "JSON array, not JSON Lines"),
    Refusal("json document", b'{\n  "a": 1\n}\n', "spread over several lines"),
    Refusal("jsonl bad line", b'{"a": 1}\n{"a": 2\n', "line 2 is not valid JSON"),
    Refusal("jsonl non-object", b'{"a": 1}\n[1, 2]\n', "line 2 is not a JSON object but a list"),
    Refusal(
        "ragged rows",
        b"a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n",
        "2 row(s) do not have the 3 fields of the header (row 3 has 2, row 4 has 4",
    ),
    Refusal(
        "ragged row after a quoted newline",
        b'a,b\n"x\ny",1\n2\n',
        "row 3 has 1",
    ),
    Refusal(
        "override: text as numeric",
        b"name,age\nAlice,3\nBob,4\n",
        "cannot be read as numeric: none of its values is a number (e.g. 'Alice')",
        overrides={"name": "numeric"},
    ),
    Refusal(
        "override: unknown column",
        b"name,age\nAlice,3\n",
        "cannot set the type of 'agee': there is no such column",
        overrides={"agee": "numeric"},
    ),
    Refusal(
        "override: unknown type",
        b"name,age\nAlice,3\n",
        "unknown type 'integer'",
        overrides={"age": "integer"},
    ),
    Refusal(
        "override: not dates",
        b"when\nsoon\nlater\n",
        "cannot be read as datetime",
        overrides={"when": "datetime"},
    ),
    Refusal("sqlite database", b"SQLite format 3\x00" + bytes(200), "SQLite database"),
    Refusal("empty dataset name", b"a\n1\n", "must not be empty", name="   "),
    Refusal("dataset name too long", b"a\n1\n", "use at most 100", name="n" * 101),
    Refusal("dataset name with a newline", b"a\n1\n", "control characters", name="a\nb"),
    Refusal("dataset name taken", b"a\n1\n", "already exists", name="seed"),
    Refusal("same file uploaded twice", b"x,y\n1,2\n3,4\n", "already uploaded as 'seed'"),
    Refusal(
        "label column not in the file",
        b"label_value,score\n1,0\n",
        "label column 'label' is not in the dataset (did you mean 'label_value'?)",
        roles=ColumnRoles(label="label"),
    ),
    Refusal(
        "score column not numeric",
        b"y,p\n1,high\n0,low\n",
        "score column 'p' is categorical, not numeric",
        roles=ColumnRoles(label="y", score="p"),
    ),
]


def _snapshot(data_dir: Path, state: StateStore) -> tuple[Any, ...]:
    files = sorted(
        (str(p.relative_to(data_dir)), p.stat().st_size, p.stat().st_mtime_ns)
        for p in data_dir.rglob("*")
        if not p.name.startswith("state.sqlite")
    )
    counts = tuple(
        state.read(f"SELECT count(*) FROM {table}")[0][0] for table in ("datasets", "audit")
    )
    return tuple(files), counts


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[tuple[Path, StateStore]]:
    """A data directory that already holds one dataset ('seed', from b'x,y\\n1,2\\n3,4\\n')."""
    data_dir = tmp_path / "data"
    state = StateStore.for_data_dir(data_dir)
    ingested = read_upload(b"x,y\n1,2\n3,4\n", "seed.csv", max_bytes=LIMIT)
    save_dataset(state, data_dir, ingested, name="seed", role="current", actor=ACTOR)
    yield data_dir, state
    state.close()


def test_the_table_has_at_least_25_refusals() -> None:
    assert len(REFUSALS) >= 25
    assert len({case.id for case in REFUSALS}) == len(REFUSALS)


@pytest.mark.parametrize("case", REFUSALS, ids=[case.id for case in REFUSALS])
def test_refusal_is_clear_and_leaves_the_data_dir_unchanged(
    case: Refusal, seeded: tuple[Path, StateStore]
) -> None:
    data_dir, state = seeded
    before = _snapshot(data_dir, state)
    with pytest.raises(InputError) as info:
        ingested = read_upload(
            case.data, "upload.csv", max_bytes=case.max_bytes, type_overrides=case.overrides
        )
        save_dataset(
            state,
            data_dir,
            ingested,
            name=case.name if case.name is not None else f"new {case.id}",
            role="current",
            actor=ACTOR,
            column_roles=case.roles,
        )
    message = str(info.value)
    assert case.phrase in message, message
    assert "Traceback" not in message and "\n" not in message.strip()
    assert _snapshot(data_dir, state) == before


# -- repairs --------------------------------------------------------------------------


def _read(data: bytes, **options: Any) -> Ingested:
    return read_upload(data, "upload.csv", max_bytes=LIMIT, **options)


def _values(ingested: Ingested, name: str) -> list[Any]:
    values: list[Any] = ingested.table.column(name).to_pylist()
    return values


def _problems(ingested: Ingested, name: str) -> str:
    return " | ".join(ingested.column(name).problems)


def test_utf8_bom_is_removed_from_the_first_name() -> None:
    ingested = _read(codecs.BOM_UTF8 + "name,âge\nZoé,3\n".encode())
    assert "encoding: UTF-8 (byte-order mark removed)" in ingested.repairs
    assert ingested.table.column_names == ["name", "âge"]
    assert _values(ingested, "name") == ["Zoé"]


@pytest.mark.parametrize(
    ("codec", "bom", "label"),
    [
        ("utf-16-le", codecs.BOM_UTF16_LE, "UTF-16 LE (byte-order mark removed)"),
        ("utf-16-be", codecs.BOM_UTF16_BE, "UTF-16 BE (byte-order mark removed)"),
        ("utf-16-le", b"", "UTF-16 LE without a byte-order mark"),
        ("utf-16-be", b"", "UTF-16 BE without a byte-order mark"),
        ("utf-32-le", codecs.BOM_UTF32_LE, "UTF-32 LE (byte-order mark removed)"),
    ],
)
def test_utf16_and_utf32_are_decoded(codec: str, bom: bytes, label: str) -> None:
    ingested = _read(bom + "city,n\nMünchen,1\nŁódź,2\n".encode(codec))
    assert f"encoding: {label}" in ingested.repairs
    assert _values(ingested, "city") == ["München", "Łódź"]
    assert _values(ingested, "n") == [1, 2]


def test_latin1_with_accents_is_read_and_named() -> None:
    ingested = _read("name,city\nZoé,München\nRené,Besançon\n".encode("latin-1"))
    assert ingested.encoding == "Latin-1 (ISO-8859-1)"
    assert any(
        r.startswith(
            "encoding: Latin-1 (ISO-8859-1), not UTF-8 (first non-UTF-8 byte 0xE9 on line 2"
        )
        for r in ingested.repairs
    )
    assert _values(ingested, "city") == ["München", "Besançon"]


def test_windows_1252_curly_quotes() -> None:
    ingested = _read("quote,n\n“hi” – there,1\n".encode("cp1252"))
    assert ingested.encoding == "Windows-1252"
    assert _values(ingested, "quote") == ["“hi” – there"]


def test_utf8_with_one_damaged_byte_keeps_the_rest() -> None:
    text = "name\n" + "".join(f"Zoé {i}\n" for i in range(30))
    data = text.encode() + b"bad \xff byte\n"
    ingested = _read(data)
    assert any("UTF-8 with 1 invalid byte sequence(s) replaced" in r for r in ingested.repairs)
    values = _values(ingested, "name")
    assert values[0] == "Zoé 0" and values[-1] == "bad \ufffd byte"


def test_duplicate_empty_and_padded_names_are_repaired() -> None:
    ingested = _read(b"age,age, ,sex , Age\n1,2,3,F,5\n")
    assert ingested.table.column_names == ["age", "age_2", "column_3", "sex", "Age_3"]
    assert "duplicate column 'age' renamed to 'age_2'" in ingested.repairs
    assert "empty column name at position 3 named 'column_3'" in ingested.repairs
    assert "duplicate (ignoring letter case) column 'Age' renamed to 'Age_3'" in ingested.repairs
    assert any(r.startswith("spaces around 2 column name(s) removed") for r in ingested.repairs)
    assert [c.original_name for c in ingested.columns] == ["age", "age", " ", "sex ", " Age"]
    assert _values(ingested, "age_2") == [2]


HOSTILE = [
    'quote"d',
    "semi;colon",
    "Robert'); DROP TABLE datasets;--",
    "<script>alert(1)</script>",
    "emoji 🧪📈",
    "x" * 300,
]


def test_hostile_names_are_kept_as_data() -> None:
    header = ",".join('"' + n.replace('"', '""') + '"' for n in HOSTILE)
    ingested = _read((header + "\n" + ",".join(str(i) for i in range(6)) + "\n").encode())
    assert ingested.table.column_names == HOSTILE
    assert ingested.repairs == ()


def test_all_missing_column_is_kept_and_reported() -> None:
    ingested = _read(b"a,b\n1,\n2,\n3,NA\n")
    report = ingested.column("b")
    assert report.missing == 3 and "all values missing" in report.problems
    assert _values(ingested, "b") == [None, None, None]


def test_one_row_file_is_accepted() -> None:
    ingested = _read(b"a,b\n1,x\n")
    assert ingested.rows == 1 and _values(ingested, "b") == ["x"]


def test_stray_text_in_a_numeric_column_becomes_missing() -> None:
    rows = [str(i) for i in range(40)] + ["n/a", "?"]
    ingested = _read(("income\n" + "\n".join(rows) + "\n").encode())
    report = ingested.column("income")
    assert report.inferred_type == "numeric" and report.missing == 2
    assert "2 non-numeric value(s) ('n/a', '?') set to missing" in report.problems
    assert _values(ingested, "income") == [*range(40), None, None]


def test_mixed_column_stays_text_and_says_so() -> None:
    ingested = _read(b"code\n1\n2\n3\nA7\nB8\n")
    report = ingested.column("code")
    assert report.inferred_type == "categorical"
    assert "mixed values: 60% are numbers, the rest text" in _problems(ingested, "code")
    assert _values(ingested, "code") == ["1", "2", "3", "A7", "B8"]
    overridden = _read(b"code\n1\n2\n3\nA7\nB8\n", type_overrides={"code": "numeric"})
    assert _values(overridden, "code") == [1, 2, 3, None, None]
    assert "2 non-numeric value(s) ('A7', 'B8') set to missing" in _problems(overridden, "code")


def test_thousands_separators_are_read_as_numbers() -> None:
    ingested = _read(b'id,amount,people\n1,"1,234",1 500\n2,"12,345.5",20 000\n3,7,3\n')
    assert _values(ingested, "amount") == [1234.0, 12345.5, 7.0]
    assert _values(ingested, "people") == [1500, 20000, 3]
    assert (
        "2 value(s) had thousands separators ('1,234') and were read as numbers"
        in ingested.column("amount").problems
    )


def test_semicolons_with_decimal_commas() -> None:
    ingested = _read(b"price;city;units\n1,5;Lyon;1.200\n2,25;Nice;3\n10;Metz;4\n")
    assert ingested.delimiter == ";"
    assert _values(ingested, "price") == [1.5, 2.25, 10.0]
    assert _values(ingested, "units") == [1200, 3, 4]
    assert "decimal comma" in _problems(ingested, "price")


def test_quoted_newlines_and_crlf() -> None:
    ingested = _read(b'note,n\r\n"first line\r\nsecond, with comma",1\r\n"plain",2\r\n')
    assert _values(ingested, "note") == ["first line\r\nsecond, with comma", "plain"]
    assert _values(ingested, "n") == [1, 2]


@pytest.mark.parametrize(("delimiter", "name"), [("\t", "tab"), ("|", "pipe"), (";", "semi")])
def test_other_delimiters_are_sniffed(delimiter: str, name: str) -> None:
    rows = ["name", "amount", "city"], ["Smith, John", "1,5", "Lyon"], ["Doe", "2", "Nice"]
    data = "\n".join(delimiter.join(r) for r in rows).encode() + b"\n"
    ingested = _read(data)
    assert ingested.delimiter == delimiter, name
    assert ingested.table.column_names == ["name", "amount", "city"]
    assert _values(ingested, "name") == ["Smith, John", "Doe"]


def test_booleans_and_datetimes() -> None:
    ingested = _read(
        b"ok,when,at\nTrue,2024-05-01,2024-05-01T10:00:00Z\nfalse,2024-05-02,"
        b"2024-05-01T12:00:00+02:00\n,2024-05-03,\n"
    )
    assert [c.inferred_type for c in ingested.columns] == ["boolean", "datetime", "datetime"]
    assert _values(ingested, "ok") == [True, False, None]
    assert [v.isoformat() if v else None for v in _values(ingested, "at")] == [
        "2024-05-01T10:00:00+00:00",
        "2024-05-01T10:00:00+00:00",
        None,
    ]


def test_impossible_date_is_missing_not_fatal() -> None:
    rows = "\n".join(f"2024-01-{d:02d}" for d in range(1, 29))
    ingested = _read(("day\n" + rows + "\n2024-02-30\n").encode())
    assert ingested.column("day").inferred_type == "datetime"
    assert _values(ingested, "day")[-1] is None
    assert "1 non-date value(s) ('2024-02-30') set to missing" in ingested.column("day").problems


def test_jsonl_nested_objects_are_flattened_and_lists_kept_as_text() -> None:
    data = (
        b'{"id": 1, "address": {"city": "Lyon", "zip": "69001"}, "tags": ["a", "b"]}\n'
        b"\n"
        b'{"id": 2, "address": {"city": "Nice"}, "extra": true}\n'
    )
    ingested = _read(data)
    assert ingested.format == "jsonl"
    assert ingested.table.column_names == ["id", "address.city", "address.zip", "tags", "extra"]
    assert _values(ingested, "address.city") == ["Lyon", "Nice"]
    assert _values(ingested, "address.zip") == [69001, None]
    assert _values(ingested, "tags") == ['["a", "b"]', None]
    assert _values(ingested, "extra") == [None, True]
    assert any("nested objects flattened" in r for r in ingested.repairs)
    assert any("lists kept as JSON text" in r for r in ingested.repairs)


def test_parquet_keeps_its_types() -> None:
    table = pa.table(
        {
            "n": pa.array([1.5, None, 3.0]),
            "c": pa.array(["a", "b", "a"]).dictionary_encode(),
            "flag": [True, False, True],
            "nested": pa.array([[1], [2], [3]]),
        }
    )
    ingested = _read(_parquet(table))
    assert ingested.format == "parquet" and ingested.encoding is None
    assert [(c.name, c.inferred_type) for c in ingested.columns] == [
        ("n", "numeric"),
        ("c", "categorical"),
        ("flag", "boolean"),
    ]
    assert any(
        r.startswith("column 'nested' (list<") and ") left out: its type is not supported" in r
        for r in ingested.repairs
    )
    assert _values(ingested, "c") == ["a", "b", "a"]


def test_header_of_numbers_and_single_column_notes() -> None:
    numbers = _read(b"1,2\n3,4\n")
    assert any("holds only numbers ('1', '2')" in r for r in numbers.repairs)
    single = _read(b"a:b:c\n1:2:3\n")
    assert any("only one column was found ('a:b:c')" in r for r in single.repairs)


def test_several_files_are_one_dataset() -> None:
    a = b"x,y\n1,a\n2,b\n"
    b = b"y,x\nc,3\n"
    ingested = read_uploads([("a.csv", a), ("b.csv", b)], max_bytes=LIMIT)
    assert ingested.rows == 3 and ingested.source_name == "a.csv, b.csv"
    assert _values(ingested, "x") == [1, 2, 3]
    assert _values(ingested, "y") == ["a", "b", "c"]
    swapped = read_uploads([("b.csv", b), ("a.csv", a)], max_bytes=LIMIT)
    assert swapped.sha256 == ingested.sha256
    with pytest.raises(
        UploadError,
        match=r"c\.csv does not have the columns of a\.csv \(no column 'y'; extra column 'z'\)",
    ):
        read_uploads([("a.csv", a), ("c.csv", b"x,z\n1,2\n")], max_bytes=LIMIT)
    with pytest.raises(UploadError, match="upload files of one format together"):
        read_uploads([("a.csv", a), ("p.parquet", PARQUET)], max_bytes=LIMIT)
    with pytest.raises(UploadError, match=r"^b\.csv: the file is empty"):
        read_uploads([("a.csv", a), ("b.csv", b"")], max_bytes=LIMIT)
    with pytest.raises(
        UploadError, match=r"the files are together 2\.0 MB, above the upload limit of 1 MB"
    ):
        read_uploads([("a.csv", b"a\n" + b"1\n" * (LIMIT // 2))] * 2, max_bytes=LIMIT)


def test_read_path_checks_the_size_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    with big.open("wb") as handle:
        handle.truncate(3 * LIMIT)  # a sparse file: reading it would take 3 MB
    with pytest.raises(
        UploadError, match=r"big\.csv: the file is 3 MB, above the upload limit of 1 MB"
    ):
        read_path(big, max_bytes=LIMIT)
    with pytest.raises(UploadError, match="no such file"):
        read_path(tmp_path / "missing.csv", max_bytes=LIMIT)


def test_sha256_is_the_files() -> None:
    import hashlib

    data = b"a,b\n1,2\n"
    assert _read(data).sha256 == hashlib.sha256(data).hexdigest()


def test_compare_schemas() -> None:
    ref = _read(b"a,b,c,d\n1,x,2024-01-01,5\n")
    cur = _read(b"a,b,e,d\nx,y,1,6\n")
    comparison = compare_schemas(ref.columns, cur.columns)
    assert comparison.shared == ("a", "b", "d")
    assert comparison.only_in_reference == ("c",)
    assert comparison.only_in_current == ("e",)
    assert comparison.type_changes == (("a", "numeric", "categorical"),)
    assert not comparison.identical
    assert compare_schemas([("a", "text")], [("a", "categorical")]).identical


def test_progress_is_reported_in_order() -> None:
    seen: list[float] = []
    _read(b"a,b\n1,2\n", progress=lambda fraction, _message: seen.append(fraction))
    assert seen == sorted(seen) and seen[-1] == 1.0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=300),
        st.text(alphabet=st.sampled_from(list('ab1,;\t|"\n\r .-{}[]:é?')), max_size=200).map(
            str.encode
        ),
    )
)
def test_random_input_is_read_or_refused_clearly(data: bytes) -> None:
    try:
        ingested = _read(data)
    except UploadError as exc:
        assert str(exc)
        return
    assert ingested.rows >= 1 and ingested.table.num_columns == len(ingested.columns)


def test_repairs_survive_the_parquet_round_trip(seeded: tuple[Path, StateStore]) -> None:
    data_dir, state = seeded
    header = ",".join('"' + n.replace('"', '""') + '"' for n in HOSTILE)
    data = (header + ",age,age\n" + ",".join(str(i) for i in range(8)) + "\n").encode()
    name = "hostile <b>names</b>"
    dataset = save_dataset(state, data_dir, _read(data), name=name, role="reference", actor=ACTOR)
    stored = pq.read_table(dataset.path)
    assert stored.column_names == [*HOSTILE, "age", "age_2"]
    assert stored.to_pylist() == [dict(zip(stored.column_names, range(8), strict=True))]
    again = get_dataset(state, name)
    assert "duplicate column 'age' renamed to 'age_2'" in again.details["repairs"]


def test_jsonl_fast_and_line_by_line_readers_agree() -> None:
    """UTF-8 JSONL goes through pyarrow's reader, other encodings line by line: same result."""
    text = (
        '{"id": 1, "who": {"name": "Zoé", "age": 41}, "score": 0.1, "ok": true, "n": "1,234"}\n'
        '{"id": 2, "who": {"name": "Li"}, "score": 1e20, "ok": false, "extra": null}\n'
        "\n"
        '{"id": 3, "who": {"name": "Ana", "age": 7}, "score": 2, "ok": null, "n": "12"}\n'
    )
    fast = _read(text.encode())
    slow = _read(text.encode("utf-16"))
    assert fast.table.equals(slow.table)
    assert fast.columns == slow.columns
    assert fast.repairs == tuple(r for r in slow.repairs if not r.startswith("encoding:"))
    assert fast.table.column_names == ["id", "who.name", "who.age", "score", "ok", "n", "extra"]
    assert _values(fast, "score") == [0.1, 1e20, 2.0]
    assert _values(fast, "n") == [1234, None, 12]
