"""Unit tests: pure logic, no I/O. Settings come from a controlled environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from newsdesk.dal import db

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "fixtures" / "000_0522782f77f4491e.txt"


@pytest.fixture(autouse=True)
def site_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "ARTICLES_TABLE": "unit-articles",
        "COUNTERS_TABLE": "unit-counters",
        "CONNECTIONS_TABLE": "unit-connections",
        "SITE_NAME": "Báo Tỉnh",
        "LOCALE": "vi",
        "TIME_ZONE": "Asia/Ho_Chi_Minh",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SITE_URL", raising=False)
    db.reset()
    yield
    db.reset()


@pytest.fixture
def fixture_text() -> str:
    return FIXTURE.read_text(encoding="utf-8")
