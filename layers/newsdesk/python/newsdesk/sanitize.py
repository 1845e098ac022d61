"""Stored HTML goes through nh3 (the Ammonia sanitiser) with an allow-list: what a news
article needs, nothing that runs. Plain text is never trusted as HTML at all (Jinja2
autoescapes it).

The allow-list keeps an article's formatting: headings h1-h6, `pre`/`code` (their white
space is kept as written), `del`/`ins`/`mark`, pictures with their alignment classes and
captions (`figure`/`figcaption`), tables, and `video`/`audio` with their `source` and
`track` elements (always with `controls`: the page's CSP runs no script to drive them).
URLs are http(s) or mailto only, checked by Ammonia on every attribute it knows to be a URL
(href, src, poster, cite, action, ...); `srcset` and `style` are never kept (srcset is a
list of URLs Ammonia does not check; style attributes would be blocked by the CSP anyway).
Class names are kept only from ALLOWED_CLASSES (WordPress's alignment classes), so the
page's stylesheet decides what they do.

What the W3C HTML checker and axe-core hold every page to is settled here too: a URL
attribute is percent-encoded where it holds what a URL cannot carry (a space, Vietnamese
letters: newsdesk.urls.encoded_url), a picture without alt text gets an empty one (a
picture the text does not describe), and a link whose only content is such a picture (a
WordPress thumbnail linked to its full size) gets the site language's "View picture" as that
picture's alt text, so the link has a name (WCAG 2.4.4; axe's link-name rule).
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

from newsdesk.text import clean

if TYPE_CHECKING:
    import nh3

_TAGS = (
    "p br strong b em i u s sub sup small blockquote q cite h1 h2 h3 h4 h5 h6 ul ol li dl dt dd "
    "a img figure figcaption table caption colgroup col thead tbody tfoot tr th td hr abbr "
    "time pre code kbd samp var del ins mark video audio source track"
)
ALLOWED_TAGS = set(_TAGS.split())
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height", "title", "loading"},
    "abbr": {"title"},
    "time": {"datetime"},
    "del": {"datetime"},
    "ins": {"datetime"},
    "ol": {"start", "reversed"},
    "li": {"value"},
    "col": {"span"},
    "colgroup": {"span"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "video": {"src", "poster", "width", "height", "controls", "loop", "muted", "preload"},
    "audio": {"src", "controls", "loop", "muted", "preload"},
    "source": {"src", "type"},
    "track": {"src", "kind", "srclang", "label", "default"},
}
# WordPress's alignment classes (classic editor and blocks); every other class is dropped.
ALIGNMENTS = {"alignleft", "alignright", "aligncenter", "alignnone", "alignwide", "alignfull"}
ALLOWED_CLASSES = {"img": ALIGNMENTS, "figure": ALIGNMENTS}
# Set on every such element: media a reader can start, and links that pass nothing on.
SET_ATTRIBUTES = {"video": {"controls": ""}, "audio": {"controls": ""}}
URL_SCHEMES = {"http", "https", "mailto"}  # no javascript:, data:, vbscript:, file:
# A class attribute left empty once the classes not allowed are dropped. Inside an element's
# tag only: in nh3's output a quote in text or in an attribute value is &quot;.
_EMPTY_CLASS = re.compile(r'(<(?:img|figure)\b[^<>]*?) class=""')
# HTML drops a line feed right after <pre>, so a <pre> whose text starts with one must be
# written with two (the HTML standard's serialisation does; html5ever's does not): else a
# leading blank line is lost each time the HTML is read.
_PRE_NEWLINE = re.compile(r"<pre>\n")
URL_ATTRIBUTES = {"href", "src", "poster", "cite"}
# In nh3's output every attribute follows a space and has a value quoted with ", a " inside
# a value written &quot;: the attributes are walked one by one, so ' alt="' is the attribute,
# never the end of another's value (title="x alt=").
_ATTRIBUTES = r'(?:\s[a-z-]+="[^"]*")*?'
_IMG_WITHOUT_ALT = re.compile(rf'<img(?!{_ATTRIBUTES}\salt=")')
# A link whose content is pictures that all have an empty alt: the first one is named.
_UNNAMED_PICTURE_LINK = re.compile(
    rf'(<a\s[^<>]*>\s*<img{_ATTRIBUTES}\salt=")'
    rf'("[^<>]*>(?:\s*<img{_ATTRIBUTES}\salt=""[^<>]*>)*\s*</a>)'
)


def _attribute(element: str, attribute: str, value: str) -> str | None:
    """nh3's attribute_filter: URL attributes percent-encoded where they need it, and the
    scheme checked again on the result (dropped unless URL_SCHEMES or none: a relative URL),
    so no cleaning can make a URL Ammonia judged relative into a javascript: one."""
    if attribute not in URL_ATTRIBUTES:
        return value
    from urllib.parse import urlsplit

    from newsdesk.urls import encoded_url

    encoded = encoded_url(value)
    try:
        scheme = urlsplit(encoded).scheme
    except ValueError:  # an unclosed IPv6 host, ...
        return None
    return encoded if scheme in URL_SCHEMES or not scheme else None


@cache
def _cleaner() -> nh3.Cleaner:
    """The allow-list compiled once per container."""
    import nh3

    return nh3.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        allowed_classes=ALLOWED_CLASSES,
        set_tag_attribute_values=SET_ATTRIBUTES,
        attribute_filter=_attribute,
    )


def clean_html(html: str, picture_link: str | None = None) -> str:
    """Keep the allow-listed markup; drop scripts, styles, SVG/MathML, event handlers and
    every URL that is not http(s) or mailto. Links get rel="noopener noreferrer nofollow".
    The text is NFC, without characters XML and HTML cannot carry (newsdesk.text.clean).
    URLs, pictures without alt text and links to a lone picture as the module docstring
    says; `picture_link`: that alt text (default: the LOCALE's `picture_link` label)."""
    cleaned = str(_cleaner().clean(clean(html)))
    cleaned = _PRE_NEWLINE.sub("<pre>\n\n", _EMPTY_CLASS.sub(r"\1", cleaned))
    cleaned = _IMG_WITHOUT_ALT.sub('<img alt=""', cleaned)
    if _UNNAMED_PICTURE_LINK.search(cleaned) is None:
        return cleaned
    if picture_link is None:
        from newsdesk.config import settings
        from newsdesk.rendering import labels

        picture_link = labels(settings().locale)["picture_link"]
    from html import escape

    # One line of text (a parser reads CR as LF, a no-break space as &nbsp;), written as nh3
    # writes an attribute value (& < > " as references, not '): cleaning again keeps it.
    label = escape(" ".join(clean(picture_link).split()), quote=False).replace('"', "&quot;")
    return _UNNAMED_PICTURE_LINK.sub(lambda m: m[1] + label + m[2], cleaned)


def text_of(html: str) -> str:
    """The plain text of some HTML (for descriptions and summaries)."""
    from html import unescape

    import nh3

    return " ".join(unescape(str(nh3.clean(html, tags=set()))).split())
