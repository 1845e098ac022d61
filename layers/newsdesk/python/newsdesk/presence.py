"""Live visitors ("Đang truy cập") and total visits ("Tổng").

Connection tracking: one item per visitor in the connections table,
`{visitor, last_seen, shard, expires_at}`. DynamoDB TTL deletes lazily (hours to days), so
nothing here relies on deletion: "online" counts only items whose `last_seen` falls inside
the presence window, read from the KEYS_ONLY index `by-last-seen` (shard, last_seen).

Bounded cost:
- A heartbeat writes at most once per visitor per WRITE_INTERVAL seconds: a per-container
  memo skips repeat heartbeats, and the write's condition (`last_seen <= now - 30`) stops
  racing containers from writing twice.
- Reading the figures never scans: the online count is one COUNT query over the index
  (only recent keys match), cached per container for STATS_CACHE_SECONDS; between refreshes
  an arrival seen by this container adds one to the cached figure. Departures show up at the
  next refresh, so the figure lags the exact count by at most that cache age (see
  tests/integration/test_presence_simulation.py for the measured error).

Total visits = visits counted since launch + `legacy_visits`. A visit is a visitor's first
heartbeat after VISIT_GAP_SECONDS (30 minutes) without one, counted by one atomic ADD on the
`site` item of the counters table. The importer raises `legacy_visits` to at least the
largest legacy total or article count it has seen, so the total is never behind any count
the site shows.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from newsdesk import db
from newsdesk.articles import iso
from newsdesk.config import settings

WRITE_INTERVAL = 30
VISIT_GAP_SECONDS = 1800
SHARDS = 1  # index partitions; one takes ~1,000 heartbeat writes/s (~30,000 online readers)
SITE_KEY = {"id": {"S": "site"}}
_MEMO_LIMIT = 50_000


@dataclass(frozen=True)
class Stats:
    online: int
    total: int
    peak: int
    peak_at: str | None
    as_of: float  # epoch seconds the online figure was computed at

    def public(self) -> dict[str, Any]:
        return {
            "online": self.online,
            "total": self.total,
            "peak": {"online": self.peak, "at": self.peak_at},
            "window_seconds": settings().presence_window_seconds,
        }


_lock = threading.Lock()
_cache: Stats | None = None
_last_write: dict[str, float] = {}


def _epoch(now: datetime) -> float:
    return now.timestamp()


def _shard(visitor: str) -> str:
    return f"s{int(visitor[:8], 16) % SHARDS}"


def count_online(now: datetime) -> int:
    """Exact count of visitors seen within the window (COUNT queries on the index)."""
    conf = settings()
    cutoff = int(_epoch(now)) - conf.presence_window_seconds
    total = 0
    for shard in range(SHARDS):
        params: dict[str, Any] = {
            "TableName": conf.connections_table,
            "IndexName": "by-last-seen",
            "KeyConditionExpression": "#shard = :s AND last_seen > :cutoff",
            "ExpressionAttributeNames": {"#shard": "shard"},
            "ExpressionAttributeValues": {":s": {"S": f"s{shard}"}, ":cutoff": {"N": str(cutoff)}},
            "Select": "COUNT",
        }
        while True:
            page = db.client().query(**params)
            total += int(page.get("Count", 0))
            if "LastEvaluatedKey" not in page:
                break
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return total


def _site_item() -> dict[str, Any]:
    return db.client().get_item(TableName=settings().counters_table, Key=SITE_KEY).get("Item") or {}


def _total(item: dict[str, Any]) -> int:
    return int(item.get("visits", {}).get("N", "0")) + int(
        item.get("legacy_visits", {}).get("N", "0")
    )


def _raise_site(name: str, value: int, also: dict[str, str] | None = None) -> bool:
    """Set the site item's `name` to `value` only if that raises it (one conditional
    write; `also` are strings set with it). False when it was already as high."""
    sets = {name: {"N": str(value)}, **{k: {"S": v} for k, v in (also or {}).items()}}
    names = {f"#a{i}": key for i, key in enumerate(sets)}
    try:
        db.client().update_item(
            TableName=settings().counters_table,
            Key=SITE_KEY,
            UpdateExpression="SET " + ", ".join(f"#a{i} = :a{i}" for i in range(len(sets))),
            ConditionExpression="attribute_not_exists(#a0) OR #a0 < :a0",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={f":a{i}": v for i, v in enumerate(sets.values())},
        )
    except ClientError as exc:
        if not db.condition_failed(exc):
            raise
        return False
    return True


def _record_peak(online: int, now: datetime, known_peak: int) -> tuple[int, str | None]:
    """Raise the all-time peak if `online` beats it (a conditional write, rare)."""
    at = iso(now)
    if _raise_site("peak", online, {"peak_at": at}):
        return online, at
    return known_peak, None  # someone else recorded a higher one; next refresh shows it


def cached_stats() -> Stats | None:
    """The last figures this container computed, however old (None before the first)."""
    with _lock:
        return _cache


def current_stats(now: datetime | None = None) -> Stats:
    """The widget's figures, from the per-container cache when it is fresh enough."""
    global _cache
    now = now or datetime.now(UTC)
    with _lock:
        cached = _cache
    if cached is not None and _epoch(now) - cached.as_of < settings().stats_cache_seconds:
        return cached
    online = count_online(now)
    item = _site_item()
    peak = int(item.get("peak", {}).get("N", "0"))
    peak_at = item.get("peak_at", {}).get("S")
    if online > peak:
        peak, new_at = _record_peak(online, now, peak)
        peak_at = new_at or peak_at
    stats = Stats(online, _total(item), peak, peak_at, _epoch(now))
    with _lock:
        _cache = stats
    return stats


def heartbeat(visitor: str, now: datetime | None = None) -> Stats:
    """Register `visitor` as present now; count a visit if they were away 30 minutes."""
    global _cache
    now = now or datetime.now(UTC)
    epoch = _epoch(now)
    with _lock:
        if epoch - _last_write.get(visitor, float("-inf")) < WRITE_INTERVAL:
            recent = True
        else:
            recent = False
            if len(_last_write) >= _MEMO_LIMIT:
                _last_write.clear()
            _last_write[visitor] = epoch
    if recent:
        return current_stats(now)

    conf = settings()
    seconds = int(epoch)
    keep = max(conf.presence_window_seconds, VISIT_GAP_SECONDS) + 3600
    try:
        old = (
            db.client()
            .update_item(
                TableName=conf.connections_table,
                Key={"visitor": {"S": visitor}},
                UpdateExpression="SET last_seen = :now, #shard = :shard, expires_at = :exp",
                ExpressionAttributeNames={"#shard": "shard"},
                ConditionExpression="attribute_not_exists(visitor) OR last_seen <= :recent",
                ExpressionAttributeValues={
                    ":now": {"N": str(seconds)},
                    ":shard": {"S": _shard(visitor)},
                    ":exp": {"N": str(seconds + keep)},
                    ":recent": {"N": str(seconds - WRITE_INTERVAL)},
                },
                ReturnValues="UPDATED_OLD",
            )
            .get("Attributes", {})
        )
    except ClientError as exc:
        if not db.condition_failed(exc):
            _forget_write(visitor)  # not written: the next heartbeat must try again
            raise
        return current_stats(now)  # written by another container moments ago
    except BotoCoreError:
        _forget_write(visitor)
        raise

    last_seen = int(old["last_seen"]["N"]) if "last_seen" in old else None
    visit_total = None
    if last_seen is None or last_seen <= seconds - VISIT_GAP_SECONDS:
        # Counted right after the presence write, before anything else can fail.
        site = (
            db.client()
            .update_item(
                TableName=conf.counters_table,
                Key=SITE_KEY,
                UpdateExpression="ADD visits :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="ALL_NEW",
            )
            .get("Attributes", {})
        )
        visit_total = _total(site)
    stats = current_stats(now)
    if visit_total is not None:
        stats = replace(stats, total=max(stats.total, visit_total))
    if (last_seen is None or last_seen <= seconds - conf.presence_window_seconds) and (
        stats.as_of < epoch
    ):
        # An arrival this container saw after its cached count was taken.
        stats = replace(stats, online=stats.online + 1)
    with _lock:
        _cache = stats
    return stats


def _forget_write(visitor: str) -> None:
    with _lock:
        _last_write.pop(visitor, None)


def raise_legacy_total(at_least: int) -> None:
    """Make the imported total at least `at_least` (never lowers it)."""
    _raise_site("legacy_visits", at_least)


def reset_cache() -> None:
    """Tests and a new container: no cached figures, no memo of recent writes."""
    global _cache
    with _lock:
        _cache = None
        _last_write.clear()
