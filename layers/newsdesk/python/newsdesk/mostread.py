"""Most read ("Đọc nhiều nhất"): today, this week and all time.

Ranking every article on every page view would mean reading every counter each time.
Instead a scheduled function (MostReadFunction, every 5 minutes) reads the counters once
(and drops their day buckets older than KEEP_DAYS):
the KEYS_ONLY index `by-kind` lists every counter item, BatchGetItem reads them (their
per-day buckets, see `counters`), and the top lists, titles included, go into one small
item `mostread`. Pages read that item through a per-container cache (60 s): no scan and
at most one GetItem per container per minute, whatever the traffic. The same run refreshes
the header's category menu (newsdesk.menu).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from newsdesk import menu
from newsdesk.articles import from_item, iso
from newsdesk.caches import Cache
from newsdesk.config import settings
from newsdesk.dal import articles as stored_articles
from newsdesk.dal import counters
from newsdesk.dal.counters import KEEP_DAYS, day_attribute, slug_of, total_of

TOP = 5
CACHE_SECONDS = 60
PERIODS = ("today", "week", "all")

Lists = dict[str, list[dict[str, Any]]]
_cache: Cache[Lists | None] = Cache("most read", maxsize=1)
_DAY = re.compile(r"d[0-9]{8}")


def _sums(today: date) -> dict[str, dict[str, int]]:
    """Views per article today, this week and all time, from every counter item; drops
    day buckets older than KEEP_DAYS on the way (housekeeping off the page's path), and
    records on each first shard the shards a hot article got (counters.reconcile_shards)."""
    week = [day_attribute(today - timedelta(days=i)) for i in range(7)]
    oldest = day_attribute(today - timedelta(days=KEEP_DAYS - 1))
    sums: dict[str, dict[str, int]] = {}
    items = counters.counter_items(counters.counter_ids())
    counters.reconcile_shards(items)  # a hot article's new shards, for every reader
    for item in items:
        expired = [name for name in item if _DAY.fullmatch(name) and name < oldest]
        if expired:
            counters.remove_day_buckets(item["id"]["S"], expired)
        days = counters.day_counts(item, week)
        entry = sums.setdefault(slug_of(item["id"]["S"]), dict.fromkeys(PERIODS, 0))
        entry["today"] += days[0]
        entry["week"] += sum(days)
        entry["all"] += total_of(item)
    return sums


def refresh(now: datetime | None = None) -> Lists:
    """Recompute the lists from every counter and store them, then the category menu (the
    scheduled job)."""
    now = now or datetime.now(UTC)
    sums = _sums(now.astimezone(settings().tz).date())
    # A few more than shown per list, in case some turn out unpublished or scheduled.
    candidates = {slug for period in PERIODS for slug in _leaders(sums, period, 3 * TOP)}
    visible = {
        article.slug: article.title
        for article in map(from_item, stored_articles.headlines(sorted(candidates)))
        if article.is_visible(now)
    }
    lists = {period: _top(sums, visible, period) for period in PERIODS}
    counters.store_most_read(lists, iso(now))
    forget()
    menu.refresh(now)
    return lists


def _leaders(sums: dict[str, dict[str, int]], period: str, n: int) -> list[str]:
    ranked = sorted(sums, key=lambda slug: -sums[slug][period])
    return [slug for slug in ranked[:n] if sums[slug][period] > 0]


def _top(
    sums: dict[str, dict[str, int]], titles: dict[str, str], period: str
) -> list[dict[str, Any]]:
    ranked = sorted(titles, key=lambda slug: (-sums[slug][period], slug))
    return [
        {"slug": slug, "title": titles[slug], "views": sums[slug][period]}
        for slug in ranked
        if sums[slug][period] > 0
    ][:TOP]


def lists() -> Lists | None:
    """The stored lists, through the per-container cache (None before the first refresh)."""
    found, cached = _cache.get("lists")
    if found:
        return cached
    stored = counters.most_read()
    _cache.put("lists", stored, CACHE_SECONDS)
    return stored


def with_current(
    lists: Lists | None, current: dict[str, int], titles: dict[str, str] | None = None
) -> Lists | None:
    """The lists with each all-time count replaced by the article's `current` count shown on
    the same page (the lists are up to 5 minutes old, and an editor may have lowered a
    count since; side by side, the two must not disagree), re-ranked. An article of the page
    (its title in `titles`) that now beats the list's last entry takes its place."""
    if not lists or not current:
        return lists
    entries = {
        entry["slug"]: {**entry, "views": current.get(entry["slug"], int(entry["views"]))}
        for entry in lists.get("all", [])
    }
    for slug, views in current.items():
        if slug not in entries and slug in (titles or {}) and views > 0:
            entries[slug] = {"slug": slug, "title": (titles or {})[slug], "views": views}
    ranked = sorted(entries.values(), key=lambda entry: (-entry["views"], entry["slug"]))
    return {**lists, "all": ranked[:TOP]}


def forget() -> None:
    _cache.clear()
