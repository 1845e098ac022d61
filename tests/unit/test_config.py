"""Configuration errors name the variable and what is wrong."""

from __future__ import annotations

import pytest
from newsdesk.config import ConfigError, from_env

BASE = {"ARTICLES_TABLE": "a", "COUNTERS_TABLE": "c", "CONNECTIONS_TABLE": "v"}


def test_defaults() -> None:
    conf = from_env(BASE)
    assert (conf.locale, conf.time_zone, conf.page_size) == ("vi", "Asia/Ho_Chi_Minh", 20)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "ARTICLES_TABLE"),
        ({**BASE, "LOCALE": "fr"}, "LOCALE"),
        ({**BASE, "TIME_ZONE": "Mars/Olympus"}, "TIME_ZONE"),
        ({**BASE, "PAGE_SIZE": "many"}, "PAGE_SIZE"),
        ({**BASE, "PAGE_SIZE": "0"}, "between"),
    ],
)
def test_invalid_settings(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        from_env(env)
