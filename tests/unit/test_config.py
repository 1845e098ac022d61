"""Configuration: every bad value is refused with its variable, the value given and what is
allowed; the handlers refuse at import (Lambda's INIT), and the ranges are the template's."""

from __future__ import annotations

import importlib.util
import uuid
from typing import Any

import pytest
from botocore.client import BaseClient
from newsdesk.config import SETTINGS, ConfigError, Setting, from_env, settings

from local.tables import load_template
from tests.support import ROOT

BASE = {"ARTICLES_TABLE": "a", "COUNTERS_TABLE": "c", "CONNECTIONS_TABLE": "v"}
HANDLERS = sorted(p.parent.name for p in (ROOT / "functions").glob("*/app.py"))
BY_ENV = {s.env: s for s in SETTINGS}


def refusal(env: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as caught:
        from_env({**BASE, **env})
    return str(caught.value)


# ------------------------------------------------------------------------------- values


def test_unset_and_empty_mean_the_defaults() -> None:
    blank = {s.env: "  " for s in SETTINGS}
    for conf in (from_env(BASE), from_env({**BASE, **blank})):
        for setting in SETTINGS:
            expected = setting.default == "true" if setting.kind == "bool" else setting.default
            assert getattr(conf, setting.field) == expected, setting.env
    assert (from_env(BASE).articles_table, from_env(BASE).time_zone) == ("a", "Asia/Ho_Chi_Minh")


def test_values_as_given() -> None:
    conf = from_env(
        {
            **BASE,
            "PRESENCE_WINDOW_SECONDS": " 45 ",
            "LOCALE": "en",
            "COUNT_MODE": "beacon",
            "SITE_URL": "https://news.example.org/",
            "SDK_TRACING": "TRUE",  # observability.py lower-cases it
            "POWERTOOLS_LOG_LEVEL": "debug",  # Powertools upper-cases it
        }
    )
    assert (conf.presence_window_seconds, conf.locale, conf.count_mode) == (45, "en", "beacon")
    assert conf.site_url == "https://news.example.org"
    assert (conf.sdk_tracing, conf.log_level) == (True, "DEBUG")


@pytest.mark.parametrize("setting", [s for s in SETTINGS if s.kind == "int"], ids=lambda s: s.env)
def test_every_range_is_inclusive_and_enforced(setting: Setting) -> None:
    assert setting.lo is not None and setting.hi is not None
    for ok in (setting.lo, setting.hi):
        assert getattr(from_env({**BASE, setting.env: str(ok)}), setting.field) == ok
    for bad in (setting.lo - 1, setting.hi + 1):
        assert refusal({setting.env: str(bad)}) == (
            f"{setting.env}={bad} is out of range: allowed {setting.lo}..{setting.hi} "
            f"({setting.source})"
        )


# ----------------------------------------------------------------------------- messages


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"PRESENCE_WINDOW_SECONDS": "10"},
            "PRESENCE_WINDOW_SECONDS=10 is out of range: allowed 30..3600 "
            "(template parameter PresenceWindowSeconds)",
        ),
        (
            {"PAGE_SIZE": "many"},
            "PAGE_SIZE=many is not a whole number: allowed 1..100 (template parameter PageSize)",
        ),
        (  # int() would take these; a template Number parameter never sends them
            {"COUNTER_SHARDS": "1_0"},
            "COUNTER_SHARDS=1_0 is not a whole number: allowed 1..100 "
            "(template parameter CounterShards)",
        ),
        (
            {"VIEW_DEDUPE_SECONDS": "30 min"},
            "VIEW_DEDUPE_SECONDS='30 min' is not a whole number: allowed 0..604800 "
            "(template parameter ViewDedupeSeconds)",
        ),
        (
            {"STATS_CACHE_SECONDS": "301"},
            "STATS_CACHE_SECONDS=301 is out of range: allowed 0..300 "
            "(no template parameter: an environment variable only)",
        ),
        (
            {"LOCALE": "fr"},
            "LOCALE=fr is not an allowed value: allowed vi, en (template parameter Locale)",
        ),
        (  # the page picks its script by exact name
            {"COUNT_MODE": "Beacon"},
            "COUNT_MODE=Beacon is not an allowed value: allowed render, beacon "
            "(template parameter CountMode)",
        ),
        (
            {"SDK_TRACING": "yes"},
            "SDK_TRACING=yes is not an allowed value: allowed true, false "
            "(template parameter SdkTracing)",
        ),
        (
            {"POWERTOOLS_LOG_LEVEL": "VERBOSE"},
            "POWERTOOLS_LOG_LEVEL=VERBOSE is not an allowed value: allowed DEBUG, INFO, "
            "WARNING, ERROR (template parameter LogLevel)",
        ),
        (
            {"TIME_ZONE": "Mars/Olympus"},
            "TIME_ZONE=Mars/Olympus is not a known time zone: allowed an IANA time zone name "
            "such as Asia/Ho_Chi_Minh or UTC (template parameter TimeZone)",
        ),
        (
            {"ARTICLES_TABLE": ""},
            "ARTICLES_TABLE is not set: allowed a DynamoDB table name (the template passes "
            "the table's name; make run sets it)",
        ),
    ],
)
def test_message_names_variable_value_and_what_is_allowed(
    env: dict[str, str], message: str
) -> None:
    assert refusal(env) == message


# The footer's details (SITE_IMAGE_URL, a URL, has its own test: tests/unit/test_sharing.py).
PATTERNED = [s for s in SETTINGS if s.kind == "pattern" and s.env != "SITE_IMAGE_URL"]


@pytest.mark.parametrize("setting", PATTERNED, ids=lambda s: s.env)
def test_a_footer_detail_is_one_line_of_what_it_allows(setting: Setting) -> None:
    """The site's details are printed in every page's footer: a control character or an
    overlong value is refused (as CloudFormation's AllowedPattern and MaxLength refuse it)."""
    assert setting.hi is not None
    good = {"SITE_PHONE": "(0236) 3.822.000", "SITE_EMAIL": "toasoan@baotinh.vn"}
    value = good.get(setting.env, "Số 1 Lê Lợi, phường Hải Châu, thành phố Đà Nẵng")
    assert getattr(from_env({**BASE, setting.env: value}), setting.field) == value
    for bad, why in (
        ("Tin\u0001 nhanh", "is not allowed"),
        ("1" * (setting.hi + 1), "is too long"),
    ):
        assert refusal({setting.env: bad}).startswith(f"{setting.env}="), bad
        assert f" {why}: allowed {setting.allowed} ({setting.source})" in refusal(
            {setting.env: bad}
        )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"SITE_EMAIL": "toasoan"},
            "SITE_EMAIL=toasoan is not allowed: allowed an e-mail address, at most 254 "
            "characters (template parameter SiteEmail)",
        ),
        (
            {"SITE_PHONE": "call us"},
            "SITE_PHONE='call us' is not allowed: allowed digits, spaces and + ( ) . -, at "
            "most 40 characters (template parameter SitePhone)",
        ),
    ],
)
def test_footer_messages(env: dict[str, str], message: str) -> None:
    assert refusal(env) == message


def test_the_footer_defaults_are_the_portals() -> None:
    """The portal the first site replaces names its governing body; nothing else is known."""
    conf = from_env(BASE)
    assert conf.site_publisher == "Ban Tuyên giáo Tỉnh ủy"
    assert (conf.site_editor, conf.site_license, conf.site_phone, conf.site_email) == ("",) * 4


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        from_env({"LOCALE": "fr", "PAGE_SIZE": "0"})
    assert [p.split(" ", 1)[0] for p in caught.value.problems] == [
        "ARTICLES_TABLE",
        "COUNTERS_TABLE",
        "CONNECTIONS_TABLE",
        "LOCALE=fr",
        "PAGE_SIZE=0",
    ]
    assert str(caught.value) == "; ".join(caught.value.problems)


# ------------------------------------------------------------ the handlers fail at import


def fresh_import(name: str) -> Any:
    """functions/<name>/app.py as a new module, as a new Lambda execution environment's INIT
    imports it (a unique name: nothing cached from an earlier import)."""
    module_name = f"fresh_{name}_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "functions" / name / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", HANDLERS)
def test_handler_import_fails_on_a_bad_setting(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESENCE_WINDOW_SECONDS", "10")
    settings.cache_clear()
    with pytest.raises(ConfigError) as caught:
        fresh_import(name)
    assert str(caught.value) == (
        "PRESENCE_WINDOW_SECONDS=10 is out of range: allowed 30..3600 "
        "(template parameter PresenceWindowSeconds)"
    )
    settings.cache_clear()


@pytest.mark.parametrize("name", HANDLERS)
def test_handler_import_makes_no_aws_call(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Checking at import is free: nothing at module level reaches AWS."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"AWS call at import: {args[1:2]}")

    monkeypatch.setattr(BaseClient, "_make_api_call", refuse)
    settings.cache_clear()
    assert callable(fresh_import(name).lambda_handler)


# ------------------------------------------------------- the ranges are the template's


def _template() -> tuple[dict[str, Any], dict[str, Any]]:
    """template.yaml's Parameters, and every variable the functions get (Globals and each
    function's own Environment) -> its value there."""
    template = load_template(ROOT / "template.yaml")
    variables = dict(template["Globals"]["Function"]["Environment"]["Variables"])
    for resource in template["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Function":
            own = (resource.get("Properties") or {}).get("Environment") or {}
            variables.update(own.get("Variables") or {})
    return template["Parameters"], variables


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.env)
def test_setting_matches_its_template_parameter(setting: Setting) -> None:
    parameters, variables = _template()
    if setting.parameter is None:  # then no parameter may feed it unchecked
        value = variables.get(setting.env)
        assert not (isinstance(value, dict) and value.get("Ref") in parameters), value
        return
    assert variables.get(setting.env) == {"Ref": setting.parameter}
    param = parameters[setting.parameter]
    checked = {"Type", "Default", "Description"}
    if setting.kind == "int":
        assert param["Type"] == "Number"
        assert (int(param["Default"]), param.get("MinValue"), param.get("MaxValue")) == (
            setting.default,
            setting.lo,
            setting.hi,
        )
        checked |= {"MinValue", "MaxValue"}
    else:
        assert (param["Type"], str(param["Default"])) == ("String", setting.default)
    if setting.kind in ("choice", "bool"):
        assert [str(v) for v in param["AllowedValues"]] == list(setting.choices)
        checked.add("AllowedValues")
    if setting.kind == "pattern":
        assert (param["AllowedPattern"], param["MaxLength"]) == (setting.pattern, setting.hi)
        assert param["ConstraintDescription"] == setting.allowed
        checked |= {"AllowedPattern", "MaxLength", "ConstraintDescription"}
    # A constraint the template has and this code does not check (AllowedPattern, MinLength,
    # AllowedValues on a free-text setting...) would let the two disagree.
    assert set(param) <= checked, f"{setting.parameter}: {set(param) - checked} not checked"


def test_every_parameter_the_functions_read_is_checked() -> None:
    parameters, variables = _template()
    fed = {
        name: value["Ref"]
        for name, value in variables.items()
        if isinstance(value, dict) and value.get("Ref") in parameters
    }
    assert fed, "no variable fed by a parameter: the template's layout changed"
    assert {name: BY_ENV[name].parameter for name in fed if name in BY_ENV} == fed
    assert set(fed) <= set(BY_ENV), f"no check in newsdesk/config.py: {set(fed) - set(BY_ENV)}"
