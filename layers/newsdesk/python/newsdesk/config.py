"""Settings, parsed and validated once from the environment (template parameters).

Every setting is one row of SETTINGS: its environment variable, the template parameter that
feeds it (Globals.Function.Environment in template.yaml), its default and the values it
accepts. tests/unit/test_config.py ties each row to the parameter's Default, MinValue, MaxValue
and AllowedValues, so the code and the template cannot disagree on what is valid.

Failing fast: each handler module (functions/*/app.py) calls settings() at import, so in Lambda
a bad value fails the INIT, not every request: the runtime logs
``[ERROR] ConfigError: <message>`` and reports an init error (awslambdaric bootstrap.run: an
exception while importing the handler module is posted as an init error with its type and
message). `make run` checks the same before starting anything, and the CLI prints the message
as one line.

Errors: ConfigError; its message names the variable, the value given and what is allowed, e.g.
``PRESENCE_WINDOW_SECONDS=10 is out of range: allowed 30..3600 (template parameter
PresenceWindowSeconds)``. Every problem in the environment is reported at once.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LOCALES = ("vi", "en")
COUNT_MODES = ("render", "beacon")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")  # template parameter LogLevel

# Env var -> Settings field, for the tables' names (template: !Ref ArticlesTable, ...).
TABLE_VARIABLES = {
    "ARTICLES_TABLE": "articles_table",
    "COUNTERS_TABLE": "counters_table",
    "CONNECTIONS_TABLE": "connections_table",
}

_WHOLE_NUMBER = re.compile(r"-?[0-9]+")  # ASCII digits only (int() also takes "1_0", "١٠")


class ConfigError(ValueError):
    """One or more environment variables are missing or invalid.

    str(error) is one line: the problems joined by "; "; .problems lists them one by one,
    each naming the variable, the value given and what is allowed."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(problems))


Kind = Literal["int", "choice", "bool", "zone", "text", "pattern"]


@dataclass(frozen=True)
class Setting:
    """One environment variable a function reads, and what it accepts.

    kind: "int" (a whole number in lo..hi, inclusive), "choice" (one of choices), "bool"
    ("true" or "false"), "zone" (an IANA time zone name), "text" (anything), "pattern" (at
    most hi characters matching `pattern` whole: the template parameter's AllowedPattern and
    MaxLength, a regular expression both Java (CloudFormation) and Python read alike; `hint`
    says what it allows in words). An empty or unset variable means the default.
    parameter: the template parameter that feeds the variable, or None when the template has
    none (then `note` says where the value comes from)."""

    env: str
    field: str  # the Settings attribute
    parameter: str | None
    kind: Kind
    default: int | str
    lo: int | None = None
    hi: int | None = None
    choices: tuple[str, ...] = ()
    fold_case: bool = False  # choice/bool: compared case-insensitively, as its reader does
    note: str = ""
    pattern: str = ""  # kind "pattern": the whole value must match it
    hint: str = ""  # kind "pattern": what it allows, in words

    @property
    def source(self) -> str:
        """Where the value is meant to come from, for messages."""
        if self.parameter:
            return f"template parameter {self.parameter}"
        return f"no template parameter: {self.note}"

    @property
    def allowed(self) -> str:
        """What the variable accepts, as messages print it: '30..3600', 'vi, en'."""
        if self.kind == "int":
            return f"{self.lo}..{self.hi}"
        if self.kind in ("choice", "bool"):
            return ", ".join(self.choices)
        if self.kind == "zone":
            return "an IANA time zone name such as Asia/Ho_Chi_Minh or UTC"
        if self.kind == "pattern":
            return f"{self.hint}, at most {self.hi} characters"
        return "any text"

    def _refused(self, raw: str, why: str) -> str:
        return f"{self.env}={shlex.quote(raw)} {why}: allowed {self.allowed} ({self.source})"

    def parse(self, raw: str | None) -> int | str | bool:
        """The value of this setting for the variable's raw text (None: unset).

        Raises ValueError with the message ConfigError will carry."""
        raw = raw or ""
        text = raw.strip()
        if not text:
            return self.default == "true" if self.kind == "bool" else self.default
        if self.kind == "int":
            return self._number(raw, text)
        if self.kind in ("choice", "bool"):
            return self._choice(raw, text)
        return self._text(raw, text)

    def _number(self, raw: str, text: str) -> int:
        assert self.lo is not None and self.hi is not None
        if not _WHOLE_NUMBER.fullmatch(text):
            raise ValueError(self._refused(raw, "is not a whole number"))
        number = int(text)
        if not self.lo <= number <= self.hi:
            raise ValueError(self._refused(raw, "is out of range"))
        return number

    def _choice(self, raw: str, text: str) -> str | bool:
        wanted = text.lower() if self.fold_case else text
        for choice in self.choices:
            if wanted == (choice.lower() if self.fold_case else choice):
                return choice == "true" if self.kind == "bool" else choice
        raise ValueError(self._refused(raw, "is not an allowed value"))

    def _text(self, raw: str, text: str) -> str:
        if self.kind == "zone":
            try:
                ZoneInfo(text)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(self._refused(raw, "is not a known time zone")) from None
        if self.kind == "pattern":
            assert self.hi is not None
            if len(text) > self.hi:
                raise ValueError(self._refused(raw, "is too long"))
            if not re.fullmatch(self.pattern, text):
                raise ValueError(self._refused(raw, "is not allowed"))
        return text


def _int(env: str, field: str, parameter: str | None, default: int, lo: int, hi: int) -> Setting:
    return Setting(env, field, parameter, "int", default, lo=lo, hi=hi)


# One line of text: no control character (C0, DEL), so it cannot break the page or a feed.
ONE_LINE = r"[^\x00-\x1F\x7F]*"
PHONE = r"[0-9+(). -]*"
# An absolute http(s) URL, or nothing: no space, no control character (it goes into
# og:image and JSON-LD as it is).
IMAGE_URL = r"(https?://[^\s\x00-\x1F\x7F]+)?"
EMAIL = r"([^@\s]+@[^@\s]+\.[^@\s]+)?"


def _detail(
    env: str,
    parameter: str,
    default: str = "",
    *,
    pattern: str = ONE_LINE,
    hint: str = "one line of text",
    hi: int = 200,
) -> Setting:
    """One of the site's details shown in the page footer (Vietnamese law asks an
    information portal to show who runs it, who answers for it, its licence and contacts)."""
    return Setting(
        env, env.lower(), parameter, "pattern", default, hi=hi, pattern=pattern, hint=hint
    )


# The functions' settings. Ranges and allowed values are the template parameters' own
# (MinValue/MaxValue/AllowedValues): tests/unit/test_config.py compares them with template.yaml.
SETTINGS: tuple[Setting, ...] = (
    Setting("SITE_NAME", "site_name", "SiteName", "text", "newsdesk"),
    Setting("SITE_URL", "site_url", "SiteUrl", "text", ""),
    # The picture a shared link shows when its page has none (og:image, JSON-LD image).
    Setting(
        "SITE_IMAGE_URL",
        "site_image_url",
        "SiteImageUrl",
        "pattern",
        "",
        hi=2048,
        pattern=IMAGE_URL,
        hint="an absolute http:// or https:// URL",
    ),
    # The footer's details. The publisher's default is the governing body of the portal the
    # first site replaces (fixtures/000_0522782f77f4491e.txt: its provincial Party committee's
    # propaganda board reports its own work); the portal's page shows no other detail.
    _detail("SITE_PUBLISHER", "SitePublisher", "Ban Tuyên giáo Tỉnh ủy"),
    _detail("SITE_EDITOR", "SiteEditor"),
    _detail("SITE_LICENSE", "SiteLicense"),
    _detail("SITE_ADDRESS", "SiteAddress"),
    _detail("SITE_PHONE", "SitePhone", pattern=PHONE, hint="digits, spaces and + ( ) . -", hi=40),
    _detail("SITE_EMAIL", "SiteEmail", pattern=EMAIL, hint="an e-mail address", hi=254),
    Setting("TIME_ZONE", "time_zone", "TimeZone", "zone", "Asia/Ho_Chi_Minh"),
    Setting("LOCALE", "locale", "Locale", "choice", "vi", choices=LOCALES),
    _int("PAGE_SIZE", "page_size", "PageSize", 20, 1, 100),
    # Visitor widget and counting rules (README.md: "How counting works", "The visitor widget").
    _int(
        "PRESENCE_WINDOW_SECONDS", "presence_window_seconds", "PresenceWindowSeconds", 300, 30, 3600
    ),
    _int("VIEW_DEDUPE_SECONDS", "view_dedupe_seconds", "ViewDedupeSeconds", 1800, 0, 7 * 86400),
    Setting("COUNT_MODE", "count_mode", "CountMode", "choice", "render", choices=COUNT_MODES),
    _int("PAGE_CACHE_SECONDS", "page_cache_seconds", "PageCacheSeconds", 60, 0, 86400),
    Setting(
        "STATS_CACHE_SECONDS",
        "stats_cache_seconds",
        None,
        "int",
        10,
        lo=0,
        hi=300,
        note="an environment variable only",
    ),
    _int(
        "MAX_VISITORS_PER_ADDRESS",
        "max_visitors_per_address",
        "MaxVisitorsPerAddress",
        32,
        1,
        1_000_000,
    ),
    _int("COUNTER_SHARDS", "counter_shards", "CounterShards", 1, 1, 100),
    _int("ARTICLE_CACHE_SECONDS", "article_cache_seconds", "ArticleCacheSeconds", 30, 0, 3600),
    # Read by newsdesk/observability.py (lower-cased there) and Powertools' Logger (upper-cased
    # there; an unknown level makes Logger() raise, so the handlers check before importing it).
    Setting(
        "SDK_TRACING",
        "sdk_tracing",
        "SdkTracing",
        "bool",
        "false",
        choices=("true", "false"),
        fold_case=True,
    ),
    Setting(
        "POWERTOOLS_LOG_LEVEL",
        "log_level",
        "LogLevel",
        "choice",
        "INFO",
        choices=LOG_LEVELS,
        fold_case=True,
    ),
    Setting(
        "CDN_ORIGIN_SECRET",
        "cdn_origin_secret",
        None,
        "text",
        "",
        note="the template derives it from the stack id when EnableCdn is true",
    ),
)


@dataclass(frozen=True)
class Settings:
    """The functions' settings (defaults, units and ranges: SETTINGS)."""

    articles_table: str
    counters_table: str
    connections_table: str
    site_name: str
    site_url: str  # no trailing "/"; empty: the URL the request arrived at
    site_image_url: str  # absolute http(s) URL of the default share picture; empty: none
    # The footer's details (one line each; empty: not shown)
    site_publisher: str  # the governing body ("Cơ quan chủ quản")
    site_editor: str  # who answers for the content ("Chịu trách nhiệm chính")
    site_license: str  # the licence's number and issuer ("Giấy phép")
    site_address: str
    site_phone: str
    site_email: str
    time_zone: str
    locale: str
    page_size: int  # articles per listing page
    presence_window_seconds: int
    view_dedupe_seconds: int  # 0: every view counts
    count_mode: str
    page_cache_seconds: int
    stats_cache_seconds: int
    max_visitors_per_address: int
    counter_shards: int
    article_cache_seconds: int
    sdk_tracing: bool
    log_level: str  # upper case
    cdn_origin_secret: str  # set when the stack's CloudFront distribution is on

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from environment variables (os.environ by default).

    Raises ConfigError naming every missing table variable and every setting whose value is
    outside what SETTINGS allows (variable, value given, allowed range or values)."""
    env = os.environ if env is None else env
    problems = [
        f"{name} is not set: allowed a DynamoDB table name (the template passes the table's "
        "name; make run sets it)"
        for name in TABLE_VARIABLES
        if not env.get(name, "").strip()
    ]
    values: dict[str, int | str | bool] = {
        field: env.get(name, "").strip() for name, field in TABLE_VARIABLES.items()
    }
    for setting in SETTINGS:
        try:
            values[setting.field] = setting.parse(env.get(setting.env))
        except ValueError as err:
            problems.append(str(err))
    if problems:
        raise ConfigError(problems)
    values["site_url"] = str(values["site_url"]).rstrip("/")
    return Settings(**values)  # type: ignore[arg-type]


@cache
def settings() -> Settings:
    """The process-wide settings, parsed on first use (ConfigError as from_env). The handler
    modules call it at import, so a Lambda environment with a bad value fails its INIT; tests
    call settings.cache_clear() after changing the environment."""
    return from_env()
