"""Articles: the model and its DynamoDB access (articles table and its by-published index)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from newsdesk import db
from newsdesk.config import settings
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
        return make_slug(self.category, max_length=MAX_SLUG_LENGTH) if self.category else ""

    def is_visible(self, now: datetime | None = None) -> bool:
        """Published and not scheduled for later."""
        return self.status == PUBLISHED and self.published_at <= (now or datetime.now(UTC))

    def content_hash(self) -> str:
        data = asdict(self)
        data["published_at"] = iso(self.published_at)
        if self.category:  # derived, but stored: a change in how it is derived rewrites it
            data["category_slug"] = self.category_slug
        raw = json.dumps(data, ensure_ascii=False, sort_keys=True).encode()
        return hashlib.sha256(raw).hexdigest()[:32]


@dataclass(frozen=True)
class Listing:
    articles: list[Article]
    next_cursor: str | None = None
    views: dict[str, int] = field(default_factory=dict)


def iso(moment: datetime) -> str:
    """UTC, second precision, sortable: the form stored and indexed."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def to_item(article: Article) -> dict[str, Any]:
    item: dict[str, Any] = {
        "slug": {"S": article.slug},
        "title": {"S": article.title},
        "published_at": {"S": iso(article.published_at)},
        "status": {"S": article.status},
        "body": {"L": [{"S": p} for p in article.body]},
    }
    for name in ("byline", "summary", "category", "body_html"):
        value = getattr(article, name)
        if value:
            item[name] = {"S": value}
    if article.category_slug:  # the sparse by-category index holds only these articles
        item["category_slug"] = {"S": article.category_slug}
    return item


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
    )


# Per-container article cache: slug -> (monotonic expiry, article or None for "no such
# article"). An edit made elsewhere shows once the entry expires (ARTICLE_CACHE_SECONDS,
# 30 by default): warm page views then read no article at all. Bounded, so a flood of
# unknown slugs cannot grow it without limit.
_cache: dict[str, tuple[float, Article | None]] = {}
_CACHE_LIMIT = 2048


def get_article(slug: str) -> Article:
    """The visible article with this slug: from the cache, else one eventually consistent
    GetItem. Visibility (status, scheduled time) is checked on every call."""
    now = time.monotonic()
    hit = _cache.get(slug)
    if hit is not None and hit[0] > now:
        article = hit[1]
    else:
        response = db.client().get_item(
            TableName=settings().articles_table, Key={"slug": {"S": slug}}
        )
        item = response.get("Item")
        article = from_item(item) if item else None
        ttl = settings().article_cache_seconds
        if ttl:
            if len(_cache) >= _CACHE_LIMIT:
                _cache.clear()
            _cache[slug] = (now + ttl, article)
    if article is None or not article.is_visible():
        raise ArticleNotFound(slug)
    return article


def forget(slug: str | None = None) -> None:
    """Drop one cached article (after this process edited it), or all of them."""
    if slug is None:
        _cache.clear()
    else:
        _cache.pop(slug, None)


def _encode_cursor(key: dict[str, Any]) -> str:
    plain = {name: value["S"] for name, value in key.items()}
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode()


def _decode_cursor(cursor: str, partition: dict[str, str]) -> dict[str, Any]:
    """The ExclusiveStartKey a cursor of one index's listing stands for: the article's slug,
    its published_at and `partition` (the index's hash key and the only value it may have
    here), else BadCursor."""
    try:
        plain = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise BadCursor(cursor) from exc
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
    return {name: {"S": value} for name, value in plain.items()}


def list_published(limit: int, cursor: str | None = None) -> Listing:
    """One page of visible articles, newest first (one Query on the by-published index)."""
    params: dict[str, Any] = {
        "TableName": settings().articles_table,
        "IndexName": "by-published",
        "KeyConditionExpression": "#s = :published AND published_at <= :now",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {
            ":published": {"S": PUBLISHED},
            ":now": {"S": iso(datetime.now(UTC))},
        },
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if cursor:
        params["ExclusiveStartKey"] = _decode_cursor(cursor, {"status": PUBLISHED})
    response = db.client().query(**params)
    last = response.get("LastEvaluatedKey")
    return Listing(
        articles=[from_item(item) for item in response.get("Items", [])],
        next_cursor=_encode_cursor(last) if last else None,
    )


_CATEGORY_QUERIES = 5  # per page: more only when drafts and scheduled articles fill pages


def list_category(category_slug: str, limit: int, cursor: str | None = None) -> Listing:
    """One page of a category's visible articles, newest first, from the sparse by-category
    index (only articles with a category are in it).

    Scheduled articles fall outside the key condition (published_at <= now); drafts share
    the index, so status is a filter. Each Query asks for one article more than the page
    still needs, so an older page is linked only when it exists; after _CATEGORY_QUERIES
    queries of filtered drafts the page may come out short, with a cursor to go on.
    """
    now = iso(datetime.now(UTC))
    params: dict[str, Any] = {
        "TableName": settings().articles_table,
        "IndexName": "by-category",
        "KeyConditionExpression": "category_slug = :category AND published_at <= :now",
        "FilterExpression": "#s = :published",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {
            ":category": {"S": category_slug},
            ":now": {"S": now},
            ":published": {"S": PUBLISHED},
        },
        "ScanIndexForward": False,
    }
    start = _decode_cursor(cursor, {"category_slug": category_slug}) if cursor else None
    found: list[dict[str, Any]] = []
    for _ in range(_CATEGORY_QUERIES):
        if start:
            params["ExclusiveStartKey"] = start
        params["Limit"] = limit + 1 - len(found)
        response = db.client().query(**params)
        found += response.get("Items", [])
        start = response.get("LastEvaluatedKey")
        if len(found) > limit or not start:
            break
    page = found[:limit]
    next_key = None
    if len(found) > limit:  # resume after the page's last article
        next_key = {name: page[-1][name] for name in ("slug", "category_slug", "published_at")}
    elif start:  # gave up on a run of drafts: resume where the last query stopped
        next_key = start
    return Listing(
        articles=[from_item(item) for item in page],
        next_cursor=_encode_cursor(next_key) if next_key else None,
    )
