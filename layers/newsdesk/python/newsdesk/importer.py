"""Import articles from the legacy CMS's text pages (the fixture's format), from JSON (an
object or a list) and from WordPress exports (newsdesk.wxr).

Each article is accepted or rejected on its own (a bad item of a list is named by its file,
index and title; the others go in), and written whole or not at all (one transaction: the
article and the legacy count on its counter item), where its source identity says it
belongs (newsdesk.storing). Re-importing updates the article but never touches the counted
views nor a count an editor set, and an unchanged article is not written again, so a rerun
after a failure picks up where it stopped and a rerun of the same import only reads.
"""

from __future__ import annotations

import errno
import hashlib
import itertools
import json
import os
import re
import stat
import unicodedata
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from newsdesk import storing, wxr
from newsdesk.articles import PUBLISHED, STATUSES, Article, iso, parse_iso
from newsdesk.config import settings
from newsdesk.sanitize import clean_html, text_of
from newsdesk.slugs import MAX_SLUG_LENGTH, canonical_slug, clean_slug, make_slug
from newsdesk.text import EncodingProblem, decode, encoding_problem, page_problem
from newsdesk.text import clean as clean_text

WIDGET_HEADINGS = ("Số lượng truy cập",)
_WIDGET_LINE = re.compile(r"^(Đang truy cập|Tổng)\s*:\s*[\d.,]*$")
_WIDGET_TOTAL = re.compile(r"(?:^|\s)Tổng\s*:\s*(\d[\d.,]*)")
_DATE_LINE = re.compile(
    r"cms-publish-date\s+(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})\s*\|\s*"
    r"(?P<H>\d{1,2}):(?P<M>\d{2})\s*\|\s*cms-view-count:\s*(?P<views>\d[\d.,]*)\s*$"
)
_NUMBERED = re.compile(r"^\[\d+/\d+\] ")  # a report line's "[3/12] "
MAX_BYLINE = 60


MAX_ID = 500  # characters of a JSON article's `id`
# A legacy count, as set-views allows (newsdesk.editing.MAX_VIEWS): far above any page's,
# and within DynamoDB's 38 digits (a bigger number cancels the whole batch it is in).
MAX_VIEWS = 10**12
MAX_TITLE = 500
# A summary is a paragraph (it goes whole into every feed fetch) and a byline a few names.
MAX_SUMMARY = 1000
# Of a publish or edit time: years stored with four digits (iso() does not pad a year below
# 1000, which then reads back as no date and sorts out of place).
YEARS = (1000, 9999)
MAX_AUTHOR = 200
# What a legacy page's bytes become is decided by parse_legacy and what it calls (cleaning,
# slugs, the content hash). PARSER_VERSION is part of each page's source digest: a change
# that makes the same bytes give another article must bump it, or a re-run would take the
# page for unchanged (tests/unit/test_importer.py pins the fixture's result to it).
PARSER_VERSION = "2"  # 2: a page's version is its publish time, not its file's mtime
READ_AHEAD = 64  # files read ahead of the parser, by READERS threads (file reads wait on I/O)
READERS = 4
# Files a reader thread reads per task: one task a file cost more (a future, a thread woken
# and the GIL handed over: about 0.1 ms) than reading a small page from the disk cache.
READ_BATCH = 16
MAX_LABEL_TITLE = 60  # characters of a title in a reject's label


class InvalidArticle(ValueError):
    """The article (or the whole file) cannot be imported; the message says what is wrong."""


@dataclass(frozen=True)
class Parsed:
    article: Article
    legacy_views: int
    legacy_total: int = 0  # the old widget's "Tổng" (site total visits), when the page has it
    version: str = ""  # when this version was written at the source (ISO, UTC); newer wins
    # The source gives no edit time (a legacy page): `version` is the publish time, shown as
    # the last edit (lastmod, article:modified_time), and the latest import wins.
    undated: bool = False
    source_id: str = ""  # the source's own id of the article (JSON `id`; WXR "wxr:<guid>")
    # The source named the slug and gave no id (a JSON export, the admin API): the article
    # at that slug is this one, whatever it was imported from.
    pinned: bool = False
    source_digest: str = ""  # a legacy page's bytes (see Page); "" for other sources
    # The slug the source gave when it cannot be a URL ("." , "..", "a/b", "%2e"): the
    # article got the slug derived from it or from its title instead (reported).
    unusable_slug: str = ""

    @cached_property
    def identity(self) -> str:
        """The source identity (newsdesk.storing): "id:<id>", else "title:<published_at
        ISO> <title>" (a legacy page is the same page only with the same title and time)."""
        if self.source_id:
            return f"id:{self.source_id}"
        return title_identity(self.article.published_at, self.article.title)

    @property
    def slug(self) -> str:
        """The slug the article asks for (newsdesk.storing may give it another)."""
        return self.article.slug

    @property
    def published_at(self) -> datetime:
        return self.article.published_at

    def parse(self) -> Parsed:
        return self

    @cached_property
    def digest(self) -> str:
        """The article's content hash (newsdesk.articles.Article.content_hash)."""
        return self.article.content_hash()


def title_identity(published_at: datetime, title: str) -> str:
    return f"title:{iso(published_at)} {title}"


def source_digest(data: bytes) -> str:
    """A legacy page's bytes, as read by this PARSER_VERSION (32 hex digits of SHA-256)."""
    return hashlib.sha256(PARSER_VERSION.encode() + b"\0" + data).hexdigest()[:32]


@dataclass(frozen=True)
class Page:
    """A legacy page read but not parsed yet: its title and publish time (its identity and
    slug), read from its first lines, and the digest of its bytes. A re-run finds an
    unchanged page by that digest without parsing it (newsdesk.storing); parse() gives the
    article when it has to be written."""

    text: str
    tz: ZoneInfo
    source_digest: str
    title: str
    published_at: datetime
    slug: str
    pinned = False
    undated = True  # see Parsed.undated

    @cached_property
    def identity(self) -> str:
        return title_identity(self.published_at, self.title)

    def parse(self) -> Parsed:
        """The article (InvalidArticle when the page cannot be imported)."""
        return parse_legacy(self.text, self.tz, self.source_digest, (self.title, self.slug))


HEAD_LINES = 8  # lines a page's title and date are looked for in, before a whole parse


def read_page(data: bytes, text: str, tz: ZoneInfo) -> Page | Parsed:
    """A legacy page (its bytes `data`, decoded `text`) as a Page, or, when its first lines
    are not a title and a date line, parsed at once (InvalidArticle says why). A page has
    no edit time: not its file's modification time either, which a copy or a clone sets to
    the moment it was made (Parsed.undated)."""
    head = _head(text)
    try:
        title, published, _ = _title_and_date(head, tz)
        slug = make_slug(title) if 0 < len(title) <= MAX_TITLE else ""
    except InvalidArticle:
        slug = ""
    if not slug:
        return parse_legacy(text, tz, source_digest(data))
    return Page(text, tz, source_digest(data), title, published, slug)


@dataclass
class Summary:
    """What an import did, so far (it is filled in as articles are stored)."""

    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0  # a newer version of the article is already stored: left alone
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (where, why)
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (slug given, slug wanted)
    kept: list[tuple[str, str]] = field(default_factory=list)  # (slug, the editor's count)
    derived: list[tuple[str, str]] = field(default_factory=list)  # (slug, the unusable one given)
    # (slug kept, the one the source now gives): found by its source id, its URL stays
    stayed: list[tuple[str, str]] = field(default_factory=list)
    # (slug, the article it may copy): a title corrected at the source (storing.possible_duplicate)
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. what a WordPress export skipped

    @property
    def done(self) -> int:
        """Articles stored, left alone or rejected."""
        return self.imported + self.updated + self.unchanged + self.stale + len(self.rejected)

    def add(self, outcome: storing.Outcome) -> None:
        if outcome.outcome == "rejected":
            self.rejected.append((_NUMBERED.sub("", outcome.label, count=1), outcome.reason))
            return
        setattr(self, outcome.outcome, getattr(self, outcome.outcome) + 1)
        if outcome.wanted and outcome.outcome in ("imported", "updated"):
            self.renamed.append((outcome.slug, outcome.wanted))
        if outcome.kept:
            self.kept.append((outcome.slug, outcome.kept))
        if outcome.unusable and outcome.outcome in ("imported", "updated"):
            self.derived.append((outcome.slug, outcome.unusable))
        if outcome.elsewhere and outcome.outcome == "updated":
            self.stayed.append((outcome.slug, outcome.elsewhere))
        if outcome.duplicate and outcome.outcome in ("imported", "updated"):
            self.duplicates.append((outcome.slug, outcome.duplicate))

    def line(self) -> str:
        extra = ""
        if self.renamed:
            extra += f", given a unique slug {len(self.renamed)}"
        if self.kept:
            extra += f", kept an editor's count {len(self.kept)}"
        if self.derived:
            extra += f", given a slug for one that cannot be a URL {len(self.derived)}"
        if self.stayed:
            extra += f", kept its URL under another slug at the source {len(self.stayed)}"
        if self.duplicates:
            extra += f", POSSIBLE DUPLICATES {len(self.duplicates)}"
        return (
            f"imported {self.imported}, updated {self.updated}, unchanged {self.unchanged}, "
            f"skipped as older than stored {self.stale}, rejected {len(self.rejected)}{extra}"
        )


def _clean(text: str) -> str:
    """NFC, every run of white space (non-breaking spaces included) as one space, without
    the characters XML cannot carry (newsdesk.text.clean); InvalidArticle for mojibake or
    VNI (checked first: the controls that mojibake may hold are part of the evidence)."""
    _check_encoding(text)
    return _tidy(text)


def _tidy(text: str) -> str:
    """_clean without the encoding check (for text already checked as a whole)."""
    return _spaced(clean_text(text))


def _spaced(text: str) -> str:
    """Every run of white space as one space, none at the ends. str.split() splits where re's
    `\\s+` matches (both take white space as str.isspace() does), a few times faster."""
    return " ".join(text.split())


def _check_encoding(*texts: str) -> None:
    """InvalidArticle when any of the texts is mojibake or VNI, or all of them together read
    as VNI (short fields have few signs each)."""
    problem = encoding_problem(*texts)
    if problem:
        raise InvalidArticle(problem)


def _check_page_encoding(text: str) -> None:
    """InvalidArticle when a legacy page, up to the old visitor widget (page chrome in Unicode
    whatever the article's encoding), is VNI or mojibake, or has a line of mojibake
    (newsdesk.text.page_problem)."""
    lines = text.split("\n")
    end = next((n for n, line in enumerate(lines) if line.strip() in WIDGET_HEADINGS), None)
    problem = page_problem(lines[:end])
    if problem:
        raise InvalidArticle(problem)


_TEXT_FIELDS = ("title", "summary", "byline", "author", "category", "body_html")


def _all_text(data: dict[str, Any]) -> list[str]:
    """A JSON article's text fields as they came (before cleaning), its body's paragraphs
    included, for one encoding check over all of them."""
    texts = [value for name in _TEXT_FIELDS if isinstance(value := data.get(name), str)]
    body = data.get("body")
    if isinstance(body, str):
        texts.append(body)
    elif isinstance(body, list):
        texts += [p for p in body if isinstance(p, str)]
    return texts


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
    views = int(re.sub(r"[.,]", "", match["views"]))
    if views > MAX_VIEWS:
        raise InvalidArticle(f"the view count on line 2 is over {MAX_VIEWS:,}")
    return local, views


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


def _cleaned_lines(text: str) -> list[str]:
    """The page's lines, NFC and cleaned (newsdesk.text.clean), from the first that is not
    blank. Line by line or whole, the same: neither NFC nor the cleaning joins characters
    across a line break."""
    lines = clean_text(_lines(text)).split("\n")
    start = next((i for i, line in enumerate(lines) if _spaced(line)), len(lines))
    return lines[start:]


def _head(text: str) -> list[str]:
    """_cleaned_lines' first two (a title and a date line), looked for in the page's first
    HEAD_LINES lines, each line cleaned only when it is needed."""
    raw = _lines("\n".join(text.split("\n", HEAD_LINES)[:HEAD_LINES])).split("\n")
    lines: list[str] = []
    for line in raw[:HEAD_LINES]:
        cleaned = clean_text(line)
        if lines or _spaced(cleaned):
            lines.append(cleaned)
            if len(lines) == 2:
                break
    return lines


def _lines(text: str) -> str:
    """`text` with every line break as LF (CR LF and a lone CR too)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _title_and_date(lines: list[str], tz: ZoneInfo) -> tuple[str, datetime, int]:
    """The title (line 1), the publish time and the view count (line 2)."""
    if not lines:
        raise InvalidArticle("the file is empty")
    local, legacy = _publish_line(lines, tz)
    return _spaced(lines[0]), local, legacy


def parse_legacy(
    text: str, tz: ZoneInfo, digest: str = "", made: tuple[str, str] | None = None
) -> Parsed:
    """Parse one legacy page: title, date/view-count line, paragraphs, byline, widget.
    `digest`: its bytes' source_digest. Its version is its publish time (Parsed.undated).
    `made`: (title, slug) as read_page made them, so the slug is not made twice (used when
    the title is that one)."""
    text = unicodedata.normalize("NFC", text)
    _check_page_encoding(text)
    lines = _cleaned_lines(text)  # once for the page: what XML cannot carry goes
    title, local, legacy = _title_and_date(lines, tz)
    paragraphs = [_spaced(block) for block in re.split(r"\n\s*\n", "\n".join(lines[2:]))]
    paragraphs, legacy_total = _without_widget([p for p in paragraphs if p])  # NBSP-only go
    byline = ""
    if len(paragraphs) > 1 and _looks_like_byline(paragraphs[-1]):
        byline = paragraphs.pop()
    if not paragraphs:
        raise InvalidArticle("the article has no body paragraphs")
    slug = made[1] if made is not None and made[0] == title else None
    article = _article(title, local, tuple(paragraphs), byline, slug=slug)
    version = iso(article.published_at)
    return Parsed(
        article, legacy, legacy_total, version=version, source_digest=digest, undated=True
    )


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
    if len(title) > MAX_TITLE:
        raise InvalidArticle(f"the title is longer than {MAX_TITLE} characters")
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
    if raw_html:
        _check_encoding(raw_html)
    body_html = clean_html(raw_html) if raw_html else ""
    body: tuple[str, ...]
    if raw_body is None and raw_html is not None:
        if not text_of(body_html).strip() and "<img" not in body_html:
            raise InvalidArticle(
                "'body_html' is empty" if not raw_html.strip() else "'body_html' has no text"
            )
        body = (text_of(body_html),)  # plain text for descriptions; the page shows the HTML
    elif isinstance(raw_body, str):
        body = tuple(p for p in (_clean(b) for b in re.split(r"\n\s*\n", raw_body)) if p)
    elif isinstance(raw_body, list) and all(isinstance(p, str) for p in raw_body):
        body = tuple(p for p in (_clean(b) for b in raw_body) if p)
    else:
        raise InvalidArticle("'body' must be a string or a list of strings (or give 'body_html')")
    if not body:  # only white space, or characters a page cannot carry (newsdesk.text)
        raise InvalidArticle("'body' has no text")
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
    if not YEARS[0] <= moment.year <= YEARS[1]:  # "0204" for "2024": stored, never read back
        raise InvalidArticle(f"'{name}' is out of range (years {YEARS[0]} to {YEARS[1]}): {raw!r}")
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def _legacy_views(data: dict[str, Any]) -> int:
    views = data.get("views", 0)
    if isinstance(views, bool) or not isinstance(views, int) or not 0 <= views <= MAX_VIEWS:
        raise InvalidArticle(f"'views' must be a whole number from 0 to {MAX_VIEWS:,}")
    return views


def _bounded(text: str, name: str, limit: int) -> str:
    """`text`, or InvalidArticle naming the field when it is longer than `limit` characters."""
    if len(text) > limit:
        raise InvalidArticle(f"'{name}' is longer than {limit:,} characters")
    return text


def _source_id(data: dict[str, Any]) -> str:
    """The article's id at its source (JSON `id`: a string or a whole number), "" for none."""
    value = data.get("id")
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidArticle("'id' must be a string or a whole number")
    text = _clean(str(value))
    if not text or len(text) > MAX_ID:
        raise InvalidArticle(f"'id' must be 1 to {MAX_ID} characters")
    return text


def parse_json_article(data: Any, tz: ZoneInfo, default_version: str = "") -> Parsed:
    """One JSON article: {id, slug, title, body (list or text) or body_html, published_at,
    byline|author, views, ...}. `id` (or, without one, the title and publish time) is its
    source identity; a `slug` without an `id` names the article (see Parsed.pinned).
    `default_version`: its version when it has no updated_at (its file's modification time)."""
    if not isinstance(data, dict):
        raise InvalidArticle("each JSON article must be an object")
    _check_encoding(*_all_text(data))  # VNI over all the fields: each alone may be short
    source_id = _source_id(data)
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
    given = _text(data, "slug")
    slug, unusable = usable_slug(given, title)
    article = _article(
        title,
        published,
        body,
        _bounded(_text(data, "byline") or _text(data, "author"), "author", MAX_AUTHOR),
        slug=slug or None,
        summary=_bounded(_text(data, "summary"), "summary", MAX_SUMMARY),
        category=_text(data, "category"),
        status=status,
        body_html=body_html,
    )
    version = iso(updated) if updated else default_version
    pinned = bool(slug) and not unusable and not source_id
    return Parsed(
        article,
        views,
        version=version,
        source_id=source_id,
        pinned=pinned,
        unusable_slug=unusable,
    )


def usable_slug(given: str, title: str) -> tuple[str, str]:
    """The slug to store for a source's `given` slug ("" for none: made from the title) and
    the given one when it cannot be a URL ("" when it can). A slug that cannot be routed
    (".", "..", "a/b", "%2e", upper case, spaces, control characters: anything
    newsdesk.slugs.clean_slug does not give back as it is) is never stored: its readable
    spelling's transliteration (newsdesk.slugs.canonical_slug: "Thời-Sự" -> "thoi-su")
    is used, else the title's slug, and the given one is reported (Summary.derived)."""
    if not given or clean_slug(given) == given:
        return given, ""
    derived = canonical_slug(given) or make_slug(title)
    return derived, given


def _json_label(path: Path, index: int, data: Any) -> str:
    """Where a list's item is: `path[index] 'its title'` (the index from 0)."""
    title = data.get("title") if isinstance(data, dict) else None
    if isinstance(title, str) and title.strip():
        return f"{path}[{index}] {_tidy(title)[:MAX_LABEL_TITLE]!r}"
    return f"{path}[{index}]"


Item = tuple[str, "Parsed | Page | InvalidArticle"]  # (where it is, the article or why not)


def _attempt(parse: Callable[..., Parsed | Page], *args: Any) -> Parsed | Page | InvalidArticle:
    """parse(*args), or why it cannot be imported."""
    try:
        return parse(*args)
    except InvalidArticle as exc:
        return exc


def _json_items(path: Path, raw: str, tz: ZoneInfo, version: str) -> Iterator[Item]:
    try:
        data = json.loads(raw)
    except RecursionError:  # "[" * 100000: json's decoder recurses per level
        yield str(path), InvalidArticle("invalid JSON: nested too deeply")
        return
    except json.JSONDecodeError as exc:
        yield str(path), InvalidArticle(f"invalid JSON: {exc}")
        return
    if not isinstance(data, list):
        yield str(path), _attempt(parse_json_article, data, tz, version)
        return
    for index, item in enumerate(data):
        yield _json_label(path, index, item), _attempt(parse_json_article, item, tz, version)


def _wxr_items(path: Path, tz: ZoneInfo, version: str, notes: list[str] | None) -> Iterator[Item]:
    export = wxr.read(path)
    try:
        for label, data in export.articles():
            yield f"{path} {label}", _attempt(parse_json_article, data, tz, version)
    except wxr.InvalidExport as exc:
        yield str(path), InvalidArticle(str(exc))
    if export.summary() and notes is not None:
        notes.append(f"{path}: {export.summary()}")


def load(path: Path) -> tuple[os.stat_result, bytes | None]:
    """A file's status and, unless it is a WordPress export (read as a stream), its bytes.
    OSError when it cannot be read; FileNotFoundError when it is not a file."""
    status = path.stat()
    if not stat.S_ISREG(status.st_mode):
        raise FileNotFoundError(errno.ENOENT, "not a file")
    return status, None if path.suffix.lower() == ".xml" else path.read_bytes()


def read_items(
    path: Path,
    tz: ZoneInfo,
    notes: list[str] | None = None,
    loaded: Loaded | None = None,
) -> Iterator[Item]:
    """(where, the article or why it is rejected) for each article of one file, in order:
    a legacy page (`path`; a Page, parsed when needed), a JSON object (`path`) or list (each
    item on its own: `path[index] 'title'`), a WordPress export (each post: `path post 42
    'title'`; what it skipped goes to `notes`). A file that cannot be read is one (path,
    InvalidArticle). An article without its own updated_at is as new as its file (its
    modification time). `loaded(path)`: the file as load() reads it (read ahead, say)."""
    try:
        status, data = (loaded or load)(path)
        if data is None:  # a WordPress export (newsdesk.wxr)
            yield from _wxr_items(path, tz, _file_version(status), notes)
            return
        text = decode(data)  # UTF-8, else what the bytes look like
    except FileNotFoundError:
        yield str(path), InvalidArticle("no such file")
        return
    except OSError as exc:
        yield str(path), InvalidArticle(f"cannot read the file: {exc.strerror or exc}")
        return
    except EncodingProblem as exc:
        yield str(path), InvalidArticle(str(exc))
        return
    if path.suffix.lower() == ".json":
        yield from _json_items(path, text, tz, _file_version(status))
    else:
        yield str(path), _attempt(read_page, data, text, tz)


def _file_version(status: os.stat_result) -> str:
    """A file's modification time (ISO, UTC): the version of its articles without their own
    updated_at (a legacy page has none: Parsed.undated)."""
    return iso(datetime.fromtimestamp(status.st_mtime, UTC))


Loaded = Callable[[Path], tuple[os.stat_result, bytes | None]]


def read_ahead(files: list[Path]) -> Generator[Loaded, None, None]:
    """For each file in order, a loaded() for read_items that gives it as load() reads it
    (or raises what load() raised), READERS threads reading up to READ_AHEAD files ahead,
    READ_BATCH at a time (a file read waits on the disk, not on Python)."""
    batches = [files[at : at + READ_BATCH] for at in range(0, len(files), READ_BATCH)]
    with ThreadPoolExecutor(READERS, thread_name_prefix="import-read-files") as pool:
        ahead: deque[Future[list[Loaded]]] = deque()
        upcoming = iter(batches)
        for batch in itertools.islice(upcoming, max(1, READ_AHEAD // READ_BATCH)):
            ahead.append(pool.submit(_load_batch, batch))
        for batch in upcoming:
            yield from ahead.popleft().result()
            ahead.append(pool.submit(_load_batch, batch))
        while ahead:
            yield from ahead.popleft().result()


def _load_batch(paths: list[Path]) -> list[Loaded]:
    """load() of each file, as a loaded() that gives its result or raises its exception."""
    return [_loaded(path) for path in paths]


def _loaded(path: Path) -> Loaded:
    try:
        result = load(path)
    except Exception as exc:  # raised where the file is taken (read_items)
        error = exc

        def failed(_: Path) -> tuple[os.stat_result, bytes | None]:
            raise error

        return failed
    return lambda _: result


def parse_file(path: Path, tz: ZoneInfo) -> list[Parsed]:
    """Every article of one file (see read_items), all or nothing: InvalidArticle names the
    first one that cannot be imported ("<where>: <why>")."""
    parsed = []
    for where, item in read_items(path, tz):
        try:
            if isinstance(item, InvalidArticle):
                raise item
            parsed.append(item.parse())
        except InvalidArticle as exc:
            raise InvalidArticle(f"{where}: {exc}") from None
    return parsed


def write(parsed: Parsed, *, keep_legacy: bool = False, who: str = "import") -> str:
    """Store one article and its legacy count atomically, read afresh (newsdesk.storing):
    'imported', 'updated', 'unchanged', 'stale' (a newer version is stored) or 'rejected'
    (every slug it may take is another article's). With keep_legacy (the admin API), an
    existing counter keeps its legacy count: only an audited set-views changes a count
    there."""
    return storing.store_one(parsed, who=who, keep_legacy=keep_legacy).outcome


IMPORTED = (".txt", ".json", ".xml")  # .xml: WordPress exports (newsdesk.wxr)


def expand(paths: Iterable[Path]) -> Iterator[Path]:
    """Files named, and the .txt/.json/.xml files under folders named, in a stable order."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix.lower() in IMPORTED)
        else:
            yield path


Progress = Callable[[Summary, float], None]


def import_paths(
    paths: Iterable[Path],
    report: Callable[[str], None] = print,
    *,
    who: str = "import",
    notable_only: bool = False,
    progress: Progress | None = None,
    summary: Summary | None = None,
    workers: int = storing.WORKERS,
) -> Summary:
    """Import every article of every file (folders: their .txt, .json and .xml files), each
    accepted or rejected on its own, in bulk (newsdesk.storing.Bulk); `report` gets one line
    per article ("[3/12] path: imported slug"; with notable_only, only rejects, stale
    versions, unique slugs and kept counts). `progress(summary, fraction of the files
    read)` is called as it goes; `summary` (given, or a new one) is filled in as
    articles are stored, so after a KeyboardInterrupt it holds what was done: the writes
    under way end first, each article whole. `who` names the importer in audit records."""
    tz = settings().tz
    files = list(expand(paths))
    summary = summary if summary is not None else Summary()

    def done(outcome: storing.Outcome) -> None:
        summary.add(outcome)
        if not notable_only or outcome.notable:
            report(outcome.line())

    bulk = storing.Bulk(done, who=who, workers=workers)
    marked = False  # old set-views read (storing.mark_old_set_views) before the first write
    ahead = read_ahead(files)
    try:
        for number, (path, loaded) in enumerate(zip(files, ahead, strict=True), 1):
            prefix = f"[{number}/{len(files)}] "
            for where, item in read_items(path, tz, summary.notes, loaded):
                label = prefix + where
                if isinstance(item, InvalidArticle):
                    done(storing.Outcome(label, "rejected", reason=str(item)))
                else:
                    if not marked:  # once per table: see there
                        summary.notes.extend(storing.mark_old_set_views())
                        marked = True
                    bulk.add(label, item)
                if progress is not None:  # the files before this one are read
                    progress(summary, (number - 1) / len(files))
        bulk.finish()
    finally:
        ahead.close()  # the reads ahead end
        bulk.close()
    if progress is not None:
        progress(summary, 1.0)
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
    "read_items",
    "write",
]
