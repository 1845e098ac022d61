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

from botocore.exceptions import ClientError

from newsdesk.config import settings
from newsdesk.dal import db

# Optional attributes: removed when a new version no longer has them (an emptied summary).
OPTIONAL = ("byline", "summary", "category", "category_slug", "body_html")
# Write only a changed article, and never over a newer version of it.
_CHANGED = (
    "(attribute_not_exists(content_hash) OR content_hash <> :hash) "
    "AND (attribute_not_exists(version) OR version <= :version)"
)


def _table() -> str:
    return settings().articles_table


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


_SLOT = {
    "ProjectionExpression": "slug, #src, published_at, content_hash, version, source_digest",
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
    return db.batch_get(_table(), [_key(slug) for slug in slugs], db.JOB_ATTEMPTS, **_HEADLINE)


def full_items(slugs: list[str]) -> list[dict[str, Any]]:
    """Whole items of these articles (BatchGetItem; export)."""
    return db.batch_get(_table(), [_key(slug) for slug in slugs], db.JOB_ATTEMPTS)


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
    """
    params: dict[str, Any] = {
        "TableName": _table(),
        "IndexName": "by-published",
        "KeyConditionExpression": "#s = :status AND published_at <= :now",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":status": {"S": status}, ":now": {"S": now}},
        "ScanIndexForward": False,
        "Limit": limit + 1,
    }
    if start:
        params["ExclusiveStartKey"] = start
    items = db.client().query(**params).get("Items", [])
    page = items[:limit]
    if len(items) > limit:  # resume after the page's last article (the index's key)
        return page, {name: page[-1][name] for name in ("slug", "status", "published_at")}
    return page, None


def lastmods(status: str, now: str, page_size: int = 1000) -> Iterator[dict[str, Any]]:
    """slug, published_at, category and version (the last edit, ISO) of every article of
    `status` published at or before `now`, newest first: Queries of `page_size` items on the
    by-published-lastmod index (keyed like by-published, projecting what a sitemap needs),
    every page, no Scan. Stop iterating to read less."""
    return db.query(
        Limit=page_size,
        TableName=_table(),
        IndexName="by-published-lastmod",
        KeyConditionExpression="#s = :status AND published_at <= :now",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":status": {"S": status}, ":now": {"S": now}},
        ScanIndexForward=False,
    )


CATEGORY_QUERIES = 5  # per page: more only when drafts and scheduled articles fill pages


def category_page(
    category_slug: str, status: str, now: str, limit: int, start: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of a category's articles of `status` published at or before `now`, newest
    first, from the sparse by-category index, and the key to resume after it (None: none).

    Other statuses share the index, so status is a filter. Each Query asks for one article
    more than the page still needs, so a next key is given only when more exist; after
    CATEGORY_QUERIES queries of filtered items the page may come out short, with a key to
    go on.
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
    found: list[dict[str, Any]] = []
    for _ in range(CATEGORY_QUERIES):
        if start:
            params["ExclusiveStartKey"] = start
        params["Limit"] = limit + 1 - len(found)
        response = db.client().query(**params)
        found += response.get("Items", [])
        start = response.get("LastEvaluatedKey")
        if len(found) > limit or not start:
            break
    page = found[:limit]
    if len(found) > limit:  # resume after the page's last article
        return page, {name: page[-1][name] for name in ("slug", "category_slug", "published_at")}
    return page, start  # a run of filtered items: resume where the last query stopped


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


# ---- writes ---------------------------------------------------------------------------------


# An item's size as DynamoDB counts it: attribute names plus values, UTF-8 ("Item sizes and
# formats", Developer Guide, CapacityUnitCalculations.html); at most 400 KB ("Item size",
# Developer Guide, ServiceQuotas.html). What write_action adds (hash, version, times, source)
# is kept within ITEM_MARGIN.
MAX_ITEM_BYTES = 400 * 1024
ITEM_MARGIN = 2048


def item_bytes(fields: dict[str, Any]) -> int:
    """The size of an item (low-level attribute values) as DynamoDB counts it, or a little
    more: its JSON's UTF-8 bytes (names and values, plus quotes and type keys)."""
    return len(json.dumps(fields, ensure_ascii=False).encode())


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
) -> dict[str, Any]:
    """The TransactWriteItems action that writes one article version (its item from
    to_item) with its content hash, version and source identity, only if its content
    changed and no newer version is stored. Unless `pinned` (the slug names the article:
    the admin API, a JSON article with a slug and no id), only where the slot holds the
    same source (see _SAME_SOURCE), which the article's write then records; a pinned write
    keeps the source stored. `source_digest` (a legacy page's bytes, newsdesk.importer.Page)
    lets a re-run find the page unchanged unparsed; a write without one removes it.
    Optional attributes the version lacks are removed. On a failed
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
    condition = _CHANGED
    if not pinned:
        condition = f"{_SAME_SOURCE} AND {_CHANGED}"
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
    try:
        db.client().update_item(
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
    except ClientError as exc:
        if not db.condition_failed(exc):
            raise
        return False
    return True
