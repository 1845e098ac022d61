"""The public User-Agent corpora the bot filter is measured on, for the tests
(tests/unit/test_bot_corpora.py) and the bench (scripts/bench_bots.py).

| corpus | what | from |
|---|---|---|
| crawler-user-agents | bots: every pattern's `instances` | PyPI `crawler-user-agents` (the installed, pinned version; MIT) |
| isbot crawlers | bots | `tests/data/isbot/crawlers.yml` (isbot fixtures, Unlicense; see SOURCE.md there) |
| isbot browsers | real browsers, unweighted | `tests/data/isbot/browsers.yml`, less what SOURCE.md says |
| npm user-agents | real browsers with their share of traffic | npm `user-agents` (BSD-2-Clause), fetched once with `npm pack` into `.local/corpora/` |

CI reaches PyPI and npm but not GitHub, so the npm corpus is fetched from the registry (once,
idempotent, like DynamoDB Local in local/dynamodb.py) and the GitHub-only one is copied.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import yaml

from local.npm import fetch, member_to

ROOT = Path(__file__).resolve().parent.parent
ISBOT = ROOT / "tests" / "data" / "isbot"
ISBOT_COMMIT = "344052da664bde49579e21f1e62349280791efb3"
CACHE = ROOT / ".local" / "corpora"
# Pinned: a new release of the corpus arrives by changing this line (and re-running the tests).
NPM_USER_AGENTS = "2.1.198"
_NPM_FILE = "package/dist/user-agents.json"

# Sections of isbot's browsers.yml that isbot itself does not call browsers (SOURCE.md).
_SKIPPED_SECTIONS = ("ZZZ Insignificat bots", "ZZZ Glitches and Misidentified Browsers")

# Entries of isbot's browsers.yml that are no reader's page view, with the reason: counting
# them would count a reader twice (the app's request, then the browser's) or count software.
NOT_READERS: dict[str, str] = {
    "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.1; WOW64; Trident/7.0; SLCC2; .NET CLR "
    "2.0.50727; .NET CLR 3.5.30729; .NET CLR 3.0.30729; Media Center PC 6.0; MAGW; .NET4.0C; "
    ".NET4.0E; Microsoft Outlook 14.0.7113; ms-office; MSOffice 14)": "Outlook checking a link",
    "Microsoft Office/16.0 (Windows NT 10.0; MAPI 16.0.8431; Pro)": "Office checking a link",
    "Microsoft Office/14.0 (Windows NT 6.1; Microsoft Outlook 14.0.7143; Pro)": (
        "Outlook checking a link"
    ),
    "Microsoft Office/16.0 (Microsoft Outlook Mail 16.0.8008; Pro)": "Outlook checking a link",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft PowerPoint 16.0.10325; Pro)": (
        "PowerPoint checking a link"
    ),
    "Outlook-iOS/709.2189947.prod.iphone (3.24.0)": "the Outlook app's own requests",
    "Outlook-Express/7.0 (MSIE 7.0; Windows NT 6.1; Trident/7.0; SLCC2; .NET CLR 2.0.50727; "
    ".NET CLR 3.5.30729; .NET CLR 3.0.30729; Media Center PC 6.0; OfficeLiveConnector.1.5; "
    "OfficeLivePatch.1.3; .NET4.0C; .NET4.0E; Tablet PC 2.0; TmstmpExt)": (
        "a mail client fetching a message's images"
    ),
    "Outlook-Express/7.0 (MSIE 7.0; Windows NT 6.2; WOW64; Trident/7.0; .NET4.0C; .NET4.0E; "
    ".NET CLR 2.0.50727; .NET CLR 3.0.30729; .NET CLR 3.5.30729; TmstmpExt)": (
        "a mail client fetching a message's images"
    ),
    "MozacFetch/49.0.20200702190156": "Firefox for Android's background fetches (icons)",
    "NetworkingExtension/8618.1.15.10.15 CFNetwork/1494.0.7 Darwin/23.4.0": (
        "Apple's background network requests (isbot's own label)"
    ),
    "NetworkingExtension/8618.2.12.10.9 CFNetwork/1496.0.7 Darwin/23.5.0": (
        "Apple's background network requests (isbot's own label)"
    ),
    "Viber/12.8.0.1 CFNetwork/1121.2.2 Darwin/19.3.0": "the Viber app's link preview on iOS",
    "fuboTV/4.75.0 (Linux;Android 9; AFTDCT31 Build/PS7664.3772N) FuboPlayer/v1.34.0": (
        "a TV app's video player"
    ),
    "Mozilla/5.0 (Windows NT 10.0.18362; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Slack/4.4.2 Chrome/78.0.3904.130 Electron/7.2.1 Safari/537.36 WindowsStore/10.0.18362 "
    "Sonic Slack_SSB/4.4.2": "Slack's desktop window (links open in the system browser)",
    "Mozilla/5.0 (X11; Linux x86_64) Miniature.io/6.0 AppleWebKit/537.36 (KHTML, like Gecko) "
    "QtWebEngine/5.12.4 Chrome/69.0.3497.128 Safari/537.36": "a screenshot service",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Trae/1.107.1 Chrome/142.0.7444.235 Electron/39.2.7 Safari/537.36": (
        "an AI coding agent (crawler-user-agents: browser-automation)"
    ),
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Code/1.115.0 Chrome/142.0.7444.265 Electron/39.8.5 Safari/537.36": (
        "an AI coding agent (crawler-user-agents: browser-automation)"
    ),
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Amzn-User/0.1) "
    "Chrome/119.0.6045.214 Safari/537.36": "Alexa fetching a page for its answer",
}


class CorpusError(RuntimeError):
    """A corpus could not be fetched; the message says what to do."""


@dataclass(frozen=True)
class Corpus:
    """Distinct User-Agents with their weights (1 each for an unweighted corpus)."""

    name: str
    source: str
    bots: bool
    weights: dict[str, float]

    @property
    def weighted(self) -> bool:
        return any(w != 1 for w in self.weights.values())


def crawler_user_agents() -> Corpus:
    from scripts.bot_lists import crawler_user_agents_data

    instances = [ua for entry in crawler_user_agents_data() for ua in entry.get("instances", ())]
    source = f"PyPI crawler-user-agents {version('crawler-user-agents')} (MIT), instances"
    return Corpus("crawler-user-agents", source, True, dict.fromkeys(instances, 1.0))


def _isbot(name: str, skip: tuple[str, ...] = ()) -> dict[str, float]:
    data = yaml.safe_load((ISBOT / name).read_text(encoding="utf-8"))
    return {
        str(ua): 1.0
        for section, uas in data.items()
        if not str(section).startswith(skip)
        for ua in uas
    }


def isbot_crawlers() -> Corpus:
    source = f"isbot fixtures/crawlers.yml @{ISBOT_COMMIT[:8]} (Unlicense)"
    return Corpus("isbot crawlers", source, True, _isbot("crawlers.yml"))


def isbot_browsers(include_not_readers: bool = False) -> Corpus:
    weights = _isbot("browsers.yml", _SKIPPED_SECTIONS)
    if not include_not_readers:
        weights = {ua: w for ua, w in weights.items() if ua not in NOT_READERS}
    source = f"isbot fixtures/browsers.yml @{ISBOT_COMMIT[:8]} (Unlicense)"
    return Corpus("isbot browsers", source, False, weights)


def npm_user_agents() -> Corpus:
    """Real browsers with their share of traffic (weights sum to 1 over the corpus)."""
    entries = json.loads(ensure_npm_corpus().read_text(encoding="utf-8"))
    weights: Counter[str] = Counter()
    for entry in entries:
        weights[entry["userAgent"]] += float(entry["weight"])
    source = f"npm user-agents {NPM_USER_AGENTS} (BSD-2-Clause), weighted"
    return Corpus("npm user-agents", source, False, dict(weights))


def ensure_npm_corpus(dest: Path = CACHE) -> Path:
    """Path of the npm package's data file, fetching it with `npm pack` on first use
    (local.npm.fetch: cached, checked, one atomic rename)."""
    target = dest / f"user-agents-{NPM_USER_AGENTS}.json"
    unpack = member_to(_NPM_FILE, CorpusError)
    return fetch(f"user-agents@{NPM_USER_AGENTS}", target, unpack, error=CorpusError)


def all_corpora() -> list[Corpus]:
    """Every corpus, bots first (fetches the npm one when needed)."""
    return [crawler_user_agents(), isbot_crawlers(), isbot_browsers(), npm_user_agents()]
