"""The articles table: every item in it is read and written here.

An item (partition key `slug`) holds the article's fields (newsdesk.articles.to_item), its
`content_hash` (so an unchanged article is never written again), `version` (when this
version was written at its source, ISO 8601 UTC: an older version never overwrites a newer
one), `source` (its source identity, newsdesk.storing: "id:<the source's id>" or
"title:<published_at> <title>"; absent on articles stored before 2026-12), `written_at` and
`created_at` (when newsdesk wrote it; ISO 8601). Indexes:
`by-published` (status, published_at) and the sparse `by-category` (category_slug,
published_at). Functions take and return low-level items; newsdesk.articles turns them into
Article values.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from newsdesk.config import settings
from newsdesk.dal import db
from newsdesk.slugs import routable

# Optional attributes: removed when a new version no longer has them (an emptied summary).
OPTIONAL = ("byline", "summary", "category", "category_slug", "body_html")
# Write only a changed article, and never over a newer version of it.
_CHANGED = (
    "(attribute_not_exists(content_hash) OR content_hash <> :hash) "
    "AND (attribute_not_exists(version) OR version <= :version)"
)
# A source without edit times (a legacy page: its version is its publish time): write a
# changed article, or one whose stored version is not that, whatever is stored.
_CHANGED_UNDATED = (
    "(attribute_not_exists(content_hash) OR content_hash <> :hash OR version <> :version)"
)


def _table() -> str:
    return settings().articles_table


def table_name() -> str:
    """The articles table's name (for a BatchWriteItem put together elsewhere)."""
    return _table()


def _key(slug: str) -> dict[str, Any]:
    return {"slug": {"S": slug}}


# ---- reads ----------------------------------------------------------------------------------


def get(slug: str, consistent: bool = False) -> dict[str, Any] | None:
    """The article's item, or None: one GetItem."""
    response = db.client().get_item(TableName=_table(), Key=_key(slug), ConsistentRead=consistent)
    return response.get("Item")


def version_of(item: dict[str, Any]) -> tuple[str, str | None]:
    """A stored item's version ("" when none) and content hash (None when none)."""
    return db.text(item, "version"), db.text(item, "content_hash") or None


def source_of(item: dict[str, Any]) -> str:
    """A stored item's source identity ("" when stored before identities were)."""
    return db.text(item, "source")


def exists(slug: str) -> bool:
    """Whether an article (of any status) has this slug: one consistent GetItem."""
    response = db.client().get_item(
        TableName=_table(), Key=_key(slug), ProjectionExpression="slug", ConsistentRead=True
    )
    return "Item" in response


@dataclass(frozen=True)
class Slot:
    """What storing an article needs to know of the article already at a slug."""

    slug: str
    source: str  # its source identity ("" when stored before identities were)
    published_at: str  # ISO 8601, UTC
    content_hash: str
    version: str  # ISO 8601, UTC ("" when none)
    source_digest: str = ""  # the digest of the page it was imported from ("" when none)
    article: str = ""  # a source key item's: the slug of the article it names (home_key)


_SLOT = {
    "ProjectionExpression": (
        "slug, #src, published_at, content_hash, version, source_digest, article"
    ),
    "ExpressionAttributeNames": {"#src": "source"},
}


def slot_of(item: dict[str, Any]) -> Slot:
    """The Slot of a stored item (a whole item or one read with the Slot projection)."""
    return Slot(
        db.text(item, "slug"),
        db.text(item, "source"),
        db.text(item, "published_at"),
        db.text(item, "content_hash"),
        db.text(item, "version"),
        db.text(item, "source_digest"),
        db.text(item, "article"),
    )


def slot(slug: str) -> Slot | None:
    """The article at `slug` as storing sees it (None: the slug is free): one consistent
    GetItem."""
    item = (
        db.client()
        .get_item(TableName=_table(), Key=_key(slug), ConsistentRead=True, **_SLOT)
        .get("Item")
    )
    return slot_of(item) if item else None


def slots(slugs: Iterable[str]) -> dict[str, Slot | None]:
    """The article at each of `slugs` (None: free): consistent BatchGetItem, 100 keys per
    request, unprocessed keys retried as a job's (db.JOB_ATTEMPTS)."""
    wanted = list(dict.fromkeys(slugs))
    found: dict[str, Slot | None] = dict.fromkeys(wanted)
    keys = [_key(slug) for slug in wanted]
    for item in db.batch_get(_table(), keys, db.JOB_ATTEMPTS, ConsistentRead=True, **_SLOT):
        found[db.text(item, "slug")] = slot_of(item)
    return found


def _routable(items: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The items whose slug can be a URL (newsdesk.slugs.routable). One that cannot (".",
    "..", "a/b": written by another tool or an old version; the importer and the admin API
    never store one) is left out, with a warning naming it, so no listing, feed or sitemap
    links to a page nobody can reach, and none fails to build its link."""
    for item in items:
        slug = db.text(item, "slug")
        if routable(slug):
            yield item
        else:
            from newsdesk.observability import logger

            logger.warning("an article's slug cannot be a URL: left out", extra={"slug": slug})


def written_times(slugs: list[str]) -> dict[str, str]:
    """When newsdesk last wrote each of these articles (ISO 8601; `updated_at` on items
    written before 2026-11; absent articles left out): consistent BatchGetItem."""
    keys = [_key(slug) for slug in slugs]
    items = db.batch_get(
        _table(),
        keys,
        db.JOB_ATTEMPTS,
        ConsistentRead=True,
        ProjectionExpression="slug, written_at, updated_at",
    )
    return {
        db.text(item, "slug"): max(db.text(item, "written_at"), db.text(item, "updated_at"))
        for item in items
    }


_HEADLINE = {
    "ProjectionExpression": "slug, title, #s, published_at",
    "ExpressionAttributeNames": {"#s": "status"},
}


def headline_request(slugs: list[str]) -> dict[str, dict[str, Any]]:
    """The BatchGetItem RequestItems entry for these articles' slug, title, status and
    published_at, to read them together with other tables' items (db.batch_get_tables)."""
    return {_table(): {"Keys": [_key(slug) for slug in slugs], **_HEADLINE}}


def headlines_in(found: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The headline items in the answer to a headline_request()."""
    return found.get(_table(), [])


def headlines(slugs: list[str]) -> list[dict[str, Any]]:
    """slug, title, status and published_at of these articles (BatchGetItem; the most-read
    job)."""
    items = db.batch_get(_table(), [_key(slug) for slug in slugs], db.JOB_ATTEMPTS, **_HEADLINE)
    return list(_routable(items))


def full_items(slugs: list[str]) -> list[dict[str, Any]]:
    """Whole items of these articles (BatchGetItem; export)."""
    return db.batch_get(_table(), [_key(slug) for slug in slugs], db.JOB_ATTEMPTS)


PAGE_QUERIES = 5  # per page: more than one only when unroutable slugs are left out


def published_page(
    status: str, now: str, limit: int, start: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of articles of `status` published at or before `now` (ISO), newest first,
    and the key to resume after it (None: no more): one Query on by-published.

    The Query asks for one article more than the page. DynamoDB answers a LastEvaluatedKey
    whenever it stops at `Limit`, even when nothing follows ("If LastEvaluatedKey is not
    empty, it does not necessarily mean that there is more data in the result set",
    Developer Guide, Query.Pagination.html; DynamoDB Local 1.25.1 does the same, moto does
    not), so a key taken from that answer led to an empty last page whenever the count was
    a multiple of the page size. A next key is given only when that extra article exists.
    Articles whose slug cannot be a URL are left out (_routable): then another Query takes
    up where the last stopped, up to PAGE_QUERIES.
    """
    params: dict[str, Any] = {
        "TableName": _table(),
        "IndexName": "by-published",
        "KeyConditionExpression": "#s = :status AND published_at <= :now",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":status": {"S": status}, ":now": {"S": now}},
        "ScanIndexForward": False,
    }
    # More than one Query only past articles left out (_routable); the key is by-published's.
    return _page(params, limit, start, PAGE_QUERIES, ("slug", "status", "published_at"))


def _page(
    params: dict[str, Any],
    limit: int,
    start: dict[str, Any] | None,
    queries: int,
    key: tuple[str, ...],
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Up to `limit` items (left out: those _routable drops) of the Query `params` from
    `start`, and the key to resume after them (None: no more): each Query asks for one item
    more than the page still needs, so a key is given only when more exist (see
    published_page), at most `queries` Queries. `key`: the attributes of the index's key,
    to resume after the page's last item; when the Queries ran out (items left out or
    filtered), the key where the last one stopped."""
    items: list[dict[str, Any]] = []
    for _ in range(queries):
        if start:
            params["ExclusiveStartKey"] = start
        params["Limit"] = limit + 1 - len(items)
        response = db.client().query(**params)
        items += _routable(response.get("Items", []))
        start = response.get("LastEvaluatedKey")
        if len(items) > limit or not start:
            break
    page = items[:limit]
    if len(items) > limit:  # resume after the page's last item
        return page, {name: page[-1][name] for name in key}
    return page, start


def lastmods(status: str, now: str, page_size: int = 1000) -> Iterator[dict[str, Any]]:
    """slug, published_at, category and version (the last edit, ISO) of every article of
    `status` published at or before `now`, newest first: Queries of `page_size` items on the
    by-published-lastmod index (keyed like by-published, projecting what a sitemap needs),
    every page, no Scan. Stop iterating to read less. Slugs that cannot be a URL are left
    out (_routable)."""
    rows = db.query(
        Limit=page_size,
        TableName=_table(),
        IndexName="by-published-lastmod",
        KeyConditionExpression="#s = :status AND published_at <= :now",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":status": {"S": status}, ":now": {"S": now}},
        ScanIndexForward=False,
    )
    return _routable(rows)


CATEGORY_QUERIES = 5  # per page: more only when drafts and scheduled articles fill pages


def category_page(
    category_slug: str, status: str, now: str, limit: int, start: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of a category's articles of `status` published at or before `now`, newest
    first, from the sparse by-category index, and the key to resume after it (None: none).

    Other statuses share the index, so status is a filter. Each Query asks for one article
    more than the page still needs, so a next key is given only when more exist; after
    CATEGORY_QUERIES queries of filtered items the page may come out short, with a key to
    go on. Articles whose slug cannot be a URL are left out as filtered ones are (_routable).
    """
    params: dict[str, Any] = {
        "TableName": _table(),
        "IndexName": "by-category",
        "KeyConditionExpression": "category_slug = :category AND published_at <= :now",
        "FilterExpression": "#s = :status",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {
            ":category": {"S": category_slug},
            ":now": {"S": now},
            ":status": {"S": status},
        },
        "ScanIndexForward": False,
    }
    return _page(params, limit, start, CATEGORY_QUERIES, ("slug", "category_slug", "published_at"))


def published_categories(status: str, now: str) -> Iterator[str]:
    """The category ("" when none) of every article of `status` published at or before `now`
    (ISO), newest first: Queries on by-published, whose projection includes category, every
    page, no Scan. It reads the whole index: for the scheduled job (newsdesk.menu)."""
    items = db.query(
        TableName=_table(),
        IndexName="by-published",
        KeyConditionExpression="#s = :status AND published_at <= :now",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":status": {"S": status}, ":now": {"S": now}},
        ProjectionExpression="category",
        ScanIndexForward=False,
    )
    return (db.text(item, "category") for item in items)


def by_status(status: str) -> Iterator[dict[str, Any]]:
    """Index rows (slug, title, status, published_at) of every article of `status`, newest
    first: Queries on by-published, every page, no Scan."""
    return db.query(
        TableName=_table(),
        IndexName="by-published",
        KeyConditionExpression="#s = :status",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":status": {"S": status}},
        ScanIndexForward=False,
    )


# ---- source keys -----------------------------------------------------------------------------

# A source key item: partition key `source#<32 hex digits of SHA-256 of the source identity>`
# (no slug has a "#": newsdesk.slugs), {article: the slug of the article with that identity,
# source: the identity}. It has no status nor category, so no index holds it. It is written in
# the transaction that writes the article, conditional on still naming what was read, so one
# source id names one article, and an article whose title changes at its source (a new slug
# from the title) is found by its id and keeps its URL (newsdesk.storing.place). Chosen over
# a global secondary index on `source`: an index is read eventually consistently only, cannot
# refuse a second article with the same id, and is written on every article write; the key
# item is read in the same consistent BatchGetItem as the slugs, and written only when an
# article is first stored or moves ("All reads from GSIs and streams are eventually
# consistent", Developer Guide, HowItWorks.ReadConsistency.html; a Put with
# attribute_not_exists in a TransactWriteItems is how DynamoDB keeps a value unique).
SOURCE_KEY_PREFIX = "source#"


def home_key(identity: str) -> str:
    """The partition key of the source key item of an article with this source identity."""
    import hashlib

    return SOURCE_KEY_PREFIX + hashlib.sha256(identity.encode()).hexdigest()[:32]


def home_action(identity: str, slug: str, named: str | None) -> dict[str, Any]:
    """The TransactWriteItems action that makes the source key item of `identity` name the
    article at `slug`, conditional on it still naming `named` as read (None: absent)."""
    if named is None:
        condition, values = "attribute_not_exists(slug)", {}
    else:
        condition, values = "article = :named", {":named": {"S": named}}
    return {
        "Put": {
            "TableName": _table(),
            "Item": {
                **_key(home_key(identity)),
                "article": {"S": slug},
                "source": {"S": identity},
            },
            "ConditionExpression": condition,
            **({"ExpressionAttributeValues": values} if values else {}),
        }
    }


# ---- writes ---------------------------------------------------------------------------------


# An item's size as DynamoDB counts it: attribute names plus values, UTF-8 ("Item sizes and
# formats", Developer Guide, CapacityUnitCalculations.html); at most 400 KB ("Item size",
# Developer Guide, ServiceQuotas.html). What write_action adds (hash, version, times, source)
# is kept within ITEM_MARGIN.
MAX_ITEM_BYTES = 400 * 1024
ITEM_MARGIN = 2048


def item_bytes(fields: dict[str, Any]) -> int:
    """The size of an item (low-level attribute values) as DynamoDB counts it, or a little
    more: its JSON's UTF-8 bytes (names and values, plus quotes and type keys). Below
    a quarter of MAX_ITEM_BYTES in characters, a bound is enough (at most 4 UTF-8 bytes a
    character, plus 16 bytes of JSON a value): it is, without encoding the item."""
    chars = sum(len(name) + _chars(value) for name, value in fields.items())
    if 4 * chars < MAX_ITEM_BYTES // 2:
        return 4 * chars
    return len(json.dumps(fields, ensure_ascii=False).encode())


def _chars(value: dict[str, Any]) -> int:
    """An upper bound of a low-level attribute value's JSON characters, less quotes: 16 a
    value, plus its text's characters."""
    ((kind, inner),) = value.items()
    if kind == "L":
        return 16 + sum(_chars(member) for member in inner)
    if kind == "M":
        return 16 + sum(len(name) + _chars(member) for name, member in inner.items())
    return 16 + len(str(inner)) * 2  # escapes (\", \\, \n) at most double a character


# Placing an article at a slug (newsdesk.storing): the slug is free, or holds this article
# (the same source identity), or holds an article stored before identities were, published
# at the same time (the one the legacy importer put there).
_SAME_SOURCE = (
    "(attribute_not_exists(slug) OR #src = :source "
    "OR (attribute_not_exists(#src) AND published_at = :published))"
)


def write_action(
    fields: dict[str, Any],
    digest: str,
    version: str,
    now: str,
    source: str,
    source_digest: str = "",
    *,
    pinned: bool = False,
    undated: bool = False,
) -> dict[str, Any]:
    """The TransactWriteItems action that writes one article version (its item from
    to_item) with its content hash, version and source identity, only if its content
    changed and no newer version is stored. Unless `pinned` (the slug names the article:
    the admin API, a JSON article with a slug and no id), only where the slot holds the
    same source (see _SAME_SOURCE), which the article's write then records; a pinned write
    keeps the source stored. `source_digest` (a legacy page's bytes, newsdesk.importer.Page)
    lets a re-run find the page unchanged unparsed; a write without one removes it.
    Optional attributes the version lacks are removed. `undated`: the source has no edit
    times (see _CHANGED_UNDATED). On a failed
    condition the stored item comes back (ALL_OLD): see write_together."""
    slug = fields["slug"]["S"]
    values = {name: value for name, value in fields.items() if name != "slug"}
    names = {f"#f{i}": name for i, name in enumerate(values)}
    names["#src"] = "source"
    sets = [f"#f{i} = :f{i}" for i in range(len(values))]
    update = "SET " + ", ".join(
        [
            *sets,
            "content_hash = :hash",
            "version = :version",
            "written_at = :now",
            "created_at = if_not_exists(created_at, :now)",
            "#src = if_not_exists(#src, :source)" if pinned else "#src = :source",
            *(["source_digest = :digest"] if source_digest else []),
        ]
    )
    # updated_at: what written_at was called before 2026-11; removed as each item is written.
    gone = [*(name for name in OPTIONAL if name not in values), "updated_at"]
    if not source_digest:
        gone.append("source_digest")
    update += " REMOVE " + ", ".join(gone)
    attribute_values = {
        **{f":f{i}": value for i, value in enumerate(values.values())},
        ":hash": {"S": digest},
        ":now": {"S": now},
        ":version": {"S": version},
        ":source": {"S": source},
    }
    if source_digest:
        attribute_values[":digest"] = {"S": source_digest}
    condition = _CHANGED_UNDATED if undated else _CHANGED
    if not pinned:
        condition = f"{_SAME_SOURCE} AND {condition}"
        attribute_values[":published"] = fields["published_at"]
    return {
        "Update": {
            "TableName": _table(),
            "Key": _key(slug),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": attribute_values,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def new_item(
    fields: dict[str, Any],
    digest: str,
    version: str,
    now: str,
    source: str,
    source_digest: str = "",
) -> dict[str, Any]:
    """The whole item write_action() makes of an article where no item is (its item from
    to_item, content hash, version, times, source identity), for a BatchWriteItem Put."""
    item = {
        **fields,
        "content_hash": {"S": digest},
        "version": {"S": version},
        "written_at": {"S": now},
        "created_at": {"S": now},
        "source": {"S": source},
    }
    if source_digest:
        item["source_digest"] = {"S": source_digest}
    return item


def home_item(identity: str, slug: str) -> dict[str, Any]:
    """The source key item home_action() writes, as an item for a BatchWriteItem Put."""
    return {**_key(home_key(identity)), "article": {"S": slug}, "source": {"S": identity}}


# BatchWriteItem: "up to 25 item put or delete operations" per call; the ones DynamoDB did
# not process come back in UnprocessedItems, to be sent again: "we strongly recommend that
# you use an exponential backoff algorithm" (DynamoDB API Reference, BatchWriteItem). boto3's
# client has no paginator nor retry for them (botocore retries throttled calls, not
# unprocessed items), so put_all() does.
BATCH_WRITE_LIMIT = 25


class UnprocessedItemsError(RuntimeError):
    """Some puts of a BatchWriteItem stayed unprocessed after every retry."""


def put_all(puts: list[tuple[str, dict[str, Any]]], attempts: int = db.JOB_ATTEMPTS) -> None:
    """Put every (table, item) by BatchWriteItem, BATCH_WRITE_LIMIT per call (no item twice),
    unprocessed ones sent again after db.backoff (full jitter, capped), at most `attempts`
    calls per chunk. Unconditional: for items the caller has read and found absent. Raises
    UnprocessedItemsError when some stay unprocessed, ClientError when the store fails."""
    for start in range(0, len(puts), BATCH_WRITE_LIMIT):
        pending: dict[str, list[dict[str, Any]]] = {}
        for table, item in puts[start : start + BATCH_WRITE_LIMIT]:
            pending.setdefault(table, []).append({"PutRequest": {"Item": item}})
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                db.backoff(attempt - 1)
            pending = db.client().batch_write_item(RequestItems=pending).get("UnprocessedItems")
            if not pending:
                break
        else:
            left = sum(len(requests) for requests in pending.values())
            raise UnprocessedItemsError(f"{left} put(s) unprocessed after {attempts} calls")


def write_together(actions: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]] | None:
    """Run `actions` (write_action()s and the counters' actions of the same articles) as one
    TransactWriteItems: all applied or none. None when written; else, when a condition
    refused it, each action's reason code ("None", "ConditionalCheckFailed") and the item it
    returned ({} without ALL_OLD), in order. Conflicts are retried (db.transact_write)."""
    cancelled = db.transact_write(actions)
    if cancelled is None:
        return None
    return list(zip(cancelled.codes, cancelled.items, strict=False))


def set_status(
    slug: str, status: str, digest: str, version: str, now: str, old_hash: str | None
) -> bool:
    """Change only the status (with the new content hash and version), if the article is
    still the one read (its content hash `old_hash`). False when it changed meanwhile."""
    values: dict[str, Any] = {
        ":status": {"S": status},
        ":hash": {"S": digest},
        ":version": {"S": version},
        ":now": {"S": now},
    }
    if old_hash is None:
        condition = "attribute_exists(slug) AND attribute_not_exists(content_hash)"
    else:
        condition = "attribute_exists(slug) AND content_hash = :old"
        values[":old"] = {"S": old_hash}
    return db.conditional_update(
        TableName=_table(),
        Key=_key(slug),
        UpdateExpression=(
            "SET #s = :status, content_hash = :hash, version = :version, written_at = :now "
            "REMOVE updated_at"
        ),
        ConditionExpression=condition,
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues=values,
    )
