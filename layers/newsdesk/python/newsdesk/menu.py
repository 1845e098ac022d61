"""The category menu in every page's header: the categories that have published articles,
most articles first, at most MENU_SIZE.

Which categories exist is known only by reading every published article's index entry, which
no page can afford. The scheduled job that computes "most read" (MostReadFunction, every 5
minutes; newsdesk.mostread.refresh) does it: a paginated Query of the by-published index,
whose projection carries each article's category, and one PutItem of the small `menu` item
(newsdesk.dal.counters). Pages read that item through a per-container cache: at most one
GetItem per container per CACHE_SECONDS, whatever the traffic. A category's first article
shows in the menu within about 6 minutes; before the job's first run the menu is empty.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from botocore.exceptions import BotoCoreError, ClientError

from newsdesk import dal
from newsdesk.articles import PUBLISHED, category_slug, iso
from newsdesk.caches import Cache
from newsdesk.dal import articles as stored_articles
from newsdesk.dal import counters
from newsdesk.observability import logger

MENU_SIZE = 8  # categories in the header; a portal's menu is one or two lines
CACHE_SECONDS = 60

_cache: Cache[list[Category]] = Cache("menu", maxsize=1)


@dataclass(frozen=True)
class Category:
    slug: str  # its page is /categories/{slug}
    name: str  # as most of its articles spell it (_display_name)
    articles: int  # published articles in it when the job ran


def compute(now: datetime) -> list[Category]:
    """The menu from every article visible at `now`: categories ranked by their number of
    articles (then by name), spellings of one category (its slug) counted together under the
    spelling most of its articles use (_display_name). Reads the whole by-published index
    (the job only)."""
    counts: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = {}
    for name in stored_articles.published_categories(PUBLISHED, iso(now)):  # newest first
        slug = category_slug(name)
        if slug:
            counts[slug] += 1
            spellings.setdefault(slug, Counter())[name] += 1
    names = {slug: _display_name(found) for slug, found in spellings.items()}
    ranked = sorted(counts, key=lambda slug: (-counts[slug], names[slug], slug))
    return [Category(slug, names[slug], counts[slug]) for slug in ranked[:MENU_SIZE]]


def _display_name(spellings: Counter[str]) -> str:
    """The spelling most articles of a category use; on a tie the one with more
    Vietnamese letters (so "Thoi Su" never renames "Thời sự"), then the newest."""
    order = {name: rank for rank, name in enumerate(spellings)}  # first seen = newest
    return max(
        spellings,
        key=lambda name: (spellings[name], sum(not c.isascii() for c in name), -order[name]),
    )


def name_of(slug: str, spellings: list[str]) -> str:
    """A category's display name: the menu's (the spelling most of its articles use) when
    it is in the menu, else the one most of `spellings` (its articles at hand, newest
    first) use, as _display_name chooses. The menu and the category page agree."""
    for category in categories():
        if category.slug == slug:
            return category.name
    return _display_name(Counter(spellings))


def refresh(now: datetime | None = None) -> list[Category]:
    """Recompute the menu and store it (the scheduled job)."""
    now = now or datetime.now(UTC)
    menu = compute(now)
    counters.store_menu([asdict(category) for category in menu], iso(now))
    forget()
    return menu


def categories(cached_only: bool = False) -> list[Category]:
    """The stored menu through the per-container cache; empty before the job's first run,
    and when DynamoDB fails (logged, never raised: a page shows without its menu). With
    `cached_only` (error pages, which never reach DynamoDB) only what this container has."""
    found, cached = _cache.get("menu")
    if found:
        return cached or []
    if cached_only or dal.degraded():  # a failed call in this request: do not wait again
        return []
    try:
        stored = counters.menu() or []
    except (ClientError, BotoCoreError) as exc:
        logger.warning("category menu unavailable", extra={"error": str(exc)})
        return []
    menu = [Category(str(e["slug"]), str(e["name"]), int(e["articles"])) for e in stored]
    _cache.put("menu", menu, CACHE_SECONDS)
    return menu


def forget() -> None:
    _cache.clear()
