"""Bots, crawlers, link previewers, headless browsers and prefetches are not readers."""

from __future__ import annotations

import pytest
from newsdesk import bots
from newsdesk.bots import MAX_USER_AGENT, is_bot, is_countable, is_prefetch

READERS = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/126.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " coc_coc_browser/124.0.144 Chrome/118.0.5993.144 Safari/537.36",
]

BOTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Twitterbot/1.0",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "TelegramBot (like TwitterBot)",
    "WhatsApp/2.23.20.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0"
    " Safari/537.36",
    "curl/8.5.0",
    "python-requests/2.32.3",
    "",
    "   ",
]


@pytest.mark.parametrize("ua", READERS)
def test_browsers_are_readers(ua: str) -> None:
    assert not is_bot(ua)
    assert is_countable({"user-agent": ua})


@pytest.mark.parametrize("ua", BOTS)
def test_bots_are_not_counted(ua: str) -> None:
    assert is_bot(ua)
    assert not is_countable({"user-agent": ua})


def test_missing_user_agent_is_not_counted() -> None:
    assert not is_countable({})


@pytest.mark.parametrize(
    "headers",
    [
        {"sec-purpose": "prefetch"},
        {"sec-purpose": "prefetch;prerender"},
        {"purpose": "prefetch"},
        {"x-moz": "prefetch"},
        {"x-purpose": "preview"},
    ],
)
def test_prefetches_are_not_counted(headers: dict[str, str]) -> None:
    assert is_prefetch(headers)
    assert not is_countable({"user-agent": READERS[0], **headers})


def test_only_user_agents_up_to_the_limit_are_matched_against_crawlerdetect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """crawlerdetect's patterns take time quadratic in the length (10 KB: seconds; `make
    bench` times it), so a longer User-Agent is a bot by its length alone and never reaches
    them. Counted, not timed."""
    asked: list[int] = []

    class Spy:
        def isCrawler(self, user_agent: str) -> bool:
            asked.append(len(user_agent))
            return False

    monkeypatch.setattr(bots, "_detector", Spy)
    browser = READERS[0]
    at_limit = browser + "a" * (MAX_USER_AGENT - len(browser))
    assert not is_bot(at_limit)
    assert is_bot(at_limit + "a")
    assert is_bot("Mozilla/5.0 " + "a" * 10_000)
    assert asked == [MAX_USER_AGENT]


# Fetch Metadata as Chromium and Firefox send it (W3C "Fetch Metadata Request Headers").
NAVIGATION = {"sec-fetch-dest": "document", "sec-fetch-mode": "navigate", "sec-fetch-site": "none"}
LINK_FROM_SEARCH = {**NAVIGATION, "sec-fetch-site": "cross-site", "sec-fetch-user": "?1"}
PAGE_FETCH = {"sec-fetch-dest": "empty", "sec-fetch-mode": "cors", "sec-fetch-site": "same-origin"}
CROSS_SITE_IMAGE = {
    "sec-fetch-dest": "image",
    "sec-fetch-mode": "no-cors",
    "sec-fetch-site": "cross-site",
}
IFRAME = {"sec-fetch-dest": "iframe", "sec-fetch-mode": "navigate", "sec-fetch-site": "cross-site"}
OWN_SCRIPT = PAGE_FETCH
OTHER_SITE_SCRIPT = {**PAGE_FETCH, "sec-fetch-site": "cross-site"}
SAME_SITE_SCRIPT = {**PAGE_FETCH, "sec-fetch-site": "same-site"}


@pytest.mark.parametrize(
    ("headers", "counted"),
    [
        ({}, True),  # a browser without Fetch Metadata: judged by the other rules
        (NAVIGATION, True),
        (LINK_FROM_SEARCH, True),
        (PAGE_FETCH, False),  # a page's own fetch('/articles/<slug>')
        (CROSS_SITE_IMAGE, False),  # <img src=".../articles/<slug>"> on another site
        (IFRAME, False),  # the article framed by another page
    ],
)
def test_a_page_view_counts_only_when_the_page_is_opened(
    headers: dict[str, str], counted: bool
) -> None:
    assert is_countable({"user-agent": READERS[0], **headers}, bots.PAGE) is counted


@pytest.mark.parametrize(
    ("headers", "counted"),
    [
        ({}, True),
        (OWN_SCRIPT, True),  # the widget's fetch / sendBeacon from the page
        (OTHER_SITE_SCRIPT, False),  # another site's script posting beacons
        (SAME_SITE_SCRIPT, False),  # another origin of the same site
        (NAVIGATION, False),  # a form or a typed URL is not the script
    ],
)
def test_a_beacon_or_heartbeat_counts_only_from_the_pages_own_script(
    headers: dict[str, str], counted: bool
) -> None:
    assert is_countable({"user-agent": READERS[0], **headers}, bots.SCRIPT) is counted


def test_the_cdn_forwards_every_header_the_counting_rules_read() -> None:
    """Behind CloudFront (EnableCdn) only the origin request policy's headers reach the
    functions: a rule reading a header that is not forwarded silently never applies."""
    from local.tables import load_template
    from tests.support import ROOT

    policy = load_template(ROOT / "template.yaml")["Resources"]["ViewerOriginRequestPolicy"]
    config = policy["Properties"]["OriginRequestPolicyConfig"]["HeadersConfig"]
    forwarded = {name.lower() for name in config["Headers"]}
    read = {"user-agent", *bots._PREFETCH_HEADERS, *(h for r in bots._EXPECTED.values() for h in r)}
    assert read <= forwarded, f"not forwarded by the CDN: {sorted(read - forwarded)}"
    assert len(config["Headers"]) <= 10  # CloudFront's quota of headers per policy
