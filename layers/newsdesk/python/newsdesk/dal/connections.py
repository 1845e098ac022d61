"""The connections table: one presence item per visitor, read and written only here.

An item is `{visitor, last_seen: epoch s, prev_seen: epoch s (0: none), beat: token of the
last write, shard: "s0", expires_at: epoch s}`. DynamoDB's TTL
deletes expired items lazily ("typically within a few days", Developer Guide, "Using time
to live"), so nothing relies on deletion: the online count takes only items whose
`last_seen` falls inside the window, from the KEYS_ONLY index `by-last-seen`
(partition key `shard`, sort key `last_seen`).
"""

from __future__ import annotations

import secrets
from typing import Any, cast

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
    later. Returns when they were seen before (None: never). One conditional UpdateItem.

    The write carries a token of this heartbeat and keeps the time it replaced
    (`prev_seen`). When the SDK sends it again because the answer to an applied first try
    was lost, the condition fails on the item this heartbeat wrote; DynamoDB returns that
    item (ReturnValuesOnConditionCheckFailure=ALL_OLD, API Reference, UpdateItem), the token
    shows it is ours, and `prev_seen` is the answer the first try would have given, so a
    new visit is not lost.
    """
    token = secrets.token_hex(8)
    try:
        old = (
            db.client()
            .update_item(
                TableName=settings().connections_table,
                Key={"visitor": {"S": visitor}},
                UpdateExpression=(
                    "SET last_seen = :now, prev_seen = if_not_exists(last_seen, :never), "
                    "#shard = :shard, expires_at = :exp, beat = :beat"
                ),
                ExpressionAttributeNames={"#shard": "shard"},
                ConditionExpression="attribute_not_exists(visitor) OR last_seen <= :recent",
                ExpressionAttributeValues={
                    ":now": {"N": str(now)},
                    ":never": {"N": "0"},
                    ":shard": {"S": SHARD},
                    ":exp": {"N": str(now + keep)},
                    ":recent": {"N": str(now - write_interval)},
                    ":beat": {"S": token},
                },
                ReturnValues="UPDATED_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            .get("Attributes", {})
        )
    except ClientError as exc:
        if not db.condition_failed(exc):
            raise
        mine = cast("dict[str, Any]", exc.response.get("Item") or {})
        if db.text(mine, "beat") != token:
            raise RecentlySeen(visitor) from None
        return db.number(mine, "prev_seen") or None  # our own first try, answered late
    return db.number(old, "last_seen") if "last_seen" in old else None


def take(visitor: str) -> int | None:
    """Delete `visitor`'s item and return when they were last seen (None: no item). One
    DeleteItem with ReturnValues ALL_OLD: a reader's presence moves to their new id at
    midnight without being counted twice."""
    old = (
        db.client()
        .delete_item(
            TableName=settings().connections_table,
            Key={"visitor": {"S": visitor}},
            ReturnValues="ALL_OLD",
        )
        .get("Attributes", {})
    )
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
