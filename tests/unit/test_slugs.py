"""Slugs: Vietnamese-aware from titles; hostile request slugs never reach DynamoDB."""

from __future__ import annotations

import unicodedata

import pytest
from newsdesk.slugs import clean_slug, make_slug


def test_vietnamese_titles_transliterate() -> None:
    assert make_slug("Đà Nẵng đón đoàn khách") == "da-nang-don-doan-khach"
    assert make_slug(unicodedata.normalize("NFD", "Đà Nẵng")) == "da-nang"
    assert len(make_slug("Tin " * 80)) <= 100


@pytest.mark.parametrize("slug", ["a", "da-nang", "so-ket-2018", "x" * 200])
def test_valid_slugs_pass(slug: str) -> None:
    assert clean_slug(slug) == slug


def test_percent_encoding_is_decoded() -> None:
    assert clean_slug("da%2Dnang") == "da-nang"


@pytest.mark.parametrize(
    "slug",
    [
        "",
        "x" * 201,
        "../../etc/passwd",
        "..%2F..%2Fetc",
        "a/b",
        "a\x00b",
        "a%00b",
        "tab\there",
        "UPPER",
        "-leading",
        "trailing-",
        "double--hyphen",
        "đà-nẵng",
        "a.b",
    ],
)
def test_hostile_or_malformed_slugs_are_refused(slug: str) -> None:
    assert clean_slug(slug) is None
