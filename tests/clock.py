"""A time for tests whose code reads the wall clock itself (datetime.now, time.time): set it
with time-machine's `time_machine` fixture instead of sleeping or racing the real clock.

    time_machine.move_to(tomorrow_at_ten(), tick=False)  # frozen: exact windows
    time_machine.shift(1800)                             # half an hour later, at once
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta


def tomorrow_at_ten() -> datetime:
    """10:00 tomorrow in the site's time zone (settings().tz), as an aware datetime.

    Far from midnight, so no daily boundary (salt, day bucket of the view counters) falls
    inside a test; in the future, so the TTL of anything written then is in the real future
    too, and DynamoDB Local, which deletes expired items within seconds, keeps it.
    """
    from newsdesk.config import settings

    tz = settings().tz
    day = datetime.now(UTC).astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(day, time(10), tzinfo=tz)
