"""The site's articles as the command line lists and exports them."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from newsdesk.articles import STATUSES, Article, fields_of, from_item, iso
from newsdesk.dal import articles as stored
from newsdesk.dal import counters


class InvalidLimit(ValueError):
    """A listing limit below zero."""


def _index_rows(status: str | None) -> Iterator[dict[str, Any]]:
    """Every article of one status (or all), newest first per status: no Scan."""
    for wanted in [status] if status else list(STATUSES):
        yield from stored.by_status(wanted)


def _newest_first(row: Mapping[str, Any]) -> tuple[str, str]:
    return (row["published_at"], row["slug"])


def list_articles(status: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """slug, title, status, published_at (ISO, UTC) and views of each article, newest first."""
    if limit is not None and limit < 0:
        raise InvalidLimit("the limit must be a whole number >= 0")
    rows = []
    for item in _index_rows(status):
        article = from_item(item)
        rows.append(
            {
                "slug": article.slug,
                "title": article.title,
                "status": article.status,
                "published_at": iso(article.published_at),
            }
        )
    rows.sort(key=_newest_first, reverse=True)
    rows = rows[:limit] if limit is not None else rows
    totals = counters.views_of([row["slug"] for row in rows], job=True)
    return [{**row, "views": totals[row["slug"]]} for row in rows]


def export_entry(article: Article, version: str, views: int, source: str = "") -> dict[str, Any]:
    """One article in the JSON import format. Importing it back finds it unchanged; into an
    empty site it brings the article with its current total as the legacy count. An article
    whose source gave it an id (`source` "id:<id>") carries that `id`, so a later import
    from that source still finds it."""
    entry = fields_of(article)
    if source.startswith("id:"):
        entry = {"id": source[3:], **entry}
    if version:
        entry["updated_at"] = version
    entry["views"] = views
    return entry


EXPORT_CHUNK = 100  # articles read together: one BatchGetItem of items, one of counters


def export_articles(
    status: str | None = None, progress: Callable[[int, int], None] | None = None
) -> list[dict[str, Any]]:
    """Every article (of one status), newest first, in the JSON import format.
    `progress(done, total)` is called after each EXPORT_CHUNK articles."""
    slugs = [row["slug"]["S"] for row in _index_rows(status)]
    entries = []
    for start in range(0, len(slugs), EXPORT_CHUNK):
        items = {
            item["slug"]["S"]: item
            for item in stored.full_items(slugs[start : start + EXPORT_CHUNK])
        }
        totals = counters.views_of(list(items), job=True)
        for slug, item in items.items():
            version, _ = stored.version_of(item)
            entry = export_entry(from_item(item), version, totals[slug], stored.source_of(item))
            entries.append(entry)
        if progress is not None:
            progress(min(start + EXPORT_CHUNK, len(slugs)), len(slugs))
    entries.sort(key=_newest_first, reverse=True)
    return entries
