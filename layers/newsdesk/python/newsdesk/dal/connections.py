"""The connections table: one item per visitor, read and written only here.

An item is `{visitor, last_seen: epoch s, prev_seen: epoch s (0: none), b: start of the
online-now bucket the visitor was last recorded in (epoch s), bs: that bucket's length (s;
absent on items written before it was kept), pb and pbs: the b and bs it replaced,
beat: token of the last write, expires_at: epoch s (TTL), m<hash>: until (epoch ms) of the
visitor's repeat-view window on one article}`. One write carries a reader's presence, the
repeat-view rule and the visit gap: the old values returned by that write decide what to
count (newsdesk.presence). Returned values cost nothing extra: "ReturnValues ... there is no
additional cost" for UpdateItem and DeleteItem (Amazon DynamoDB API Reference, UpdateItem,
ReturnValues). DynamoDB's TTL deletes expired items lazily ("typically within a few days",
Developer Guide, "Using time to live"), so nothing relies on deletion: every old value is
judged by its time.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any, cast

from botocore.exceptions import ClientError

from newsdesk.config import settings
from newsdesk.dal import db

# A visitor item holding more repeat-view markers than this has its expired ones removed
# (one more write, rare): the item stays under 1 KB, one write unit per write.
MAX_MARKERS = 24


def marker_name(slug: str) -> str:
    """The visitor item's attribute holding the repeat-view window of `slug`: `m` + 32 bits
    of BLAKE2b (two articles of one reader's day share one with odds about 1 in 10^7)."""
    return "m" + hashlib.blake2b(slug.encode(), digest_size=4).hexdigest()


@dataclass(frozen=True)
class Seen:
    """A visitor item as it was before a write (or as deleted): all None/empty when none."""

    last_seen: int | None = None  # epoch s
    bucket: int | None = None  # start of the online-now bucket they were recorded in
    bucket_size: int | None = None  # its length (s); None: not known (an older item)
    markers: dict[str, int] = field(default_factory=dict)  # attribute -> until (epoch ms)

    @classmethod
    def of(cls, item: dict[str, Any]) -> Seen:
        return cls(
            db.number(item, "last_seen") if "last_seen" in item else None,
            db.number(item, "b") if "b" in item else None,
            db.number(item, "bs") if "bs" in item else None,
            {name: db.number(item, name) for name in item if name.startswith("m")},
        )


class RecentlySeen(Exception):
    """A heartbeat within the write interval of the visitor's last write (another
    container's, say): nothing was written."""


class RepeatView(Exception):
    """The visitor's window on the article is still open: nothing was written. `seen` is
    the item as it is."""

    def __init__(self, seen: Seen) -> None:
        super().__init__("repeat view")
        self.seen = seen


@dataclass(frozen=True)
class Marker:
    """A repeat-view window to open with a write: attribute, now and until (epoch ms)."""

    name: str
    now_ms: int
    until_ms: int


def record(
    visitor: str,
    now: int,
    keep: int,
    *,
    bucket: int | None = None,
    bucket_size: int = 0,
    marker: Marker | None = None,
    write_interval: int = 0,
) -> Seen:
    """Record `visitor` as seen at `now` (epoch s; the item expires `keep` s later), in the
    online-now bucket starting at `bucket` (None: not sampled, see newsdesk.presence) of
    `bucket_size` seconds, with the repeat-view window `marker` opened; return the item as
    it was. One conditional UpdateItem (1 write unit under 1 KB):

    - with `marker`: refused while the window is open (RepeatView, the item returned with
      ReturnValuesOnConditionCheckFailure=ALL_OLD, so the caller needs no read);
    - with `write_interval`: refused when the last write is less than that old
      (RecentlySeen: a heartbeat flood writes once per interval).

    The write carries a token and keeps the values it replaced (`prev_seen`, `pb`). When
    the SDK sends it again because the answer to an applied first try was lost, the
    condition fails on the item this write made; the token shows it is ours and the kept
    values are the answer the first try would have given, so a new visit is not lost.
    Raises ClientError/BotoCoreError when DynamoDB fails.
    """
    token = secrets.token_hex(8)
    params = _record_params(
        visitor, now, keep, token, (bucket, bucket_size), marker, write_interval
    )
    try:
        old = db.client().update_item(**params).get("Attributes", {})
    except ClientError as exc:
        if not db.condition_failed(exc):
            raise
        item = cast("dict[str, Any]", exc.response.get("Item") or {})
        if db.text(item, "beat") == token:  # our own first try, answered late
            return _before(item, marker)
        if marker is not None and db.number(item, marker.name) > marker.now_ms:
            raise RepeatView(Seen.of(item)) from None
        raise RecentlySeen(visitor) from None
    seen = Seen.of(old)
    if len(seen.markers) > MAX_MARKERS:
        _drop_expired(visitor, seen.markers, now * 1000)
    return seen


def _record_params(
    visitor: str,
    now: int,
    keep: int,
    token: str,
    recorded: tuple[int | None, int],
    marker: Marker | None,
    write_interval: int,
) -> dict[str, Any]:
    """The UpdateItem of record(); `recorded`: the bucket's start (or None) and length."""
    bucket, bucket_size = recorded
    sets = [
        "last_seen = :now",
        "prev_seen = if_not_exists(last_seen, :zero)",
        "pb = if_not_exists(b, :zero)",
        "expires_at = :exp",
        "beat = :beat",
    ]
    values: dict[str, Any] = {
        ":now": {"N": str(now)},
        ":zero": {"N": "0"},
        ":exp": {"N": str(now + keep)},
        ":beat": {"S": token},
    }
    params: dict[str, Any] = {
        "TableName": settings().connections_table,
        "Key": {"visitor": {"S": visitor}},
        "ExpressionAttributeValues": values,
        "ReturnValues": "ALL_OLD",
    }
    conditions = []
    if bucket is not None:
        sets += ["b = :b", "bs = :bs", "pbs = if_not_exists(bs, :zero)"]
        values[":b"] = {"N": str(bucket)}
        values[":bs"] = {"N": str(bucket_size)}
    if marker is not None:
        params["ExpressionAttributeNames"] = {"#m": marker.name}
        sets.append("#m = :until")
        values[":until"] = {"N": str(marker.until_ms)}
        values[":now_ms"] = {"N": str(marker.now_ms)}
        conditions.append("attribute_not_exists(#m) OR #m <= :now_ms")
    if write_interval:
        values[":recent"] = {"N": str(now - write_interval)}
        conditions.append("attribute_not_exists(last_seen) OR last_seen <= :recent")
    params["UpdateExpression"] = "SET " + ", ".join(sets)
    if conditions:
        params["ConditionExpression"] = " AND ".join(f"({c})" for c in conditions)
        params["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    return params


def _before(item: dict[str, Any], marker: Marker | None) -> Seen:
    """The item as it was before our own write `item` (its kept values)."""
    markers = Seen.of(item).markers
    if marker is not None:
        markers.pop(marker.name, None)
    return Seen(
        db.number(item, "prev_seen") or None,
        db.number(item, "pb") or None,
        db.number(item, "pbs") or None,
        markers,
    )


def _drop_expired(visitor: str, markers: dict[str, int], now_ms: int) -> None:
    expired = [name for name, until in markers.items() if until <= now_ms][:100]
    if not expired:
        return
    names = {f"#x{i}": name for i, name in enumerate(expired)}
    db.client().update_item(
        TableName=settings().connections_table,
        Key={"visitor": {"S": visitor}},
        UpdateExpression="REMOVE " + ", ".join(names),
        ExpressionAttributeNames=names,
    )


def take(visitor: str) -> Seen:
    """Delete `visitor`'s item and return it (Seen() when none). One DeleteItem with
    ReturnValues ALL_OLD: a reader moves to their new id at midnight without being online
    twice, a second visit, or a second view within an open window."""
    old = (
        db.client()
        .delete_item(
            TableName=settings().connections_table,
            Key={"visitor": {"S": visitor}},
            ReturnValues="ALL_OLD",
        )
        .get("Attributes", {})
    )
    return Seen.of(old)


def keep_windows(visitor: str, markers: dict[str, int]) -> None:
    """Set repeat-view windows (attribute -> until, epoch ms) on `visitor`'s item: those a
    reader had open under yesterday's id (one UpdateItem, at most once a day per reader)."""
    names = {f"#w{i}": name for i, name in enumerate(markers)}
    values = {f":w{i}": {"N": str(until)} for i, until in enumerate(markers.values())}
    db.client().update_item(
        TableName=settings().connections_table,
        Key={"visitor": {"S": visitor}},
        UpdateExpression="SET " + ", ".join(f"#w{i} = :w{i}" for i in range(len(names))),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


def put_back_bucket(
    visitor: str, written: int, previous: int | None, previous_size: int | None
) -> None:
    """Put back the online-now bucket (start and length) `visitor`'s item named before a
    write set it to `written` (epoch s; `previous` None: none; `previous_size` None: not
    known), unless another write changed it since: one conditional UpdateItem."""
    values: dict[str, Any] = {":written": {"N": str(written)}}
    if previous is None:
        action = "REMOVE b, bs"
    elif previous_size is None:
        action = "SET b = :previous REMOVE bs"
        values[":previous"] = {"N": str(previous)}
    else:
        action = "SET b = :previous, bs = :size"
        values[":previous"] = {"N": str(previous)}
        values[":size"] = {"N": str(previous_size)}
    db.conditional_update(
        TableName=settings().connections_table,
        Key={"visitor": {"S": visitor}},
        UpdateExpression=action,
        ConditionExpression="b = :written",
        ExpressionAttributeValues=values,
    )


def close_window(visitor: str, marker: Marker) -> None:
    """Remove the window `marker` opened, if it is still that one (a view that could not be
    counted: the reader's next view must count)."""
    db.conditional_update(
        TableName=settings().connections_table,
        Key={"visitor": {"S": visitor}},
        UpdateExpression="REMOVE #m",
        ConditionExpression="#m = :until",
        ExpressionAttributeNames={"#m": marker.name},
        ExpressionAttributeValues={":until": {"N": str(marker.until_ms)}},
    )
