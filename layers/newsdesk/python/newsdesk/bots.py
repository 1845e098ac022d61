"""Who is a countable reader: bots, crawlers, link previewers, monitors, scanners, headless
and automated browsers, and prefetches are not.

A User-Agent is judged in this order, cheapest first, and the decision is cached per
container (`_decisions`, keyed by the User-Agent):

1. Junk (`_junk`): empty, over MAX_USER_AGENT characters, a control character, neither a
   `name/version` token nor a `(comment)` (`123`, `My User Agent 1.0`), or 50 characters
   without a space: a bot, without looking further.
2. The maintained lists, layered: crawlerdetect's patterns and exclusions (PyPI
   `crawlerdetect`) and the patterns of PyPI `crawler-user-agents`, plus `_ADDED` and
   `_ADDED_APPS` in scripts/bot_lists.py (what the lists miss, each with where it was
   observed). New lists arrive by bumping their pinned versions in
   layers/dependencies/requirements.txt and running scripts/bot_lists.py (a test fails
   until the file it writes matches the installed lists).
3. Exemptions for real readers the lists would reject: a catch-all bot word ("bot",
   "spider") only in the device model of an Android browser (`VR BOT 552`, `XBot Junior`,
   `Spider` are phones), crawlerdetect's own exclusions, `_READER_TOKENS` (Cronet) and
   `_DISABLED` (in scripts/bot_lists.py: list patterns that name real browsers, such as
   Lynx's `libwww`). A pattern of `crawler-user-agents` whose every example is a bare,
   non-browser User-Agent (`Viber`) does not apply to a full browser User-Agent (Viber's
   in-app browser).
4. Automation that the string hides: `is_countable(..., body)` refuses a beacon or heartbeat
   whose JSON says `{"webdriver": true}` (templates/widget.js sends it).

Speed and bound: the patterns are expanded into literal strings (a pattern's finite set of
matches, with its anchors as sentinel characters) at build time by scripts/bot_lists.py,
which writes them into newsdesk/bot_lists.json (checked in, so a source checkout and the
layer read the same file; expanding at the first request cost 50-150 ms of cold start).
At run time they are searched together, in one pass, by an
Aho-Corasick automaton (`ahocorasick_rs`, linear in the length, no backtracking); the few
patterns that are no finite set (`Java.*outbrain`) form one regular expression that runs only
when its required literal was found, and that is searched with Google RE2 (linear time).
So one decision is a bounded amount of work for any input: at most MAX_USER_AGENT characters
through two linear-time automata. `scripts/bench_bots.py` measures it (target: p99 <= 50 us
per decision).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from newsdesk.caches import Cache

# The lists, expanded by scripts/bot_lists.py (see there for the format).
DATA_FILE = Path(__file__).with_name("bot_lists.json")

# Headers browsers send on speculative loads (Chrome: Sec-Purpose, older: Purpose,
# Firefox: X-Moz, Safari: X-Purpose). Any of them carrying "prefetch" or "preview"
# means nobody is looking at the page yet.
_PREFETCH_HEADERS = ("sec-purpose", "purpose", "x-moz", "x-purpose")

# Browsers send 100-300 characters; anything longer is a bot without asking the lists.
MAX_USER_AGENT = 512

# One decision per distinct User-Agent per container: a few thousand cover a news site's
# readers; a flood of unique ones only evicts the least recently used.
_decisions: Cache[bool] = Cache("bot-decisions", maxsize=4096)

# Junk: a User-Agent with neither a `name/version` token nor a `(comment)` names no client
# at all (`123`, `My User Agent 1.0`, `-`); every browser has one or the other (`_junk`).

# An Android browser's platform part: "(Linux; [U; ]Android 13; [vi-vn; ]<model> Build/...)"
# followed by the engine. The model field names a phone, whatever it is called.
# (No re.IGNORECASE: browsers spell it so, and it would cost 5 ms of compiling at import.)
_ANDROID_MODEL = re.compile(
    r"Mozilla/5\.0 \(Linux; (?:U; )?Android [^;)]*; (?:[a-zA-Z]{2}[-_][a-zA-Z]{2,3}; )?"
    r"([^;)]+)(?:;[^;)]*)*\) AppleWebKit/"
)
# A full browser User-Agent: "Mozilla/5.0 (<platform>) AppleWebKit/..." or "... Gecko/...".
_BROWSER = re.compile(r"Mozilla/5\.0 \([^()]*\) (?:AppleWebKit|Gecko)/")

_START, _END = "\x02", "\x03"  # ^ and $ of a pattern, as characters no User-Agent holds


def is_bot(user_agent: str | None) -> bool:
    """True for an empty, over-long or junk User-Agent, or one the lists name as a bot
    (crawler, previewer, monitor, scanner, HTTP library, headless or automated browser).
    Cached per container; bounded work for any input."""
    ua = (user_agent or "").strip()
    if not ua or len(ua) > MAX_USER_AGENT:
        return True
    hit, known = _decisions.get(ua)
    if hit:
        return bool(known)
    decision = _decide(ua)
    _decisions.put(ua, decision)
    return decision


def _decide(ua: str) -> bool:
    return _junk(ua) is not None or _matcher().matches(ua)


# A run of 50 characters without a space is no browser's (isbot's rule; its crawlers.yml
# has base64 blobs and glued tokens): every browser separates its tokens with spaces.
_UNSPACED = 50


def _junk(ua: str) -> str | None:
    """Why `ua` (stripped, not empty, not over-long) names no client, or None."""
    if not ua.isprintable():
        return "control character"
    if "/" not in ua and "(" not in ua:
        return "names no client (no name/version, no comment)"
    if len(ua) >= _UNSPACED and " " not in ua:
        return f"{_UNSPACED}+ characters without a space"
    return None


def is_prefetch(headers: Mapping[str, str]) -> bool:
    for name in _PREFETCH_HEADERS:
        value = headers.get(name, "").lower()
        if "prefetch" in value or "preview" in value or "prerender" in value:
            return True
    return False


def reports_automation(body: Mapping[str, Any] | None) -> bool:
    """True when the page's script says the browser is driven by automation: it sends
    `{"webdriver": true}` when `navigator.webdriver` is true (W3C WebDriver, "Interface":
    Selenium, Playwright and Puppeteer set it)."""
    return body is not None and body.get("webdriver") is True


# Fetch Metadata (W3C "Fetch Metadata Request Headers"; every current browser sends them):
# a reader opening the page is a top-level navigation (Sec-Fetch-Dest: document,
# Sec-Fetch-Mode: navigate); the page's own script (beacon, heartbeat) is a same-origin
# fetch (Sec-Fetch-Site: same-origin, Sec-Fetch-Dest: empty). A page's fetch() of an
# article, an <img> or <iframe> pointing at one, or another site's script posting a beacon
# is none of these. A browser that sends no Sec-Fetch-* header at all (older Safari, some
# in-app browsers) is judged by the other rules only.
PAGE = "page"  # the article page itself, counted at render time
SCRIPT = "script"  # the page's own script: the beacon and the heartbeat
_EXPECTED = {
    PAGE: {"sec-fetch-dest": "document", "sec-fetch-mode": "navigate"},
    SCRIPT: {"sec-fetch-dest": "empty", "sec-fetch-site": "same-origin"},
}


def fetch_matches(headers: Mapping[str, str], source: str) -> bool:
    """True unless a Sec-Fetch-* header says the request is not `source` (PAGE or SCRIPT):
    an absent header proves nothing either way."""
    for name, expected in _EXPECTED[source].items():
        value = headers.get(name, "").strip().lower()
        if value and value != expected:
            return False
    return True


def is_countable(
    headers: Mapping[str, str], source: str = PAGE, body: Mapping[str, Any] | None = None
) -> bool:
    """A view (or presence) counts only for a real reader: not a bot, not a prefetch, not
    an automated browser (`body`, the beacon's or heartbeat's JSON, says
    `{"webdriver": true}`), and the request is what it must be: the page opened (PAGE) or
    the page's own script (SCRIPT).

    `headers` must have lower-case names, as API Gateway HTTP API delivers them.
    """
    return (
        fetch_matches(headers, source)
        and not is_prefetch(headers)
        and not reports_automation(body)
        and not is_bot(headers.get("user-agent"))
    )


# --- the lists, compiled --------------------------------------------------------------


class Rule:
    """One pattern of a list. `browsers`: it also applies to a full browser User-Agent.
    (Plain classes here, not dataclasses: those cost a millisecond each at import.)"""

    __slots__ = ("browsers", "ignore_case", "pattern", "source")

    def __init__(self, source: str, pattern: str, ignore_case: bool, browsers: bool = True):
        self.source, self.pattern = source, pattern
        self.ignore_case, self.browsers = ignore_case, browsers

    def __repr__(self) -> str:
        return f"Rule({self.source!r}, {self.pattern!r}, browsers={self.browsers})"

    @property
    def generic(self) -> bool:
        """crawlerdetect's catch-all of bot words ("bot", "spider", "crawl", ...): the one
        rule a phone's model name can set off."""
        return self.source == "crawlerdetect" and self.pattern.startswith("[a-z0-9")


class Matcher:
    """The compiled lists (`data`: the JSON document scripts/bot_lists.py writes):
    `matches(ua)` is True when a rule applies to `ua`.

    The automaton finds non-overlapping words, leftmost-longest: an exemption ("cubot", a
    phone maker; crawlerdetect's exclusions such as "Build" or "Safari/537.36") takes its
    characters away from a shorter bot word inside it, as crawlerdetect removes its
    exclusions before matching."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        import ahocorasick_rs

        rules = [Rule(*fields) for fields in data["rules"]]
        words: dict[str, int] = data["words"]
        gated: dict[str, list[int]] = data["gated"]
        # Per word of the automaton: the rule it proves (None: an exemption), and the rules
        # of the regular expression it gates.
        self.proves = [None if n < 0 else rules[n] for n in words.values()]
        self.gates = [[rules[n] for n in gated.get(word, ())] for word in words]
        self.residual_rules = [rules[n] for n in data["residual"]]
        self.always = [rules[n] for n in data["always"]]
        self.generic = frozenset(n for n, r in enumerate(self.proves) if r and r.generic)
        self.evidence = frozenset(
            n for n, r in enumerate(self.proves) if r is not None or self.gates[n]
        )
        self.automaton = ahocorasick_rs.AhoCorasick(
            list(words), matchkind=ahocorasick_rs.MATCHKIND_LEFTMOST_LONGEST
        )

    def matches(self, ua: str) -> bool:
        return self.rule_for(ua, name=False) is not None

    def rule_for(self, ua: str, name: bool = True) -> Rule | None:
        """A rule that applies to `ua`, or None. With `name`, the one that decided (for
        explain()); without, any one (one regular expression search fewer)."""
        hits = self.automaton.find_matches_as_indexes(_START + ua.lower() + _END)
        if self.evidence.isdisjoint({n for n, _, _ in hits}) and not self.always:
            return None
        return self._judge(ua, hits, name)

    def _judge(self, ua: str, hits: list[tuple[int, int, int]], name: bool) -> Rule | None:
        model = _ANDROID_MODEL.match(ua)
        lo, hi = (model.start(1) + 1, model.end(1) + 1) if model else (0, 0)  # +1: _START
        browser = _BROWSER.match(ua) is not None
        gated = list(self.always)
        for n, start, end in hits:
            if lo <= start and end <= hi and n in self.generic:
                continue  # a bot word only in the phone's model name
            rule = self.proves[n]
            if rule is not None and (rule.browsers or not browser):
                return rule
            gated += self.gates[n]
        gated = [r for r in gated if r.browsers or not browser]
        if not gated or not self.residual.search(ua):
            return None
        return next((r for r in gated if _re2_search(r, ua)), gated[0]) if name else gated[0]

    @cached_property
    def residual(self) -> Any:
        """The regular expression of the rules that are no finite set of strings, compiled
        when first needed (most containers never need it)."""
        return _residual_regex(self.residual_rules)


def _re2_search(rule: Rule, ua: str) -> bool:
    import re2

    return re2.search(f"(?i:{rule.pattern})" if rule.ignore_case else rule.pattern, ua) is not None


def explain(user_agent: str | None) -> str | None:
    """Why is_bot(user_agent) is True ("crawlerdetect: <pattern>", "no product token",
    ...), or None for a reader. Not cached; for tests, the bench and operators."""
    ua = (user_agent or "").strip()
    if not ua:
        return "empty"
    if len(ua) > MAX_USER_AGENT:
        return f"over {MAX_USER_AGENT} characters"
    if (junk := _junk(ua)) is not None:
        return junk
    rule = _matcher().rule_for(ua)
    return None if rule is None else f"{rule.source}: {rule.pattern}"


@cache
def _matcher() -> Matcher:
    """The lists as built by scripts/bot_lists.py (read once per container: a few ms)."""
    import json

    with open(DATA_FILE, encoding="utf-8") as handle:
        return Matcher(json.load(handle))


def _residual_regex(rules: list[Rule]) -> Any:
    """One RE2 expression of the patterns that are no finite set of strings (linear time:
    no input can make it backtrack); one that matches nothing when there are none."""
    import re2

    if not rules:
        return re2.compile(r"[^\x00-\x{10FFFF}]")

    options = re2.Options()
    options.never_capture = True
    options.log_errors = False
    parts = [f"(?i:{r.pattern})" if r.ignore_case else f"(?:{r.pattern})" for r in rules]
    return re2.compile("|".join(parts), options)
