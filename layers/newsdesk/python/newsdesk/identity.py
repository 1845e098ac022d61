"""Cookieless visitor identity: HMAC-SHA256 of source IP and User-Agent under a secret salt
that rotates every day (site time zone). No raw IP or User-Agent is stored anywhere.

The salt of day D is a random 32-byte item `salt#D` in the counters table, created once by
whichever container needs it first: a conditional put (`attribute_not_exists`) makes
concurrent creators agree, and a loser reads the winner's salt with a consistent read.
Creating day D's salt deletes day D-2's, and a TTL at the end of day D+1 backs that up, so
no salt outlives 48 hours and yesterday's identities cannot be recomputed after that.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from datetime import date, datetime, time, timedelta

from botocore.exceptions import ClientError

from newsdesk import db
from newsdesk.config import settings

_lock = threading.Lock()
_salt: tuple[date, bytes] | None = None  # only today's salt is ever kept in memory


def _salt_key(day: date) -> dict[str, dict[str, str]]:
    return {"id": {"S": f"salt#{day.isoformat()}"}}


def _read_salt(day: date) -> bytes | None:
    item = (
        db.client()
        .get_item(TableName=settings().counters_table, Key=_salt_key(day), ConsistentRead=True)
        .get("Item")
    )
    return bytes(item["salt"]["B"]) if item else None


def _create_salt(day: date) -> bytes:
    conf = settings()
    salt = os.urandom(32)
    end_of_next_day = datetime.combine(day + timedelta(days=2), time(), tzinfo=conf.tz)
    try:
        db.client().put_item(
            TableName=conf.counters_table,
            Item={
                **_salt_key(day),
                "salt": {"B": salt},
                "expires_at": {"N": str(int(end_of_next_day.timestamp()))},
            },
            ConditionExpression="attribute_not_exists(id)",
        )
    except ClientError as exc:
        if not db.condition_failed(exc):
            raise
        winner = _read_salt(day)  # another container created it first: use theirs
        if winner is None:
            raise
        return winner
    db.client().delete_item(TableName=conf.counters_table, Key=_salt_key(day - timedelta(days=2)))
    return salt


def daily_salt(now: datetime) -> bytes:
    """Today's salt: from memory, else DynamoDB (one read per container per day)."""
    global _salt
    today = now.astimezone(settings().tz).date()
    with _lock:
        if _salt is not None and _salt[0] == today:
            return _salt[1]
        salt = _read_salt(today) or _create_salt(today)
        _salt = (today, salt)
        return salt


def visitor_id(source_ip: str, user_agent: str, now: datetime) -> str:
    """A pseudonymous id, stable for one visitor (IP + browser) within one day.

    The id is the address's hash plus one of MAX_VISITORS_PER_ADDRESS buckets picked by the
    browser's hash, so one address can never be more than that many visitors a day, however
    many User-Agents it rotates through (as WP-UserOnline caps per-IP users). The price: two
    real readers behind one address share a bucket with probability 1/cap.
    """
    salt = daily_salt(now)
    address = hmac.new(salt, f"a\n{source_ip}".encode("utf-8", "replace"), hashlib.sha256)
    browser = hmac.new(
        salt, f"b\n{source_ip}\n{user_agent}".encode("utf-8", "replace"), hashlib.sha256
    )
    bucket = int.from_bytes(browser.digest()[:4], "big") % settings().max_visitors_per_address
    return f"{address.hexdigest()[:24]}{bucket:08x}"


def forget_cached_salt() -> None:
    """Tests: drop the in-memory salt (as a new container would start without it)."""
    global _salt
    with _lock:
        _salt = None
