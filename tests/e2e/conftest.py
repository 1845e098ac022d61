"""Real-browser fixtures: one headless Debian Chromium per module (driven by Playwright, never
downloaded), the local server with the fixture article (`site`) or the sample portal
(`portal`: tests/e2e/content.py) in a chosen COUNT_MODE, and readers: browser contexts with a
User-Agent of their own, whose console errors and failed requests are recorded."""

from __future__ import annotations

import os
import shutil
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from newsdesk import caches
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Request, Response

from tests.e2e.content import PICTURE_HOST, import_sample, picture_png
from tests.support import FIXTURE, ROOT, SLUG, import_fixture

ARTIFACTS = ROOT / "artifacts" / "e2e"
TITLE = unicodedata.normalize("NFC", FIXTURE.read_text(encoding="utf-8").splitlines()[0].strip())
LEGACY_VIEWS = 9574  # the fixture's cms-view-count; the site total starts there too

CHROMIUM_ARGS = [
    # The readers here play real readers, whose navigator.webdriver is false; the widget
    # reports a true one and such a browser is not counted (a test sets it on its own).
    "--disable-blink-features=AutomationControlled",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# Headless Chromium's own User-Agent says "HeadlessChrome", which is rightly a bot. Readers
# get real browsers' User-Agents, each a different one: all contexts come from 127.0.0.1,
# and the visitor id is a hash of address and User-Agent.
DESKTOP_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)
IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
ANDROID_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36"
)

# Settings that would change what the pages show; each test starts from the defaults.
_SETTINGS_ENV = (
    "COUNT_MODE",
    "LOCALE",
    "SITE_NAME",
    "SITE_URL",
    "SITE_PUBLISHER",
    "SITE_EDITOR",
    "SITE_LICENSE",
    "SITE_ADDRESS",
    "SITE_PHONE",
    "SITE_EMAIL",
    "PAGE_SIZE",
    "TIME_ZONE",
    "PRESENCE_WINDOW_SECONDS",
    "VIEW_DEDUPE_SECONDS",
    "STATS_CACHE_SECONDS",
    "PAGE_CACHE_SECONDS",
    "MAX_VISITORS_PER_ADDRESS",
)


def find_chromium() -> str | None:
    """Debian's Chromium (/usr/bin/chromium), else a `chromium` on PATH."""
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module; the only reason to skip is that none is
    installed (Playwright must never download its own)."""
    executable = find_chromium()
    if executable is None:
        pytest.skip(
            "no Chromium installed (neither /usr/bin/chromium nor `chromium` on PATH): "
            "install Debian's chromium package (`make test` does) to run the browser tests"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Site:
    """The local server with the fixture article imported, in one COUNT_MODE."""

    base_url: str
    mode: str

    @property
    def article_url(self) -> str:
        return f"{self.base_url}/articles/{SLUG}"


def _fresh_figures() -> None:
    from newsdesk.config import settings

    settings.cache_clear()
    caches.clear_all()


def _settings(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _SETTINGS_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COUNT_MODE", mode)
    # Every reader here comes from 127.0.0.1: with the default per-address cap (32 browser
    # buckets) two User-Agents would share a visitor id 1 time in 32. The cap has its own
    # tests; here it is out of the way.
    monkeypatch.setenv("MAX_VISITORS_PER_ADDRESS", "1000000")
    # The page (PagesFunction) and the widget's API (ApiFunction) run in separate execution
    # environments, each caching the figures for STATS_CACHE_SECONDS, as in Lambda: 0 here so
    # that a page shows at once what a heartbeat just registered.
    monkeypatch.setenv("STATS_CACHE_SECONDS", "0")
    _fresh_figures()  # this process's (the importer's); environments start with none


@pytest.fixture
def site(
    request: pytest.FixtureRequest, local_server: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Site]:
    """The fixture article on the local server. COUNT_MODE is "render" unless the test
    parametrizes this fixture indirectly (`@pytest.mark.parametrize("site", ["beacon"],
    indirect=True)`). Caches of figures and the visitor salt start empty."""
    _settings(getattr(request, "param", "render"), monkeypatch)
    import_fixture()
    try:
        yield Site(local_server, os.environ["COUNT_MODE"])
    finally:
        _fresh_figures()


PORTAL_PAGE_SIZE = 3  # so that the home page has older pages


@pytest.fixture
def portal(
    request: pytest.FixtureRequest, local_server: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Site]:
    """The sample portal (tests/e2e/content.py: the fixture and articles in four categories,
    the scheduled job's lists and menu computed) on the local server, PAGE_SIZE 3, COUNT_MODE
    as for `site`. A test may set more settings (SITE_PUBLISHER...) before its first
    request: the functions' environments start then, with the environment as it is."""
    _settings(getattr(request, "param", "render"), monkeypatch)
    monkeypatch.setenv("PAGE_SIZE", str(PORTAL_PAGE_SIZE))
    import_sample()
    try:
        yield Site(local_server, os.environ["COUNT_MODE"])
    finally:
        _fresh_figures()


@dataclass
class Reader:
    """One browser context (its own User-Agent, so its own visitor) with one page."""

    context: BrowserContext
    page: Page
    problems: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # "METHOD url", in order

    def expect_error_answer(self, url: str) -> None:
        """`url` was meant to answer an HTTP error (a 404 page): once the page has settled,
        forget the problems recorded about it (the answer, and the console's line on it)."""
        self.page.wait_for_load_state("networkidle")
        self.problems[:] = [problem for problem in self.problems if url not in problem]

    def assert_clean(self) -> None:
        """No console error, uncaught exception, failed request or HTTP error answer."""
        if self.problems:
            raise AssertionError("the page had problems:\n" + "\n".join(self.problems))


@pytest.fixture
def open_reader(browser: Browser) -> Iterator[Callable[..., Reader]]:
    """open_reader(user_agent, javascript=True, **options) -> a Reader on a fresh context;
    closed after the test. user_agent=None keeps Chromium's own (HeadlessChrome) User-Agent.
    `options` are Playwright's new_context() options (viewport, color_scheme,
    device_scale_factor...); the sample portal's picture is answered in every context."""
    contexts: list[BrowserContext] = []

    def open_(user_agent: str | None, javascript: bool = True, **options: Any) -> Reader:
        settings: dict[str, Any] = {"locale": "vi-VN", "viewport": {"width": 1000, "height": 900}}
        settings.update(options)
        if user_agent is not None:
            settings["user_agent"] = user_agent
        context = browser.new_context(java_script_enabled=javascript, **settings)
        context.route(
            PICTURE_HOST, lambda route: route.fulfill(body=picture_png(), content_type="image/png")
        )
        contexts.append(context)
        reader = Reader(context, context.new_page())

        def on_console(msg: ConsoleMessage) -> None:
            if msg.type == "error":
                reader.problems.append(f"console error: {msg.text} at {msg.location}")

        def on_request_failed(req: Request) -> None:
            reader.problems.append(f"request failed: {req.method} {req.url}: {req.failure}")

        def on_response(resp: Response) -> None:
            if resp.status >= 400:
                reader.problems.append(f"HTTP {resp.status} for {resp.request.method} {resp.url}")

        reader.page.on("console", on_console)
        reader.page.on("pageerror", lambda exc: reader.problems.append(f"uncaught: {exc}"))
        reader.page.on("requestfailed", on_request_failed)
        reader.page.on("response", on_response)
        reader.page.on("request", lambda req: reader.requests.append(f"{req.method} {req.url}"))
        return reader

    try:
        yield open_
    finally:
        for context in contexts:
            context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """artifacts/e2e/ (git-ignored): screenshots kept after the run."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
