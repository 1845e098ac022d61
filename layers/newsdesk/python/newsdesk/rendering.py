"""HTML rendering: one Jinja2 environment per container, locale-aware numbers and dates."""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, ModuleLoader, StrictUndefined, select_autoescape

from newsdesk.config import LOCALES, settings
from newsdesk.text import xml_text
from newsdesk.urls import url_for

_PACKAGE_DIR = Path(__file__).resolve().parent


def templates_dir() -> Path:
    """Where the page templates are.

    `sam build` copies the top-level `templates/` into the package (see
    layers/newsdesk/Makefile); from a source checkout they are found at the top level.
    """
    packaged = _PACKAGE_DIR / "templates"
    if packaged.is_dir():
        return packaged
    return _PACKAGE_DIR.parents[3] / "templates"


@cache
def labels(locale: str) -> dict[str, str]:
    """The label catalogue of one language (newsdesk/locales/<locale>.json)."""
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r}")
    with open(_PACKAGE_DIR / "locales" / f"{locale}.json", encoding="utf-8") as handle:
        return dict(json.load(handle))


def format_number(value: int | None, locale: str) -> str:
    """9575 -> '9.575' (vi) or '9,575' (en): Babel's format_decimal (CLDR). A whole number
    is grouped by threes with the locale's CLDR group symbol, copied into
    locales/<locale>.json (`group_symbol`; tests/unit/test_rendering.py checks it against
    Babel): importing Babel and loading its locale data cost ~25 ms of every cold start.
    Never raises: a number Babel cannot format comes back as its plain digits."""
    if value is None:
        return "—"
    if type(value) is int:
        return f"{value:,}".replace(",", labels(locale)["group_symbol"])
    from decimal import Decimal, DecimalException

    from babel.numbers import format_decimal

    try:
        return str(format_decimal(value, locale=labels(locale)["babel_locale"]))
    except (DecimalException, ValueError, TypeError, OverflowError):
        # Babel's decimal context holds 28 digits: a larger stored number (10**30 once
        # raised a site total) shows as its plain digits rather than failing every page.
        return f"{value:f}" if isinstance(value, Decimal) else str(value)


def format_date(moment: datetime, locale: str, time_zone: str) -> str:
    """The page's date line, in the site's time zone: '27/11/2018 | 08:12'."""
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(time_zone)).strftime(labels(locale)["date_format"])


def rfc822_date(moment: datetime) -> str:
    """RSS dates (RFC 822, four-digit year): 'Tue, 27 Nov 2018 01:12:00 GMT'."""
    from datetime import UTC
    from email.utils import format_datetime

    return format_datetime(moment.astimezone(UTC), usegmt=True)


# The templates as Python modules, compiled by `sam build` (layers/newsdesk/Makefile calls
# compile_templates): compiling them at the first request cost 150-250 ms of cold start.
_COMPILED_DIR = _PACKAGE_DIR / "compiled_templates"


def _loader() -> FileSystemLoader | ModuleLoader:
    """The built layer's compiled templates, made from the templates packaged beside them;
    from a source checkout (no compiled templates) the templates themselves."""
    if _COMPILED_DIR.is_dir() and (_PACKAGE_DIR / "templates").is_dir():
        return ModuleLoader(str(_COMPILED_DIR))
    return FileSystemLoader(str(templates_dir()))


def compile_templates(target: Path = _COMPILED_DIR) -> None:
    """Build step: every template compiled into `target` as Python modules (Jinja2's
    Environment.compile_templates with this module's environment and filters, so the code
    is what the first request would have compiled). Raises on a template that fails."""
    env = _environment(FileSystemLoader(str(templates_dir())))
    env.compile_templates(str(target), zip=None, ignore_errors=False)


@cache
def environment() -> Environment:
    """Compiled once per container; autoescaping on for every HTML template."""
    return _environment(_loader())


def _environment(loader: FileSystemLoader | ModuleLoader) -> Environment:
    env = Environment(
        loader=loader,
        autoescape=select_autoescape(["html", "xml"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["number"] = lambda value: format_number(value, settings().locale)
    env.filters["localdate"] = lambda moment: format_date(
        moment, settings().locale, settings().time_zone
    )
    env.filters["isodate"] = lambda moment: moment.isoformat().replace("+00:00", "Z")
    env.filters["rfc822"] = rfc822_date
    env.filters["xml"] = xml_text  # what XML 1.0 cannot carry, dropped (feed, sitemap)
    env.globals["url_for"] = url_for  # every link in a template: newsdesk/urls.py
    return env


def render(template: str, *, base_url: str, **context: Any) -> str:
    """The template rendered with the site's labels and settings (`site`: the footer's
    details)."""
    conf = settings()
    context.setdefault("figures", None)  # the visitor widget's figures, when known
    context.setdefault("beacon_slug", None)  # set on article pages in COUNT_MODE=beacon
    context.setdefault("present", 0)  # registered by the page's request: heartbeat seconds
    context.setdefault("most_read", None)  # the "most read" lists, on index and article pages
    context.setdefault("share_image", None)  # a page's share picture (newsdesk.sharing.Picture)
    context.setdefault("json_ld", None)  # a page's schema.org JSON-LD (newsdesk.sharing.json_ld)
    context.setdefault("categories", [])  # the header's menu (newsdesk.menu.categories())
    return (
        environment()
        .get_template(template)
        .render(
            t=labels(conf.locale),
            site_name=conf.site_name,
            site=conf,
            base_url=base_url,
            **context,
        )
    )


@cache
def content_security_policy() -> str:
    """The pages' CSP: the only inline script and style allowed are the templates' own
    (widget.js and style.css, by hash), so injected markup could not run even if it got
    past the sanitiser and autoescaping. No 'unsafe-inline'."""
    import base64
    import hashlib

    def digest(name: str) -> str:
        text = environment().get_template(name).render()
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    return (
        f"default-src 'none'; script-src {digest('widget.js')}; style-src {digest('style.css')}; "
        # media-src: imported <video>/<audio> (WordPress) play from the same places
        # pictures come from, less data: URLs.
        "img-src 'self' data: https:; media-src 'self' https:; connect-src 'self'; "
        "base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )
