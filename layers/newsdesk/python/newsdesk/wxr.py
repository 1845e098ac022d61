"""WordPress's export file (WXR, "WordPress eXtended RSS": Tools > Export, format 1.0 to
1.2, which WordPress 3.1 to 6.x write) read as articles in the JSON import format.

A WXR file is RSS 2.0 with WordPress's namespaces: the channel lists the authors
(`wp:author`), then one `<item>` per post, page, attachment, menu item and so on. It is read
as a stream (defusedxml's iterparse: no DTD, no entity expansion, no external resource; each
item is dropped once read), so a site of any size fits in memory.

Each post (`wp:post_type` "post") becomes one dict in the format of
newsdesk.importer.parse_json_article, which checks, cleans and sanitises it like any other
import:

- id (its source identity): "wxr:" + `guid` (else "wxr:post-" + `wp:post_id`);
- slug: `wp:post_name`, percent-decoded (a Vietnamese one transliterated), so the old URL's
  last segment survives; none for drafts that have none;
- title: `title` as text, entities decoded once and tags dropped
  ("A &amp;amp; B &amp;#8211; C" is "A & B – C");
- body_html: `content:encoded`: block content without its block comments; classic content
  with its paragraphs made from blank lines (`_autop`); `[caption]`, `[video]`, `[audio]`
  and `[embed]` shortcodes as HTML (see `content_html`);
- summary: `excerpt:encoded` as text;
- published_at: `wp:post_date_gmt` (UTC), else `wp:post_date` in the site's time zone
  (drafts have no GMT date); updated_at: `wp:post_modified_gmt`, so a re-import of an
  older export never undoes a newer one;
- byline: the author's `wp:author_display_name` (`dc:creator` is the login);
- category: the first `<category domain="category">` (tags are not categories);
- status: "published" for `publish` without a password; "draft" for draft, pending,
  private, future (scheduled) and password-protected posts;
- views: the largest count under VIEW_META_KEYS in the post's `wp:postmeta`.

Everything else is skipped and counted in `Export.skipped`: pages, attachments, menu items,
revisions, reusable blocks, templates, custom post types (by `wp:post_type`), and posts in
the trash or auto-drafts (by `wp:status`).
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsdesk.sanitize import text_of
from newsdesk.slugs import canonical_slug
from newsdesk.text import encoding_problem

if TYPE_CHECKING:
    from collections.abc import Callable
    from xml.etree.ElementTree import Element
    from zoneinfo import ZoneInfo

    from newsdesk.importer import Parsed

EXPORT_NS = "http://wordpress.org/export/"  # + "1.2/" (and "1.2/excerpt/" for excerpts)
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
HEAD_BYTES = 64 * 1024  # where a WXR file names its namespaces (after a comment of ~1 KB)

# Post meta keys that WordPress view counters write, and who writes them. Post Views
# Counter (dFactory) keeps its counts in its own table (wp_post_views), which WordPress's
# export leaves out; it reads and writes `views` when importing from WP-PostViews.
VIEW_META_KEYS = {
    "views": "WP-PostViews (Lester Chan)",
    "post_views_count": "the WPBeginner snippet and plugins after it (WP Post Visit Count)",
    "wpb_post_views_count": "WPBeginner's tutorial, later version",
    "Views": "Entry Views (Justin Tadlock), WP Views Counter (etruel)",
    "tie_views": "TieLabs themes (Jannah, Sahifa)",
}
STATUSES = {
    "publish": "published",
    "draft": "draft",
    "pending": "draft",
    "private": "draft",
    "future": "draft",  # scheduled: an editor publishes it here
}
NO_DATE = "0000-00-00 00:00:00"
NOT_WXR = "not a WordPress export (WXR: an RSS file with the wp: export namespace)"


class InvalidExport(ValueError):
    """The file is not a well-formed WXR file; the message says where."""


def is_wxr(path: Path) -> bool:
    """A file whose head is an RSS document naming WordPress's export namespace."""
    if not path.is_file():
        return False
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    return b"<rss" in head and EXPORT_NS.encode() in head


@dataclass(frozen=True)
class Attachment:
    """A media file of the export (an item of `wp:post_type` "attachment")."""

    url: str  # wp:attachment_url
    title: str
    caption: str  # its excerpt, as WordPress keeps an attachment's caption
    alt: str  # the _wp_attachment_image_alt meta value
    parent: str  # the post it was uploaded to (wp:post_parent; "0": none)
    order: tuple[int, int]  # (wp:menu_order, id): the order of a [gallery] without ids


# What [gallery] and [playlist] show: pictures, and for a playlist audio (its default) or
# video, chosen by the file's extension as WordPress chooses by MIME type.
_IMAGE = re.compile(r"\.(?:jpe?g|png|gif|webp|avif|bmp|svg)$", re.IGNORECASE)
_KINDS = {
    "audio": re.compile(r"\.(?:mp3|m4a|ogg|oga|wav|wma|flac)$", re.IGNORECASE),
    "video": re.compile(r"\.(?:mp4|m4v|webm|ogv|mov)$", re.IGNORECASE),
}
_LISTS = re.compile(r"\[(?:gallery|playlist)\b")


@dataclass
class Export:
    """One WXR file. `articles()` reads it once; `skipped` then counts what was not a post
    to import, by kind ("page", "attachment", "trash", ...), and `media` what became of
    [gallery] and [playlist] shortcodes (see Media)."""

    path: Path
    skipped: Counter[str] = field(default_factory=Counter)
    media: Counter[str] = field(default_factory=Counter)
    attachments: dict[str, Attachment] = field(default_factory=dict)
    base_url: str = ""  # the old site's address (wp:base_blog_url, else wp:base_site_url)

    def articles(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(label, article) for each post, in file order; label names it for messages:
        "post 42 'Tiêu đề'". A post that needs attachments the file holds after it (a
        [gallery], a [playlist], a featured picture uploaded once the post existed) comes
        at the end, from a second read of the file (only its id is kept meanwhile, so
        memory stays flat). Raises InvalidExport when the file is not a WordPress export,
        or its XML is malformed or forbidden (a DTD, an entity declaration)."""
        if not is_wxr(self.path):
            raise InvalidExport(NOT_WXR)
        later: set[str] = set()
        yield from self._read(later)
        if later:
            yield from self._read(set(), only=later)

    def _read(
        self, later: set[str], only: set[str] | None = None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """One read of the file: its posts (`only` those ids, on the second read), the
        ones that wait for attachments put in `later`."""
        first = only is None
        authors: dict[str, str] = {}
        for element in _channel_children(self.path, self.media if first else None):
            kind = _kind(element.tag)
            if kind == ("wp", "author"):
                fields = _fields(element)
                login = fields.get(("wp", "author_login"), "")
                authors[login] = fields.get(("wp", "author_display_name"), "") or login
            elif kind == ("wp", "base_blog_url"):  # the blog's own address (multisite)
                self.base_url = (element.text or "").strip()
            elif kind == ("wp", "base_site_url"):
                self.base_url = self.base_url or (element.text or "").strip()
            elif kind == ("", "item"):
                if first:
                    self._attachment(element)
                if first:
                    post = _post(element, authors, self.skipped, self.media)
                else:
                    post = _post(element, authors, Counter(), Counter())
                if post is None or (only is not None and post[3] not in only):
                    continue
                label, data, content, post_id = post
                thumbnail = _meta(element).get("_thumbnail_id", "")
                if first and self._waits(content, thumbnail):
                    later.add(post_id)
                    continue
                yield label, {**data, "body_html": self._body(content, post_id, thumbnail)}

    def _waits(self, content: str, thumbnail: str) -> bool:
        """Whether a post needs attachments not read yet: its featured picture, or the
        files of a [gallery] or [playlist] (those without ids: the files uploaded to the
        post, which come after it)."""
        if thumbnail and thumbnail not in self.attachments:
            return True
        return bool(_LISTS.search(content))

    def _body(self, content: str, post_id: str, thumbnail: str) -> str:
        """The post's HTML: its content (content_html), after its featured picture when it
        has one the content does not show already (themes show it above the text; it is
        what link previews showed)."""
        media = Media(self, post_id) if _LISTS.search(content) else None
        body = _outlined(content_html(content, media, self.base_url))
        picture = self.attachments.get(thumbnail) if thumbnail else None
        if picture is None or not picture.url or picture.url in content:
            return body
        self.media["featured pictures placed first in their post"] += 1
        caption = (
            f"<figcaption>{html.escape(picture.caption)}</figcaption>" if picture.caption else ""
        )
        image = f'<img src="{html.escape(picture.url)}" alt="{html.escape(picture.alt)}">'
        return f"<figure>{image}{caption}</figure>\n{body}"

    def _attachment(self, item: Element) -> None:
        fields = _fields(item)
        if fields.get(("wp", "post_type")) != "attachment":
            return
        post_id = fields.get(("wp", "post_id"), "")
        self.attachments[post_id] = Attachment(
            url=fields.get(("wp", "attachment_url"), ""),
            title=_text(fields.get(("", "title"), "")),
            caption=_text(_raw(item, ("excerpt", "encoded"))),
            alt=_meta(item).get("_wp_attachment_image_alt", ""),
            parent=fields.get(("wp", "post_parent"), "0"),
            order=(_number(fields.get(("wp", "menu_order"), "")), _number(post_id)),
        )

    def summary(self) -> str:
        """ "skipped (not posts to import): 3 attachment, 1 page; [gallery] as a list of
        pictures: 2; pictures in them: 7" (nothing when there is nothing to say)."""
        parts = []
        if self.skipped:
            kinds = [f"{count} {kind}" for kind, count in sorted(self.skipped.items())]
            parts.append("skipped (not posts to import): " + ", ".join(kinds))
        parts += [f"{what}: {count}" for what, count in sorted(self.media.items())]
        return "; ".join(parts)


def _number(text: str) -> int:
    """A small whole number written in ASCII digits, else 0."""
    return int(text) if _DIGITS.fullmatch(text) and len(text) < _MAX_DIGITS else 0


@dataclass
class Media:
    """[gallery] and [playlist] of one post, as WordPress shows them: a list of figures, each
    an attachment of the export (the shortcode's `ids`, else the files uploaded to the
    post, in their order) with its caption (a playlist's: its title). An id the export
    does not hold is left out and counted; a shortcode with nothing to show leaves a
    visible note in the article, so that an editor sees what to put back."""

    export: Export
    post_id: str

    def gallery(self, match: re.Match[str]) -> str:
        found = self._attachments(_attributes(match[1]), _IMAGE)
        items = [
            f'<li><figure><img src="{html.escape(a.url)}" alt="{html.escape(a.alt)}">'
            + (f"<figcaption>{html.escape(a.caption)}</figcaption>" if a.caption else "")
            + "</figure></li>"
            for a in found
        ]
        return self._list("[gallery]", "pictures", items)

    def playlist(self, match: re.Match[str]) -> str:
        attributes = _attributes(match[1])
        kind = "video" if attributes.get("type") == "video" else "audio"
        found = self._attachments(attributes, _KINDS[kind])
        items = [
            f'<li><figure><{kind} controls><source src="{html.escape(a.url)}"></{kind}>'
            f"<figcaption>{html.escape(a.caption or a.title)}</figcaption></figure></li>"
            for a in found
        ]
        return self._list("[playlist]", "files", items)

    def _attachments(self, attributes: dict[str, str], kind: re.Pattern[str]) -> list[Attachment]:
        every = self.export.attachments
        named = attributes.get("ids") or attributes.get("include", "")
        ids = [i.strip() for i in named.split(",") if i.strip()]
        if not ids:  # the files uploaded to the post
            own = [a for a in every.values() if a.parent == self.post_id and kind.search(a.url)]
            return sorted(own, key=lambda a: a.order)
        missing = sum(1 for i in ids if i not in every)
        if missing:
            self.export.media["attachments a shortcode names that are not in the export"] += missing
        return [every[i] for i in ids if i in every and every[i].url]

    def _list(self, shortcode: str, things: str, items: list[str]) -> str:
        if not items:
            self.export.media[f"{shortcode} with nothing to show (a note left in its post)"] += 1
            return f"<p>{shortcode} {MISSING_NOTE}</p>"
        self.export.media[f"{shortcode} as a list of {things}"] += 1
        self.export.media[f"{things} in them"] += len(items)
        return "<ul>" + "".join(items) + "</ul>"


# The note left where a [gallery] or [playlist] had nothing to show, in the site's language
# (an editor reading the article sees it).
MISSING_NOTE = "(không có tệp nào của mục này trong tệp xuất WordPress)"


def read(path: Path) -> Export:
    return Export(path)


def parse(path: Path, tz: ZoneInfo) -> list[Parsed]:
    """Every post of a WXR file parsed as a JSON article (newsdesk.importer's checks and
    cleaning), all or nothing: InvalidArticle names the first post at fault. (The importer
    reads `read(path).articles()` itself, to accept or reject each post on its own.)"""
    from newsdesk.importer import InvalidArticle, parse_json_article

    parsed = []
    try:
        for label, data in read(path).articles():
            try:
                parsed.append(parse_json_article(data, tz))
            except InvalidArticle as exc:
                raise InvalidArticle(f"{label}: {exc}") from None
    except InvalidExport as exc:
        raise InvalidArticle(str(exc)) from None
    return parsed


# The C0 controls XML 1.0 cannot carry (all but tab, LF, CR). WordPress writes them raw
# inside CDATA (wxr_cdata() escapes only "]]>"; text pasted from Word carries \x0b, \x0c,
# \x08), which makes the file malformed XML from there on. In UTF-8 these bytes are never
# part of another character, so they are dropped from the byte stream before the parser, as
# the importer drops them from every field (newsdesk.text.clean).
_NOT_XML_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


@dataclass
class _XmlBytes:
    """A binary file read without the bytes of _NOT_XML_BYTES; `dropped` counts them."""

    handle: Any
    dropped: int = 0

    def read(self, size: int = -1) -> bytes:
        while True:
            data = self.handle.read(size)
            kept = data.translate(None, _NOT_XML_BYTES)
            self.dropped += len(data) - len(kept)
            if kept or not data:
                return bytes(kept)


def _channel_children(path: Path, dropped: Counter[str] | None = None) -> Iterator[Element]:
    """Each child of <channel>, complete, then dropped (memory stays flat). A UTF-8 file
    (as WordPress writes them) is read without the control characters XML cannot carry,
    counted in `dropped`."""
    with path.open("rb") as handle:
        declaration = handle.read(200).split(b"?>", 1)[0]
    encoding = _ENCODING.search(declaration) if declaration.lstrip().startswith(b"<?xml") else None
    utf8 = encoding is None or encoding[1].lower() in (b"utf-8", b"utf8")  # XML's default
    with path.open("rb") as handle:
        source = _XmlBytes(handle) if utf8 else handle
        try:
            yield from _children(source)
        finally:
            if isinstance(source, _XmlBytes) and source.dropped and dropped is not None:
                dropped["characters XML cannot carry, dropped"] += source.dropped


def _children(source: Any) -> Iterator[Element]:
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, iterparse

    depth = 0
    channel: Element | None = None
    try:
        for event, element in iterparse(source, events=("start", "end"), forbid_dtd=True):
            depth += 1 if event == "start" else -1
            if event == "start" and depth == 2 and _kind(element.tag) == ("", "channel"):
                channel = element
            elif event == "end" and depth == 2 and channel is not None:
                yield element
                channel.clear()
    except ParseError as exc:
        raise InvalidExport(f"not well-formed XML: {exc}") from None
    except DefusedXmlException as exc:
        raise InvalidExport(f"refused: {exc} (a WXR file has no DTD or entities)") from None


def _kind(tag: str) -> tuple[str, str]:
    """("wp" | "excerpt" | "content" | "dc" | "" | other namespace, local name)."""
    if not tag.startswith("{"):
        return "", tag
    namespace, local = tag[1:].split("}", 1)
    if namespace.startswith(EXPORT_NS):
        return ("excerpt" if namespace.endswith("/excerpt/") else "wp"), local
    return {CONTENT_NS: "content", DC_NS: "dc"}.get(namespace, namespace), local


def _fields(element: Element) -> dict[tuple[str, str], str]:
    """The text of each child (the first of each name), stripped of surrounding space."""
    fields: dict[tuple[str, str], str] = {}
    for child in element:
        fields.setdefault(_kind(child.tag), (child.text or "").strip())
    return fields


def _post(
    item: Element, authors: dict[str, str], skipped: Counter[str], noted: Counter[str]
) -> tuple[str, dict[str, Any], str, str] | None:
    """(label, the article without its body_html, its content, its id) for an item that is
    a post to import; else counts it as skipped. A post without content has its excerpt
    as its body (a photo story, a post kept for its URL)."""
    fields = _fields(item)
    post_type = fields.get(("wp", "post_type"), "post")
    wp_status = fields.get(("wp", "status"), "")
    if post_type != "post":
        skipped[post_type] += 1
        return None
    if wp_status not in STATUSES:  # trash, auto-draft, inherit
        skipped[f"post ({wp_status or 'no status'})"] += 1
        return None
    post_id = fields.get(("wp", "post_id"), "")
    title = _text(fields.get(("", "title"), ""))
    data: dict[str, Any] = {
        "id": "wxr:" + (fields.get(("", "guid")) or f"post-{post_id}"),
        "title": title,
        "summary": _excerpt(_text(_raw(item, ("excerpt", "encoded"))), noted),
        "status": _status(wp_status, fields.get(("wp", "post_password"), "")),
        **_dates(fields),
    }
    creator = fields.get(("dc", "creator"), "")
    post_name = fields.get(("wp", "post_name"), "")
    optional = {
        # One that cannot be a URL (".", "a/b") goes as it is: the importer gives the post a
        # slug from its title and reports it (newsdesk.importer.usable_slug).
        "slug": canonical_slug(post_name) or post_name,
        "byline": html.unescape(authors.get(creator, creator)),
        "category": _category(item),
        "views": _views(item),
    }
    data.update({name: value for name, value in optional.items() if value})
    content = _raw(item, ("content", "encoded"))
    if not content.strip() and data["summary"]:
        content = f"<p>{html.escape(data['summary'])}</p>"
    return f"post {post_id} {title[:60]!r}", data, content, post_id


def _text(html_text: str) -> str:
    """A title's or an excerpt's text (they are HTML in WordPress). Mojibake or VNI is left
    as it is, for the importer to reject with the reason: text_of would blur the evidence
    (a C1 control that is one byte of a letter counts as white space there)."""
    return html_text if encoding_problem(html_text) else text_of(html_text)


def _raw(item: Element, kind: tuple[str, str]) -> str:
    """A child's text as written (content and excerpts keep their line breaks)."""
    for child in item:
        if _kind(child.tag) == kind:
            return child.text or ""
    return ""


def _status(wp_status: str, password: str) -> str:
    """The article's status: a password-protected post is never published in the clear."""
    return "draft" if password else STATUSES[wp_status]


def _dates(fields: dict[tuple[str, str], str]) -> dict[str, str]:
    """published_at (UTC when WordPress knows it, else the local post_date, which the
    importer reads in the site's time zone) and updated_at (UTC), ISO 8601."""
    dates: dict[str, str] = {}
    gmt = fields.get(("wp", "post_date_gmt"), NO_DATE)
    local = fields.get(("wp", "post_date"), NO_DATE)
    if gmt and gmt != NO_DATE:
        dates["published_at"] = gmt.replace(" ", "T") + "Z"
    elif local and local != NO_DATE:
        dates["published_at"] = local.replace(" ", "T")
    modified = fields.get(("wp", "post_modified_gmt"), NO_DATE)
    if modified and modified != NO_DATE:
        dates["updated_at"] = modified.replace(" ", "T") + "Z"
    return dates


def _category(item: Element) -> str:
    for child in item:
        if _kind(child.tag) == ("", "category") and child.get("domain") == "category":
            return html.unescape((child.text or "").strip())
    return ""


EXCERPT_CHARACTERS = 1000  # the importer's bound on a summary (importer.MAX_SUMMARY)


def _excerpt(text: str, counted: Counter[str]) -> str:
    """A post's excerpt as its summary: cut at a word before EXCERPT_CHARACTERS (with "…")
    when longer, and counted, rather than the post refused for it."""
    if len(text) <= EXCERPT_CHARACTERS:
        return text
    counted[f"excerpts cut to {EXCERPT_CHARACTERS:,} characters"] += 1
    return text[: EXCERPT_CHARACTERS - 1].rsplit(" ", 1)[0] + "…"


_HEADING = re.compile(r"<(/?)h([1-6])(?=[\s/>])", re.IGNORECASE)


def _outlined(body: str) -> str:
    """A post's HTML fitted into the article page's outline, which the W3C checker holds
    every page to: its headings follow the page's h1 (the title) without skipping a level
    (the levels it uses, in order, become h2, h3, ...: WordPress authors pick h3 or h6 for
    their look). Pictures without alt text are the sanitiser's (newsdesk.sanitize)."""
    levels = sorted({int(match[2]) for match in _HEADING.finditer(body)})
    rank = {level: min(2 + n, 6) for n, level in enumerate(levels)}
    return _HEADING.sub(lambda m: f"<{m[1]}h{rank[int(m[2])]}", body) if levels else body


def _meta(item: Element) -> dict[str, str]:
    """An item's post meta: key -> value (the first of each key)."""
    found: dict[str, str] = {}
    for child in item:
        if _kind(child.tag) == ("wp", "postmeta"):
            meta = _fields(child)
            found.setdefault(meta.get(("wp", "meta_key"), ""), meta.get(("wp", "meta_value"), ""))
    return found


def _views(item: Element) -> int:
    """The largest count any supported view counter left (a site that changed plugins may
    have two; a sum would count views twice). Non-numeric values are ignored."""
    counts = [0]
    for child in item:
        if _kind(child.tag) != ("wp", "postmeta"):
            continue
        meta = _fields(child)
        value = meta.get(("wp", "meta_value"), "")
        # ASCII digits only: str.isdigit() is also true of "²" (int() refuses it) and of
        # other scripts' digits ("١٢٣"), which no counter plugin writes. A count too big to be
        # one is passed on for the importer to reject the post alone (importer.MAX_VIEWS).
        if meta.get(("wp", "meta_key")) in VIEW_META_KEYS and _DIGITS.fullmatch(value):
            counts.append(int(value) if len(value) <= _MAX_DIGITS else 10**_MAX_DIGITS)
    return max(counts)


_DIGITS = re.compile(r"[0-9]+")
_MAX_DIGITS = 20  # longer: no count (int() of thousands of digits is slow, or refused)


# ---- content -------------------------------------------------------------------------------


class _Regex:
    """A regular expression compiled on first use: importing this module (the importer does,
    so the admin function at its cold start) compiles none of the content patterns."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern, self.flags = pattern, flags

    @cached_property
    def compiled(self) -> re.Pattern[str]:
        return re.compile(self.pattern, self.flags)

    def sub(self, replacement: str | Callable[[re.Match[str]], str], text: str) -> str:
        return self.compiled.sub(replacement, text)

    def match(self, text: str) -> re.Match[str] | None:
        return self.compiled.match(text)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self.compiled.finditer(text)


_BLOCK_COMMENT = _Regex(r"<!--\s*/?wp:.*?-->", re.DOTALL)
_EMBED_WRAPPER = _Regex(
    r'<div class="wp-block-embed__wrapper">\s*(https?://[^\s<"]+)\s*</div>', re.IGNORECASE
)


def content_html(content: str, media: Media | None = None, base: str = "") -> str:
    """A post's content as the HTML WordPress would show (before sanitising): block content
    (it has block comments) as it is, without the comments; classic content with its
    paragraphs made from blank lines. Shortcodes become HTML in both ([gallery] and
    [playlist] through `media`; without it they are dropped). Relative links and media
    ("/wp-content/uploads/a.jpg") point at the old site, `base` (its address): the pictures
    keep loading from where they are, not from the new site, which does not have them."""
    if not content.strip():
        return ""
    if base:
        content = _RELATIVE.sub(lambda m: _absolute(m, base), content)
    if "<!-- wp:" in content:
        content = _BLOCK_COMMENT.sub("", content)
        content = _EMBED_WRAPPER.sub(r'<a href="\1">\1</a>', content)
        return _shortcodes(content, media).strip()
    return _autop(_shortcodes(_embeds(content), media))


# src, href and poster attributes (in tags and shortcodes) whose URL has no scheme.
_RELATIVE = _Regex(
    r"""(\b(?:src|href|poster)\s*=\s*)(["'])(?![A-Za-z][A-Za-z0-9+.-]*:|#)([^"'<>]+)\2"""
)


def _absolute(match: re.Match[str], base: str) -> str:
    from urllib.parse import urljoin

    url = urljoin(base.rstrip("/") + "/", html.unescape(match[3]))
    return f"{match[1]}{match[2]}{html.escape(url)}{match[2]}"


_OWN_LINE_URL = _Regex(r"^[ \t]*(https?://[^\s<>\"]+)[ \t]*$", re.MULTILINE)


def _embeds(content: str) -> str:
    """A URL alone on its line is an embed (a video, a post) in WordPress: a link here."""
    return _OWN_LINE_URL.sub(r'<a href="\1">\1</a>', content)


_SHORTCODE_ATTRIBUTE = _Regex(r'(\w+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\'|([^\s\'"\]]+))')
_CAPTION = _Regex(r"\[(?:caption|wp_caption)([^\]]*)\](.*?)\[/(?:caption|wp_caption)\]", re.S)
_CAPTION_MEDIA = _Regex(r"^\s*((?:<a\b[^>]*>\s*)?<img\b[^>]*>(?:\s*</a>)?)(.*)$", re.S)
_MEDIA = _Regex(r"\[(video|audio)([^\]]*)\](?:(.*?)\[/\1\])?", re.S)
_EMBED = _Regex(r"\[embed[^\]]*\](.*?)\[/embed\]", re.S)
_DROPPED_SHORTCODES = _Regex(r"\[/?(?:gallery|playlist)\b[^\]]*\]")
_GALLERY = _Regex(r"\[gallery\b([^\]]*)\]")
_PLAYLIST = _Regex(r"\[playlist\b([^\]]*)\]")
_MEDIA_SOURCES = {
    "video": ("src", "mp4", "m4v", "webm", "ogv", "flv"),
    "audio": ("src", "mp3", "m4a", "ogg", "wav", "wma", "flac"),
}


def _attributes(text: str) -> dict[str, str]:
    return {
        m.group(1).lower(): html.unescape(next(g for g in m.groups()[1:] if g is not None))
        for m in _SHORTCODE_ATTRIBUTE.finditer(text)
    }


def _shortcodes(content: str, media: Media | None = None) -> str:
    """WordPress's core shortcodes that carry content, as the HTML they render to:
    [caption] as figure and figcaption, [video]/[audio] as media elements, [embed] as a
    link, [gallery] and [playlist] (lists of attachment ids) as lists of figures (Media;
    without one, dropped); any other bracketed text is left as it is."""
    content = _CAPTION.sub(_caption, content)
    content = _MEDIA.sub(_media, content)
    content = _EMBED.sub(_link, content)
    if media is not None:
        content = _GALLERY.sub(media.gallery, content)
        content = _PLAYLIST.sub(media.playlist, content)
    return _DROPPED_SHORTCODES.sub("", content)


def _link(match: re.Match[str]) -> str:
    url = html.escape(match[1].strip())
    return f'<a href="{url}">{url}</a>'


def _caption(match: re.Match[str]) -> str:
    attributes = _attributes(match[1])
    found = _CAPTION_MEDIA.match(match[2])
    media, caption = (found[1], found[2].strip()) if found else (match[2], "")
    caption = caption or attributes.get("caption", "")
    align = html.escape(attributes.get("align", ""))
    figcaption = f"<figcaption>{caption}</figcaption>" if caption else ""
    return f'<figure class="{align}">{media}{figcaption}</figure>'


def _media(match: re.Match[str]) -> str:
    kind, attributes = match[1], _attributes(match[2])
    sources = [attributes[name] for name in _MEDIA_SOURCES[kind] if attributes.get(name)]
    poster = attributes.get("poster", "")
    extra = f' poster="{html.escape(poster)}"' if poster and kind == "video" else ""
    inner = "".join(f'<source src="{html.escape(src)}">' for src in sources)
    return f"<{kind} controls{extra}>{inner}</{kind}>"


# Block-level elements, as WordPress's paragraph maker knows them: never inside a <p>.
_BLOCKS = (
    "table|thead|tfoot|caption|col|colgroup|tbody|tr|td|th|div|dl|dd|dt|ul|ol|li|pre|form|map|"
    "area|blockquote|address|math|style|p|h[1-6]|hr|fieldset|legend|section|article|aside|"
    "hgroup|header|footer|nav|figure|figcaption|details|menu|summary|video|audio"
)
_OPEN_BLOCK = _Regex(rf"(<(?:{_BLOCKS})[\s/>])", re.IGNORECASE)
_CLOSE_BLOCK = _Regex(rf"(</(?:{_BLOCKS})>|<hr\b[^>]*>)", re.IGNORECASE)
_STARTS_WITH_BLOCK = _Regex(rf"^</?(?:{_BLOCKS})[\s/>]", re.IGNORECASE)
_KEPT = _Regex(r"<(pre|script|style)\b.*?</\1>", re.IGNORECASE | re.DOTALL)
_TAG = _Regex(r"<[^<>]*>")
_DOUBLE_BR = _Regex(r"<br\s*/?>\s*<br\s*/?>", re.IGNORECASE)
_LONE_NEWLINE = _Regex(r"(?<![>\n])\n(?![<\n])")


def _autop(text: str) -> str:
    """Classic content's paragraphs, as WordPress makes them when it shows a post: a blank
    line ends a paragraph (<p>), a single line break is a <br>, block elements (lists,
    tables, figures, quotes, headings) stand on their own, <pre> is left as written."""
    kept: list[str] = []

    def keep(match: re.Match[str]) -> str:
        kept.append(match[0])
        return f"\n\n\x00{len(kept) - 1}\x00\n\n"

    text = _KEPT.sub(keep, text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _TAG.sub(lambda m: m[0].replace("\n", " "), text)  # line breaks inside tags
    text = _DOUBLE_BR.sub("\n\n", text)
    text = _CLOSE_BLOCK.sub(r"\1\n\n", _OPEN_BLOCK.sub(r"\n\n\1", text))
    chunks = [chunk.strip("\n ") for chunk in re.split(r"\n\s*\n", text)]
    joined = "\n".join(_paragraph(chunk) for chunk in chunks if chunk)
    return re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m[1])], joined)


# A chunk's opening container (whose text is paragraphs) and its closing block tags.
_CONTAINER = _Regex(
    r"^((?:<(?:blockquote|div|section|article|aside|header|footer|details)\b[^>]*>\s*)+)(.*)$",
    re.IGNORECASE | re.DOTALL,
)
_TRAILING_CLOSE = _Regex(rf"^(.*?)((?:\s*</(?:{_BLOCKS})>)+)$", re.IGNORECASE | re.DOTALL)


def _paragraph(chunk: str) -> str:
    """One chunk between blank lines as HTML: text as a paragraph (closing tags of the
    blocks it ends kept out of it), a block element as it is with <br> for its line breaks,
    the text after a container's opening tag (a quote's first paragraph) as a paragraph."""
    if chunk.startswith("\x00"):
        return chunk
    container = _CONTAINER.match(chunk)
    if container and container[2] and not _STARTS_WITH_BLOCK.match(container[2]):
        return container[1].strip() + _paragraph(container[2])
    if _STARTS_WITH_BLOCK.match(chunk):
        return _LONE_NEWLINE.sub("<br>\n", chunk)
    trailing = _TRAILING_CLOSE.match(chunk)
    body, closing = (trailing[1], trailing[2].strip()) if trailing else (chunk, "")
    body = body.strip("\n ")
    return ("<p>" + body.replace("\n", "<br>\n") + "</p>" if body else "") + closing


__all__ = ["VIEW_META_KEYS", "Export", "InvalidExport", "content_html", "is_wxr", "parse", "read"]
