"""HTML as a browser's tokenizer reads it, for the tests that decide whether markup can run or
load script: the sanitiser's oracle (tests/unit/test_sanitize.py) and the pages rendered from
hostile articles (tests/integration/test_hostile_input.py).

Sources: the WHATWG HTML standard's tokenizer (attribute values have their character references
decoded; a repeated attribute is dropped, so the first one wins) and the WHATWG URL standard's
parser (leading and trailing C0 controls and spaces are stripped, tabs and newlines removed
anywhere, before the scheme is read).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser

Attrs = list[tuple[str, str]]

# Attributes whose value a browser loads or follows as a URL (HTML, SVG, MathML).
URL_ATTRIBUTES = frozenset(
    {
        "href",
        "src",
        "srcset",
        "action",
        "formaction",
        "data",
        "poster",
        "background",
        "cite",
        "ping",
        "xlink:href",
    }
)
# URL schemes that cannot run script.
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})


class Markup(HTMLParser):
    """Every start tag with all its attributes in order (names lower-cased, entities in values
    decoded, a repeated attribute kept twice), every comment, declaration or processing
    instruction, and the text inside the tags named in `text_of` (one string per element)."""

    def __init__(self, html: str, text_of: Iterable[str] = ()) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, Attrs]] = []
        self.other: list[str] = []
        self.text: dict[str, list[str]] = {tag: [] for tag in text_of}
        self._open: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, [(name, value or "") for name, value in attrs]))
        if tag in self.text:
            self.text[tag].append("")
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._open:
            self.text[self._open[-1]][-1] += data

    def handle_comment(self, data: str) -> None:
        self.other.append(f"<!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self.other.append(f"<!{decl}>")

    def unknown_decl(self, data: str) -> None:
        self.other.append(f"<![{data}]>")

    def handle_pi(self, data: str) -> None:
        self.other.append(f"<?{data}>")

    def tags(self) -> list[tuple[str, dict[str, str]]]:
        """(tag, attributes) of every start tag; a repeated attribute keeps its first value,
        as in a browser."""
        return [(tag, dict(reversed(attrs))) for tag, attrs in self.elements]

    def all(self, tag: str) -> list[dict[str, str]]:
        """The attributes of every `tag` element, as tags() gives them."""
        return [attrs for name, attrs in self.tags() if name == tag]


def url_scheme(url: str) -> str | None:
    """The URL's scheme as a browser reads it, or None for a relative URL. Removing every
    control character and space anywhere is stricter than the URL parser, never laxer."""
    squeezed = re.sub(r"[\x00-\x20\x7f]", "", url)
    found = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*):", squeezed)
    return found.group(1).lower() if found else None
