"""The code's layers, as a newcomer is told they are: only the data modules (newsdesk.dal)
talk to DynamoDB, each table's items are read and written in one of them, and each mechanism
(batch reads, paginated queries, per-container caches) has one home. Read from the source
with `ast`, so a new module is checked without being listed here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support import ROOT

PACKAGE = ROOT / "layers" / "newsdesk" / "python" / "newsdesk"
DAL = PACKAGE / "dal"
# Every module of the service: the package and the functions' handlers.
MODULES = sorted([*PACKAGE.rglob("*.py"), *(ROOT / "functions").rglob("*.py")])
# The one data module of each table (the settings naming the table's name).
TABLE_HOMES = {
    "articles_table": DAL / "articles.py",
    "counters_table": DAL / "counters.py",
    "connections_table": DAL / "connections.py",
}
# Modules that reach DynamoDB, the SDK's client, or hand-written retries and caches.
CLIENT_MODULES = {"newsdesk.dal.db", "boto3", "botocore.client", "botocore.session"}


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def imported(path: Path) -> set[str]:
    """Every module `path` imports (`from a import b` gives a and a.b)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def attributes(path: Path) -> set[str]:
    return {
        node.attr
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute)
    }


def test_the_modules_are_found() -> None:
    """Guard for the checks below: they read the real package."""
    names = {rel(path) for path in MODULES}
    assert "layers/newsdesk/python/newsdesk/page_views.py" in names
    assert "functions/pages/app.py" in names
    assert {rel(p) for p in DAL.glob("*.py")} >= {rel(p) for p in TABLE_HOMES.values()}


@pytest.mark.parametrize("path", [p for p in MODULES if DAL not in p.parents], ids=rel)
def test_only_the_data_modules_import_the_dynamodb_client(path: Path) -> None:
    found = imported(path) & CLIENT_MODULES
    assert not found, (
        f"{rel(path)} imports {sorted(found)}: call a named function of newsdesk.dal instead"
    )


@pytest.mark.parametrize("setting", sorted(TABLE_HOMES))
def test_each_table_is_read_and_written_in_one_data_module(setting: str) -> None:
    users = [rel(p) for p in MODULES if p.name != "config.py" and setting in attributes(p)]
    assert users == [rel(TABLE_HOMES[setting])], f"{setting} is used in {users}"


def test_the_data_modules_do_not_depend_on_the_logic_above_them() -> None:
    """dal imports only configuration, itself and leaf modules (they import no newsdesk
    module, checked here): the per-container caches, the logger, the slug rules. So the
    layers cannot form a cycle."""
    leaves = {"caches", "observability", "slugs"}
    allowed = {"newsdesk.config", "newsdesk.dal", *(f"newsdesk.{name}" for name in leaves)}
    for name in leaves:
        ours = {n for n in imported(PACKAGE / f"{name}.py") if n.startswith("newsdesk")}
        assert not ours, f"newsdesk.{name} imports {sorted(ours)}: not a leaf"
    for path in DAL.glob("*.py"):
        ours = {name for name in imported(path) if name.startswith("newsdesk")}
        above = {n for n in ours if not any(n == a or n.startswith(a + ".") for a in allowed)}
        assert not above, f"{rel(path)} imports {sorted(above)} from above the data layer"


ONE_HOME = {
    # mechanism: (the call that gives it away, the one module allowed to make it)
    "BatchGetItem with retries": ("batch_get_item", DAL / "db.py"),
    "Query pagination": ("get_paginator", DAL / "db.py"),
    "per-container caches": ("TLRUCache", PACKAGE / "caches.py"),
    "cancellation reasons": ("CancellationReasons", DAL / "db.py"),
}


@pytest.mark.parametrize("mechanism", sorted(ONE_HOME))
def test_each_mechanism_has_one_home(mechanism: str) -> None:
    marker, home = ONE_HOME[mechanism]
    users = [rel(p) for p in MODULES if marker in p.read_text(encoding="utf-8")]
    assert users == [rel(home)], f"{mechanism} ({marker}) appears in {users}"


def test_attribute_values_are_unpacked_in_the_data_layer_only() -> None:
    """`item.get("views", {}).get("N")` by hand, outside newsdesk.dal, is what
    newsdesk.dal.db.number()/text() are for."""
    for path in MODULES:
        if DAL in path.parents:
            continue
        text = path.read_text(encoding="utf-8")
        assert '{}).get("N"' not in text and '.get("N", ' not in text, rel(path)
