"""Every events/*.json file is a real route of template.yaml, every route has an event,
and each event gets its expected answer from its function (moto)."""

from __future__ import annotations

import json
from xml.etree import ElementTree

import pytest

from local.server import read_template
from tests.support import (
    EXPECTED_STATUS,
    ROOT,
    event,
    event_names,
    function_for,
    import_fixture,
    invoke,
)

FUNCTION_DIRS = {"PagesFunction": "pages", "ApiFunction": "api", "AdminFunction": "admin"}


def test_every_route_has_an_event_and_every_event_an_expectation() -> None:
    _, routes = read_template(ROOT / "template.yaml")
    covered = {
        json.loads((ROOT / "events" / f"{n}.json").read_text())["routeKey"] for n in event_names()
    }
    assert {route.key for route in routes} - covered == set()
    assert set(event_names()) == set(EXPECTED_STATUS)


@pytest.mark.parametrize("name", event_names())
def test_event_shape_is_http_api_payload_2(name: str) -> None:
    data = event(name)
    assert data["version"] == "2.0"
    assert data["requestContext"]["routeKey"] == data["routeKey"]
    assert data["requestContext"]["http"]["path"] == data["rawPath"]
    assert data["headers"]["user-agent"] == data["requestContext"]["http"]["userAgent"]
    assert all(name == name.lower() for name in data["headers"])


@pytest.mark.parametrize("name", event_names())
def test_each_event_gets_its_answer(moto_tables: dict[str, str], name: str) -> None:
    import_fixture()
    data = event(name)
    response = invoke(FUNCTION_DIRS[function_for(data)], data)
    assert response["statusCode"] == EXPECTED_STATUS[name], response.get("body", "")[:300]
    content_type = response["headers"].get("Content-Type", "")
    if data["rawPath"].startswith("/api/"):
        assert content_type == "application/json"
        json.loads(response["body"])
    elif data["rawPath"].endswith(".xml") and response["statusCode"] == 200:
        assert content_type.split(";")[0] in ("application/rss+xml", "application/xml")
        ElementTree.fromstring(response["body"])
    elif data["rawPath"].endswith(".txt") and response["statusCode"] == 200:
        assert content_type == "text/plain; charset=utf-8"
    else:
        assert content_type.startswith("text/html")
