"""Every kind of page passes the W3C HTML checker and axe-core, in render and beacon mode
(issue 14: keep both at 0 while the design changes).

On the sample portal (tests/e2e/content.py), each page kind below is opened in Chromium: the
HTML the server sent goes to the Nu Html Checker (vnu.jar, one run for all of them: no error
allowed), and axe-core is run in the page after its script ran, once on a desktop in the light
colour scheme and once on a phone in the dark one (no violation allowed). Both checkers are
pinned npm packages fetched once by local/webcheck.py (`make test` fetches them first).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from local import webcheck
from tests.e2e.conftest import DESKTOP_UA, Reader, Site
from tests.e2e.content import LINKED_PICTURE_SLUG, MARKED_SLUG, PICTURE_SLUG
from tests.support import SLUG

pytestmark = pytest.mark.e2e

OpenReader = Callable[..., Reader]

PAGES = {
    "home": "/",
    "home, older page": None,  # the home page's rel=next link
    "category": "/categories/thoi-su",
    "article": f"/articles/{SLUG}",
    "article with a picture": f"/articles/{PICTURE_SLUG}",
    "article with a linked picture": f"/articles/{LINKED_PICTURE_SLUG}",
    "stats": f"/articles/{MARKED_SLUG}/stats",
    "404": "/khong-co-trang-nay",
    "404 article": "/articles/khong-co-bai-nay",
}
VIEWS = (  # (colour scheme, viewport) for each axe run
    ("light", {"width": 1280, "height": 900}),
    ("dark", {"width": 390, "height": 844}),
)

_AXE_RUN = """() => axe.run(document, {resultTypes: ["violations"]}).then(result =>
  result.violations.map(v => v.id + " (" + v.impact + "): " + v.help + " at " +
    v.nodes.map(n => n.target.join(" ")).join(", ")))"""


@cache
def axe_source() -> str:
    return webcheck.AXE.ensure().read_text(encoding="utf-8")


def axe_violations(page: Page) -> list[str]:
    """axe-core's violations on the page as it is now (its default rule set: WCAG 2.x A and
    AA, and best practices). Injected through the DevTools protocol, which the page's CSP
    does not govern."""
    page.evaluate(axe_source())
    found: list[str] = page.evaluate(_AXE_RUN)
    return found


def _url(portal: Site, page: Page, kind: str) -> str:
    path = PAGES[kind]
    if path is not None:
        return portal.base_url + path
    page.goto(portal.base_url + "/")
    older = page.locator("a[rel=next]")
    assert older.count() == 1, "the home page has no link to older articles"
    return str(older.get_attribute("href"))


def _visit(portal: Site, reader: Reader, kind: str) -> tuple[str, int]:
    url = _url(portal, reader.page, kind)
    response = reader.page.goto(url)
    assert response is not None, url
    reader.page.wait_for_load_state("networkidle")  # the widget's script has answered
    if kind.startswith("404"):
        reader.expect_error_answer(url)
    return response.text(), response.status


@pytest.mark.parametrize("portal", ["render", "beacon"], indirect=True)
def test_every_page_kind_passes_the_html_checker_and_axe(
    portal: Site, open_reader: OpenReader
) -> None:
    documents: dict[str, str] = {}
    violations: dict[str, list[str]] = {}
    statuses: dict[str, Any] = {}
    for scheme, viewport in VIEWS:
        reader = open_reader(DESKTOP_UA, viewport=viewport, color_scheme=scheme)
        for kind in PAGES:
            html, statuses[kind] = _visit(portal, reader, kind)
            documents[f"{portal.mode} {kind}"] = html
            found = axe_violations(reader.page)
            if found:
                violations[f"{portal.mode} {kind} ({scheme}, {viewport['width']} px)"] = found
        reader.assert_clean()
    assert statuses == {kind: 404 if kind.startswith("404") else 200 for kind in PAGES}
    assert not violations, "axe-core found:\n" + "\n".join(
        f"{where}: {v}" for where, found in violations.items() for v in found
    )
    errors = [str(m) for m in webcheck.check_html(documents) if m.is_error]
    assert not errors, "the HTML checker found:\n" + "\n".join(errors)


def test_axe_reports_what_it_should(browser: Browser) -> None:
    """The check above can fail: axe-core, injected the same way, finds a picture without a
    text alternative and a page without a language."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content("<!doctype html><title>x</title><main><img src='data:,'></main>")
        found = axe_violations(page)
    finally:
        context.close()
    assert {v.split(" ", 1)[0] for v in found} >= {"image-alt", "html-has-lang"}, found
