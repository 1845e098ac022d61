"""Who is a countable reader: bots, crawlers, link previewers, headless browsers and
prefetches are not. Detection of user agents is crawlerdetect's maintained list."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

# Headers browsers send on speculative loads (Chrome: Sec-Purpose, older: Purpose,
# Firefox: X-Moz, Safari: X-Purpose). Any of them carrying "prefetch" or "preview"
# means nobody is looking at the page yet.
_PREFETCH_HEADERS = ("sec-purpose", "purpose", "x-moz", "x-purpose")


@cache
def _detector() -> Any:
    from crawlerdetect import CrawlerDetect

    return CrawlerDetect()


# Browsers send 100-300 characters. crawlerdetect's patterns take time quadratic in the
# length (10 KB: ~5 s), so anything longer is a bot without asking it.
MAX_USER_AGENT = 512


def is_bot(user_agent: str | None) -> bool:
    """True for an empty or over-long User-Agent, or one crawlerdetect knows as a bot or
    headless browser."""
    ua = (user_agent or "").strip()
    if not ua or len(ua) > MAX_USER_AGENT:
        return True
    return bool(_detector().isCrawler(ua))


def is_prefetch(headers: Mapping[str, str]) -> bool:
    for name in _PREFETCH_HEADERS:
        value = headers.get(name, "").lower()
        if "prefetch" in value or "preview" in value or "prerender" in value:
            return True
    return False


# Fetch Metadata (W3C "Fetch Metadata Request Headers"; every current browser sends them):
# a reader opening the page is a top-level navigation (Sec-Fetch-Dest: document,
# Sec-Fetch-Mode: navigate); the page's own script (beacon, heartbeat) is a same-origin
# fetch (Sec-Fetch-Site: same-origin, Sec-Fetch-Dest: empty). A page's fetch() of an
# article, an <img> or <iframe> pointing at one, or another site's script posting a beacon
# is none of these. A browser that sends no Sec-Fetch-* header at all (older Safari, some
# in-app browsers) is judged by the other rules only.
PAGE = "page"  # the article page itself, counted at render time
SCRIPT = "script"  # the page's own script: the beacon and the heartbeat
_EXPECTED = {
    PAGE: {"sec-fetch-dest": "document", "sec-fetch-mode": "navigate"},
    SCRIPT: {"sec-fetch-dest": "empty", "sec-fetch-site": "same-origin"},
}


def fetch_matches(headers: Mapping[str, str], source: str) -> bool:
    """True unless a Sec-Fetch-* header says the request is not `source` (PAGE or SCRIPT):
    an absent header proves nothing either way."""
    for name, expected in _EXPECTED[source].items():
        value = headers.get(name, "").strip().lower()
        if value and value != expected:
            return False
    return True


def is_countable(headers: Mapping[str, str], source: str = PAGE) -> bool:
    """A view (or presence) counts only for a real reader: not a bot, not a prefetch, and
    the request is what it must be: the page opened (PAGE) or the page's own script (SCRIPT).

    `headers` must have lower-case names, as API Gateway HTTP API delivers them.
    """
    return (
        fetch_matches(headers, source)
        and not is_prefetch(headers)
        and not is_bot(headers.get("user-agent"))
    )
