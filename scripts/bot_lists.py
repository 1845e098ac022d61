"""The bot lists, compiled at build time into newsdesk/bot_lists.json (issue 15, item 4).

newsdesk.bots judges a User-Agent with an Aho-Corasick automaton over literal strings plus
one RE2 expression for the few patterns that are no finite set of strings. Turning the lists'
regular expressions into those strings (`expand`) takes 50-150 ms, too much for a Lambda's
first request, so it runs here, once per list version, and the result is checked in:

    .venv/bin/python scripts/bot_lists.py          # rewrite the file from the installed lists
    .venv/bin/python scripts/bot_lists.py --check  # exit 1 when the file is out of date

Inputs: the patterns and exclusions of PyPI `crawlerdetect`, the entries of PyPI
`crawler-user-agents` (both pinned in layers/dependencies/requirements.txt, read from the
installed packages) and the hand-made lists below. tests/unit/test_bots.py fails when the
checked-in file differs from what this script makes from the installed (pinned) lists, so a
version bump or an edit below without regenerating cannot ship.

The file (JSON): `sources` (list versions), `rules` ([source, pattern, ignore_case,
browsers], the ones the table refers to), `words` ({string: rule index, or -1 for an
exemption}), `gated` ({string: [rule indexes of the regular expressions it gates]}),
`residual` and `always` (rule indexes: the RE2 part, and those of it with no gate).
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
from collections.abc import Iterable, Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "newsdesk" / "python")]

from newsdesk.bots import _BROWSER, _END, _START, DATA_FILE, Rule  # noqa: E402

LISTS = ("crawlerdetect", "crawler-user-agents")

# What the lists miss, added by hand: (case-insensitive string, where it was observed).
# "isbot crawlers" is isbot's fixtures/crawlers.yml (tests/data/isbot/), "ua-parser-js" its
# test/data/ua/extension/*.json fixtures.
_ADDED: tuple[tuple[str, str], ...] = (
    # AI crawlers and agents that send a short User-Agent.
    ("meta-external", "meta-externalagent/1.1, meta-externalads/1.1 (ua-parser-js crawler)"),
    ("perplexity-user", "Perplexity-User/1.0 (ua-parser-js fetcher)"),
    ("anthropic-ai", "anthropic-ai (ua-parser-js crawler)"),
    ("claude-user", "Claude-User/1.0 (ua-parser-js fetcher)"),
    ("claude-code/", "claude-code/2.1.107 (cli) (isbot crawlers)"),
    ("chatgpt-user", "ChatGPT-User/1.0 (ua-parser-js fetcher)"),
    ("mistralai-user", "MistralAI-User/1.0 (ua-parser-js fetcher)"),
    ("agent-novaact", "Agent-NovaAct/0.9 (ua-parser-js fetcher)"),
    ("amzn-user", "Amzn-User/0.1 (ua-parser-js fetcher; isbot browsers)"),
    ("gemini-deep-research", "Gemini-Deep-Research (ua-parser-js fetcher)"),
    ("cursor/", "Cursor/3.0.16 (darwin arm64), Cursor's Electron agent (isbot crawlers)"),
    # Google's special-case fetchers, all Google-<Purpose> (ua-parser-js crawler/fetcher):
    # Google-Read-Aloud, Google-InspectionTool, Google-Safety, Google-NotebookLM,
    # Google-Site-Verification, Google-PageRenderer, Google-CloudVertexBot.
    ("google-", "Google-InspectionTool/1.0, Google-Safety, Google-NotebookLM, ..."),
    ("googleproducer", "GoogleProducer (ua-parser-js fetcher)"),
    ("googledocs", "(compatible; GoogleDocs; apps-spreadsheets; ...) (ua-parser-js)"),
    ("googleweblight", "... (KHTML, like Gecko; googleweblight) Chrome/38 ... (isbot crawlers)"),
    # Link previewers and unfurlers.
    ("cardyb", "(compatible; Bluesky Cardyb/1.1; +mailto:support@bsky.app) (ua-parser-js)"),
    ("+http", "'(compatible; Name/1.0; +https://...)': a bot's info URL (Googlebot, ...)"),
    ("+mailto:", "'+mailto:support@bsky.app' and other contact addresses (ua-parser-js)"),
    ("snap url preview", "Snap URL Preview Service; bot; snapchat (ua-parser-js fetcher)"),
    ("discourse/", "Discourse/2.6.0.beta3 onebox (isbot crawlers)"),
    ("zoom marketplace/", "Zoom Marketplace/1.0a (isbot crawlers)"),
    ("imageproxy", "RamblerMail/6.0 (incompatible; ImageProxy/6.0) (isbot crawlers)"),
    ("fwdcdn.com", "(via secureurl.fwdcdn.com - mail.ukr.net proxy) (isbot crawlers)"),
    ("yahoo! slurp", "Mozilla/5.0 (compatible; Yahoo! Slurp) (isbot browsers, 'bots')"),
    # Uptime, performance and tag monitors.
    ("catchpoint", "(Linux; U; Android 4.0.2; en-us; Catchpoint) AppleWebKit (isbot crawlers)"),
    ("rigor", "RigorMonitoring (Rigor synthetic checks; crawlerdetect's tests)"),
    ("speedcurve", "PTST/SpeedCurve (SpeedCurve synthetic tests)"),
    ("synthetics", "DatadogSynthetics, Splunk Synthetics, Elastic/Synthetics, SyntheticsAgent"),
    ("route53-health-check", "Amazon-Route53-Health-Check-Service (isbot crawlers)"),
    ("applicationhealthservice", "ApplicationHealthService/1.0 (isbot crawlers)"),
    ("chrome-lighthouse", "... Chrome-Lighthouse (ua-parser-js fetcher)"),
    ("gtmetrix", "... Chrome/117.0.0.0 Safari/537.36 GTmetrix (isbot browsers)"),
    ("dejaclick", "Firefox/52.0 DejaClick/2.9.7.2 (AlertSite; isbot crawlers)"),
    ("bbtest-net", "Hobbit bbtest-net/4.3.0-0.beta2 (isbot crawlers)"),
    ("xymon", "Xymon xymonnet/4.3.17 (isbot crawlers)"),
    ("prometheus/", "prometheus/2.18.1 (isbot crawlers)"),
    ("collectd/", "collectd/5.5.1 (isbot crawlers)"),
    ("munin/", "munin/http_loadtime (isbot crawlers)"),
    ("pageburst", "(KHTML, like Gecko; compatible; pageburst) (isbot crawlers)"),
    ("taginspector", "TagInspector/500.1 (isbot crawlers)"),
    ("onetrust", "Chrome/120 Safari/537.36; OneTrust; (cookie scanner; isbot crawlers)"),
    ("morningscore", "Mozilla/5.0 (Morningscore/1.0) (isbot crawlers)"),
    ("trackable/", "Trackable/0.1 NNjCeA (isbot crawlers)"),
    ("interascoagent", "InterascoAgent/1.0 (isbot crawlers)"),
    # Feed readers, downloaders and other fetching software.
    ("akregator", "Akregator/1.2.9; librss/remnants (isbot crawlers)"),
    ("apple-pubsub", "Apple-PubSub/65.28 (isbot crawlers)"),
    ("readkit/", "ReadKit/7017 CFNetwork/673.2.1 (isbot crawlers)"),
    ("downcast/", "Downcast/2.9.11 (iPhone; iOS 9.2; Scale/2.00) (isbot crawlers)"),
    ("igetter/", "iGetter/2 (Macintosh; U; PPC Mac OS X; en) (isbot crawlers)"),
    ("mediahubmx/", "MediaHubMX/2 (isbot crawlers)"),
    ("emclient/", "emclient/10.3.2619.0 (isbot crawlers)"),
    ("sparkler/", "Sparkler/0.2.0-SNAPSHOT (isbot crawlers)"),
    ("sogoumse", "... SogouMSE,SogouMobileBrowser/5.21.8 (isbot crawlers)"),
    ("wechatdevtools", "... MicroMessenger/7.0.12 ... wechatdevtools (isbot crawlers)"),
    ("webmoney advisor", "Firefox/3.0.5 WebMoney Advisor (isbot crawlers)"),
    ("jobhunter", "mozilla/5.0 (compatible; jobhunter/1.0) (isbot crawlers)"),
    ("xtate/", "Mozilla/5.0 xtate/2.12.4 (isbot crawlers)"),
    ("sixy.ch/", "sixy.ch/1.0 (isbot crawlers)"),
    ("ortc.me", "(compatible; ORT/v1.0.0; visit ORTc.me ) (isbot crawlers)"),
    ("leadgen/", "SaferSoftwashLeadGen/2.2 (isbot crawlers)"),
    ("trance/", "Mozilla/5.0 (compatible; Trance/1.0) (isbot crawlers)"),
    ("amaya/", "amaya/10 libwww/5.4.0 (W3C's editor; isbot crawlers)"),
    ("breaker/", "Breaker/v315 (subscribers=9999; feed-id=...) (podcasts; isbot crawlers)"),
    ("feeddlerrss", "FeeddlerRSS 2.4 (iPad; iPhone OS 5.1.1; en_US) (isbot crawlers)"),
    ("placid.app/", "placid.app/v1 (isbot crawlers)"),
    ("webpurify", "WebPurify(callback) (isbot crawlers)"),
    ("algoliarecommend", "algoliarecommend/lookingsimilar (isbot crawlers)"),
    ("ifttt-protocol", "IFTTT-Protocol/v1 (isbot crawlers)"),
    ("afengineurl=", "iphone 6 plus;afengineurl=https://...;traceId=... (isbot crawlers)"),
    # HTTP libraries and system clients.
    ("grpc-", "grpc-java-netty/1.28.1, grpc-node/1.24.2 (isbot crawlers)"),
    ("openai/", "OpenAI/JS 4.77.0 (the OpenAI SDK; isbot crawlers)"),
    ("hwcdn/", "HWCDN/GFS v1.80.995-4.38.2369.el7 CDS/AT2 (isbot crawlers)"),
    ("rest-client/", "rest-client/2.1.0 (isbot crawlers)"),
    ("azure-logic-apps/", "azure-logic-apps/1.0 ... microsoft-flow/1.0 (isbot crawlers)"),
    # The DuckDuckGo app's own requests (its browser says "... DuckDuckGo/5 Safari/537.36").
    (
        "(com.duckduckgo.",
        "DuckDuckGo/5 (com.duckduckgo.mobile.android; android api 33),"
        " ddg_android/5.90.0 (com.duckduckgo.mobile.android; ...) (isbot crawlers)",
    ),
    ("duckduckgo/0 cfnetwork", "DuckDuckGo/0 CFNetwork/1126 Darwin/19.5.0 (isbot crawlers)"),
    ("microsoft-cryptoapi/", "Microsoft-CryptoAPI/10.0 (isbot crawlers)"),
    ("firephp/", "... FirePHP/0.3(Linux LLC 1.2) (isbot crawlers)"),
    ("(hydra", "Mozilla/4.0 (Hydra), Mozilla/5.0 (Hydra Proxy) (isbot crawlers)"),
    ("medusa/", "python/unicode Medusa/0.2.14 (isbot crawlers)"),
    ("anonymous, ", "'Anonymous, Mozilla/5.0 ...' from anonymising proxies (isbot crawlers)"),
    ("|", "'iphone|Mozilla/5.0 (iPhone; ...' glued by a script (isbot crawlers)"),
    # Scanners: log4j JNDI lookups, Interactsh and Burp Collaborator out-of-band domains,
    # SQL and PHP injection probes.
    ("${", "${jndi:ldap://...} (log4shell probes, CVE-2021-44228)"),
    ("interact.sh", "*.interact.sh (ProjectDiscovery Interactsh payloads)"),
    (".oast.", "*.oast.fun, *.oast.pro, ... (Interactsh public servers)"),
    ("burpcollaborator", "*.burpcollaborator.net (Burp Suite Collaborator payloads)"),
    ("oastify.com", "*.oastify.com (Burp Collaborator's current domain)"),
    ("_scanner", "... Chrome/71 Safari/537.36 jsjcw_scanner (isbot crawlers)"),
    ("arachni/", "Arachni/v1.5.1 (web scanner; isbot crawlers)"),
    ("clamav/", "ClamAV/0.101.5 (OS: linux-gnu, ...) (isbot crawlers)"),
    ("pg_sleep(", "LWPrCa2l') OR 941=(SELECT 941 FROM PG_SLEEP(15))-- (isbot browsers)"),
    ("<?", 'Mozilliqa"<?=print(9347655345-4954366);?>" (isbot browsers)'),
    ("laravel reaver", "Mozilla/5.0 (Laravel Reaver .env Presence) (isbot browsers)"),
    ("assetnote/", "... Safari/537.36 Assetnote/1.0.0 (isbot browsers)"),
    # Automation and screenshot services that name themselves.
    ("playwright", "'Playwright/1.x' appended by Playwright-based scrapers"),
    ("selenium", "'selenium-webdriver' clients"),
    ("puppeteer", "Puppeteer-based scrapers"),
    ("phantomjs", "PhantomJS/2.1.1 (headless WebKit)"),
    ("headlesschrome", "HeadlessChrome/126.0.0.0 (Chrome's headless mode)"),
    ("cypress/", "... Cypress/3.3.2 Chrome/61 Electron/2.0.18 (isbot crawlers)"),
    ("miniature.io", "Miniature.io/6.0 ... QtWebEngine (screenshots; isbot browsers)"),
)

# Added by hand too, but only for a User-Agent that is not a full browser one: the app's
# own requests, while its in-app browser or the browser of the same name are readers.
_ADDED_APPS: tuple[tuple[str, str], ...] = (("spotify/", "Spotify/1.0 (isbot crawlers)"),)

# Tokens of real readers that contain a word the lists use for bots: a bot word found only
# inside one of these is not evidence.
_READER_TOKENS: tuple[tuple[str, str], ...] = (
    ("cronet", "Chrome's network stack in apps and TV browsers: '...; Cronet/107.0.5284.2)'"),
    ("amigavoyager/", "AmigaVoyager/3.4.4 (MorphOS/PPC native) (isbot browsers)"),
)

# List patterns that match real browsers, disabled with the reason.
_DISABLED: dict[str, str] = {
    # crawler-user-agents labels it Facebook's preview fetcher, but "MetaIAB" is Meta's
    # in-app browser (IAB) on Android, whose readers open links from Facebook; its link
    # prefetches carry Sec-Purpose/X-Purpose, which is_prefetch refuses.
    "MetaIAB Facebook": "Facebook's Android in-app browser",
    # crawlerdetect: the web library of the Lynx and NCSA Mosaic browsers ("libwww-FM/2.14",
    # "libwww/2.12"); the Perl library stays listed (crawler-user-agents "libwww-perl").
    "libwww": "Lynx and NCSA Mosaic",
    # crawler-user-agents: Fluid is a site-specific browser for macOS (a person browsing).
    "Fluid": "the Fluid browser",
    # crawler-user-agents (entry "80legs"): an Android firmware build id, sent by every
    # OPPO CPH2557 on that build; the entry's own example is Instagram's in-app browser.
    "AP3A\\.240617\\.008": "a phone firmware build",
}


def _package_file(package: str, name: str) -> Path:
    """A data file shipped inside an installed package, found without importing it (its
    import would parse the data a second time)."""
    from importlib.util import find_spec

    spec = find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(package)
    return Path(next(iter(spec.submodule_search_locations))) / name


def crawlerdetect_data() -> tuple[list[str], list[str]]:
    """(patterns, exclusions) of the installed crawlerdetect, both case-insensitive."""
    crawlers = importlib.import_module("crawlerdetect.providers.crawlers")
    exclusions = importlib.import_module("crawlerdetect.providers.exclusions")
    return list(crawlers.data), list(exclusions.data)


def crawler_user_agents_data() -> list[dict[str, Any]]:
    """The entries of the installed crawler-user-agents: pattern, instances, ..."""
    path = _package_file("crawleruseragents", "crawler-user-agents.json")
    data: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return data


_LOOKAHEAD = re.compile(r"(\w+)\(\?!(\w+)\)")


def rules() -> tuple[list[Rule], list[str]]:
    """Every bot rule, and the exemptions (case-insensitive patterns)."""
    patterns, exempt = crawlerdetect_data()
    found: list[Rule] = []
    for pattern in patterns:
        # `Yandex(?!Search)`: the word, with the longer one as an exemption (no look-around
        # in an automaton or in RE2).
        if (lookahead := _LOOKAHEAD.fullmatch(pattern)) is not None:
            pattern = lookahead[1]
            exempt.append(lookahead[1] + lookahead[2])
        found.append(Rule("crawlerdetect", pattern, True))
    for entry in crawler_user_agents_data():
        browsers = any(_BROWSER.match(ua) for ua in entry.get("instances", ()))
        found.append(Rule("crawler-user-agents", entry["pattern"], False, browsers))
    found += [Rule("newsdesk", re.escape(p), True) for p, _ in _ADDED]
    found += [Rule("newsdesk", re.escape(p), True, False) for p, _ in _ADDED_APPS]
    found = [r for r in found if r.pattern not in _DISABLED]
    return found, exempt + [re.escape(token) for token, _ in _READER_TOKENS]


class _Word:
    """What finding one string means: the rule it proves (None: it is an exemption), and
    the rules of the regular expression it gates."""

    __slots__ = ("gated", "rule")

    def __init__(self) -> None:
        self.rule: Rule | None = None
        self.gated: list[Rule] = []


class Table:
    """The lists as strings for the automaton (newsdesk.bots.Matcher's input).

    The automaton finds non-overlapping words, leftmost-longest: an exemption ("cubot", a
    phone maker; crawlerdetect's exclusions such as "Build" or "Safari/537.36") takes its
    characters away from a shorter bot word inside it, as crawlerdetect removes its
    exclusions before matching."""

    def __init__(self, rules: Iterable[Rule], exempt: Iterable[str]) -> None:
        self.words: dict[str, _Word] = {}
        for pattern in exempt:
            for word in expand(pattern, ignore_case=True, prefix_only=True) or ():
                self.words.setdefault(word, _Word())
        self.rules = list(rules)
        self.residual = [rule for rule in self.rules if not self._add(rule)]
        self.always = [r for r in self.residual if not required_literal(r.pattern)]
        self._widen_scopes()

    def _add(self, rule: Rule) -> bool:
        """Put the rule's words in the table; False when it is no finite set of strings."""
        words = expand(rule.pattern, ignore_case=True)
        if words is not None:
            for word in words:
                entry = self.words.setdefault(word, _Word())
                if entry.rule is None or (rule.browsers and not entry.rule.browsers):
                    entry.rule = rule
            return True
        for word in expand(required_literal(rule.pattern), ignore_case=True) or ():
            self.words.setdefault(word, _Word()).gated.append(rule)
        return False

    def _widen_scopes(self) -> None:
        """A word of an app-only rule ("twitterbot", from crawler-user-agents' bare
        `Twitterbot/1.0`) that contains a word of crawlerdetect's catch-all ("bot") would
        hide it from a full browser User-Agent, leftmost-longest: it takes the catch-all's
        scope, as crawlerdetect would have matched the shorter word."""
        catch_all = [r for r in self.rules if r.generic]
        if not catch_all:
            return
        words = [w for r in catch_all for w in expand(r.pattern, ignore_case=True) or ()]
        inside = re.compile("|".join(re.escape(w) for w in words))
        for word, entry in self.words.items():
            if entry.rule is not None and not entry.rule.browsers and inside.search(word):
                entry.rule = catch_all[0]

    def data(self) -> dict[str, Any]:
        """The JSON document newsdesk.bots.Matcher is made from."""
        used = {id(w.rule) for w in self.words.values() if w.rule is not None}
        used |= {id(r) for w in self.words.values() for r in w.gated}
        used |= {id(r) for r in self.residual}
        kept = [r for r in self.rules if id(r) in used]
        index = {id(r): n for n, r in enumerate(kept)}
        return {
            "about": f"generated by scripts/bot_lists.py from {sources_text()}; do not edit",
            "sources": {name: version(name) for name in LISTS},
            "rules": [[r.source, r.pattern, r.ignore_case, r.browsers] for r in kept],
            "words": {
                word: -1 if entry.rule is None else index[id(entry.rule)]
                for word, entry in self.words.items()
            },
            "gated": {
                word: [index[id(r)] for r in entry.gated]
                for word, entry in self.words.items()
                if entry.gated
            },
            "residual": [index[id(r)] for r in self.residual],
            "always": [index[id(r)] for r in self.always],
        }


def sources_text() -> str:
    return ", ".join(f"{name}=={version(name)}" for name in LISTS)


def generate() -> str:
    """The file's text, made from the installed lists (deterministic)."""
    data = Table(*rules()).data()
    return _dumps(data)


def _dumps(data: dict[str, Any]) -> str:
    """JSON with one rule or word a line, so that a list bump reads as a diff."""
    lines = ["{"]
    for n, (key, value) in enumerate(data.items()):
        comma = "," if n < len(data) - 1 else ""
        if isinstance(value, dict) and len(value) > 2:
            items = [
                f"  {json.dumps(k, ensure_ascii=False)}: {json.dumps(v)}" for k, v in value.items()
            ]
            lines += [f"{json.dumps(key)}: {{", ",\n".join(items), f"}}{comma}"]
        elif isinstance(value, list) and value and isinstance(value[0], list):
            items = [f"  {json.dumps(v, ensure_ascii=False)}" for v in value]
            lines += [f"{json.dumps(key)}: [", ",\n".join(items), f"]{comma}"]
        else:
            lines.append(f"{json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}{comma}")
    return "\n".join([*lines, "}"]) + "\n"


# --- patterns as finite sets of strings -------------------------------------------------

_parser: Any = importlib.import_module("re._parser")
_c: Any = importlib.import_module("re._constants")
_LIMIT = 64  # strings per pattern; a pattern with more is matched by the regex instead
_CLASS_LIMIT = 12  # characters per class, e.g. [0-9], [cC]
_META = frozenset(".^$*+?{}[]()|")


def _plain(pattern: str) -> str | None:
    """The string `pattern` matches when it is one (escapes such as `\\/` undone)."""
    if "\\" not in pattern:
        return None if _META.intersection(pattern) else pattern
    plain, escaped = [], False
    for char in pattern:
        if escaped:
            if char.isalnum():  # \d, \s, \b, ...: a class or an assertion
                return None
            plain.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in _META:
            return None
        else:
            plain.append(char)
    return None if escaped else "".join(plain)


def expand(pattern: str, ignore_case: bool, prefix_only: bool = False) -> list[str] | None:
    """The finite set of strings one of which any match of `pattern` contains (anchors
    `^`/`$` as _START/_END), lower-cased when `ignore_case`; None when there is no such
    set of at most _LIMIT strings. With `prefix_only`, the literal start of each
    alternative is enough (exemptions: a shorter span exempts less)."""
    word = _plain(pattern)
    if word is not None:  # a plain string, the common case
        return [word.lower() if ignore_case else word] if word else None
    try:
        parsed = list(_parser.parse(pattern))
    except re.error:
        return None
    words = _expand_top(parsed, ignore_case, prefix_only)
    return sorted(set(words)) if words and all(words) else None


def _expand_top(items: list[Any], fold: bool, prefix: bool) -> list[str] | None:
    if len(items) == 1 and items[0][0] is _c.BRANCH:
        out: list[str] = []
        for alternative in items[0][1][1]:
            words = _expand_top(list(alternative), fold, prefix)
            if words is None:
                return None
            out += words
        return out
    # Unanchored, a leading or trailing X* matches the empty string and X+ matches X.
    while items and items[0][0] in _REPEATS:
        items = _at_least(items[0]) + items[1:]
    while items and items[-1][0] in _REPEATS:
        items = items[:-1] + _at_least(items[-1])
    return _expand_seq(items, fold, prefix)


def _at_least(item: Any) -> list[Any]:
    low, _high, sub = item[1]
    return list(sub) * low


def _expand_seq(items: Iterable[Any], fold: bool, prefix: bool) -> list[str] | None:
    out = [""]
    for op, av in items:
        options = _expand_item(op, av, fold, prefix)
        if options is None:
            return out if prefix and out != [""] else None
        out = [a + b for a in out for b in options]
        if len(out) > _LIMIT:
            return None
    return out


def _expand_item(op: Any, av: Any, fold: bool, prefix: bool) -> list[str] | None:
    if op is _c.LITERAL:
        return [chr(av).lower() if fold else chr(av)]
    if op is _c.IN:
        return _expand_class(av, fold)
    if op is _c.AT:
        return {_c.AT_BEGINNING: [_START], _c.AT_END: [_END]}.get(av)
    if op is _c.SUBPATTERN:
        return _expand_seq(av[3], fold or bool(av[1] & re.IGNORECASE), prefix)
    if op is _c.BRANCH:
        return _union([_expand_seq(a, fold, False) for a in av[1]])
    if op in _REPEATS and av[1] <= 3:
        once = _expand_seq(av[2], fold, False)
        return _union([_power(once, n) for n in range(av[0], av[1] + 1)])
    return None


def _expand_class(items: list[Any], fold: bool) -> list[str] | None:
    chars: set[str] = set()
    for op, av in items:
        if op is _c.LITERAL:
            chars.add(chr(av))
        elif op is _c.RANGE and av[1] - av[0] < _CLASS_LIMIT:
            chars.update(chr(c) for c in range(av[0], av[1] + 1))
        elif op is _c.CATEGORY and av is _c.CATEGORY_DIGIT:
            chars.update("0123456789")
        elif op is _c.CATEGORY and av is _c.CATEGORY_SPACE:
            chars.add(" ")  # the only space a printable User-Agent can hold
        else:
            return None
    if fold:
        chars = {c.lower() for c in chars}
    return sorted(chars) if len(chars) <= _CLASS_LIMIT else None


def _power(words: list[str] | None, n: int) -> list[str] | None:
    if words is None:
        return None
    out = [""]
    for _ in range(n):
        out = [a + b for a in out for b in words]
    return out


def _union(options: list[list[str] | None]) -> list[str] | None:
    out: list[str] = []
    for words in options:
        if words is None:
            return None
        out += words
    return out if len(out) <= _LIMIT else None


_REPEATS = (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT)


def required_literal(pattern: str) -> str:
    """The longest run of plain characters every match of `pattern` contains (its gate
    in the automaton), as a pattern; "" when it has none (then the regex always runs)."""
    best = ""
    for run in _literal_runs(list(_parser.parse(pattern))):
        if len(run) > len(best):
            best = run
    return re.escape(best)


def _literal_runs(items: list[Any]) -> Iterator[str]:
    run = ""
    if len(items) == 1 and items[0][0] is _c.BRANCH:
        return  # a different literal per alternative: no single gate
    for op, av in items:
        if op is _c.LITERAL:
            run += chr(av)
            continue
        yield run
        run = ""
        if op is _c.SUBPATTERN:
            yield from _literal_runs(list(av[3]))
    yield run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is stale")
    args = parser.parse_args()
    text = generate()
    current = DATA_FILE.read_text(encoding="utf-8") if DATA_FILE.is_file() else ""
    if args.check:
        if current != text:
            print(f"{DATA_FILE} is out of date: run scripts/bot_lists.py", file=sys.stderr)
            return 1
        return 0
    if current != text:
        DATA_FILE.write_text(text, encoding="utf-8")
    print(f"{DATA_FILE.relative_to(ROOT)}: {len(text)} bytes ({sources_text()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
