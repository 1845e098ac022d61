"""What link previews and search engines read from a page: its share picture, the Open
Graph and X card values, and the schema.org NewsArticle JSON-LD of an article.

Sources: the Open Graph protocol (https://ogp.me/: og:image must be an absolute URL;
article:published_time, modified_time, section, author), X's cards (twitter:card and
twitter:image:alt; title, description and image fall back to og:title, og:description and
og:image, https://developer.x.com/cards/markup), and Google's
Article structured data (https://developers.google.com/search/docs/appearance/structured-data/article:
headline, image, datePublished and dateModified with a time zone, author with a name,
publisher).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

from newsdesk.articles import Article
from newsdesk.config import settings
from newsdesk.urls import encoded_url


class _FirstImage(HTMLParser):
    """The src and alt of the first <img> with a src in some HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: tuple[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.found is None and tag == "img":
            values = {name: value or "" for name, value in attrs}
            if values.get("src", "").strip():
                self.found = (values["src"].strip(), values.get("alt", "").strip())


@dataclass(frozen=True)
class Picture:
    url: str  # absolute http(s) URL
    alt: str  # what it shows ("" when not said)


def absolute(url: str, base_url: str) -> str | None:
    """`url` made absolute against the page's `base_url` (scheme and host), or None when it
    is not an http(s) URL (data:, javascript:, a bare host...)."""
    joined = urljoin(base_url.rstrip("/") + "/", url)
    parts = urlsplit(joined)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return encoded_url(joined)  # stored before the sanitiser encoded URLs: a space, ...


def picture(article: Article | None, base_url: str) -> Picture | None:
    """The picture a shared link to the page shows: the article's first picture (the first
    <img> of its stored HTML), else the site's default (SITE_IMAGE_URL, alt the site name),
    else None."""
    if article is not None and article.body_html:
        parser = _FirstImage()
        parser.feed(article.body_html)
        parser.close()
        if parser.found:
            url = absolute(parser.found[0], base_url)
            if url:
                return Picture(url, parser.found[1] or article.title)
    conf = settings()
    if conf.site_image_url:
        return Picture(conf.site_image_url, conf.site_name)
    return None


def iso(moment: datetime) -> str:
    """ISO 8601 with its offset, to the second, as Open Graph and schema.org want it."""
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def news_article(
    article: Article, canonical: str, image: Picture | None, language: str
) -> dict[str, Any]:
    """The schema.org NewsArticle of an article page, as a JSON-LD object: headline,
    description, url and mainEntityOfPage (the canonical URL), datePublished and
    dateModified (ISO 8601 with a time zone), author (the byline as a Person, else the site
    as an Organization), publisher (the site), image (absolute URLs; left out when there is
    none), articleSection (the category, when any) and inLanguage (BCP 47)."""
    site = settings().site_name
    publisher = {"@type": "Organization", "name": site}
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title,
        "description": article.description,
        "url": canonical,
        "mainEntityOfPage": {"@type": "WebPage", "@id": canonical},
        "datePublished": iso(article.published_at),
        "dateModified": iso(article.modified_at),
        "author": {"@type": "Person", "name": article.byline} if article.byline else publisher,
        "publisher": publisher,
        "inLanguage": language,
    }
    if image:
        data["image"] = [image.url]
    if article.category:
        data["articleSection"] = article.category
    return data


def json_ld(data: dict[str, Any]) -> str:
    """JSON for a <script type="application/ld+json"> element: <, > and & escaped as \\u
    sequences, so no text in it can close the element or open a comment (HTML's script data
    rules); JSON parsers read the same values."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
