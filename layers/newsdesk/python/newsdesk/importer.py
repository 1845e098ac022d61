"""Import articles from the legacy CMS's text pages (the fixture's format) and from JSON.

Each article is written whole or not at all (one transaction: the article and the
legacy count on its counter item). Re-importing updates the article but never touches
the counted views, and an unchanged article is not written again, so a rerun after a
failure picks up where it stopped.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from newsdesk.articles import PUBLISHED, STATUSES, Article, forget, iso, parse_iso, to_item
from newsdesk.config import settings
from newsdesk.dal import articles as stored
from newsdesk.dal import counters
from newsdesk.sanitize import clean_html, text_of
from newsdesk.slugs import MAX_SLUG_LENGTH, clean_slug, make_slug

WIDGET_HEADINGS = ("Số lượng truy cập",)
_WIDGET_LINE = re.compile(r"^(Đang truy cập|Tổng)\s*:\s*[\d.,]*$")
_WIDGET_TOTAL = re.compile(r"(?:^|\s)Tổng\s*:\s*(\d[\d.,]*)")
_DATE_LINE = re.compile(
    r"cms-publish-date\s+(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})\s*\|\s*"
    r"(?P<H>\d{1,2}):(?P<M>\d{2})\s*\|\s*cms-view-count:\s*(?P<views>\d[\d.,]*)\s*$"
)
_SPACES = re.compile(r"\s+")
MAX_BYLINE = 60


class InvalidArticle(ValueError):
    """The file cannot be imported; the message says what is wrong."""


@dataclass(frozen=True)
class Parsed:
    article: Article
    legacy_views: int
    legacy_total: int = 0  # the old widget's "Tổng" (site total visits), when the page has it
    version: str = ""  # when this version was written at the source (ISO, UTC); newer wins


@dataclass
class Summary:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0  # a newer version of the article is already stored: left alone
    rejected: list[tuple[str, str]] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"imported {self.imported}, updated {self.updated}, unchanged {self.unchanged}, "
            f"skipped as older than stored {self.stale}, rejected {len(self.rejected)}"
        )


def _clean(text: str) -> str:
    """NFC, every run of white space (non-breaking spaces included) as one space."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def _summary_of(body: tuple[str, ...]) -> str:
    lead = body[0] if body else ""
    return lead if len(lead) <= 200 else lead[:197].rsplit(" ", 1)[0] + "…"


def _publish_line(lines: list[str], tz: ZoneInfo) -> tuple[datetime, int]:
    """The publish time and view count from line 2 ('cms-publish-date DD/MM/YYYY | HH:MM |
    cms-view-count: N')."""
    if len(lines) < 2:
        raise InvalidArticle("no 'cms-publish-date DD/MM/YYYY | HH:MM | cms-view-count: N' line")
    match = _DATE_LINE.search(lines[1])
    if not match:
        raise InvalidArticle(
            "line 2 is not 'cms-publish-date DD/MM/YYYY | HH:MM | cms-view-count: N': "
            f"{_clean(lines[1])[:80]!r}"
        )
    try:
        year, month, day, hour, minute = (int(match[n]) for n in ("y", "m", "d", "H", "M"))
        local = datetime(year, month, day, hour, minute, tzinfo=tz)
    except ValueError as exc:
        raise InvalidArticle(f"invalid publish date on line 2: {exc}") from None
    return local, int(re.sub(r"[.,]", "", match["views"]))


def _without_widget(paragraphs: list[str]) -> tuple[list[str], int]:
    """The paragraphs before the old visitor widget (page chrome), and its "Tổng" total."""
    for i, paragraph in enumerate(paragraphs):
        if paragraph in WIDGET_HEADINGS:
            totals = _WIDGET_TOTAL.findall(" ".join(paragraphs[i:]))
            legacy_total = int(re.sub(r"[.,]", "", totals[-1])) if totals else 0
            paragraphs = paragraphs[:i]
            break
    else:
        legacy_total = 0
    return [p for p in paragraphs if not _WIDGET_LINE.match(p)], legacy_total


def parse_legacy(text: str, tz: ZoneInfo) -> Parsed:
    """Parse one legacy page: title, date/view-count line, paragraphs, byline, widget."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = text.split("\n")
    while lines and not _clean(lines[0]):
        lines.pop(0)
    if not lines:
        raise InvalidArticle("the file is empty")
    title = _clean(lines[0])
    local, legacy = _publish_line(lines, tz)
    paragraphs = [_clean(block) for block in re.split(r"\n\s*\n", "\n".join(lines[2:]))]
    paragraphs, legacy_total = _without_widget([p for p in paragraphs if p])  # NBSP-only go
    byline = ""
    if len(paragraphs) > 1 and _looks_like_byline(paragraphs[-1]):
        byline = paragraphs.pop()
    if not paragraphs:
        raise InvalidArticle("the article has no body paragraphs")
    return Parsed(_article(title, local, tuple(paragraphs), byline), legacy, legacy_total)


def _looks_like_byline(paragraph: str) -> bool:
    return (
        len(paragraph) <= MAX_BYLINE
        and len(paragraph.split()) <= 6
        and not paragraph.endswith((".", ":", ";", "?", "!"))
    )


def _article(
    title: str,
    published: datetime,
    body: tuple[str, ...],
    byline: str,
    slug: str | None = None,
    summary: str = "",
    category: str = "",
    status: str = PUBLISHED,
    body_html: str = "",
) -> Article:
    if not title:
        raise InvalidArticle("the title is empty")
    if len(title) > 500:
        raise InvalidArticle("the title is longer than 500 characters")
    final_slug = clean_slug(slug) if slug else make_slug(title)
    if not final_slug:
        raise InvalidArticle(
            f"slug {slug!r} is not lower-case letters, digits and hyphens (at most "
            f"{MAX_SLUG_LENGTH} characters)"
            if slug
            else "no slug can be made from the title"
        )
    return Article(
        slug=final_slug,
        title=title,
        published_at=published,
        body=body,
        byline=byline,
        summary=summary or _summary_of(body),
        category=category,
        status=status,
        body_html=body_html,
    )


def _text(data: dict[str, Any], name: str, default: str = "") -> str:
    """A string field, cleaned (NFC, single spaces); `default` when absent or null."""
    value = data.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise InvalidArticle(f"'{name}' must be a string")
    return _clean(value)


def _bodies(data: dict[str, Any]) -> tuple[tuple[str, ...], str]:
    """The body paragraphs and the sanitised HTML body of a JSON article."""
    raw_body = data.get("body")
    raw_html = data.get("body_html")
    if raw_html is not None and not isinstance(raw_html, str):
        raise InvalidArticle("'body_html' must be a string")
    body_html = clean_html(raw_html) if raw_html else ""
    body: tuple[str, ...]
    if raw_body is None and body_html:
        body = (text_of(body_html),)  # plain text for descriptions; the page shows the HTML
    elif isinstance(raw_body, str):
        body = tuple(p for p in (_clean(b) for b in re.split(r"\n\s*\n", raw_body)) if p)
    elif isinstance(raw_body, list) and all(isinstance(p, str) for p in raw_body):
        body = tuple(p for p in (_clean(b) for b in raw_body) if p)
    else:
        raise InvalidArticle("'body' must be a string or a list of strings (or give 'body_html')")
    if not body:
        raise InvalidArticle("the article has no body paragraphs")
    return body, body_html


def _moment(data: dict[str, Any], name: str, tz: ZoneInfo) -> datetime | None:
    """An ISO 8601 field as an aware datetime (local time `tz` when it has no offset)."""
    raw = _text(data, name)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidArticle(f"'{name}' is not an ISO 8601 date: {raw!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def _legacy_views(data: dict[str, Any]) -> int:
    views = data.get("views", 0)
    if isinstance(views, bool) or not isinstance(views, int) or views < 0:
        raise InvalidArticle("'views' must be a whole number >= 0")
    return views


def parse_json_article(data: Any, tz: ZoneInfo) -> Parsed:
    """One JSON article: {title, body (list or text), published_at, byline|author, views, ...}."""
    if not isinstance(data, dict):
        raise InvalidArticle("each JSON article must be an object")
    title = _text(data, "title")
    body, body_html = _bodies(data)
    published = _moment(data, "published_at", tz)
    if published is None:
        raise InvalidArticle("'published_at' is missing")
    views = _legacy_views(data)
    updated = None
    if data.get("updated_at") is not None:  # given: it must be a date (blank is not)
        updated = _moment(data, "updated_at", tz)
        if updated is None:
            raise InvalidArticle("'updated_at' is not an ISO 8601 date: ''")
    status = _text(data, "status", PUBLISHED)
    if status not in STATUSES:
        raise InvalidArticle(f"'status' must be one of {', '.join(STATUSES)}")
    article = _article(
        title,
        published,
        body,
        _text(data, "byline") or _text(data, "author"),
        slug=_text(data, "slug") or None,
        summary=_text(data, "summary"),
        category=_text(data, "category"),
        status=status,
        body_html=body_html,
    )
    return Parsed(article, views, version=iso(updated) if updated else "")


def parse_file(path: Path, tz: ZoneInfo) -> list[Parsed]:
    """All articles in one file (.json: an object or a list of them; else the legacy text)."""
    try:
        raw = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidArticle("the file is not UTF-8 text") from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InvalidArticle(f"invalid JSON: {exc}") from None
        items = data if isinstance(data, list) else [data]
        parsed = [parse_json_article(item, tz) for item in items]
    else:
        parsed = [parse_legacy(raw, tz)]
    # Without its own updated_at, a version is as new as its file.
    modified = iso(datetime.fromtimestamp(path.stat().st_mtime).astimezone())
    return [p if p.version else replace(p, version=modified) for p in parsed]


def write(parsed: Parsed, *, keep_legacy: bool = False) -> str:
    """Store one article and its legacy count atomically: 'imported', 'updated', 'unchanged'
    or 'stale' (a newer version is stored). With keep_legacy (the admin API), an existing
    counter keeps its legacy count: only an audited set-views changes a count there."""
    article = parsed.article
    digest = article.content_hash()
    now = iso(datetime.now().astimezone())
    stored_hash = stored.stored_hash(article.slug)
    existed = stored_hash is not None
    if stored_hash != digest:
        # The site's total is never behind what the old site showed: neither its widget's
        # total nor any one article's count (each counted view was someone's visit). Raised
        # before the write, so a rerun after a failure in between still raises it; an
        # unchanged article (an export imported back, say) raised it when it was written.
        kept = keep_legacy and existed
        if parsed.legacy_total:  # the old site's own total visits
            counters.raise_site("legacy_visits", parsed.legacy_total)
        if not kept and parsed.legacy_views:
            counters.raise_total_floor(parsed.legacy_views)
    legacy = _legacy_action(parsed, existed, keep_legacy)
    refused_by = stored.write_version(to_item(article), digest, parsed.version or now, now, legacy)
    if refused_by is not None:
        return "unchanged" if refused_by == digest else "stale"
    forget(article.slug)
    return "updated" if existed else "imported"


def _legacy_action(parsed: Parsed, existed: bool, keep_legacy: bool) -> dict[str, Any] | None:
    """The counter's part of the article's transaction, or None when the counter already
    has what it would write. A save that does not change the count leaves the counter item
    alone, so views counted on it never meet the save's transaction (on AWS a single write
    to an item a transaction holds is refused: TransactionConflictException)."""
    slug = parsed.article.slug
    if existed:
        legacy = counters.stored_legacy(slug)
        if legacy is not None and (keep_legacy or legacy == parsed.legacy_views):
            return None
    return counters.legacy_action(slug, parsed.legacy_views, keep_existing=keep_legacy)


def expand(paths: Iterable[Path]) -> Iterator[Path]:
    """Files named, and the .txt/.json files under folders named, in a stable order."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix.lower() in (".txt", ".json"))
        else:
            yield path


def import_paths(paths: Iterable[Path], report: Callable[[str], None] = print) -> Summary:
    """Import every file; a bad file is rejected with its reason and the rest go on."""
    tz = settings().tz
    files = list(expand(paths))
    summary = Summary()
    for number, path in enumerate(files, 1):
        prefix = f"[{number}/{len(files)}] {path}"
        try:
            if not path.is_file():
                raise InvalidArticle("no such file")
            batch = parse_file(path, tz)
        except InvalidArticle as exc:
            summary.rejected.append((str(path), str(exc)))
            report(f"{prefix}: rejected: {exc}")
            continue
        for parsed in batch:
            outcome = write(parsed)
            setattr(summary, outcome, getattr(summary, outcome) + 1)
            report(f"{prefix}: {outcome} {parsed.article.slug}")
    return summary


__all__ = [
    "InvalidArticle",
    "Parsed",
    "Summary",
    "import_paths",
    "parse_file",
    "parse_iso",
    "parse_json_article",
    "parse_legacy",
    "write",
]
