"""The core of the black-box checks through SAM CLI's emulator (`sam local start-api`): the
handlers answer the events SAM CLI's API Gateway emulation sends (payload 2.0, its routing of
the template's GET, ANY and $default routes, its handling of HEAD and of base64 bodies), in
real Lambda containers, as they answer the local server's (tests/integration/test_smoke.py
runs the same smoke script against `make run`)."""

from __future__ import annotations

import gzip
import json
import secrets
import subprocess
import sys
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from email.message import Message
from typing import Any

import pytest

from tests.samlocal.conftest import SamApi
from tests.support import ROOT, SLUG

# The setup (from nothing: Docker, the base image, sam build) runs in the first test's.
pytestmark = pytest.mark.timeout(1200)

BOT_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
ARTICLE = f"/articles/{SLUG}"
VIEWS = f"/api/articles/{SLUG}/views"
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def reader_ua() -> str:
    """A desktop Chrome User-Agent no one has sent before: a new reader (every request
    comes from 127.0.0.1, and the visitor id hashes the address and the User-Agent)."""
    build = f"{secrets.randbelow(90000) + 10000}.{secrets.randbelow(900) + 100}"
    return (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/131.0.{build} Safari/537.36"
    )


@dataclass
class Answer:
    status: int
    headers: Message
    body: bytes

    def header(self, name: str) -> str:
        return self.headers.get(name) or ""

    def json(self) -> Any:
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def call(
    api: SamApi,
    path: str,
    method: str = "GET",
    ua: str = "newsdesk-sam-local-tier/1.0 (+bot)",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> Answer:
    request = urllib.request.Request(
        api.url + path, data=body, method=method, headers={"User-Agent": ua, **(headers or {})}
    )
    opener = urllib.request.build_opener(_NoRedirect())
    try:
        with opener.open(request, timeout=60) as reply:
            return Answer(reply.status, reply.headers, reply.read())
    except urllib.error.HTTPError as err:
        with err:
            return Answer(err.code, err.headers, err.read())


def views(api: SamApi) -> int:
    answer = call(api, VIEWS)
    assert answer.status == 200, answer.body[:200]
    count = answer.json()["views"]
    assert isinstance(count, int)
    return count


def test_the_fixture_page_counts_one_view_per_reader(sam_api: SamApi) -> None:
    first = views(sam_api)
    readers = [reader_ua(), reader_ua()]
    for n, ua in enumerate(readers, start=1):
        page = call(sam_api, ARTICLE, ua=ua, headers={"Accept": "text/html"})
        assert page.status == 200, sam_api.log_tail()
        assert page.header("Content-Type").startswith("text/html")
        assert b"<html" in page.body
        assert views(sam_api) == first + n
    again = call(sam_api, ARTICLE, ua=readers[0])  # the same reader within the dedupe window
    assert again.status == 200
    assert views(sam_api) == first + len(readers)


def test_a_bot_and_a_head_request_are_not_counted(sam_api: SamApi) -> None:
    before = views(sam_api)
    assert call(sam_api, ARTICLE, ua=BOT_UA).status == 200
    head = call(sam_api, ARTICLE, method="HEAD", ua=reader_ua())
    assert head.status == 200
    assert head.body == b""
    # In render mode the function sends no Content-Length on an article's HEAD: it cannot
    # know the size of the counted page GET would send (RFC 9110 8.6, 9.3.2). SAM CLI's
    # server then labels the bodiless answer with 0 (an emulator difference, README).
    assert head.header("Content-Length") in (None, "0")
    assert views(sam_api) == before


def test_head_answers_like_get_without_a_body(sam_api: SamApi) -> None:
    get = call(sam_api, "/feed.xml")
    head = call(sam_api, "/feed.xml", method="HEAD")
    assert (head.status, head.body) == (200, b"")
    assert head.header("Content-Type") == get.header("Content-Type")
    assert int(head.header("Content-Length")) == len(get.body)
    assert head.header("ETag") == get.header("ETag")
    assert head.header("Cache-Control") == get.header("Cache-Control")


def test_not_found_is_an_html_page_and_json_under_api(sam_api: SamApi) -> None:
    page = call(sam_api, f"/no-such-page-{secrets.token_hex(3)}", headers={"Accept": "text/html"})
    assert page.status == 404
    assert page.header("Content-Type").startswith("text/html")
    assert b"<html" in page.body.lower()
    api = call(sam_api, f"/api/no-such-route-{secrets.token_hex(3)}")
    assert api.status == 404
    assert api.header("Content-Type").startswith("application/json")
    assert isinstance(api.json().get("message"), str)
    unknown = call(sam_api, "/articles/no-such-article")
    assert unknown.status == 404


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("POST", ARTICLE, "GET, HEAD"),
        ("DELETE", VIEWS, "GET, POST, HEAD"),
        ("GET", "/api/visits", "POST"),
        ("PUT", "/feed.xml", "GET, HEAD"),
    ],
)
def test_another_method_gets_405_with_allow(
    sam_api: SamApi, method: str, path: str, allow: str
) -> None:
    answer = call(sam_api, path, method=method, body=b"" if method in ("POST", "PUT") else None)
    assert answer.status == 405, answer.body[:200]
    assert answer.header("Allow") == allow


def test_heartbeat_registers_the_reader_and_stats_register_nobody(sam_api: SamApi) -> None:
    beat = call(sam_api, "/api/visits", method="POST", ua=reader_ua(), body=b"")
    assert beat.status == 200, beat.body[:200]
    figures = beat.json()
    assert figures["online"] >= 1
    assert figures["peak"]["online"] >= figures["online"]
    assert figures["window_seconds"] == 300
    stats = call(sam_api, "/api/stats", ua=reader_ua())
    assert stats.status == 200
    assert stats.header("Content-Type").startswith("application/json")
    assert stats.json()["online"] == figures["online"]
    assert stats.json()["total"] == figures["total"]


def test_the_beacon_counts_a_reader_once(sam_api: SamApi) -> None:
    before = views(sam_api)
    ua = reader_ua()
    first = call(sam_api, VIEWS, method="POST", ua=ua, body=b"")
    assert first.status == 200, first.body[:200]
    assert (first.json()["counted"], first.json()["views"]) == (True, before + 1)
    assert first.json()["present"] is True
    repeat = call(sam_api, VIEWS, method="POST", ua=ua, body=b"").json()
    assert (repeat["counted"], repeat["views"]) == (False, before + 1)


def test_feed_and_sitemap_link_the_article_at_the_url_asked(sam_api: SamApi) -> None:
    feed = call(sam_api, "/feed.xml")
    assert feed.status == 200
    assert feed.header("Content-Type").startswith("application/rss+xml")
    links = [item.findtext("link") for item in ET.fromstring(feed.body).iter("item")]
    assert f"{sam_api.url}{ARTICLE}" in links
    sitemap = call(sam_api, "/sitemap.xml")
    assert sitemap.status == 200
    locs = [loc.text for loc in ET.fromstring(sitemap.body).iter(f"{SITEMAP_NS}loc")]
    assert f"{sam_api.url}/" in locs
    assert f"{sam_api.url}{ARTICLE}" in locs


def test_a_compressed_page_arrives_decodable(sam_api: SamApi) -> None:
    """The function answers a gzip-accepting client with a base64 body (isBase64Encoded), as
    API Gateway requires for binary data; the emulator must decode it as API Gateway does."""
    page = call(sam_api, "/", headers={"Accept-Encoding": "gzip"})
    assert page.status == 200
    assert page.header("Content-Encoding") == "gzip"
    assert b"<html" in gzip.decompress(page.body)


def test_the_admin_api_refuses_calls_the_emulator_lets_through(sam_api: SamApi) -> None:
    """SAM CLI does not emulate the AWS_IAM authoriser of the admin routes ("not supported
    for local emulation, requests will not be authorized"): every request reaches the
    function, which must refuse it without credentials (401) or with wrong ones (403), and
    write nothing."""
    slug = f"sam-local-refused-{secrets.token_hex(3)}"
    article = json.dumps({"title": "No", "body": "No.", "status": "published"}).encode()
    path = f"/api/admin/articles/{slug}"
    json_type = {"Content-Type": "application/json"}
    anonymous = call(sam_api, path, method="PUT", headers=json_type, body=article)
    assert anonymous.status == 401, anonymous.body[:200]
    assert anonymous.header("WWW-Authenticate").startswith("Bearer")
    wrong = {**json_type, "Authorization": "Bearer not-the-token"}
    assert call(sam_api, path, method="PUT", headers=wrong, body=article).status == 403
    assert call(sam_api, f"/articles/{slug}").status == 404


def test_the_smoke_script_passes_through_sam_local(sam_api: SamApi) -> None:
    """`make smoke` (scripts/smoke.py) as after a deploy, with the admin token: every check,
    the marker article's view counted once included."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "smoke.py"), sam_api.url, "--admin", "token"],
        env={"PATH": "/usr/bin:/bin", "ADMIN_TOKEN": sam_api.admin_token},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr + sam_api.log_tail()
    assert "FAIL" not in done.stdout
