"""Article slugs: derived from titles (Vietnamese-aware), validated before any lookup."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import unquote

MAX_SLUG_LENGTH = 200
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def make_slug(title: str, max_length: int = 100) -> str:
    """`Sơ kết chương trình ... Đ` -> `so-ket-chuong-trinh-...-d` (python-slugify + unidecode)."""
    from slugify import slugify

    # slugify transliterates with text-unidecode, which maps đ/Đ to d/D as Vietnamese expects.
    # Named, not "auto": auto prefers Unidecode when installed (other slugs: URLs would move),
    # and tries to import it on every call (a failed import costs ~0.5 ms a title).
    return str(
        slugify(
            unicodedata.normalize("NFC", title),
            max_length=max_length,
            word_boundary=True,
            backend="text-unidecode",
        )
    )


SHORT_ID_LENGTH = 8


def short_id(identity: str) -> str:
    """A short id for an article's source identity: the first SHORT_ID_LENGTH hex digits of
    its SHA-256, the same on every run and every machine."""
    return hashlib.sha256(identity.encode()).hexdigest()[:SHORT_ID_LENGTH]


def unique_slug(slug: str, identity: str) -> str:
    """`slug` with the identity's short id appended, as news sites put an article's id in its
    URL: `bao-lon-do-bo-mien-trung-3f9a1c2e`, at most MAX_SLUG_LENGTH characters. For an
    article whose slug another article already has (titles that differ only by tone marks,
    đ/d, punctuation or case, or share their first 100 slug characters)."""
    suffix = short_id(identity)
    head = slug[: MAX_SLUG_LENGTH - len(suffix) - 1].rstrip("-")
    return f"{head}-{suffix}"


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


def routable(slug: str) -> bool:
    """Whether a stored slug can be an article's URL: a request for its path reaches it
    (clean_slug gives it back unchanged). "", ".", "..", "a/b", "%2e", "A", "thời-sự" cannot:
    such a slug, stored by another tool or an old version, is left out of every listing,
    feed and sitemap (newsdesk.dal.articles), never a broken link nor an error."""
    return clean_slug(slug) == slug


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
