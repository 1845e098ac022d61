"""Article slugs: derived from titles (Vietnamese-aware), validated before any lookup."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

MAX_SLUG_LENGTH = 200
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def make_slug(title: str, max_length: int = 100) -> str:
    """`Sơ kết chương trình ... Đ` -> `so-ket-chuong-trinh-...-d` (python-slugify + unidecode)."""
    from slugify import slugify

    # slugify transliterates with text-unidecode, which maps đ/Đ to d/D as Vietnamese expects.
    return str(
        slugify(unicodedata.normalize("NFC", title), max_length=max_length, word_boundary=True)
    )


def clean_slug(raw: str | None) -> str | None:
    """The slug a request asks for, or None when it cannot name an article.

    Percent-decoding and NFC are applied first, so encoded and decomposed spellings of
    the same slug reach the same article; anything oversized, with control characters,
    slashes or dots (path traversal) is rejected without touching DynamoDB.
    """
    if not raw or len(raw) > 3 * MAX_SLUG_LENGTH:
        return None
    slug = unicodedata.normalize("NFC", unquote(raw)).strip()
    if len(slug) > MAX_SLUG_LENGTH or not _SLUG.fullmatch(slug):
        return None
    return slug


_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\.]")


def canonical_slug(raw: str | None) -> str | None:
    """The slug a request means: itself when clean, else its transliteration when it is a
    readable spelling (upper case, Vietnamese letters in NFC or NFD, spaces); None for
    anything else (oversized, control characters, slashes, dots), decided without I/O."""
    clean = clean_slug(raw)
    if clean or not raw or len(raw) > 3 * MAX_SLUG_LENGTH:
        return clean
    text = unicodedata.normalize("NFC", unquote(raw))
    if _UNSAFE.search(text) or not text.strip() or len(text) > MAX_SLUG_LENGTH:
        return None
    return clean_slug(make_slug(text, max_length=MAX_SLUG_LENGTH))
