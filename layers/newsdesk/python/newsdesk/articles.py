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

PUBLISHED = "published"
DRAFT = "draft"
STATUSES = (PUBLISHED, DRAFT)


class ArticleNotFound(LookupError):
    """No published article has this slug."""


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

    def is_visible(self, now: datetime | None = None) -> bool:
        """Published and not scheduled for later."""
        return self.status == PUBLISHED and self.published_at <= (now or datetime.now(UTC))

    def content_hash(self) -> str:
        data = asdict(self)
        data["published_at"] = iso(self.published_at)
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


def _decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        plain = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise BadCursor(cursor) from exc
    if (
        not isinstance(plain, dict)
        or set(plain) != {"slug", "status", "published_at"}
        or not all(isinstance(v, str) and 0 < len(v) <= 256 for v in plain.values())
        or plain["status"] != PUBLISHED
    ):
        raise BadCursor(cursor)
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
        params["ExclusiveStartKey"] = _decode_cursor(cursor)
    response = db.client().query(**params)
    last = response.get("LastEvaluatedKey")
    return Listing(
        articles=[from_item(item) for item in response.get("Items", [])],
        next_cursor=_encode_cursor(last) if last else None,
    )
