"""The article page and its visitor widget in a real headless Chromium, against the local
server (the template's functions over DynamoDB Local).

Figures: the fixture's legacy count is 9574, so its first counted view shows 9.575; the
site total ("Tổng") starts at 9.574 and each new reader adds one visit, registered with their
counted view (by the page in render mode, by the beacon in beacon mode): the script sends
no heartbeat on load then, only every 60 s.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Response, expect

from tests.e2e.conftest import (
    ANDROID_UA,
    DESKTOP_UA,
    IPHONE_UA,
    LEGACY_VIEWS,
    TITLE,
    Reader,
    Site,
)
from tests.support import SLUG

pytestmark = pytest.mark.e2e

# vi number format, as the page and Intl.NumberFormat("vi") write it.
LEGACY = "9.574"
FIRST = "9.575"
SECOND = "9.576"


@dataclass
class Visit:
    """What one page load brought: the server's HTML and the script's JSON answers."""

    html: str
    heartbeat: dict[str, Any] | None  # only when the page and beacon did not register
    beacon: dict[str, Any] | None

    def rendered(self, name: str) -> str:
        """The text the server put in <span data-NAME> (before any script ran)."""
        found = re.search(rf"<span data-{name}>([^<]*)</span>", self.html)
        assert found, f"no <span data-{name}> in the server's HTML"
        return html.unescape(found.group(1))


OpenReader = Callable[..., Reader]


def _post_to(url: str) -> Callable[[Response], bool]:
    return lambda resp: resp.url == url and resp.request.method == "POST"


def _json(resp: Response) -> dict[str, Any]:
    assert resp.ok, f"{resp.request.method} {resp.url} answered {resp.status}: {resp.text()}"
    data: dict[str, Any] = json.loads(resp.text())
    return data


def visit(reader: Reader, site: Site, heartbeat_on_load: bool = False) -> Visit:
    """Load the article and wait for the script's requests (in beacon mode the view beacon;
    the heartbeat when one is expected on load: a reader not registered by the page or
    the beacon) to be answered, so nothing is left in flight when the test moves on."""
    page = reader.page
    with ExitStack() as stack:
        heartbeat = (
            stack.enter_context(page.expect_response(_post_to(f"{site.base_url}/api/visits")))
            if heartbeat_on_load
            else None
        )
        beacon = (
            stack.enter_context(
                page.expect_response(_post_to(f"{site.base_url}/api/articles/{SLUG}/views"))
            )
            if site.mode == "beacon"
            else None
        )
        response = page.goto(site.article_url)
    assert response is not None and response.ok, f"GET {site.article_url}: {response}"
    return Visit(
        response.text(),
        _json(heartbeat.value) if heartbeat is not None else None,
        _json(beacon.value) if beacon is not None else None,
    )


def heartbeats(reader: Reader, site: Site) -> int:
    """How many heartbeats the reader's page has sent so far."""
    return reader.requests.count(f"POST {site.base_url}/api/visits")


def expect_figures(reader: Reader, views: str, online: str, total: str) -> None:
    """The page shows these figures (waiting for the script to write them)."""
    page = reader.page
    expect(page.locator("[data-views]"), "view count").to_have_text(views)
    expect(page.locator("[data-online]"), "online now").to_have_text(online)
    expect(page.locator("[data-total]"), "total visits").to_have_text(total)


def test_title_keeps_vietnamese_diacritics(site: Site, open_reader: OpenReader) -> None:
    reader = open_reader(DESKTOP_UA)
    visit(reader, site)
    page = reader.page

    expect(page).to_have_title(f"{TITLE} | newsdesk")
    expect(page.locator("article h1")).to_have_text(TITLE)
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator("article time")).to_have_text("27/11/2018 | 08:12")
    assert page.evaluate("document.characterSet") == "UTF-8"
    heading = page.locator("article h1").inner_text()
    assert "Tỉnh ủy" in heading, heading
    assert unicodedata.is_normalized("NFC", heading), ascii(heading)
    text = page.locator("body").inner_text()
    assert not re.search("Ã|Æ|Â»|\ufffd", text), f"mojibake in the page: {text[:300]!r}"
    reader.assert_clean()


@pytest.mark.parametrize("site", ["render", "beacon"], indirect=True)
def test_two_readers_are_counted_and_seen_online(
    site: Site, open_reader: OpenReader, artifacts: Path
) -> None:
    beacon = site.mode == "beacon"

    first = open_reader(DESKTOP_UA)
    first.page.clock.install()  # so the 60 s heartbeat can be run on demand below
    seen = visit(first, site)
    assert first.page.evaluate("document.visibilityState") == "visible"
    # render mode counts the view and registers the reader while rendering; beacon mode
    # renders the current figures and the script's beacon counts and registers.
    if beacon:
        assert (seen.rendered("views"), seen.rendered("online"), seen.rendered("total")) == (
            LEGACY,
            "0",
            LEGACY,
        ), "first page, as cached for everyone"
        assert seen.beacon is not None
        assert {k: seen.beacon[k] for k in ("views", "counted", "present", "online", "total")} == {
            "views": LEGACY_VIEWS + 1,
            "counted": True,
            "present": True,
            "online": 1,
            "total": LEGACY_VIEWS + 1,
        }, f"first beacon: {seen.beacon}"
    else:
        assert (seen.rendered("views"), seen.rendered("online"), seen.rendered("total")) == (
            FIRST,
            "1",
            FIRST,
        ), "first page"
    expect_figures(first, views=FIRST, online="1", total=FIRST)

    second = open_reader(IPHONE_UA)  # another visitor from the same address
    seen = visit(second, site)
    if beacon:
        assert (seen.rendered("online"), seen.rendered("total")) == ("1", FIRST), "second page"
        assert seen.beacon is not None
        assert (seen.beacon["views"], seen.beacon["online"], seen.beacon["total"]) == (
            LEGACY_VIEWS + 2,
            2,
            LEGACY_VIEWS + 2,
        ), f"second beacon: {seen.beacon}"
    else:
        assert (seen.rendered("views"), seen.rendered("online"), seen.rendered("total")) == (
            SECOND,
            "2",
            SECOND,
        ), "second page (a different User-Agent is a new visitor)"
    expect_figures(second, views=SECOND, online="2", total=SECOND)

    # The first page's next heartbeat (60 s later) shows the second reader; it is the same
    # visit, so neither the total nor the view count moves for it.
    with first.page.expect_response(_post_to(f"{site.base_url}/api/visits")) as again:
        first.page.clock.run_for(60_000)
    assert _json(again.value)["online"] == 2
    expect_figures(first, views=FIRST, online="2", total=SECOND)
    # No heartbeat on load: the page or the beacon registered each reader.
    assert (heartbeats(first, site), heartbeats(second, site)) == (1, 0)

    stored = second.context.request.get(f"{site.base_url}/api/articles/{SLUG}/views")
    assert _json(stored) == {"slug": SLUG, "views": LEGACY_VIEWS + 2}

    shot = artifacts / f"article-{site.mode}.png"
    shot.unlink(missing_ok=True)
    second.page.screenshot(path=shot, full_page=True)
    assert shot.is_file() and shot.stat().st_size > 0, f"no screenshot at {shot}"
    assert shot.read_bytes().startswith(b"\x89PNG"), f"{shot} is not a PNG"

    first.assert_clean()
    second.assert_clean()


def test_page_without_javascript_shows_server_rendered_figures(
    site: Site, open_reader: OpenReader
) -> None:
    reader = open_reader(DESKTOP_UA)
    visit(reader, site)  # one reader registered
    expect_figures(reader, views=FIRST, online="1", total=FIRST)

    no_js = open_reader(ANDROID_UA, javascript=False)
    response = no_js.page.goto(site.article_url)
    assert response is not None and response.ok
    # Counted at render (render mode), and registered as present and as a visit by the same
    # request: a reader without JavaScript is online and in the total too.
    expect_figures(no_js, views=SECOND, online="2", total=SECOND)
    assert no_js.requests == [f"GET {site.article_url}"], "a page without JS made requests"
    reader.assert_clean()
    no_js.assert_clean()


def test_headless_user_agent_is_neither_counted_nor_online(
    site: Site, open_reader: OpenReader
) -> None:
    bot = open_reader(None)  # Chromium's own User-Agent
    assert "HeadlessChrome" in bot.page.evaluate("navigator.userAgent")
    seen = visit(bot, site, heartbeat_on_load=True)  # not registered by the page
    assert seen.rendered("views") == LEGACY
    assert seen.heartbeat is not None
    assert (seen.heartbeat["online"], seen.heartbeat["total"]) == (0, LEGACY_VIEWS)
    expect_figures(bot, views=LEGACY, online="0", total=LEGACY)
    bot.assert_clean()


@pytest.mark.parametrize("site", ["beacon"], indirect=True)
def test_an_automated_browser_is_neither_counted_nor_online(
    site: Site, open_reader: OpenReader
) -> None:
    """A browser driven by Selenium, Playwright or Puppeteer with a real browser's
    User-Agent: its navigator.webdriver is true, the widget says so with the beacon and the
    heartbeat, and neither counts (render mode counts before any script runs: the rule
    needs beacon mode)."""
    driven = open_reader(DESKTOP_UA)
    driven.context.add_init_script(
        "Object.defineProperty(navigator, 'webdriver', { get: () => true })"
    )
    seen = visit(driven, site, heartbeat_on_load=True)  # the beacon did not register it
    assert seen.beacon is not None
    assert (seen.beacon["counted"], seen.beacon["present"]) == (False, False), seen.beacon
    assert seen.heartbeat is not None
    assert (seen.heartbeat["online"], seen.heartbeat["total"]) == (0, LEGACY_VIEWS)
    expect_figures(driven, views=LEGACY, online="0", total=LEGACY)
    driven.assert_clean()
