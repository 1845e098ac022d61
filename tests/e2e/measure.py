"""What a reader sees, measured in the browser: element boxes, colour contrast (WCAG 2.x), and
the pixels under a link's first line (where its underline meets the marks below letters).

Pixels are read by the browser itself: a screenshot (PNG) is drawn on a canvas in a blank page
of the same browser and turned into a mask of "ink" (pixels much darker than the background),
so no image library is needed.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import FloatRect, Locator, Page

# Vietnamese letters whose tone mark (nặng) is a dot below the letter.
DOT_BELOW = set("ạặậẹệịọộợụựỵẠẶẬẸỆỊỌỘỢỤỰỴ")


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height

    def overlaps(self, other: Box) -> bool:
        return (
            self.x < other.right
            and other.x < self.right
            and self.y < other.bottom
            and other.y < self.bottom
        )

    def within(self, other: Box, slack: float = 0.5) -> bool:
        return (
            self.x >= other.x - slack
            and self.y >= other.y - slack
            and self.right <= other.right + slack
            and self.bottom <= other.bottom + slack
        )


def box(locator: Locator) -> Box:
    """The element's border box in CSS pixels, page coordinates (scrolled into account)."""
    found = locator.evaluate(
        """el => { const r = el.getBoundingClientRect();
                   return [r.x + scrollX, r.y + scrollY, r.width, r.height]; }"""
    )
    return Box(*found)


def no_horizontal_scroll(page: Page) -> bool:
    """Nothing sticks out sideways: the page is no wider than the viewport."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= innerWidth"))


# ----------------------------------------------------------------------------- contrast


def rgb(css: str) -> tuple[float, float, float, float]:
    """'rgb(1, 2, 3)' or 'rgba(1, 2, 3, 0.5)' (what getComputedStyle gives) -> r, g, b, a."""
    numbers = [float(n) for n in re.findall(r"[0-9.]+", css)]
    assert len(numbers) in (3, 4), f"not an rgb() colour: {css!r}"
    return numbers[0], numbers[1], numbers[2], numbers[3] if len(numbers) == 4 else 1.0


def luminance(colour: tuple[float, float, float, float]) -> float:
    """WCAG 2.x relative luminance of an sRGB colour (0..255 channels)."""

    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b, _ = colour
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(one: str, other: str) -> float:
    """WCAG contrast ratio of two opaque computed colours (1..21)."""
    light, dark = sorted((luminance(rgb(one)), luminance(rgb(other))), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def colours(locator: Locator, property_name: str = "color") -> tuple[str, str]:
    """The element's `property_name` colour (e.g. "fill" for SVG text) and the first opaque
    background behind it, walking up its ancestors (the canvas's when none: Chromium paints
    the canvas white, or dark under a dark colour scheme)."""
    found = locator.evaluate(
        """(el, name) => {
             const fg = getComputedStyle(el)[name];
             for (let node = el; node; node = node.parentElement) {
               const bg = getComputedStyle(node).backgroundColor;
               if (!/rgba\\(.*, 0\\)$/.test(bg) && bg !== "transparent") return [fg, bg];
             }
             return [fg, matchMedia("(prefers-color-scheme: dark)").matches
                          ? "rgb(18, 18, 18)" : "rgb(255, 255, 255)"];
           }""",
        property_name,
    )
    return str(found[0]), str(found[1])


# ------------------------------------------------------------------ underline and marks


@dataclass(frozen=True)
class Ink:
    """A screenshot of one line of a link as a mask: rows of booleans, True where there is
    ink. `columns[i]` is the (first, last) mask column of the line's i-th character."""

    rows: list[list[bool]]
    characters: str
    columns: list[tuple[int, int]]

    def picture(self) -> str:
        """The mask as text ("#" ink, "." paper), for failure messages."""
        return "\n".join("".join("#" if on else "." for on in row) for row in self.rows)


# The first line box of the element, its characters on that line and their x ranges, in CSS
# pixels relative to the viewport.
_FIRST_LINE = """el => {
  const first = el.getClientRects()[0];
  const text = [...el.childNodes].find(n => n.nodeType === Node.TEXT_NODE);
  const chars = [], columns = [];
  const range = document.createRange();
  for (let i = 0; i < text.length; i++) {
    range.setStart(text, i); range.setEnd(text, i + 1);
    const r = range.getBoundingClientRect();
    if (r.top >= first.bottom - 1) break;
    chars.push(text.data[i]); columns.push([r.left, r.right]);
  }
  return {box: [first.x, first.y, first.width, first.height], chars: chars.join(""), columns};
}"""

# In a blank page: the PNG (base64) as rows of "1"/"0", "1" where the pixel's luminance is
# far below the paper's (its top-left pixel).
_MASK = """async (png) => {
  const img = new Image();
  img.src = "data:image/png;base64," + png;
  await img.decode();
  const canvas = document.createElement("canvas");
  canvas.width = img.width; canvas.height = img.height;
  const g = canvas.getContext("2d");
  g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, img.width, img.height).data;
  const lum = i => 0.2126 * d[i] + 0.7152 * d[i + 1] + 0.0722 * d[i + 2];
  const paper = lum(0), rows = [];
  for (let y = 0; y < img.height; y++) {
    let row = "";
    for (let x = 0; x < img.width; x++) row += Math.abs(lum((y * img.width + x) * 4) - paper) > 60 ? "1" : "0";
    rows.push(row);
  }
  return rows;
}"""


def first_line_ink(link: Locator, below: float = 10) -> Ink:
    """The first line of `link` (a text link, scrolled into view) as an Ink mask, `below`
    CSS pixels more at the bottom (an underline may be drawn below the line box), at the
    page's device scale."""
    page = link.page
    link.scroll_into_view_if_needed()
    line: dict[str, Any] = link.evaluate(_FIRST_LINE)
    x, y, width, height = line["box"]
    scale = float(page.evaluate("devicePixelRatio"))
    clip: FloatRect = {"x": x - 1, "y": y, "width": width + 2, "height": height + below}
    png = page.screenshot(clip=clip, scale="device", animations="disabled")
    blank = page.context.new_page()
    try:
        rows = blank.evaluate(_MASK, base64.b64encode(png).decode())
    finally:
        blank.close()
    columns = [
        (round((left - clip["x"]) * scale), round((right - clip["x"]) * scale) - 1)
        for left, right in line["columns"]
    ]
    return Ink([[c == "1" for c in row] for row in rows], line["chars"], columns)


def underline_rows(ink: Ink, coverage: float = 0.85) -> list[int]:
    """Rows inked across at least `coverage` of the width: the underline (no glyph row is
    that full)."""
    width = len(ink.rows[0])
    return [y for y, row in enumerate(ink.rows) if sum(row) >= coverage * width]


def marks_cut(ink: Ink) -> list[str]:
    """Where the underline fails a letter with a dot below: a gap in the line under it (the
    line skips the mark's ink), or the mark touching the line (no clear row between). Empty
    when every such letter has an unbroken line under it and a clear row above the line."""
    lines = underline_rows(ink)
    if not lines:
        return ["no underline found"]
    top = lines[0]
    problems = []
    for char, (first, last) in zip(ink.characters, ink.columns, strict=True):
        if char not in DOT_BELOW:
            continue
        span = range(first + 1, last)  # inside the letter's own columns
        if not all(ink.rows[y][x] for y in lines for x in span):
            problems.append(f"{char}: the underline is broken under it")
        elif top == 0 or any(ink.rows[top - 1][x] for x in span):
            problems.append(f"{char}: its mark touches the underline")
    return problems
