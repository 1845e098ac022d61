"""Editors' writes, shared by the admin API (functions/admin) and the command line: create or
update an article, publish or unpublish it, set its view count with an audit record, list
and export articles; and who may call the admin API.

Who may call. Deployed, every admin route has API Gateway's AWS_IAM authoriser: only
requests signed (SigV4) by a principal allowed `execute-api:Invoke` on them reach the
function. The function still requires the identity API Gateway then puts in
`requestContext.authorizer.iam` (a route deployed without the authoriser refuses everything)
and records its `userArn` as who made the change. Locally there is no IAM: the environment
variable ADMIN_TOKEN enables `Authorization: Bearer <token>`, compared in constant time. No
credentials: 401 with `WWW-Authenticate: Bearer`; a wrong token, or neither IAM nor a token
configured: 403. A refused call reads and writes nothing.

Setting a count. Counted views only ever change by an atomic ADD (newsdesk.counters), so a
count is set through `legacy`, the other addend of the total. One transaction writes
`SET legacy = :base - if_not_exists(views, :zero)` on the counter's first item, where :base
is the target minus what the other shards (COUNTER_SHARDS > 1) hold, together with the audit
item `audit#views#<slug>#<time>` {who, when, old, new}. The total is exactly the target at
that write, whatever views were being added: DynamoDB applies each item's updates one at a
time, so a concurrent ADD lands either before the set (and is replaced by it, like every
earlier view) or after it (and counts on top of the target). No view is lost or counted
twice. `old` is the total read (consistently) just before the write: views counted in the
few milliseconds between that read and the write are replaced by the set but are not in
`old`. The write is conditional on `legacy` being what was read, so a concurrent set-views or
import makes it re-read and retry rather than apply a stale base. With several shards, views
added to the other shards after the read count on top of the target (they are read once).
"""

from __future__ import annotations

import hmac
import os
import random
import time
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from newsdesk import db
from newsdesk.articles import DRAFT, PUBLISHED, STATUSES, Article, forget, from_item, iso
from newsdesk.config import settings
from newsdesk.counters import counter_keys, total_of, views_of
from newsdesk.importer import InvalidArticle, parse_json_article, write
from newsdesk.slugs import MAX_SLUG_LENGTH, clean_slug

# An article's JSON: its text and HTML bodies each fit with room in DynamoDB's 400 KB item.
MAX_BODY_BYTES = 128 * 1024
MAX_VIEWS = 10**12
ATTEMPTS = 5  # optimistic writes (set-views, publish, unpublish) retried on a conflict
ARTICLE_FIELDS = frozenset(
    {
        "slug",
        "title",
        "body",
        "body_html",
        "author",
        "byline",
        "published_at",
        "status",
        "category",
        "summary",
        "updated_at",
        "views",
    }
)
# What the admin API answers for each outcome of writing an article.
HTTP_STATUS = {"created": 201, "updated": 200, "unchanged": 200, "stale": 409}


class AdminError(Exception):
    """A refused admin call; `status` is its HTTP status, the message says why."""

    status = 400


class Invalid(AdminError):
    status = 400


class Unauthorized(AdminError):
    status = 401


class Forbidden(AdminError):
    status = 403


class UnknownArticle(AdminError):
    status = 404


class Conflict(AdminError):
    status = 409


# ---- who is calling ------------------------------------------------------------------------


def caller(request_context: Mapping[str, Any], headers: Mapping[str, str]) -> str:
    """Who makes this admin call (an IAM user or role ARN, or "local-token"), else
    Unauthorized (no credentials) or Forbidden (wrong ones, or none configured)."""
    authorizer = request_context.get("authorizer")
    iam = authorizer.get("iam") if isinstance(authorizer, Mapping) else None
    if isinstance(iam, Mapping) and (iam.get("userArn") or iam.get("callerId")):
        # API Gateway verified the SigV4 signature and the caller's permission.
        return str(iam.get("userArn") or f"{iam.get('accountId')}:{iam.get('callerId')}")
    expected = os.environ.get("ADMIN_TOKEN", "")
    if not expected:
        raise Forbidden(
            "the admin API needs IAM authorisation (AWS_IAM on its routes), or ADMIN_TOKEN "
            "when run locally"
        )
    given = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    scheme, _, credentials = given.strip().partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise Unauthorized("missing credentials: send Authorization: Bearer <ADMIN_TOKEN>")
    if not hmac.compare_digest(credentials.strip().encode(), expected.encode()):
        raise Forbidden("wrong admin token")
    return "local-token"


# ---- articles ------------------------------------------------------------------------------


def valid_slug(raw: str) -> str:
    """The slug exactly as stored (lower-case letters, digits, hyphens), else Invalid."""
    slug = clean_slug(raw)
    if slug is None or slug != raw:
        raise Invalid(
            f"slug {raw[:80]!r} is not lower-case letters, digits and single hyphens (at most "
            f"{MAX_SLUG_LENGTH} characters)"
        )
    return slug


def put_article(raw_slug: str, data: Mapping[str, Any], who: str) -> dict[str, Any]:
    """Create or update the article at `raw_slug` from its JSON (the import format).

    title, body (or body_html), author (or byline), published_at and status are required;
    category, summary and updated_at (the version: an older one than stored is refused as
    'stale') are optional. `views` is the legacy count of a new article; an existing article
    keeps its count (set it with set_views). Outcome: created, updated, unchanged or stale.
    """
    slug = valid_slug(raw_slug)
    unknown = sorted(set(data) - ARTICLE_FIELDS)
    if unknown:
        raise Invalid(f"unknown field(s): {', '.join(unknown)}")
    if data.get("slug") not in (None, slug):
        raise Invalid("the body's slug is not the one in the path")
    missing = [
        name
        for name, present in (
            ("title", data.get("title")),
            ("body", data.get("body") or data.get("body_html")),
            ("author", data.get("author") or data.get("byline")),
            ("published_at", data.get("published_at")),
            ("status", data.get("status")),
        )
        if not present
    ]
    if missing:
        raise Invalid(f"missing field(s): {', '.join(missing)}")
    if data["status"] not in STATUSES:
        raise Invalid(f"'status' must be one of {', '.join(STATUSES)}")
    try:
        parsed = parse_json_article({**data, "slug": slug}, settings().tz)
        parsed.article.content_hash()  # dates that exist locally but not in UTC (year 1)
    except InvalidArticle as exc:
        raise Invalid(str(exc)) from None
    except OverflowError:
        raise Invalid("a date is out of range") from None
    outcome = write(parsed, keep_legacy=True)
    result: dict[str, Any] = {
        "slug": slug,
        "outcome": "created" if outcome == "imported" else outcome,
        "status": parsed.article.status,
        "by": who,
    }
    if outcome == "stale":
        result["message"] = "a newer version of this article is stored (its updated_at is later)"
    return result


def set_status(raw_slug: str, status: str, who: str) -> dict[str, Any]:
    """Publish or unpublish (draft): only the status changes; the text, the count and the
    counter stay. Conditional on the article not changing meanwhile (else re-read, retry)."""
    slug = valid_slug(raw_slug)
    if status not in STATUSES:
        raise Invalid(f"status must be one of {', '.join(STATUSES)}")
    conf = settings()
    client = db.client()
    key = {"slug": {"S": slug}}
    for _ in range(ATTEMPTS):
        item = client.get_item(TableName=conf.articles_table, Key=key, ConsistentRead=True).get(
            "Item"
        )
        if not item:
            raise UnknownArticle(f"no article with slug {slug!r}")
        article = from_item(item)
        if article.status == status:
            return {"slug": slug, "status": status, "outcome": "unchanged", "by": who}
        old_hash = item.get("content_hash", {}).get("S")
        now = iso(datetime.now(UTC))
        # The change is a new version: an import of an older one no longer overwrites it.
        version = max(item.get("version", {}).get("S", ""), now)
        values: dict[str, Any] = {
            ":status": {"S": status},
            ":hash": {"S": replace(article, status=status).content_hash()},
            ":version": {"S": version},
            ":now": {"S": now},
        }
        if old_hash is None:
            condition = "attribute_exists(slug) AND attribute_not_exists(content_hash)"
        else:
            condition = "attribute_exists(slug) AND content_hash = :old"
            values[":old"] = {"S": old_hash}
        try:
            client.update_item(
                TableName=conf.articles_table,
                Key=key,
                UpdateExpression=(
                    "SET #s = :status, content_hash = :hash, version = :version, updated_at = :now"
                ),
                ConditionExpression=condition,
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if not db.condition_failed(exc):
                raise
            _pause()
            continue
        forget(slug)
        outcome = "published" if status == PUBLISHED else "unpublished"
        return {"slug": slug, "status": status, "outcome": outcome, "by": who}
    raise Conflict(f"article {slug!r} kept changing while its status was set; retry")


def publish(raw_slug: str, who: str) -> dict[str, Any]:
    return set_status(raw_slug, PUBLISHED, who)


def unpublish(raw_slug: str, who: str) -> dict[str, Any]:
    return set_status(raw_slug, DRAFT, who)


# ---- view counts ---------------------------------------------------------------------------


def audit_id(slug: str, when: str) -> str:
    return f"audit#views#{slug}#{when}"


def _pause() -> None:
    time.sleep(random.uniform(0.005, 0.05))  # jitter: racing writers do not meet again


def _article_exists(slug: str) -> bool:
    item = db.client().get_item(
        TableName=settings().articles_table,
        Key={"slug": {"S": slug}},
        ProjectionExpression="slug",
        ConsistentRead=True,
    )
    return "Item" in item


def _read_counter(slug: str) -> tuple[dict[str, Any] | None, int]:
    """The first counter item (None when there is none) and the other shards' total, read
    consistently."""
    conf = settings()
    keys = counter_keys(slug)
    request: dict[str, Any] = {conf.counters_table: {"Keys": keys, "ConsistentRead": True}}
    items: list[dict[str, Any]] = []
    for _ in range(10):
        response = db.client().batch_get_item(RequestItems=request)
        items += response.get("Responses", {}).get(conf.counters_table, [])
        request = response.get("UnprocessedKeys") or {}
        if not request:
            break
        _pause()
    else:
        raise Conflict("the counter could not be read (throttled); retry")
    first_id = keys[0]["id"]["S"]
    first = next((item for item in items if item["id"]["S"] == first_id), None)
    others = sum(total_of(item) for item in items if item["id"]["S"] != first_id)
    return first, others


def set_views(raw_slug: str, target: Any, who: str) -> dict[str, Any]:
    """Make the article's displayed total exactly `target`, with an audit record (see the
    module's docstring for what happens to views counted meanwhile)."""
    slug = valid_slug(raw_slug)
    if isinstance(target, bool) or not isinstance(target, int) or not 0 <= target <= MAX_VIEWS:
        raise Invalid(f"'views' must be a whole number from 0 to {MAX_VIEWS}")
    if not _article_exists(slug):
        raise UnknownArticle(f"no article with slug {slug!r}")
    conf = settings()
    client = db.client()
    first_key = counter_keys(slug)[0]
    for _ in range(ATTEMPTS):
        first, others = _read_counter(slug)
        old = total_of(first) + others
        legacy = (first or {}).get("legacy", {}).get("N")
        values: dict[str, Any] = {
            ":base": {"N": str(target - others)},
            ":zero": {"N": "0"},
        }
        if legacy is None:
            unchanged = "attribute_not_exists(legacy)"
        else:
            unchanged = "legacy = :legacy"
            values[":legacy"] = {"N": legacy}
        when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        record = {
            "id": {"S": audit_id(slug, when)},
            "slug": {"S": slug},
            "who": {"S": who},
            "when": {"S": when},
            "old": {"N": str(old)},
            "new": {"N": str(target)},
        }
        try:
            client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": conf.counters_table,
                            "Key": first_key,
                            "UpdateExpression": "SET legacy = :base - if_not_exists(#v, :zero)",
                            "ConditionExpression": unchanged,
                            "ExpressionAttributeNames": {"#v": "views"},
                            "ExpressionAttributeValues": values,
                        }
                    },
                    {
                        "Put": {
                            "TableName": conf.counters_table,
                            "Item": record,
                            "ConditionExpression": "attribute_not_exists(id)",
                        }
                    },
                ]
            )
        except client.exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons", [])
            if not any(r.get("Code") == "ConditionalCheckFailed" for r in reasons):
                raise
            _pause()
            continue
        return {"slug": slug, "views": target, "previous": old, "by": who, "when": when}
    raise Conflict(f"the count of {slug!r} kept being set or imported meanwhile; retry")


# ---- listing and export (the command line) -------------------------------------------------


def _index_rows(status: str | None) -> Iterator[dict[str, Any]]:
    """Every article of one status (or all), newest first per status, from the by-published
    index: a Query per status, no Scan."""
    for wanted in [status] if status else list(STATUSES):
        params: dict[str, Any] = {
            "TableName": settings().articles_table,
            "IndexName": "by-published",
            "KeyConditionExpression": "#s = :status",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":status": {"S": wanted}},
            "ScanIndexForward": False,
        }
        while True:
            response = db.client().query(**params)
            yield from response.get("Items", [])
            last = response.get("LastEvaluatedKey")
            if not last:
                break
            params["ExclusiveStartKey"] = last


def _newest_first(row: Mapping[str, Any]) -> tuple[str, str]:
    return (row["published_at"], row["slug"])


def list_articles(status: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """slug, title, status, published_at (ISO, UTC) and views of each article, newest first."""
    if limit is not None and limit < 0:
        raise Invalid("the limit must be a whole number >= 0")
    rows = [
        {
            "slug": item["slug"]["S"],
            "title": item.get("title", {}).get("S", ""),
            "status": item["status"]["S"],
            "published_at": item["published_at"]["S"],
        }
        for item in _index_rows(status)
    ]
    rows.sort(key=_newest_first, reverse=True)
    rows = rows[:limit] if limit is not None else rows
    totals = views_of([row["slug"] for row in rows])
    return [{**row, "views": totals[row["slug"]]} for row in rows]


def _full_items(slugs: list[str]) -> Iterator[dict[str, Any]]:
    table = settings().articles_table
    for start in range(0, len(slugs), 100):
        keys = [{"slug": {"S": slug}} for slug in slugs[start : start + 100]]
        request: dict[str, Any] = {table: {"Keys": keys}}
        while request:
            response = db.client().batch_get_item(RequestItems=request)
            yield from response.get("Responses", {}).get(table, [])
            request = response.get("UnprocessedKeys") or {}
            if request:
                _pause()


def export_entry(article: Article, version: str, views: int) -> dict[str, Any]:
    """One article in the JSON import format. Importing it back finds it unchanged; into an
    empty site it brings the article with its current total as the legacy count."""
    entry: dict[str, Any] = {
        "slug": article.slug,
        "title": article.title,
        "published_at": iso(article.published_at),
        "status": article.status,
        "body": list(article.body),
    }
    for name in ("body_html", "byline", "summary", "category"):
        if getattr(article, name):
            entry[name] = getattr(article, name)
    if version:
        entry["updated_at"] = version
    entry["views"] = views
    return entry


def export_articles(status: str | None = None) -> list[dict[str, Any]]:
    """Every article (of one status), newest first, in the JSON import format."""
    slugs = [item["slug"]["S"] for item in _index_rows(status)]
    items = {item["slug"]["S"]: item for item in _full_items(slugs)}
    totals = views_of(list(items))
    entries = [
        export_entry(from_item(item), item.get("version", {}).get("S", ""), totals[slug])
        for slug, item in items.items()
    ]
    entries.sort(key=_newest_first, reverse=True)
    return entries
