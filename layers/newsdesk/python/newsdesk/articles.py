"""Articles: the model, the per-container article cache, and the listings (pages of visible
articles with opaque cursors). Stored by newsdesk.dal.articles."""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from newsdesk.caches import Cache
from newsdesk.config import settings
from newsdesk.dal import articles as stored
from newsdesk.slugs import MAX_SLUG_LENGTH, make_slug

PUBLISHED = "published"
DRAFT = "draft"
STATUSES = (PUBLISHED, DRAFT)


class ArticleNotFound(LookupError):
    """No published article has this slug."""


class CategoryNotFound(ArticleNotFound):
    """No visible article has this category (or none is left on the page asked for)."""


class BadCursor(ValueError):
    """A pagination cursor that this service did not issue."""


@dataclass(frozen=True)
class Article:
    slug: str
    title: str
    published_at: datetime  # aware, UTC
    body: tuple[str, ...] = ()
    byline: str = ""
    summary: str = ""
    category: str = ""
    status: str = PUBLISHED
    body_html: str = ""  # rich body, sanitised by newsdesk.sanitize when stored; else `body`
    # When this version was written at its source (the stored `version`; None: unknown).
    # Read from the store only: not an import field, not part of the content hash.
    edited_at: datetime | None = field(default=None, compare=False)

    @property
    def modified_at(self) -> datetime:
        """The last edit as pages, JSON-LD and the sitemap show it (aware, UTC): the stored
        version's time, never before the publish time (an article scheduled ahead was
        written before it appeared); the publish time when unknown."""
        if self.edited_at is None or self.edited_at < self.published_at:
            return self.published_at
        return self.edited_at

    @property
    def description(self) -> str:
        """What search results and link previews show: the summary, else the lead paragraph."""
        text = self.summary or (self.body[0] if self.body else self.title)
        if len(text) <= 160:
            return text
        return text[:157].rsplit(" ", 1)[0] + "…"

    @property
    def category_slug(self) -> str:
        """The category's URL form (`Thời sự` -> `thoi-su`): the by-category index's key."""
        return category_slug(self.category)

    def is_visible(self, now: datetime | None = None) -> bool:
        """Published and not scheduled for later."""
        return self.status == PUBLISHED and self.published_at <= (now or datetime.now(UTC))

    def content_hash(self) -> str:
        # Its fields as asdict() gives them, without asdict's deep copy (a bulk import
        # hashes every article: ~0.1 ms an article less); the JSON is the same.
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        del data["edited_at"]  # the store's bookkeeping, not the article's content
        data["published_at"] = iso(self.published_at)
        if self.category:  # derived, but stored: a change in how it is derived rewrites it
            data["category_slug"] = self.category_slug
        raw = json.dumps(data, ensure_ascii=False, sort_keys=True).encode()
        return hashlib.sha256(raw).hexdigest()[:32]


def category_slug(category: str) -> str:
    """A category's URL form (`Thời sự` -> `thoi-su`; "" for none): the by-category index's
    key, the category page's path and the menu's links."""
    return make_slug(category, max_length=MAX_SLUG_LENGTH) if category else ""


@dataclass(frozen=True)
class Listing:
    articles: list[Article]
    next_cursor: str | None = None
    views: dict[str, int] = field(default_factory=dict)
    page: int | None = 1  # this page's number (1: the newest); None: a cursor without one


def iso(moment: datetime) -> str:
    """UTC, second precision, sortable: the form stored and indexed."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def fields_of(article: Article) -> dict[str, Any]:
    """The article's stored fields as plain values (the import format's names), empty
    optional ones left out."""
    fields: dict[str, Any] = {
        "slug": article.slug,
        "title": article.title,
        "published_at": iso(article.published_at),
        "status": article.status,
        "body": list(article.body),
    }
    for name in ("body_html", "byline", "summary", "category"):
        if getattr(article, name):
            fields[name] = getattr(article, name)
    return fields


def to_item(article: Article) -> dict[str, Any]:
    """The article as a DynamoDB item (low-level attribute values: each field a string,
    `body` a list of strings, as boto3's TypeSerializer writes them, without its per-value
    type dispatch: a bulk import writes every article), with `category_slug` for the sparse
    by-category index."""
    fields = fields_of(article)
    category = article.category_slug
    if category:  # the sparse by-category index holds only these articles
        fields["category_slug"] = category
    return {
        name: {"L": [{"S": p} for p in value]} if name == "body" else {"S": value}
        for name, value in fields.items()
    }


def from_item(item: dict[str, Any]) -> Article:
    def s(name: str) -> str:
        return str(item.get(name, {}).get("S", ""))

    return Article(
        slug=s("slug"),
        title=s("title"),
        published_at=parse_iso(s("published_at")),
        body=tuple(p["S"] for p in item.get("body", {}).get("L", [])),
        byline=s("byline"),
        summary=s("summary"),
        category=s("category"),
        status=s("status") or PUBLISHED,
        body_html=s("body_html"),
        edited_at=_moment_or_none(s("version")),
    )


def _moment_or_none(text: str) -> datetime | None:
    """A stored ISO 8601 time, or None when absent or unreadable."""
    try:
        return parse_iso(text) if text else None
    except ValueError:
        return None


# Per-container article cache: slug -> article, or None for "no such article". An edit made
# elsewhere shows once the entry expires (ARTICLE_CACHE_SECONDS, 30 by default): warm page
# views then read no article at all. A miss (no such article, a draft, a scheduled one) is
# kept at most MISS_SECONDS, so an article published elsewhere shows within seconds.
# Bounded: the least recently used go first.
_cache: Cache[Article | None] = Cache("articles", maxsize=2048)
MISS_SECONDS = 5


def get_article(slug: str) -> Article:
    """The visible article with this slug: from the cache, else one eventually consistent
    GetItem. Visibility (status, scheduled time) is checked on every call."""
    found, article = _cache.get(slug)
    if not found:
        item = stored.get(slug)
        article = from_item(item) if item else None
        ttl = settings().article_cache_seconds
        # Only a visible article is kept long: a draft or a scheduled one may be published
        # elsewhere at any moment, and must then show within seconds.
        visible = article is not None and article.is_visible()
        _cache.put(slug, article, ttl if visible else min(ttl, MISS_SECONDS))
    if article is None or not article.is_visible():
        raise ArticleNotFound(slug)
    return article


def forget(slug: str | None = None) -> None:
    """Drop one cached article (after this process edited it), or all of them."""
    if slug is None:
        _cache.clear()
    else:
        _cache.pop(slug)


MAX_PAGE = 1_000_000  # a page number a cursor may carry


def _encode_cursor(key: dict[str, Any], page: int | None) -> str:
    """The cursor of the page that starts after `key` (an ExclusiveStartKey): URL-safe
    base64 of its JSON, keys sorted, with the page's number when known, so one page has
    one spelling (its canonical URL)."""
    plain: dict[str, Any] = {name: value["S"] for name, value in key.items()}
    if page is not None:
        plain["page"] = page
    text = json.dumps(plain, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode()).decode()


def _page_number(plain: dict[str, Any], cursor: str) -> int | None:
    """The page number a decoded cursor carries (None: none, as cursors issued before page
    numbers had), else BadCursor."""
    page = plain.pop("page", None)
    if page is None:
        return None
    if isinstance(page, bool) or not isinstance(page, int) or not 2 <= page <= MAX_PAGE:
        raise BadCursor(cursor)
    return page


def _decode_cursor(cursor: str, partition: dict[str, str]) -> tuple[dict[str, Any], int | None]:
    """The ExclusiveStartKey a cursor of one index's listing stands for (the article's slug,
    its published_at and `partition`: the index's hash key and the only value it may have
    here) and the number of the page it opens (None: not given), else BadCursor."""
    try:
        plain = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise BadCursor(cursor) from exc
    page = _page_number(plain, cursor) if isinstance(plain, dict) else None
    if (
        not isinstance(plain, dict)
        or set(plain) != {"slug", "published_at", *partition}
        or not all(isinstance(v, str) and 0 < len(v) <= 256 for v in plain.values())
        or any(plain[name] != value for name, value in partition.items())
    ):
        raise BadCursor(cursor)
    try:
        # The listings' key condition is published_at <= now: a start key outside it is
        # refused by DynamoDB (a 503 otherwise), so a forged one is the client's 400.
        if parse_iso(plain["published_at"]) > datetime.now(UTC):
            raise BadCursor(cursor)
    except ValueError as exc:
        raise BadCursor(cursor) from exc
    return {name: {"S": value} for name, value in plain.items()}, page


def _partition(category_slug: str | None) -> dict[str, str]:
    """The index partition a listing reads: a category's, else the published articles'."""
    return {"category_slug": category_slug} if category_slug else {"status": PUBLISHED}


def canonical_cursor(cursor: str, category_slug: str | None = None) -> str:
    """The one spelling of a cursor of the home listing (or of `category_slug`'s): the same
    page, encoded as this service encodes it. BadCursor when it is none of ours."""
    return _encode_cursor(*_decode_cursor(cursor, _partition(category_slug)))


def _listing(
    items: list[dict[str, Any]], next_key: dict[str, Any] | None, page: int | None
) -> Listing:
    return Listing(
        articles=[from_item(item) for item in items],
        next_cursor=_encode_cursor(next_key, page + 1 if page else None) if next_key else None,
        page=page,
    )


def list_published(limit: int, cursor: str | None = None) -> Listing:
    """One page of visible articles, newest first (one Query on the by-published index); its
    next_cursor is None on the last page, and its page number is the cursor's (1 without)."""
    start, page = _decode_cursor(cursor, _partition(None)) if cursor else (None, 1)
    items, last = stored.published_page(PUBLISHED, iso(datetime.now(UTC)), limit, start)
    return _listing(items, last, page)


def list_category(category_slug: str, limit: int, cursor: str | None = None) -> Listing:
    """One page of a category's visible articles, newest first (see
    newsdesk.dal.articles.category_page; scheduled articles fall outside its key condition,
    drafts are filtered), numbered as list_published's."""
    start, page = _decode_cursor(cursor, _partition(category_slug)) if cursor else (None, 1)
    now = iso(datetime.now(UTC))
    items, next_key = stored.category_page(category_slug, PUBLISHED, now, limit, start)
    return _listing(items, next_key, page)


def lastmods(limit: int, page_size: int = 1000) -> list[Article]:
    """Up to `limit` visible articles, newest first, with only what a sitemap needs (slug,
    publish time, category, last edit): Queries of `page_size` (newsdesk.dal.articles)."""
    rows = stored.lastmods(PUBLISHED, iso(datetime.now(UTC)), min(page_size, limit))
    return [from_item(item) for item in itertools.islice(rows, limit)]
