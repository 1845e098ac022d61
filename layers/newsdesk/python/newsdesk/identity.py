"""Cookieless visitor identity: HMAC-SHA256 of source IP and User-Agent under a secret salt
that rotates every day (site time zone). No raw IP or User-Agent is stored anywhere.

The salt of day D is a random 32-byte item `salt#D` in the counters table, created once by
whichever container needs it first: a conditional put (`attribute_not_exists`) makes
concurrent creators agree, and a loser reads the winner's salt with a consistent read.
Creating day D's salt deletes day D-2's, and a TTL at the end of day D+1 backs that up, so
no salt outlives 48 hours and yesterday's identities cannot be recomputed after that.

Midnight does not split a reader in two: shortly after local midnight a reader's id under
yesterday's salt is computed too (`previous_visitor_id`), and the repeat-view rule and
presence consult it, as privacy-first analytics do (Plausible keeps the previous day's salt
for the same purpose). Yesterday's salt is only read, never created: a day nobody visited
has no salt, and no reader to continue.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from datetime import date, datetime, time, timedelta

from newsdesk.caches import Cache
from newsdesk.config import settings
from newsdesk.dal import counters

# Today's and yesterday's salts (None: that day has none), by ISO date; older ones are
# dropped when a new day's salt is kept.
_salt: Cache[bytes | None] = Cache("daily salts", maxsize=2)


def daily_salt(now: datetime) -> bytes:
    """Today's salt: from memory, else DynamoDB (one read per container per day); the first
    container of the day creates it, kept until the end of the next day (TTL), and deletes
    the salt of two days before."""
    today = now.astimezone(settings().tz).date()
    found, salt = _salt.get(today.isoformat())
    if found and salt is not None:
        return salt
    salt = counters.read_salt(today)
    if salt is None:
        end_of_next_day = datetime.combine(today + timedelta(days=2), time(), tzinfo=settings().tz)
        salt = counters.create_salt(today, os.urandom(32), int(end_of_next_day.timestamp()))
    _salt.pop((today - timedelta(days=2)).isoformat())
    _salt.put(today.isoformat(), salt)
    return salt


def _yesterdays_salt(today: date) -> bytes | None:
    """Yesterday's salt if that day had one (read once per container, never created)."""
    key = (today - timedelta(days=1)).isoformat()
    found, salt = _salt.get(key)
    if not found:
        salt = counters.read_salt(today - timedelta(days=1))
        _salt.put(key, salt)
    return salt


def visitor_id(source_ip: str, user_agent: str, now: datetime) -> str:
    """A pseudonymous id, stable for one visitor (IP + browser) within one day.

    The id is the address's hash plus one of MAX_VISITORS_PER_ADDRESS buckets picked by the
    browser's hash, so one address can never be more than that many visitors a day, however
    many User-Agents it rotates through (as WP-UserOnline caps per-IP users). The price: two
    real readers behind one address share a bucket with probability 1/cap.
    """
    return _pseudonym(daily_salt(now), source_ip, user_agent)


def previous_visitor_id(
    source_ip: str, user_agent: str, now: datetime, lookback_seconds: int
) -> str | None:
    """The same reader's id under yesterday's salt, while `now` is less than
    `lookback_seconds` after local midnight (else None: yesterday's windows have closed) and
    yesterday had a salt. At most one GetItem per container per day."""
    local = now.astimezone(settings().tz)
    midnight = datetime.combine(local.date(), time(), tzinfo=settings().tz)
    if now.timestamp() - midnight.timestamp() >= lookback_seconds:
        return None
    salt = _yesterdays_salt(local.date())
    return _pseudonym(salt, source_ip, user_agent) if salt is not None else None


def _pseudonym(salt: bytes, source_ip: str, user_agent: str) -> str:
    address = hmac.new(salt, f"a\n{source_ip}".encode("utf-8", "replace"), hashlib.sha256)
    browser = hmac.new(
        salt, f"b\n{source_ip}\n{user_agent}".encode("utf-8", "replace"), hashlib.sha256
    )
    bucket = int.from_bytes(browser.digest()[:4], "big") % settings().max_visitors_per_address
    return f"{address.hexdigest()[:24]}{bucket:08x}"
