"""The connections table: one presence item per visitor, read and written only here.

An item is `{visitor, last_seen: epoch s, shard: "s0", expires_at: epoch s}`. DynamoDB's TTL
deletes expired items lazily ("typically within a few days", Developer Guide, "Using time
to live"), so nothing relies on deletion: the online count takes only items whose
`last_seen` falls inside the window, from the KEYS_ONLY index `by-last-seen`
(partition key `shard`, sort key `last_seen`).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from newsdesk.config import settings
from newsdesk.dal import db

# The index's one partition value: it takes ~1,000 heartbeat writes/s (~30,000 readers online).
SHARD = "s0"


class RecentlySeen(Exception):
    """The visitor's item was written less than the write interval ago (by another
    container, say): nothing was written."""


def touch(visitor: str, now: int, write_interval: int, keep: int) -> int | None:
    """Record `visitor` as seen at `now` (epoch seconds), unless they were seen within the
    last `write_interval` seconds (then RecentlySeen); the item expires `keep` seconds
    later. Returns when they were seen before (None: never). One conditional UpdateItem."""
    try:
        old = (
            db.client()
            .update_item(
                TableName=settings().connections_table,
                Key={"visitor": {"S": visitor}},
                UpdateExpression="SET last_seen = :now, #shard = :shard, expires_at = :exp",
                ExpressionAttributeNames={"#shard": "shard"},
                ConditionExpression="attribute_not_exists(visitor) OR last_seen <= :recent",
                ExpressionAttributeValues={
                    ":now": {"N": str(now)},
                    ":shard": {"S": SHARD},
                    ":exp": {"N": str(now + keep)},
                    ":recent": {"N": str(now - write_interval)},
                },
                ReturnValues="UPDATED_OLD",
            )
            .get("Attributes", {})
        )
    except ClientError as exc:
        if db.condition_failed(exc):
            raise RecentlySeen(visitor) from None
        raise
    return db.number(old, "last_seen") if "last_seen" in old else None


def count_seen_since(cutoff: int) -> int:
    """How many visitors were seen after `cutoff` (epoch seconds): COUNT queries on the
    by-last-seen index, every page."""
    params: dict[str, Any] = {
        "TableName": settings().connections_table,
        "IndexName": "by-last-seen",
        "KeyConditionExpression": "#shard = :s AND last_seen > :cutoff",
        "ExpressionAttributeNames": {"#shard": "shard"},
        "ExpressionAttributeValues": {":s": {"S": SHARD}, ":cutoff": {"N": str(cutoff)}},
    }
    return db.count(**params)
