"""Stored HTML goes through nh3 (the Ammonia sanitiser) with an allow-list: what a news
article needs, nothing that runs. Plain text is never trusted as HTML at all (Jinja2
autoescapes it)."""

from __future__ import annotations

_TAGS = (
    "p br strong b em i u s sub sup blockquote q cite h2 h3 h4 ul ol li a img figure "
    "figcaption table thead tbody tr th td caption hr abbr time"
)
ALLOWED_TAGS = set(_TAGS.split())
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height", "title"},
    "abbr": {"title"},
    "time": {"datetime"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
}
URL_SCHEMES = {"http", "https", "mailto"}  # no javascript:, data:, vbscript:, file:


def clean_html(html: str) -> str:
    """Keep the allow-listed markup; drop scripts, styles, SVG/MathML, event handlers and
    every URL that is not http(s) or mailto. Links get rel="noopener noreferrer"."""
    import nh3

    return str(
        nh3.clean(
            html,
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            url_schemes=URL_SCHEMES,
            link_rel="noopener noreferrer nofollow",
            strip_comments=True,
        )
    )


def text_of(html: str) -> str:
    """The plain text of some HTML (for descriptions and summaries)."""
    from html import unescape

    import nh3

    return " ".join(unescape(str(nh3.clean(html, tags=set()))).split())
