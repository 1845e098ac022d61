"""Stored HTML goes through nh3 with an allow-list (newsdesk/sanitize.py): known XSS payloads
come out with nothing that runs, benign article markup survives, and random mixtures of the
payloads never produce a disallowed tag, an event handler or a non-http(s)/mailto URL.

PAYLOADS and XSS_PAYLOADS are shared with the import/render tests
(tests/integration/test_hostile_input.py) and the browser test (tests/e2e/test_xss.py).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from newsdesk.sanitize import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, clean_html, text_of

# Classic payloads, each of which runs script (or navigates to script) in some browser.
PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="x" onmouseover="alert(1)">',
    '<img srcset="javascript:alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="&#x6A;&#x61;vascript&#58;alert(1)">x</a>',
    '<a href="javas&#99;ript:alert(1)">x</a>',
    '<a href="javascript&colon;alert(1)">x</a>',
    '<a href="  java\tscript:alert(1)">x</a>',
    '<a href=" &#14;javascript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="https://ok.example/" onclick="alert(1)">ok</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    '<img src="data:image/svg+xml,<svg onload=alert(1)>">',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    '<svg><use href="data:image/svg+xml,<svg id=x onload=alert(1)>#x"></use></svg>',
    # mutation XSS through foreign content (MathML/SVG namespace confusion)
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<math><mtext><h1><a><h6></a></h6><mglyph><svg><mtext><style><a title="</style><img src onerror=alert(1)>"></style></svg></mglyph></h1></mtext></math>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<template><script>alert(1)</script></template>",
    "<<script>script>alert(1)<</script>/script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<!--<img src=x onerror=alert(1)>-->",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<form action="javascript:alert(1)"><button>go</button></form>',
    '<button formaction="javascript:alert(1)">go</button>',
    '<p style="width: expression(alert(1))">x</p>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<style>@import "javascript:alert(1)";</style>',
    '<link rel=stylesheet href="javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<table background="javascript:alert(1)"><tr><td>x</td></tr></table>',
    "<details open ontoggle=alert(1)>",
    "<body onload=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    '<video><source onerror="alert(1)"></video>',
    "<marquee onstart=alert(1)>x</marquee>",
]

# The same attacks written to flip a flag the browser test reads (window.__xss) or to open a
# dialog it listens for. None of them makes a network request once sanitised, so a clean
# page has no console error at all.
XSS_PAYLOADS = [
    "<script>window.__xss=true</script>",
    "<script>alert(1)</script>",
    '<img src="" onerror="window.__xss=true">',
    "<img src=x onerror=window.__xss=true>",
    '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" onload="window.__xss=true">',
    '<a id="xss-link" href="javascript:window.__xss=true">javascript link</a>',
    '<a href="JaVaScRiPt:alert(1)">mixed case</a>',
    '<a href="&#106;avascript:window.__xss=true">entity</a>',
    '<a href="data:text/html,<script>alert(1)</script>">data link</a>',
    "<svg onload=window.__xss=true></svg>",
    "<svg><script>window.__xss=true</script></svg>",
    '<svg><animate onbegin="window.__xss=true" attributeName="x" dur="1s"></animate></svg>',
    "<math><mtext><table><mglyph><style><img src onerror=window.__xss=true></style></mglyph></table></mtext></math>",
    '<noscript><p title="</noscript><img src onerror=window.__xss=true>">',
    '<iframe srcdoc="<script>parent.__xss=true</script>"></iframe>',
    '<iframe src="javascript:parent.__xss=true"></iframe>',
    '<object data="javascript:window.__xss=true"></object>',
    '<embed src="javascript:window.__xss=true">',
    '<form action="javascript:window.__xss=true"><input type=submit></form>',
    '<details open ontoggle="window.__xss=true"><summary>s</summary></details>',
    '<input autofocus onfocus="window.__xss=true">',
    '<p style="background:url(javascript:window.__xss=true)">styled</p>',
    '<meta http-equiv="refresh" content="0;url=javascript:window.__xss=true">',
    '<base href="javascript:window.__xss=true//">',
    "<body onload=window.__xss=true>",
    '<video><source onerror="window.__xss=true"></video>',
]

# Never in sanitised output (case-insensitive).
FORBIDDEN = [
    "<script",
    "onerror",
    "onload",
    "onclick",
    "onmouseover",
    "onfocus",
    "ontoggle",
    "onbegin",
    "onstart",
    "javascript:",
    "vbscript:",
    "data:",
    "<svg",
    "<math",
    "<iframe",
    "<object",
    "<embed",
    "<form",
    "<style",
    "<link",
    "<base",
    "<meta",
    "<template",
    "<noscript",
    "style=",
    "srcdoc",
    "formaction",
    "xlink:",
]

SAFE_SCHEMES = {"http", "https", "mailto"}
# nh3 (Ammonia) keeps lang and title on every tag by default; rel is the one it sets on links.
GENERIC_ATTRIBUTES = {"lang", "title", "rel"}
URL_ATTRIBUTES = {"href", "src"}


class Markup(HTMLParser):
    """Every element and attribute as a browser's tokenizer sees them (entities decoded)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or "" for name, value in attrs}))

    handle_startendtag = handle_starttag


def elements(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = Markup()
    parser.feed(html)
    parser.close()
    return parser.elements


def scheme(url: str) -> str | None:
    """The URL's scheme as a browser reads it (it ignores control characters and spaces
    around and inside it), or None for a relative URL."""
    squeezed = re.sub(r"[\x00-\x20\x7f]", "", url)
    found = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*):", squeezed)
    return found.group(1).lower() if found else None


def assert_inert(cleaned: str, *, text_may_mention: bool = False) -> None:
    """Only allow-listed tags and attributes, no handler, no script-capable URL.

    With text_may_mention, words such as "javascript:" may stay as (escaped) text or in a
    title, so only the markup is searched: tag names, attribute names and URLs.
    """
    checked = cleaned
    if text_may_mention:
        checked = " ".join(
            f"<{tag} "
            + " ".join(f"{k}={v}" if k in URL_ATTRIBUTES else f"{k}=" for k, v in a.items())
            for tag, a in elements(cleaned)
        )
    present = [token for token in FORBIDDEN if token in checked.lower()]
    assert not present, f"{present} survived: {cleaned!r}"
    for tag, attrs in elements(cleaned):
        assert tag in ALLOWED_TAGS, f"<{tag}> is not allow-listed: {cleaned!r}"
        allowed = ALLOWED_ATTRIBUTES.get(tag, set()) | GENERIC_ATTRIBUTES
        assert set(attrs) <= allowed, f"<{tag}> kept {set(attrs) - allowed}: {cleaned!r}"
        for name in URL_ATTRIBUTES & set(attrs):
            found = scheme(attrs[name])
            assert found is None or found in SAFE_SCHEMES, f"{name}={attrs[name]!r}: {cleaned!r}"


@pytest.mark.parametrize("payload", PAYLOADS + XSS_PAYLOADS)
def test_payload_is_neutralised(payload: str) -> None:
    cleaned = clean_html(payload)
    assert_inert(cleaned)
    # Sanitising is stable: what is stored parses back to itself (no mutation on re-parse).
    assert clean_html(cleaned) == cleaned


@pytest.mark.parametrize("payload", PAYLOADS + XSS_PAYLOADS)
def test_payload_wrapped_in_article_markup_is_neutralised(payload: str) -> None:
    cleaned = clean_html(
        f"<p>Lead <strong>{payload}</strong></p><blockquote>{payload}</blockquote>"
    )
    assert_inert(cleaned)
    assert "<p>Lead <strong>" in cleaned


def test_benign_article_markup_survives() -> None:
    html = (
        "<h2>Tiêu đề</h2><p>Đoạn <strong>một</strong>, <em>hai</em> và "
        '<a href="https://example.org/tin?id=1&amp;p=2" title="Nguồn">liên kết</a>.</p>'
        '<figure><img src="https://example.org/anh.jpg" alt="Ảnh" width="640" height="360">'
        "<figcaption>Chú thích</figcaption></figure>"
        "<ul><li>một</li><li>hai</li></ul><blockquote>Trích dẫn</blockquote>"
        '<p><a href="mailto:toasoan@example.org">Tòa soạn</a></p>'
    )
    cleaned = clean_html(html)
    for kept in (
        "<h2>Tiêu đề</h2>",
        "<strong>một</strong>",
        "<em>hai</em>",
        '<img src="https://example.org/anh.jpg" alt="Ảnh" width="640" height="360">',
        "<figcaption>Chú thích</figcaption>",
        "<ul><li>một</li><li>hai</li></ul>",
        "<blockquote>Trích dẫn</blockquote>",
    ):
        assert kept in cleaned, f"{kept!r} lost: {cleaned!r}"
    links = [attrs for tag, attrs in elements(cleaned) if tag == "a"]
    assert [link["href"] for link in links] == [
        "https://example.org/tin?id=1&p=2",
        "mailto:toasoan@example.org",
    ]
    assert all(link["rel"] == "noopener noreferrer nofollow" for link in links), links
    assert links[0]["title"] == "Nguồn"
    assert_inert(cleaned)


def test_script_content_does_not_leak_as_text() -> None:
    assert clean_html("<p>a</p><script>alert(1)</script><p>b</p>") == "<p>a</p><p>b</p>"
    assert text_of("<p>a <b>b</b></p><script>alert(1)</script>") == "a b"


# Random mixtures: fragments of the payloads, article markup and text, in any order.
FRAGMENTS = st.sampled_from(
    [
        *PAYLOADS,
        *XSS_PAYLOADS,
        "<p>",
        "</p>",
        "<a ",
        "<img ",
        "<svg>",
        "<math>",
        "<table>",
        "<style>",
        "</style>",
        "<!--",
        "-->",
        "<![CDATA[",
        "]]>",
        "<",
        ">",
        '"',
        "'",
        "=",
        "/",
        " ",
        "\x00",
        "href=",
        "src=",
        "onerror=",
        "javascript:",
        "&#106;",
        "&colon;",
        "alert(1)",
    ]
)
MIXTURES = st.lists(st.one_of(FRAGMENTS, st.text(max_size=8)), max_size=25).map("".join)


@settings(max_examples=300, deadline=None, database=None)
@given(MIXTURES)
def test_random_mixtures_of_payloads_stay_inert(html: str) -> None:
    cleaned = clean_html(html)
    assert_inert(cleaned, text_may_mention=True)
    assert clean_html(cleaned) == cleaned
