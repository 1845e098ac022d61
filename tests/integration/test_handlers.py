"""The functions' handlers with the events of events/*.json against moto's DynamoDB:
what a reader and the JSON API see, and that counting never breaks reading."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from newsdesk import caches
from newsdesk.dal import db

from tests.support import SLUG, event, import_fixture, invoke, reader


@pytest.fixture
def site(moto_tables: dict[str, str]) -> dict[str, str]:
    import_fixture()
    return moto_tables


def views_on_page(body: str) -> int:
    match = re.search(r"<span data-views>([\d.]+)</span>", body)
    assert match, "the page shows no view count"
    return int(match.group(1).replace(".", ""))


def api_views() -> int:
    response = invoke("api", event("article-views"))
    assert response["statusCode"] == 200
    data = json.loads(response["body"])
    assert data["slug"] == SLUG
    return int(data["views"])


def test_first_counted_view_of_the_fixture_shows_9575(site: dict[str, str]) -> None:
    response = invoke("pages", event("article"))
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"].startswith("text/html")
    assert "Lượt xem: <span data-views>9.575</span>" in response["body"]
    assert "27/11/2018 | 08:12" in response["body"]
    assert api_views() == 9575


def test_each_counted_view_adds_exactly_one(site: dict[str, str]) -> None:
    shown = [views_on_page(invoke("pages", reader(n))["body"]) for n in range(5)]
    assert shown == [9575, 9576, 9577, 9578, 9579]
    assert api_views() == 9579


@pytest.mark.parametrize("name", ["article-bot", "article-prefetch"])
def test_bots_and_prefetches_see_the_page_but_are_not_counted(
    site: dict[str, str], name: str
) -> None:
    response = invoke("pages", event(name))
    assert response["statusCode"] == 200
    assert views_on_page(response["body"]) == 9574
    assert api_views() == 9574


@pytest.mark.parametrize(
    ("what", "fetch"),
    [
        (
            "a page's fetch() of the article",
            {"dest": "empty", "mode": "cors", "site": "same-origin"},
        ),
        ("an <img> on another site", {"dest": "image", "mode": "no-cors", "site": "cross-site"}),
    ],
)
def test_requests_that_do_not_open_the_page_are_not_counted(
    site: dict[str, str], monkeypatch: pytest.MonkeyPatch, what: str, fetch: dict[str, str]
) -> None:
    """Render mode counts a top-level navigation only; beacon mode only the page's own
    script (issue 12, item 4). A navigation is counted; so is a browser sending no Fetch
    Metadata."""
    headers = {f"sec-fetch-{name}": value for name, value in fetch.items()}
    assert invoke("pages", reader(1, headers=headers))["statusCode"] == 200, what
    assert api_views() == 9574, what
    navigation = {"sec-fetch-dest": "document", "sec-fetch-mode": "navigate"}
    invoke("pages", reader(2, headers=navigation))
    invoke("pages", reader(3))  # no Sec-Fetch-* at all
    assert api_views() == 9576
    # Beacon mode: another site's script posting the beacon is not counted, the page's is.
    monkeypatch.setenv("COUNT_MODE", "beacon")
    from newsdesk.config import settings

    settings.cache_clear()
    foreign = {"sec-fetch-dest": "empty", "sec-fetch-mode": "cors", "sec-fetch-site": "cross-site"}
    answer = invoke("api", reader(4, "article-view-beacon", headers=foreign))
    assert json.loads(answer["body"])["counted"] is False
    own = {**foreign, "sec-fetch-site": "same-origin"}
    answer = invoke("api", reader(5, "article-view-beacon", headers=own))
    assert json.loads(answer["body"])["counted"] is True
    assert api_views() == 9577


def test_a_prerendered_page_is_counted_once_when_shown(site: dict[str, str]) -> None:
    """Issue 12, item 5 (render mode): a prerender is not a view, but the page it returns
    carries the beacon, so the script counts it once the reader sees it (the widget waits
    for prerenderingchange); a normal navigation has no beacon (counted at render)."""
    prerender = invoke("pages", event("article-prefetch"))
    assert prerender["statusCode"] == 200
    assert api_views() == 9574  # not counted while only prerendered
    beacon = re.search(r'data-beacon="([^"]+)"', prerender["body"])
    assert beacon and beacon.group(1) == f"/api/articles/{SLUG}/views"
    own = {"sec-fetch-dest": "empty", "sec-fetch-mode": "cors", "sec-fetch-site": "same-origin"}
    shown = invoke("api", event("article-view-beacon", headers=own))  # the page is shown
    assert json.loads(shown["body"])["counted"] is True
    assert api_views() == 9575
    normal = invoke("pages", reader(7))
    assert "data-beacon" not in normal["body"]
    assert api_views() == 9576


def test_empty_user_agent_is_not_counted(site: dict[str, str]) -> None:
    data = event("article")
    del data["headers"]["user-agent"]
    assert invoke("pages", data)["statusCode"] == 200
    assert api_views() == 9574


def test_reimport_keeps_counted_views(site: dict[str, str]) -> None:
    invoke("pages", event("article"))
    import_fixture()
    assert api_views() == 9575


def test_index_lists_the_article_with_its_count(site: dict[str, str]) -> None:
    invoke("pages", event("article"))
    response = invoke("pages", event("index"))
    assert response["statusCode"] == 200
    assert (
        f'href="https://abc123.execute-api.us-east-1.amazonaws.com/articles/{SLUG}"'
        in (response["body"])
    )
    assert "9.575" in response["body"]
    assert '<html lang="vi">' in response["body"]


def test_unknown_article_is_an_html_404(site: dict[str, str]) -> None:
    response = invoke("pages", event("article-unknown"))
    assert response["statusCode"] == 404
    assert response["headers"]["Content-Type"].startswith("text/html")
    assert "Không tìm thấy trang" in response["body"]
    assert "Traceback" not in response["body"]


def test_unknown_path_is_an_html_404_and_api_paths_get_json(site: dict[str, str]) -> None:
    response = invoke("pages", event("not-found"))
    assert response["statusCode"] == 404
    assert "Không tìm thấy trang" in response["body"]
    api = invoke("pages", event("not-found", rawPath="/api/nothing"))
    assert api["statusCode"] == 404
    assert json.loads(api["body"])["message"]


def test_unknown_article_views_is_json_404(site: dict[str, str]) -> None:
    response = invoke("api", event("article-views-unknown"))
    assert response["statusCode"] == 404
    assert json.loads(response["body"]) == {"message": "no published article with this slug"}


def test_wrong_method_is_405_with_allow(site: dict[str, str]) -> None:
    response = invoke("pages", event("article-post"))
    assert response["statusCode"] == 405
    assert response["headers"]["Allow"] == "GET, HEAD"
    api = event("article-views")
    api["requestContext"]["http"]["method"] = "DELETE"
    response = invoke("api", api)
    assert response["statusCode"] == 405
    assert "DELETE" in json.loads(response["body"])["message"]
    assert api_views() == 9574


@pytest.fixture
def no_dynamodb(site: dict[str, str]) -> Iterator[list[str]]:
    """Records every DynamoDB call the handler makes and fails the test's assertions on any."""
    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    db.client().meta.events.register("before-call.dynamodb", record)
    yield calls


@pytest.mark.parametrize(
    "slug",
    ["x" * 201, "..%2F..%2Fetc%2Fpasswd", "a%00b", "%0d%0aSet-Cookie:x", "a.b", "%2e%2e"],
)
def test_hostile_slugs_get_404_without_touching_dynamodb(no_dynamodb: list[str], slug: str) -> None:
    data = event("article", rawPath=f"/articles/{slug}", pathParameters={"slug": slug})
    data["requestContext"]["http"]["path"] = data["rawPath"]
    response = invoke("pages", data)
    assert response["statusCode"] == 404
    assert no_dynamodb == []


def _fail_updates(code: str) -> None:
    """Make every UpdateItem fail the way DynamoDB does, at the SDK level."""
    from botocore.awsrequest import AWSResponse

    def fail(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        error = {"Error": {"Code": code, "Message": "injected by the test"}}
        return AWSResponse("https://dynamodb", 400, {}, None), error

    db.client().meta.events.register("before-call.dynamodb.UpdateItem", fail)


@pytest.mark.parametrize(
    "code", ["ProvisionedThroughputExceededException", "ThrottlingException", "InternalServerError"]
)
def test_failing_counter_write_still_renders_the_page(site: dict[str, str], code: str) -> None:
    shown = views_on_page(invoke("pages", event("article"))["body"])
    _fail_updates(code)
    response = invoke("pages", event("article"))
    assert response["statusCode"] == 200
    assert "Sơ kết chương trình" in response["body"]
    # The last known count, not a new one.
    assert views_on_page(response["body"]) == shown


def test_failing_counter_write_on_a_fresh_container_leaves_the_count_out(
    site: dict[str, str],
) -> None:

    caches.clear_all()
    _fail_updates("ProvisionedThroughputExceededException")
    response = invoke("pages", event("article"))
    assert response["statusCode"] == 200
    assert "data-views" not in response["body"]
    assert "Thanh Tùng" in response["body"]


def test_counter_failure_is_logged_and_counted_in_a_metric(
    site: dict[str, str], capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    _fail_updates("ThrottlingException")
    invoke("pages", event("article"))
    warnings = [r for r in caplog.records if r.getMessage() == "view counter unavailable"]
    assert len(warnings) == 1
    assert warnings[0].levelname == "WARNING"
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    assert [m.get("CounterWriteFailures") for m in metrics] == [[1.0]]


def _visitor_seen(monkeypatch: pytest.MonkeyPatch, headers: dict[str, str]) -> str:
    """The address the API would hash for a request with these headers."""
    seen: list[str] = []
    from newsdesk import identity

    real = identity.visitor_id

    def spy(ip: str, ua: str, now: object) -> str:
        seen.append(ip)
        return real(ip, ua, now)  # type: ignore[arg-type]

    monkeypatch.setattr(identity, "visitor_id", spy)
    assert invoke("api", event("visits", headers=headers))["statusCode"] == 200
    return seen[-1]


def test_viewer_address_is_trusted_only_with_the_cdn_secret(
    site: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsdesk.config import settings

    monkeypatch.setenv("CDN_ORIGIN_SECRET", "s3cret")
    settings.cache_clear()
    via_cdn = {"cloudfront-viewer-address": "198.51.100.9:51234", "x-origin-verify": "s3cret"}
    assert _visitor_seen(monkeypatch, via_cdn) == "198.51.100.9"
    caches.clear_all()
    ipv6 = {"cloudfront-viewer-address": "[2001:db8::7]:443", "x-origin-verify": "s3cret"}
    assert _visitor_seen(monkeypatch, ipv6) == "2001:db8::7"
    caches.clear_all()
    forged = {"cloudfront-viewer-address": "198.51.100.9:51234", "x-origin-verify": "guess"}
    assert _visitor_seen(monkeypatch, forged) == "203.0.113.7"  # API Gateway's sourceIp


@pytest.mark.parametrize(
    "spelling",
    [
        "S%C6%A1-k%E1%BA%BFt",  # "Sơ-kết", NFC, percent-encoded as browsers send it
        "So%CC%9B-ke%CC%82%CC%81t",  # the same words decomposed (NFD)
        "SO-KET",
    ],
)
def test_other_spellings_redirect_to_the_canonical_slug(
    no_dynamodb: list[str], spelling: str
) -> None:
    data = event("article", rawPath=f"/articles/{spelling}", pathParameters={"slug": spelling})
    response = invoke("pages", data)
    assert response["statusCode"] == 301
    assert response["headers"]["Location"].endswith("/articles/so-ket")
    assert no_dynamodb == []


def test_nfd_and_nfc_spellings_reach_the_same_article_in_the_api(site: dict[str, str]) -> None:
    import unicodedata
    from urllib.parse import quote

    title = (
        "Sơ kết chương trình phối hợp công tác năm 2018 giữa Ban Tuyên giáo Tỉnh ủy và Công an tỉnh"
    )
    answers = set()
    for form in ("NFC", "NFD"):
        raw = quote(unicodedata.normalize(form, title))
        data = event(
            "article-views", rawPath=f"/api/articles/{raw}/views", pathParameters={"slug": raw}
        )
        response = invoke("api", data)
        assert response["statusCode"] == 200
        answers.add(response["body"])
    assert len(answers) == 1 and SLUG in answers.pop()


@pytest.mark.parametrize(("accepts", "encoding"), [("gzip, deflate, br", "br"), ("gzip", "gzip")])
def test_pages_are_compressed_when_the_client_accepts_it(
    site: dict[str, str], accepts: str, encoding: str
) -> None:
    import base64
    import gzip

    import brotli

    plain = invoke("pages", reader(1))
    response = invoke("pages", reader(2, headers={"accept-encoding": accepts}))
    assert response["headers"]["Content-Encoding"] == encoding
    assert response["headers"]["Vary"] == "Accept-Encoding"
    assert response["isBase64Encoded"] is True
    packed = base64.b64decode(response["body"])
    html = (brotli.decompress(packed) if encoding == "br" else gzip.decompress(packed)).decode()
    assert "Sơ kết chương trình" in html and "9.576" in html
    assert len(packed) * 2.5 < len(plain["body"].encode())  # at least 2.5x smaller


def test_q_zero_refuses_an_encoding(site: dict[str, str]) -> None:
    response = invoke("pages", reader(3, headers={"accept-encoding": "br;q=0, gzip"}))
    assert response["headers"]["Content-Encoding"] == "gzip"
    plain = invoke("pages", reader(4, headers={"accept-encoding": "br;q=0"}))
    assert "Content-Encoding" not in plain["headers"]
