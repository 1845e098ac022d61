"""Helpers shared by the handler tests: events from events/*.json, the functions' handlers,
and the fixture article imported through the real importer."""

from __future__ import annotations

import copy
import importlib.util
import json
import threading
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "fixtures" / "000_0522782f77f4491e.txt"
SLUG = "so-ket-chuong-trinh-phoi-hop-cong-tac-nam-2018-giua-ban-tuyen-giao-tinh-uy-va-cong-an-tinh"
PHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


# What each events/*.json file must get from its function, with the fixture imported.
EXPECTED_STATUS = {
    "index": 200,
    "index-post": 405,
    "article": 200,
    "article-bot": 200,
    "article-prefetch": 200,
    "article-unknown": 404,
    "article-post": 405,
    "article-stats": 200,
    "article-stats-post": 405,
    "not-found": 404,
    "feed": 200,
    "feed-post": 405,
    "sitemap": 200,
    "sitemap-post": 405,
    "robots": 200,
    "robots-post": 405,
    "category": 404,  # the fixture has no category (tests/integration/test_feeds_categories.py)
    "category-post": 405,
    "article-views": 200,
    "article-views-unknown": 404,
    "article-views-delete": 405,
    "article-view-beacon": 200,
    "visits": 200,
    "visits-get": 405,
    "stats": 200,
    "stats-post": 405,
    # Editors' admin API, IAM identity in requestContext.authorizer (events/admin-*.json).
    # In name order, as the built-artifact test runs them: unpublish the fixture, then put it
    # back published (200 unchanged alone, 200 updated after the unpublish), set its count.
    "admin-delete-article": 200,
    "admin-get-views": 405,
    "admin-patch-article": 405,
    "admin-put-article": 200,
    "admin-put-views": 200,
}


def event_names() -> list[str]:
    return sorted(p.stem for p in (ROOT / "events").glob("*.json"))


def function_for(event_data: dict[str, Any]) -> str:
    """The template's function for an event's routeKey ('$default' included), by logical id."""
    from local.server import read_template

    _, routes = read_template(ROOT / "template.yaml")
    for route in routes:
        if route.key == event_data["routeKey"]:
            return route.function
    raise LookupError(f"no route {event_data['routeKey']!r} in template.yaml")


class Context:
    """The parts of a Lambda context that Powertools reads."""

    function_name = "newsdesk-test"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:newsdesk-test"
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    log_group_name = "/aws/lambda/newsdesk-test"
    log_stream_name = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@cache
def function(name: str) -> ModuleType:
    """functions/<name>/app.py, imported by path as Lambda would load it."""
    spec = importlib.util.spec_from_file_location(
        f"function_{name}", ROOT / "functions" / name / "app.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def event(name: str, **changes: Any) -> dict[str, Any]:
    """A copy of events/<name>.json; `headers=` entries are merged, `source_ip=` sets the
    caller's address (another reader), the rest replaced."""
    data: dict[str, Any] = copy.deepcopy(json.loads((ROOT / "events" / f"{name}.json").read_text()))
    headers = changes.pop("headers", None)
    if headers:
        data["headers"].update(headers)
    source_ip = changes.pop("source_ip", None)
    if source_ip:
        data["requestContext"]["http"]["sourceIp"] = source_ip
    data.update(changes)
    return data


def reader(n: int, name: str = "article", **changes: Any) -> dict[str, Any]:
    """The event of reader number n: a distinct address, so not a repeat view."""
    return event(name, source_ip=f"198.51.{n // 250}.{n % 250 + 1}", **changes)


_busy: set[str] = set()
_busy_lock = threading.Lock()


def invoke(function_name: str, event_data: dict[str, Any]) -> dict[str, Any]:
    """functions/<name>'s handler on one event, in this process: one execution environment,
    which, as in Lambda, handles one event at a time. A second event while one is running is
    a test bug (module state such as Powertools' Metrics buffer is not shared that way in
    Lambda): concurrent requests belong to the local server, whose environments are processes."""
    with _busy_lock:
        if function_name in _busy:
            raise AssertionError(
                f"two events at once in one execution environment of {function_name!r}: "
                "Lambda never does that; send concurrent requests through the local server"
            )
        _busy.add(function_name)
    try:
        return function(function_name).lambda_handler(event_data, Context())
    finally:
        with _busy_lock:
            _busy.discard(function_name)


def import_fixture() -> None:
    from newsdesk.importer import import_paths

    summary = import_paths([FIXTURE], report=lambda _: None)
    assert summary.imported + summary.updated + summary.unchanged == 1, summary


class Calls:
    """Every DynamoDB operation the newsdesk client makes from now on, by name, table and
    (for a single-item request) the string values of its key."""

    def __init__(self) -> None:
        from newsdesk.dal import db

        self.made: list[tuple[str, str, tuple[str, ...]]] = []
        db.client().meta.events.register("provide-client-params.dynamodb", self._record)

    def _record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        table = params.get("TableName") or ",".join(params.get("RequestItems", {}))
        key = params.get("Key") or {}
        keys = tuple(v["S"] for v in key.values() if isinstance(v, dict) and "S" in v)
        self.made.append((model.name, str(table), keys))

    def count(
        self, operation: str | None = None, table_suffix: str = "", key_prefix: str = ""
    ) -> int:
        return sum(
            1
            for op, table, keys in self.made
            if (operation is None or op == operation)
            and table.endswith(table_suffix)
            and (not key_prefix or any(k.startswith(key_prefix) for k in keys))
        )
