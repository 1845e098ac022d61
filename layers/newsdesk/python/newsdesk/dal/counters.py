"""View counters: one small item per article in the counters table, apart from the article.

An item is `{id: "views#<slug>", views: N, legacy: L}`. `views` only ever changes by an
atomic `ADD`; `legacy` is the count imported from the old CMS. The count a reader sees
is `legacy + views`, so re-importing an article never resets or re-adds what was counted.

Per-day buckets: the same UpdateItem also ADDs to a top-level attribute named for the day
in the site's time zone (`d20181127`), so daily views for the "most read" lists and the
stats chart cost no extra write. The most-read job removes buckets older than KEEP_DAYS,
off the page's path, so the item stays well under 1 KB (one write unit).

Hot articles: with COUNTER_SHARDS = K > 1, a view is added to one of K items picked at
random (`views#<slug>` and `views#<slug>#1` .. `#K-1`), so an article takes K times the
~1,000 writes/s one DynamoDB partition accepts; every read sums all K exactly (one
BatchGetItem) and the legacy count stays on the first. Raise K only: views in shards above
a lowered K would no longer be read.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from botocore.exceptions import ClientError

from newsdesk import db
from newsdesk.config import settings

VIEWS_KIND = "views"  # `kind` of counter items: the by-kind index lists every article's counter
KEEP_DAYS = 36  # per-day buckets kept on each counter (the stats chart shows 30)


def day_attribute(day: date) -> str:
    """The counter item's attribute holding one day's views (site time zone): d20181127."""
    return f"d{day:%Y%m%d}"


def counter_key(slug: str, shard: int = 0) -> dict[str, Any]:
    return {"id": {"S": f"views#{slug}#{shard}" if shard else f"views#{slug}"}}


def counter_keys(slug: str) -> list[dict[str, Any]]:
    """Every shard's key of one article's counter."""
    return [counter_key(slug, shard) for shard in range(settings().counter_shards)]


def slug_of(counter_id: str) -> str:
    return counter_id.removeprefix("views#").split("#", 1)[0]


def total_of(item: dict[str, Any] | None) -> int:
    if not item:
        return 0
    return int(item.get("views", {}).get("N", "0")) + int(item.get("legacy", {}).get("N", "0"))


def count_view(slug: str) -> int:
    """Add one view atomically (one UpdateItem, one write unit) and return the new total
    (sharded counters: plus one BatchGetItem to sum the shards)."""
    conf = settings()
    shards = conf.counter_shards
    shard = random.randrange(shards) if shards > 1 else 0
    today = datetime.now(conf.tz).date()
    response = db.client().update_item(
        TableName=conf.counters_table,
        Key=counter_key(slug, shard),
        UpdateExpression="ADD #v :one, #day :one SET #kind = if_not_exists(#kind, :kind)",
        ExpressionAttributeNames={"#v": "views", "#day": day_attribute(today), "#kind": "kind"},
        ExpressionAttributeValues={":one": {"N": "1"}, ":kind": {"S": VIEWS_KIND}},
        ReturnValues="ALL_NEW",
    )
    if shards > 1:
        return views_of([slug])[slug]
    return total_of(response.get("Attributes"))


def views_of(slugs: Iterable[str]) -> dict[str, int]:
    """Current totals (all shards summed; missing counters are 0), 100 keys per BatchGetItem:
    one request for a listing page of unsharded counters."""
    wanted = list(dict.fromkeys(slugs))
    keys = [key for slug in wanted for key in counter_keys(slug)]
    table = settings().counters_table
    totals = dict.fromkeys(wanted, 0)
    for start in range(0, len(keys), 100):
        request: dict[str, Any] = {table: {"Keys": keys[start : start + 100]}}
        for _ in range(3):  # unprocessed keys are rare; retry them a bounded number of times
            response = db.client().batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(table, []):
                totals[slug_of(item["id"]["S"])] += total_of(item)
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
    return totals


def forget_view(visitor: str, slug: str) -> None:
    """Remove the repeat-view marker of a view that could not be counted."""
    db.client().delete_item(
        TableName=settings().counters_table, Key={"id": {"S": f"seen#{visitor}#{slug}"}}
    )


def first_view_in_window(visitor: str, slug: str, window_seconds: int) -> bool:
    """True, and marks it, when `visitor` has not viewed `slug` within the window.

    One conditional PutItem on a small marker item that TTL removes later; an expired
    marker that TTL has not deleted yet is overwritten (the condition checks the time, in
    milliseconds: whole seconds would let a view just after a second boundary through).
    """
    now_ms = int(time.time() * 1000)
    until_ms = now_ms + window_seconds * 1000
    try:
        db.client().put_item(
            TableName=settings().counters_table,
            Item={
                "id": {"S": f"seen#{visitor}#{slug}"},
                "until": {"N": str(until_ms)},
                "expires_at": {"N": str(until_ms // 1000 + 1)},  # TTL wants seconds
            },
            ConditionExpression="attribute_not_exists(id) OR #until <= :now",
            ExpressionAttributeNames={"#until": "until"},
            ExpressionAttributeValues={":now": {"N": str(now_ms)}},
        )
    except ClientError as exc:
        if db.condition_failed(exc):
            return False
        raise
    return True
