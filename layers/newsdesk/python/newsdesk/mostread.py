"""Most read ("Đọc nhiều nhất"): today, this week and all time.

Ranking every article on every page view would mean reading every counter each time.
Instead a scheduled function (MostReadFunction, every 5 minutes) reads the counters once
(and drops their day buckets older than KEEP_DAYS):
the KEYS_ONLY index `by-kind` lists every counter item, BatchGetItem reads them (their
per-day buckets, see `counters`), and the top lists, titles included, go into one small
item `mostread`. Pages read that item through a per-container cache (60 s): no scan and
at most one GetItem per container per minute, whatever the traffic.
"""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from newsdesk import db
from newsdesk.articles import from_item, iso
from newsdesk.config import settings
from newsdesk.counters import KEEP_DAYS, VIEWS_KIND, day_attribute, slug_of, total_of

TOP = 5
CACHE_SECONDS = 60
MOSTREAD_KEY = {"id": {"S": "mostread"}}
PERIODS = ("today", "week", "all")

_lock = threading.Lock()
_cache: tuple[float, dict[str, list[dict[str, Any]]] | None] | None = None


def _counter_ids() -> list[str]:
    params: dict[str, Any] = {
        "TableName": settings().counters_table,
        "IndexName": "by-kind",
        "KeyConditionExpression": "#k = :views",
        "ExpressionAttributeNames": {"#k": "kind"},
        "ExpressionAttributeValues": {":views": {"S": VIEWS_KIND}},
    }
    ids: list[str] = []
    while True:
        page = db.client().query(**params)
        ids += [item["id"]["S"] for item in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            return ids
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _batch_get(table: str, keys: list[dict[str, Any]], **extra: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for start in range(0, len(keys), 100):
        request: dict[str, Any] = {table: {"Keys": keys[start : start + 100], **extra}}
        while request:
            response = db.client().batch_get_item(RequestItems=request)
            items += response.get("Responses", {}).get(table, [])
            request = response.get("UnprocessedKeys") or {}
    return items


_DAY = re.compile(r"d[0-9]{8}")


def _remove(counter_id: str, names: list[str]) -> None:
    placeholders = {f"#d{i}": name for i, name in enumerate(names)}
    db.client().update_item(
        TableName=settings().counters_table,
        Key={"id": {"S": counter_id}},
        UpdateExpression="REMOVE " + ", ".join(placeholders),
        ExpressionAttributeNames=placeholders,
    )


def refresh(now: datetime | None = None) -> dict[str, list[dict[str, Any]]]:
    """Recompute the lists from every counter and store them (the scheduled job)."""
    conf = settings()
    now = now or datetime.now(UTC)
    today = now.astimezone(conf.tz).date()
    week = [day_attribute(today - timedelta(days=i)) for i in range(7)]
    sums: dict[str, dict[str, int]] = {}
    keys = [{"id": {"S": counter_id}} for counter_id in _counter_ids()]
    oldest = day_attribute(today - timedelta(days=KEEP_DAYS - 1))
    for item in _batch_get(conf.counters_table, keys):
        expired = [name for name in item if _DAY.fullmatch(name) and name < oldest]
        if expired:  # housekeeping off the page's path: buckets past KEEP_DAYS go
            _remove(item["id"]["S"], expired)
        slug = slug_of(item["id"]["S"])
        entry = sums.setdefault(slug, dict.fromkeys(PERIODS, 0))
        entry["today"] += int(item.get(week[0], {}).get("N", "0"))
        entry["week"] += sum(int(item.get(day, {}).get("N", "0")) for day in week)
        entry["all"] += total_of(item)
    # A few more than shown per list, in case some turn out unpublished or scheduled.
    candidates = {slug for period in PERIODS for slug in _leaders(sums, period, 3 * TOP)}
    visible = {}
    for item in _batch_get(
        conf.articles_table,
        [{"slug": {"S": slug}} for slug in sorted(candidates)],
        ProjectionExpression="slug, title, #s, published_at",
        ExpressionAttributeNames={"#s": "status"},
    ):
        article = from_item(item)
        if article.is_visible(now):
            visible[article.slug] = article.title
    lists = {period: _top(sums, visible, period) for period in PERIODS}
    db.client().put_item(
        TableName=conf.counters_table,
        Item={
            **MOSTREAD_KEY,
            "lists": {"S": json.dumps(lists, ensure_ascii=False)},
            "computed_at": {"S": iso(now)},
        },
    )
    forget()
    return lists


def _leaders(sums: dict[str, dict[str, int]], period: str, n: int) -> list[str]:
    ranked = sorted(sums, key=lambda slug: -sums[slug][period])
    return [slug for slug in ranked[:n] if sums[slug][period] > 0]


def _top(
    sums: dict[str, dict[str, int]], titles: dict[str, str], period: str
) -> list[dict[str, Any]]:
    ranked = sorted(titles, key=lambda slug: (-sums[slug][period], slug))
    return [
        {"slug": slug, "title": titles[slug], "views": sums[slug][period]}
        for slug in ranked
        if sums[slug][period] > 0
    ][:TOP]


def lists() -> dict[str, list[dict[str, Any]]] | None:
    """The stored lists, through the per-container cache (None before the first refresh)."""
    global _cache
    now = time.monotonic()
    with _lock:
        cached = _cache
    if cached is not None and cached[0] > now:
        return cached[1]
    item = db.client().get_item(TableName=settings().counters_table, Key=MOSTREAD_KEY).get("Item")
    found = json.loads(item["lists"]["S"]) if item else None
    with _lock:
        _cache = (now + CACHE_SECONDS, found)
    return found


def forget() -> None:
    global _cache
    with _lock:
        _cache = None
