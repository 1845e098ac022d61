"""Settings, parsed and validated once from the environment (template parameters)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LOCALES = ("vi", "en")
COUNT_MODES = ("render", "beacon")


class ConfigError(ValueError):
    """An environment variable is missing or invalid; the message names it."""


@dataclass(frozen=True)
class Settings:
    articles_table: str
    counters_table: str
    connections_table: str
    site_name: str = "newsdesk"
    site_url: str = ""
    time_zone: str = "Asia/Ho_Chi_Minh"
    locale: str = "vi"
    page_size: int = 20
    # Visitor widget and counting rules (PRODUCT.md sections 4 and 5).
    presence_window_seconds: int = 300
    view_dedupe_seconds: int = 1800
    count_mode: str = "render"
    page_cache_seconds: int = 60
    stats_cache_seconds: int = 10
    max_visitors_per_address: int = 32
    counter_shards: int = 1
    article_cache_seconds: int = 30
    cdn_origin_secret: str = ""  # set when the stack's CloudFront distribution is on

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


def _int(env: dict[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not lo <= value <= hi:
        raise ConfigError(f"{name} must be between {lo} and {hi}, got {value}")
    return value


def from_env(env: dict[str, str] | None = None) -> Settings:
    """Build Settings from environment variables, failing with a message a person can act on."""
    env = dict(os.environ if env is None else env)
    missing = [
        n for n in ("ARTICLES_TABLE", "COUNTERS_TABLE", "CONNECTIONS_TABLE") if not env.get(n)
    ]
    if missing:
        raise ConfigError(f"missing environment variable(s): {', '.join(missing)}")
    locale = env.get("LOCALE", "vi").strip() or "vi"
    if locale not in LOCALES:
        raise ConfigError(f"LOCALE must be one of {', '.join(LOCALES)}, got {locale!r}")
    time_zone = env.get("TIME_ZONE", "").strip() or "Asia/Ho_Chi_Minh"
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"TIME_ZONE is not a known IANA time zone: {time_zone!r}") from None
    count_mode = env.get("COUNT_MODE", "").strip() or "render"
    if count_mode not in COUNT_MODES:
        raise ConfigError(f"COUNT_MODE must be one of {', '.join(COUNT_MODES)}, got {count_mode!r}")
    return Settings(
        articles_table=env["ARTICLES_TABLE"],
        counters_table=env["COUNTERS_TABLE"],
        connections_table=env["CONNECTIONS_TABLE"],
        site_name=env.get("SITE_NAME", "").strip() or "newsdesk",
        site_url=env.get("SITE_URL", "").strip().rstrip("/"),
        time_zone=time_zone,
        locale=locale,
        page_size=_int(env, "PAGE_SIZE", 20, 1, 100),
        presence_window_seconds=_int(env, "PRESENCE_WINDOW_SECONDS", 300, 30, 3600),
        view_dedupe_seconds=_int(env, "VIEW_DEDUPE_SECONDS", 1800, 0, 7 * 86400),
        count_mode=count_mode,
        page_cache_seconds=_int(env, "PAGE_CACHE_SECONDS", 60, 0, 86400),
        stats_cache_seconds=_int(env, "STATS_CACHE_SECONDS", 10, 0, 300),
        max_visitors_per_address=_int(env, "MAX_VISITORS_PER_ADDRESS", 32, 1, 1_000_000),
        counter_shards=_int(env, "COUNTER_SHARDS", 1, 1, 100),
        article_cache_seconds=_int(env, "ARTICLE_CACHE_SECONDS", 30, 0, 3600),
        cdn_origin_secret=env.get("CDN_ORIGIN_SECRET", "").strip(),
    )


@cache
def settings() -> Settings:
    """The process-wide settings (parsed on first use; tests call settings.cache_clear())."""
    return from_env()
