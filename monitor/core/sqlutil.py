"""Quoting helpers for the few places where SQL text must contain a name or a path.

Values always go through DuckDB parameters. Identifiers (column names, which may be
anything a user logged as a feature key) and file paths inside view definitions
(DuckDB cannot bind parameters in CREATE VIEW) go through these two functions.
"""


def quote_identifier(name: str) -> str:
    """Return `name` as a double-quoted SQL identifier; embedded quotes are doubled."""
    if "\x00" in name:
        raise ValueError("identifier contains a NUL character")
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """Return `text` as a single-quoted SQL string literal (DuckDB: no backslash escapes)."""
    if "\x00" in text:
        raise ValueError("string literal contains a NUL character")
    return "'" + text.replace("'", "''") + "'"


def literal_list(items: list[str]) -> str:
    """A SQL list literal of strings: ['a', 'b'] (DuckDB list syntax)."""
    return "[" + ", ".join(quote_literal(i) for i in items) + "]"
