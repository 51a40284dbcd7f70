"""The tree shows the architecture, and stays that way.

The layer contracts themselves are checked by `lint-imports` in .ci/lint; these tests
keep the rest true: docs/architecture.md names only modules that exist, pages stay thin,
modules stay short (or say why), and the tests mirror the package.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

ARCHITECTURE = REPO_ROOT / "docs" / "architecture.md"
MAX_LINES = 400
LONG_MODULE_REASON = "Over 400 lines on purpose"
PAGE_FORBIDDEN_IMPORTS = (
    "duckdb",
    "sqlite3",
    "pyarrow",
    "monitor.queries",
    "monitor.core.tabular",
    "monitor.core.views",
    "monitor.core.logfiles",
)
PAGE_FORBIDDEN_CALLS = ("open", "read_csv", "read_parquet", "read_json", "execute", "sql")


def _named_paths(text: str) -> set[str]:
    return set(re.findall(r"`((?:monitor|pages|tests|benchmarks|docs)/[\w./-]*)`", text))


def _named_modules(text: str) -> set[str]:
    return set(re.findall(r"`(monitor(?:\.\w+)+)`", text)) - {"monitor.toml"}


def _resolves(dotted: str) -> bool:
    """A module, or an attribute (class, function) of one."""
    try:
        return importlib.util.find_spec(dotted) is not None
    except ModuleNotFoundError:  # a name inside a module: find_spec wants a package
        module, _, attribute = dotted.rpartition(".")
        return hasattr(importlib.import_module(module), attribute)


def test_every_module_and_path_named_in_the_architecture_doc_exists() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    paths, modules = _named_paths(text), _named_modules(text)
    assert len(paths) >= 20 and len(modules) >= 5, "the doc should name where things live"
    assert sorted(p for p in paths if not (REPO_ROOT / p).exists()) == []
    assert sorted(m for m in modules if not _resolves(m)) == []


def test_the_architecture_doc_names_every_layer_package() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    packages = sorted(
        p.parent.relative_to(REPO_ROOT).as_posix()
        for p in (REPO_ROOT / "monitor").glob("*/__init__.py")
    )
    assert packages, "monitor/ should hold the layer packages"
    assert [p for p in packages if f"`{p}/`" not in text] == []


def _module_docstring(path: Path) -> str:
    return ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""


def test_modules_stay_short_or_say_why() -> None:
    long = []
    for path in sorted((REPO_ROOT / "monitor").rglob("*.py")):
        if "demo" in path.relative_to(REPO_ROOT).parts:
            continue
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES and LONG_MODULE_REASON not in _module_docstring(path):
            long.append(f"{path.relative_to(REPO_ROOT)}: {lines} lines")
    assert long == [], f"split by concern, or say '{LONG_MODULE_REASON}: ...' in the docstring"


PAGES = sorted((REPO_ROOT / "pages").glob("*.py"))


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_pages_run_no_sql_and_read_no_files(page: Path) -> None:
    tree = ast.parse(page.read_text(encoding="utf-8"))
    imported = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ]
    imported += [
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    ]
    called = [
        node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
    ]
    assert [m for m in imported if m.startswith(PAGE_FORBIDDEN_IMPORTS)] == []
    assert [c for c in called if c in PAGE_FORBIDDEN_CALLS] == []
    assert len(page.read_text(encoding="utf-8").splitlines()) <= MAX_LINES


def test_tests_mirror_the_package() -> None:
    """Every test folder below tests/ other than ui/ (AppTest) and e2e/ (browser) is a
    package of monitor/ of the same name."""
    folders = {
        p.parent.relative_to(REPO_ROOT / "tests").as_posix()
        for p in (REPO_ROOT / "tests").rglob("test_*.py")
    } - {".", "ui", "e2e"}
    assert folders, "unit tests live in folders that mirror monitor/"
    assert sorted(f for f in folders if not (REPO_ROOT / "monitor" / f).is_dir()) == []
