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
from datetime import datetime, time, timedelta

from newsdesk.caches import Cache
from newsdesk.config import settings
from newsdesk.dal import counters

# Only today's salt is ever kept in memory (a new day's salt replaces it).
_salt: Cache[bytes] = Cache("daily salt", maxsize=1)


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
    _salt.clear()
    _salt.put(today.isoformat(), salt)
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
