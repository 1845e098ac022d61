"""Back and forward (issue 14, item 13): a reader who leaves an article and comes back gets
the page from the browser's back/forward cache (no request at all) or, when that cache cannot
keep it, from the HTTP cache without asking the server, and the article's count does not
move. A real reload still asks the server and counts (the control that shows the count would
move). VIEW_DEDUPE_SECONDS=0 here, so that only these rules, not the repeat-view rule, keep
the count still.

Render mode sent `Cache-Control: no-store` before. The HTTP cache keeps no such page, so
without the bfcache going back asked the server and counted again. And browsers keep a
`no-store` page in the bfcache only in some cases: Chromium (since its 2025 rollout) for
3 minutes, not after a cookie change, and not once a script's request got a `no-store`
answer (notRestoredReasons "response-cache-control-no-store-with-js-network-request"), as
the widget's heartbeat gets every 60 s (the JSON API answers `no-store`). The bfcache test
makes such a request from the page first.

Playwright launches Chromium with --disable-back-forward-cache by default; the bfcache tests
use a second Chromium without that switch. Playwright also turns the HTTP cache off in a
context that routes requests, so these contexts route nothing.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.e2e.conftest import CHROMIUM_ARGS, DESKTOP_UA, Site, find_chromium
from tests.support import SLUG

pytestmark = pytest.mark.e2e

# Every pageshow of every document, with its `persisted` flag (true: restored from the
# bfcache, where the same document and this array live on).
RECORD_PAGESHOWS = """
window.__pageshows = [];
addEventListener("pageshow", (event) => window.__pageshows.push(event.persisted));
"""
BACK_SETTLED = """() => window.__pageshows && (window.__pageshows.length >= 2 ||
  (document.readyState === "complete" &&
   performance.getEntriesByType("navigation")[0].type === "back_forward"))"""


@pytest.fixture(scope="module")
def bfcache_browser(browser: Browser) -> Iterator[Browser]:
    """Debian's Chromium with its back/forward cache on (Playwright's default switch off),
    from the same Playwright as the module's `browser` (one Playwright per thread)."""
    launched = browser.browser_type.launch(
        executable_path=find_chromium(),
        headless=True,
        args=CHROMIUM_ARGS,
        ignore_default_args=["--disable-back-forward-cache"],
    )
    try:
        yield launched
    finally:
        launched.close()


def views(site: Site) -> int:
    with urllib.request.urlopen(f"{site.base_url}/api/articles/{SLUG}/views", timeout=60) as r:
        return int(json.loads(r.read())["views"])


def article_documents(requests: list[str], site: Site) -> int:
    """How many times the browser asked the server for the article page itself."""
    return requests.count(f"GET {site.article_url}")


def leave_and_come_back(page: Page) -> dict[str, Any]:
    """Follow the header's home link, then go back; what the restored page says about how it
    came back."""
    page.locator("header a").first.click()
    page.wait_for_url(lambda url: "/articles/" not in url)
    # A page restored from the bfcache fires no load event: wait for the navigation only.
    page.go_back(wait_until="commit")
    page.wait_for_function(BACK_SETTLED, timeout=30_000)
    return dict(
        page.evaluate(
            """() => ({
              pageshows: window.__pageshows,
              type: performance.getEntriesByType("navigation")[0].type,
              notRestored: JSON.stringify(
                performance.getEntriesByType("navigation")[0].notRestoredReasons),
            })"""
        )
    )


def _open(browser: Browser) -> tuple[BrowserContext, Page, list[str]]:
    """A reader's context (a browser's User-Agent) with one page recording its pageshows and
    requests. No request routing: Playwright turns the HTTP cache off in a context that
    routes requests (as tests/e2e/conftest.py's readers do), and these tests need it."""
    context = browser.new_context(
        user_agent=DESKTOP_UA, locale="vi-VN", viewport={"width": 1000, "height": 900}
    )
    requests: list[str] = []
    page = context.new_page()
    page.on("request", lambda request: requests.append(f"{request.method} {request.url}"))
    page.add_init_script(RECORD_PAGESHOWS)
    return context, page, requests


@pytest.fixture
def bfcache_page(bfcache_browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    """A page in the Chromium that keeps pages in its back/forward cache."""
    context, page, requests = _open(bfcache_browser)
    try:
        yield page, requests
    finally:
        context.close()


@pytest.fixture
def plain_page(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    """A page in Playwright's default Chromium, which keeps no page in its back/forward
    cache (as when a browser evicted it)."""
    context, page, requests = _open(browser)
    try:
        yield page, requests
    finally:
        context.close()


@pytest.mark.parametrize("site", ["render", "beacon"], indirect=True)
def test_back_to_an_article_restores_it_from_the_bfcache_without_counting(
    site: Site, monkeypatch: pytest.MonkeyPatch, bfcache_page: tuple[Page, list[str]]
) -> None:
    monkeypatch.setenv("VIEW_DEDUPE_SECONDS", "0")
    page, requests = bfcache_page
    page.goto(site.article_url)
    page.wait_for_load_state("networkidle")  # beacon mode: the script's count is in
    counted = views(site)
    assert counted == 9575  # this reader's one view
    # What the widget does every minute on the page: a script's request to the JSON API,
    # answered `no-store` (here GET /api/stats, which registers nobody).
    assert page.evaluate("fetch('/api/stats').then((r) => r.headers.get('cache-control'))") == (
        "no-store"
    )

    back = leave_and_come_back(page)
    assert back["pageshows"] == [False, True], (
        f"not restored from the back/forward cache: {back['notRestored']}"
    )
    assert back["type"] == "navigate"  # the original navigation's entry: the same document
    assert article_documents(requests, site) == 1
    assert views(site) == counted
    beacons = [r for r in requests if r.startswith("POST ") and r.endswith(f"/{SLUG}/views")]
    assert len(beacons) == (1 if site.mode == "beacon" else 0)

    page.reload()  # the control: asking the server again is a new view
    page.wait_for_load_state("networkidle")
    assert views(site) == counted + 1


def test_back_without_the_bfcache_reuses_the_stored_page_without_counting(
    site: Site, monkeypatch: pytest.MonkeyPatch, plain_page: tuple[Page, list[str]]
) -> None:
    """Going back shows the page the HTTP cache kept (`private, no-cache` lets it keep one;
    `no-store` did not), without a request, so render mode counts nothing."""
    monkeypatch.setenv("VIEW_DEDUPE_SECONDS", "0")
    page, _ = plain_page
    page.goto(site.article_url)
    counted = views(site)
    assert counted == 9575

    back = leave_and_come_back(page)
    assert back["type"] == "back_forward" and back["pageshows"] == [False]
    # Playwright reports a page taken from the HTTP cache as a request too: the server's
    # count is the evidence (with VIEW_DEDUPE_SECONDS=0 any request of this reader counts).
    assert views(site) == counted
    page.reload()  # the control
    page.wait_for_load_state("networkidle")
    assert views(site) == counted + 1


@pytest.mark.parametrize("site", ["beacon"], indirect=True)
def test_back_without_the_bfcache_sends_no_second_beacon(
    site: Site, monkeypatch: pytest.MonkeyPatch, plain_page: tuple[Page, list[str]]
) -> None:
    monkeypatch.setenv("VIEW_DEDUPE_SECONDS", "0")
    page, requests = plain_page
    page.goto(site.article_url)
    page.wait_for_load_state("networkidle")
    counted = views(site)
    assert counted == 9575

    back = leave_and_come_back(page)
    assert back["type"] == "back_forward"
    page.wait_for_load_state("networkidle")
    beacons = [r for r in requests if r.startswith("POST ") and r.endswith(f"/{SLUG}/views")]
    assert len(beacons) == 1 and views(site) == counted
