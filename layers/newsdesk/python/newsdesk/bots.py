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


def is_countable(headers: Mapping[str, str]) -> bool:
    """A view (or presence) counts only for a real reader actually loading the page.

    `headers` must have lower-case names, as API Gateway HTTP API delivers them.
    """
    return not is_prefetch(headers) and not is_bot(headers.get("user-agent"))
