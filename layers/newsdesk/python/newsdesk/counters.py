"""View counters: one small item per article in the counters table, apart from the article.

An item is `{id: "views#<slug>", views: N, legacy: L}`. `views` only ever changes by an
atomic `ADD`; `legacy` is the count imported from the old CMS. The count a reader sees
is `legacy + views`, so re-importing an article never resets or re-adds what was counted.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from newsdesk import db
from newsdesk.config import settings


def counter_key(slug: str) -> dict[str, Any]:
    return {"id": {"S": f"views#{slug}"}}


def total_of(item: dict[str, Any] | None) -> int:
    if not item:
        return 0
    return int(item.get("views", {}).get("N", "0")) + int(item.get("legacy", {}).get("N", "0"))


def count_view(slug: str) -> int:
    """Add one view atomically (one UpdateItem, one write unit) and return the new total."""
    response = db.client().update_item(
        TableName=settings().counters_table,
        Key=counter_key(slug),
        UpdateExpression="ADD #v :one",
        ExpressionAttributeNames={"#v": "views"},
        ExpressionAttributeValues={":one": {"N": "1"}},
        ReturnValues="ALL_NEW",
    )
    return total_of(response.get("Attributes"))


def views_of(slugs: Iterable[str]) -> dict[str, int]:
    """Current totals of up to 100 articles in one BatchGetItem (missing counters are 0)."""
    wanted = list(dict.fromkeys(slugs))
    if not wanted:
        return {}
    table = settings().counters_table
    request: dict[str, Any] = {table: {"Keys": [counter_key(s) for s in wanted]}}
    found: dict[str, int] = {}
    for _ in range(3):  # unprocessed keys are rare; retry them a bounded number of times
        response = db.client().batch_get_item(RequestItems=request)
        for item in response.get("Responses", {}).get(table, []):
            found[item["id"]["S"].removeprefix("views#")] = total_of(item)
        request = response.get("UnprocessedKeys") or {}
        if not request:
            break
    return {slug: found.get(slug, 0) for slug in wanted}


def first_view_in_window(visitor: str, slug: str, window_seconds: int) -> bool:
    """True, and marks it, when `visitor` has not viewed `slug` within the window.

    One conditional PutItem on a small marker item that TTL removes later; an expired
    marker that TTL has not deleted yet is overwritten (the condition checks the time).
    """
    now = int(time.time())
    try:
        db.client().put_item(
            TableName=settings().counters_table,
            Item={
                "id": {"S": f"seen#{visitor}#{slug}"},
                "expires_at": {"N": str(now + window_seconds)},
            },
            ConditionExpression="attribute_not_exists(id) OR expires_at <= :now",
            ExpressionAttributeValues={":now": {"N": str(now)}},
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True
