"""XSS in a real browser: articles whose every field carries script payloads (tags, event
handlers, javascript: and data: URLs, SVG and MathML tricks) are imported into the local
server's tables and opened in headless Chromium as a reader. None of the payloads may run
(no window.__xss, no dialog), the page may log no console error and no CSP violation (the
sanitiser and autoescaping leave nothing for the CSP to block), and the widget script must
still run under that CSP (its heartbeat updates the figures).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, Route, expect

from tests.e2e.conftest import DESKTOP_UA, Reader, Site
from tests.unit.test_sanitize import XSS_PAYLOADS

pytestmark = pytest.mark.e2e

OpenReader = Callable[..., Reader]

XSS_TEXT = "".join(XSS_PAYLOADS[:4]) + ' "onmouseover="window.__xss=true" x=\''
FIELDS: dict[str, Any] = {
    "title": "Tin nóng " + XSS_TEXT,
    "byline": "<b onmouseover=window.__xss=true>Phóng viên</b>",
    "summary": "Tóm tắt " + XSS_TEXT,
    "category": "<svg onload=window.__xss=true>Thời sự",
    "published_at": "2018-11-27T08:12:00+07:00",
    "views": 3,
}
ARTICLES: dict[str, dict[str, Any]] = {
    "tin-xss-html": {"body_html": "<p>Mở đầu</p>" + "".join(f"<p>{p}</p>" for p in XSS_PAYLOADS)},
    "tin-xss-text": {"body": ["Mở đầu " + XSS_TEXT, *XSS_PAYLOADS]},
}

# Recorded from before the first script of every page (init scripts are not subject to the
# page's CSP): violations the CSP reported, and anything that set the flag.
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI + " " + (e.sample || ""));
});
"""

# What is in the DOM the browser built (after its own parsing, where mutation XSS happens).
DOM_CHECK = """() => {
  const found = [];
  // An article's JSON-LD is a data block no browser runs; it must parse whole.
  const data = [...document.scripts].filter(s => s.type === "application/ld+json");
  for (const block of data) {
    try { if (JSON.parse(block.textContent)["@type"] !== "NewsArticle") found.push("json-ld"); }
    catch (e) { found.push("json-ld: " + e); }
  }
  const scripts = [...document.scripts].filter(s => !data.includes(s)).map(s => s.id);
  if (scripts.length !== 1 || scripts[0] !== "nd-widget") found.push("scripts: " + scripts);
  for (const el of document.querySelectorAll("*")) {
    const tag = el.tagName.toLowerCase();
    if (["iframe", "frame", "object", "embed", "svg", "math", "base", "form", "template",
         "noscript", "input", "button", "details"].includes(tag)) found.push("<" + tag + ">");
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      const value = attr.value.replace(/[\\u0000-\\u0020]/g, "").toLowerCase();
      if (name.startsWith("on") || name === "style" || name === "srcdoc" || name === "formaction")
        found.push("<" + tag + " " + name + ">");
      if (/^(javascript|vbscript|data):/.test(value) && !(tag === "link" && value === "data:,"))
        found.push("<" + tag + " " + name + "=" + attr.value + ">");
    }
    if (tag === "meta" && el.hasAttribute("http-equiv")) found.push("<meta http-equiv>");
  }
  return found;
}"""

BROKEN_IMAGE = b"not an image"  # what src=x gets: an error event, as for a missing image


@pytest.fixture
def hostile_site(site: Site, tmp_path: Path) -> Site:
    """The local server with the fixture article and the two hostile articles."""
    from newsdesk.importer import import_paths

    articles = [{**FIELDS, "slug": slug, **body} for slug, body in ARTICLES.items()]
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(articles, ensure_ascii=False), encoding="utf-8")
    summary = import_paths([path], report=lambda _: None)
    assert summary.imported == len(articles) and not summary.rejected, summary
    return site


def open_hostile_page(open_reader: OpenReader, site: Site, path: str) -> tuple[Reader, list[str]]:
    """Open a page as a reader (a real browser's User-Agent); returns the reader and the
    dialogs it saw. Payloads are checked before the widget, so a payload that broke the
    page (a <base href>, a refresh) is reported as such rather than as a missing heartbeat."""
    reader = open_reader(DESKTOP_UA)
    page = reader.page
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def broken_image(route: Route) -> None:
        route.fulfill(status=200, content_type="image/png", body=BROKEN_IMAGE)

    page.on("dialog", on_dialog)
    page.clock.install()  # the widget's minute heartbeat is run on demand (assert_widget_ran)
    reader.context.add_init_script(WATCH)
    # <img src=x> (its onerror removed) resolves to /articles/x: answer it here with bytes
    # that fail to decode, so an onerror that survived would fire, without a 404 in the log.
    page.route(f"{site.base_url}/articles/x", broken_image)
    response = page.goto(f"{site.base_url}{path}")
    assert response is not None and response.status == 200, f"GET {path}: {response}"
    page.wait_for_load_state("load")
    return reader, dialogs


# Every image has loaded or failed (an image's load or error event is fired in the task that
# completes it), then two rendering updates have passed: autofocus (focus events), <details
# open> (toggle) and SVG animations' begin events are run by a browser's rendering updates.
# Waiting for these, rather than for a time, gives a surviving handler its chance to run.
IMAGES_DONE = "() => [...document.images].every(img => img.complete)"


def settle(page: Page) -> None:
    page.wait_for_load_state("load")
    page.wait_for_function(IMAGES_DONE)
    # The page's clock is Playwright's (its animation frames too): let two frames pass.
    page.clock.run_for(50)


def assert_nothing_ran(reader: Reader, dialogs: list[str], path: str) -> None:
    page = reader.page
    settle(page)
    assert page.url.endswith(path), f"the page navigated to {page.url}"
    assert not page.evaluate("window.__xss"), "a payload set window.__xss"
    assert dialogs == [], f"a payload opened a dialog: {dialogs}"
    assert page.evaluate("window.__violations") == [], "the CSP had something to block"
    assert page.evaluate(DOM_CHECK) == [], "executable markup in the DOM"


def assert_widget_ran(reader: Reader) -> None:
    """The widget script ran under the page's CSP: a minute on, its heartbeat goes out, and
    the reader (registered by the page or its beacon) is shown online."""
    page = reader.page
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/api/visits")
    ):
        page.clock.run_for(60_000)
    # A bound for a hang only (Playwright's action default), not a speed requirement.
    expect(page.locator("[data-online]"), "online now").to_have_text("1", timeout=30_000)


def hover(page: Page, element: Locator) -> None:
    """The reader's mouse moved onto `element` (its centre, scrolled into view), when it is
    shown at all. The real mouse, not Locator.hover: that checks visibility again after
    scrolling, and failed in CI on an element shown a moment before ("Element is not
    visible", once in 6 CI runs, beacon mode); a mouse move fires the same events and
    cannot fail."""
    element.evaluate("e => e.scrollIntoView({block: 'center', inline: 'center'})")
    box = element.bounding_box()
    if box and box["width"] > 0 and box["height"] > 0:
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


@pytest.mark.parametrize("site", ["render", "beacon"], indirect=True)
@pytest.mark.parametrize("slug", sorted(ARTICLES))
def test_no_payload_runs_and_the_widget_does(
    hostile_site: Site, open_reader: OpenReader, slug: str
) -> None:
    path = f"/articles/{slug}"
    reader, dialogs = open_hostile_page(open_reader, hostile_site, path)
    page = reader.page
    # What a reader might do: click the article's links that do not go to a web page,
    # and hover over everything in it.
    for link in page.locator("article a").all():
        href = link.get_attribute("href") or ""
        if link.is_visible() and not href.startswith(("http://", "https://", "mailto:")):
            link.click()
    for element in page.locator("article *").all()[:200]:
        hover(page, element)

    assert_nothing_ran(reader, dialogs, path)
    # The title and body text are shown as text (escaped), not dropped.
    expect(page.locator("article h1")).to_contain_text("<script>window.__xss=true</script>")
    if slug == "tin-xss-text":
        expect(page.locator("article")).to_contain_text("<img src=x onerror=window.__xss=true>")
    assert_widget_ran(reader)
    assert_nothing_ran(reader, dialogs, path)  # still nothing, a heartbeat's round trip later
    reader.assert_clean()  # no console error, uncaught exception or failed request


def test_index_with_hostile_titles_runs_nothing(
    hostile_site: Site, open_reader: OpenReader
) -> None:
    reader, dialogs = open_hostile_page(open_reader, hostile_site, "/")
    assert_nothing_ran(reader, dialogs, "/")
    expect(reader.page.locator(".list li")).to_have_count(3)
    expect(reader.page.locator(".list")).to_contain_text("Tin nóng <script>window.__xss=true")
    assert_widget_ran(reader)
    assert_nothing_ran(reader, dialogs, "/")
    reader.assert_clean()
