"""The articles table: every item in it is read and written here.

An item (partition key `slug`) holds the article's fields (newsdesk.articles.to_item), its
`content_hash` (so an unchanged article is never written again), `version` (when this
version was written at its source, ISO 8601 UTC: an older version never overwrites a newer
one), `written_at` and `created_at` (when newsdesk wrote it; ISO 8601). Indexes:
`by-published` (status, published_at) and the sparse `by-category` (category_slug,
published_at). Functions take and return low-level items; newsdesk.articles turns them into
Article values.
"""

from __future__ import annotations

from collections.abc import Iterator
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


def exists(slug: str) -> bool:
    """Whether an article (of any status) has this slug: one consistent GetItem."""
    response = db.client().get_item(
        TableName=_table(), Key=_key(slug), ProjectionExpression="slug", ConsistentRead=True
    )
    return "Item" in response


def stored_hash(slug: str) -> str | None:
    """The stored version's content hash (None: no such article)."""
    response = db.client().get_item(
        TableName=_table(), Key=_key(slug), ProjectionExpression="content_hash"
    )
    return db.text(response.get("Item"), "content_hash") or None


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
    and the key to resume after it (None: no more): one Query on by-published."""
    params: dict[str, Any] = {
        "TableName": _table(),
        "IndexName": "by-published",
        "KeyConditionExpression": "#s = :status AND published_at <= :now",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":status": {"S": status}, ":now": {"S": now}},
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if start:
        params["ExclusiveStartKey"] = start
    response = db.client().query(**params)
    return response.get("Items", []), response.get("LastEvaluatedKey")


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


def write_version(
    fields: dict[str, Any],
    digest: str,
    version: str,
    now: str,
    with_action: dict[str, Any] | None,
) -> str | None:
    """Write one article version (its item from to_item) in one transaction with
    `with_action` (the counter's legacy count, if any), only if its content changed and no newer
    version is stored. None when written; else the stored content hash (equal to `digest`:
    unchanged; another: a newer version is stored). Optional attributes the version lacks
    are removed."""
    slug = fields["slug"]["S"]
    values = {name: value for name, value in fields.items() if name != "slug"}
    names = {f"#f{i}": name for i, name in enumerate(values)}
    sets = [f"#f{i} = :f{i}" for i in range(len(values))]
    update = "SET " + ", ".join(
        [
            *sets,
            "content_hash = :hash",
            "version = :version",
            "written_at = :now",
            "created_at = if_not_exists(created_at, :now)",
        ]
    )
    # updated_at: what written_at was called before 2026-11; removed as each item is written.
    gone = [*(name for name in OPTIONAL if name not in values), "updated_at"]
    update += " REMOVE " + ", ".join(gone)
    cancelled = db.transact_write(
        [
            {
                "Update": {
                    "TableName": _table(),
                    "Key": _key(slug),
                    "UpdateExpression": update,
                    "ConditionExpression": _CHANGED,
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": {
                        **{f":f{i}": value for i, value in enumerate(values.values())},
                        ":hash": {"S": digest},
                        ":now": {"S": now},
                        ":version": {"S": version},
                    },
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            *([with_action] if with_action is not None else []),
        ]
    )
    if cancelled is None:
        return None
    if cancelled.codes[0] != "ConditionalCheckFailed":
        raise RuntimeError(f"a write of {slug!r} was refused by {cancelled.codes}")
    return db.text(cancelled.items[0], "content_hash")


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
