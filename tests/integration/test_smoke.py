"""`make smoke URL=...` (scripts/smoke.py), run as operators run it: a separate process that
only sees the URL. It passes against the local stack in both count modes, twice in a row
(a re-run is a new visitor), unpublishing its marker after each run; against a stand-in
stack it fails, naming the one check that a broken behaviour breaks. It counts views only
on its marker or the article named with SLUG=: never on one it merely found listed."""

from __future__ import annotations

import base64
import hashlib
import http.server
import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "scripts" / "smoke.py"
TOKEN = "smoke-test-admin-token-0123456789"
MARKER = "newsdesk-smoke-marker"
# Settings that change what the smoke test meets; each test here starts from the defaults.
SETTINGS_ENV = (
    "COUNT_MODE",
    "VIEW_DEDUPE_SECONDS",
    "MAX_VISITORS_PER_ADDRESS",
    "SITE_URL",
    "PAGE_CACHE_SECONDS",
)


def smoke(url: str, *args: str, **env: str) -> tuple[int, dict[str, str], str]:
    """Run the script; its exit code, {check name: PASS/FAIL} and its whole output (any
    other status word, WARN say, would land in the dict too and fail the tests' sets)."""
    environment = {k: v for k, v in os.environ.items() if k != "ADMIN_TOKEN"}
    done = subprocess.run(
        [sys.executable, str(SMOKE), url, *args],
        capture_output=True,
        text=True,
        timeout=90,
        env={**environment, **env},
        check=False,
    )
    checks = {}
    for line in done.stdout.splitlines():
        status, _, rest = line.partition("  ")
        if re.fullmatch(r"[A-Z]{4}", status):
            name = rest.strip().split("  ")[0].strip()
            checks[name] = status
    return done.returncode, checks, done.stdout + done.stderr


EVERY_CHECK = {
    "home page",
    "article page",
    "one view counts once",
    "bot not counted",
    "prefetch not counted",
    "404 page",
    "404 under /api/",
    "feed",
    "sitemap",
    "/api/stats",
    "headers: home page",
    "headers: article page",
    "headers: 404 page",
    "headers: feed",
    "headers: sitemap",
    "headers: JSON API",
}


# ---- against the local stack -------------------------------------------------------------


def _views(base: str, slug: str) -> int | None:
    """The public count of an article; None when it answers 404 (unknown or a draft)."""
    try:
        with urllib.request.urlopen(f"{base}/api/articles/{slug}/views", timeout=10) as reply:
            return int(json.load(reply)["views"])
    except urllib.error.HTTPError as err:
        if err.code == 404:
            return None
        raise


def _get(base: str, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"{base}{path}", timeout=10) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.read().decode()


def _put_article(base: str, slug: str, article: dict[str, Any]) -> int:
    """PUT through the admin API with the right token; the status."""
    request = urllib.request.Request(
        f"{base}/api/admin/articles/{slug}",
        data=json.dumps(article).encode(),
        method="PUT",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        return int(reply.status)


def _article(title: str) -> dict[str, Any]:
    return {
        "title": title,
        "body": ["A paragraph."],
        "author": "A reporter",
        "published_at": "2024-03-01T08:00:00+00:00",
        "status": "published",
    }


@pytest.mark.usefixtures("dynamodb_local")  # named here too: the dynamodb_local marker applies
@pytest.mark.parametrize("mode", ["render", "beacon"])
def test_smoke_passes_against_the_local_stack_and_leaves_its_marker(
    mode: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    for name in SETTINGS_ENV:
        monkeypatch.delenv(name, raising=False)
    # Before the server starts: its function environments inherit the environment.
    monkeypatch.setenv("COUNT_MODE", mode)
    monkeypatch.setenv("ADMIN_TOKEN", TOKEN)
    url = request.getfixturevalue("local_server")  # empty tables: the marker is the article
    for run in (1, 2):  # the second run is a new visitor, within VIEW_DEDUPE_SECONDS
        code, checks, output = smoke(url, "--admin", "token", ADMIN_TOKEN=TOKEN)
        assert code == 0, output
        assert set(checks) == EVERY_CHECK | {"marker article", "marker unpublished"}, output
        assert set(checks.values()) == {"PASS"}, output
        assert f"{mode} mode" in output
        # The second run publishes again the draft the first one left, count and all.
        assert f"{MARKER}: {('created', 'updated')[run - 1]} through" in output, output
        assert f"{run - 1} -> {run} after one browser view" in output
        # Between runs the marker is a draft: no count to read, listed nowhere.
        assert _views(url, MARKER) is None
        for listing in ("/", "/feed.xml", "/sitemap.xml"):
            status, text = _get(url, listing)
            assert status == 200 and MARKER not in text, listing
    # Published again (as the next run would), it shows the two runs' two counted views.
    assert _put_article(url, MARKER, _article("Smoke test marker")) == 200
    assert _views(url, MARKER) == 2


@pytest.mark.usefixtures("dynamodb_local")
def test_a_refused_token_fails_and_counts_no_view_on_any_article(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """The reviewer's case on the real stack: a wrong ADMIN_TOKEN in the environment, no
    SLUG, real articles on the home page. The run fails, and no article's count moves (the
    old fallback counted a view on the first one listed)."""
    for name in SETTINGS_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ADMIN_TOKEN", TOKEN)  # the server's; the smoke test gets another
    url = request.getfixturevalue("local_server")
    slugs = ["quiet-news-one", "quiet-news-two"]
    for slug in slugs:
        assert _put_article(url, slug, _article(slug.replace("-", " "))) == 201
    before = {slug: _views(url, slug) for slug in slugs}
    assert before == dict.fromkeys(slugs, 0)
    code, checks, output = smoke(url, ADMIN_TOKEN="wrong-token")
    assert code == 1, output
    assert "/: 200 HTML, 2 article link(s)" in output  # there was something to fall back on
    assert checks["marker article"] == checks["article to use"] == "FAIL", output
    assert "403" in output and "no SLUG= given" in output, output
    not_done = {"article page", "one view counts once", "bot not counted", "prefetch not counted"}
    assert {n for n, s in checks.items() if s != "PASS"} == not_done | {
        "marker article",
        "article to use",
    }, output
    assert {slug: _views(url, slug) for slug in slugs} == before
    assert _views(url, MARKER) is None  # no marker either


# ---- against a stand-in stack that can be broken ---------------------------------------------

SCRIPT = "(function () { /* widget */ })();"
STYLE = "body { margin: 0 }"


def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


CSP_HTML = (
    f"default-src 'none'; script-src {_sha(SCRIPT)}; style-src {_sha(STYLE)}; "
    "frame-ancestors 'none'"
)


@dataclass
class Stack:
    """A minimal newsdesk as documented, unless told to misbehave."""

    mode: str = "render"  # or "beacon": the page's script counts, with a POST
    views_per_view: int = 1
    page_counts_in_beacon_mode: bool = False
    count_bots: bool = False
    count_prefetches: bool = False
    drop_header: tuple[str, str] | None = None  # (path, header) answered without it
    admin_status: int = 403  # of PUT and DELETE on the marker (200/201: accepted)
    listed: bool = True  # the home page and the feed link stub-article
    hang: str = ""  # a path answered only once the stand-in stops (a request that times out)
    views: dict[str, int] = field(default_factory=dict)  # counted views by slug (any exists)
    admin_calls: list[tuple[str, Message]] = field(default_factory=list)  # method, headers
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)

    def answer(
        self, method: str, path: str, headers: Message
    ) -> tuple[int, str, str, dict[str, str]]:
        if path == self.hang:
            self.stopping.wait(60)
        if method in ("PUT", "DELETE") and path.startswith("/api/admin/"):
            self.admin_calls.append((method, headers))
            if self.admin_status not in (200, 201):
                return self.admin_status, "application/json", '{"message": "no"}', {}
            if method == "DELETE":
                return 200, "application/json", '{"outcome": "unpublished"}', {}
            answer = {"outcome": "created" if self.admin_status == 201 else "updated"}
            return self.admin_status, "application/json", json.dumps(answer), {}
        if path == "/":
            # The same article linked twice (its title, a "most read" list): one article.
            link = '<a href="http://elsewhere/articles/stub-article">Stub</a>'
            body = link * 2 if self.listed else ""
            return 200, "text/html; charset=utf-8", self.page(body), {"Cache-Control": "no-store"}
        article = re.fullmatch(r"/articles/([a-z-]+)", path)
        if article and method == "GET":
            beacon = self.mode == "beacon"
            counted = (
                self.count(article[1], headers)
                if not beacon or self.page_counts_in_beacon_mode
                else 0
            )
            shown = counted or self.views.get(article[1], 0)
            body = f"<p>Views: <span data-views>{shown}</span></p>"
            if not beacon:
                return (
                    200,
                    "text/html; charset=utf-8",
                    self.page(body),
                    {"Cache-Control": "no-store"},
                )
            cache = {"Cache-Control": "public, max-age=0, s-maxage=60", "ETag": '"e"'}
            return 200, "text/html; charset=utf-8", self.page(body, article[1]), cache
        views = re.fullmatch(r"/api/articles/([a-z-]+)/views", path)
        if views and method == "GET":
            data = {"slug": views[1], "views": self.views.get(views[1], 0)}
            return 200, "application/json", json.dumps(data), {}
        if views and method == "POST" and self.mode == "beacon":
            counted = self.count(views[1], headers)
            total = self.views.get(views[1], 0)
            data = {"slug": views[1], "views": total, "counted": bool(counted)}
            return 200, "application/json", json.dumps(data), {}
        if path == "/api/stats":
            data = {
                "online": 0,
                "total": 3,
                "peak": {"online": 1, "at": None},
                "window_seconds": 300,
            }
            return 200, "application/json", json.dumps(data), {}
        if path == "/feed.xml":
            rss = (
                '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>'
                + ("<item><link>http://elsewhere/articles/stub-article</link></item>" * self.listed)
                + "</channel></rss>"
            )
            return (
                200,
                "application/rss+xml; charset=utf-8",
                rss,
                {"Cache-Control": "public, max-age=300"},
            )
        if path == "/sitemap.xml":
            urlset = (
                '<?xml version="1.0" encoding="UTF-8"?>'
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                "<url><loc>http://elsewhere/</loc></url></urlset>"
            )
            return 200, "application/xml; charset=utf-8", urlset, {}
        if path.startswith("/api/"):
            return 404, "application/json", '{"message": "not found"}', {}
        return 404, "text/html; charset=utf-8", self.page("<h1>Not found</h1>"), {}

    def count(self, slug: str, headers: Message) -> int:
        """Count a view of `slug` (unless a bot or a prefetch, or told otherwise): the new
        total, or 0 when not counted."""
        bot = "bot" in headers.get("User-Agent", "").lower()
        prefetch = "prefetch" in headers.get("Sec-Purpose", "")
        with self.lock:
            if (not bot or self.count_bots) and (not prefetch or self.count_prefetches):
                self.views[slug] = self.views.get(slug, 0) + self.views_per_view
                return self.views[slug]
        return 0

    @staticmethod
    def page(body: str, beacon_slug: str = "") -> str:
        slug = f' data-slug="{beacon_slug}"' if beacon_slug else ""
        return (
            f'<!doctype html><html lang="vi"><head><style>{STYLE}</style></head><body>{body}'
            f'<script id="nd-widget" data-locale="vi"{slug}>{SCRIPT}</script></body></html>'
        )


@contextmanager
def serving(stack: Stack) -> Iterator[str]:
    """The stand-in on a free port; its base URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def handle_one(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            status, content_type, body, extra = stack.answer(
                self.command, self.path.split("?")[0], self.headers
            )
            csp = CSP_HTML if content_type.startswith("text/html") else "default-src 'none'"
            headers = {
                "Content-Type": content_type,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "strict-origin-when-cross-origin",
                "Content-Security-Policy": csp,
                **extra,
            }
            if stack.drop_header and stack.drop_header[0] == self.path:
                headers.pop(stack.drop_header[1])
            data = body.encode()
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(data))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = handle_one

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        stack.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.mark.parametrize(
    "stack, broken",
    [
        (Stack(), None),
        (Stack(views_per_view=2), "one view counts once"),
        (Stack(mode="beacon"), None),
        (Stack(mode="beacon", page_counts_in_beacon_mode=True), "one view counts once"),
        (Stack(mode="beacon", views_per_view=2), "one view counts once"),
        (Stack(mode="beacon", count_bots=True), "bot not counted"),
        (Stack(count_bots=True), "bot not counted"),
        (Stack(count_prefetches=True), "prefetch not counted"),
        (Stack(drop_header=("/feed.xml", "X-Content-Type-Options")), "headers: feed"),
        (Stack(drop_header=("/", "Content-Security-Policy")), "headers: home page"),
        (Stack(drop_header=("/api/stats", "Referrer-Policy")), "headers: JSON API"),
    ],
    ids=[
        "healthy",
        "beacon-healthy",
        "beacon-page-counts-too",
        "beacon-counts-twice",
        "beacon-counts-bots",
        "counts-twice",
        "counts-bots",
        "counts-prefetches",
        "feed-sniffable",
        "home-without-csp",
        "api-no-referrer-policy",
    ],
)
def test_smoke_fails_naming_the_broken_check(stack: Stack, broken: str | None) -> None:
    with serving(stack) as url:
        code, checks, output = smoke(url, "--slug", "stub-article")
    assert set(checks) == EVERY_CHECK | {"article to use"}, output
    failed = {name for name, status in checks.items() if status != "PASS"}
    if broken is None:
        assert (code, failed) == (0, set()), output
        assert "/: 200 HTML, 1 article link(s)" in output  # one article, linked twice
    else:
        assert (code, failed) == (1, {broken}), output
        assert output.splitlines()[-1].endswith(f": {broken}"), output  # the summary names it
    assert set(stack.views) <= {"stub-article"}  # the named article, no other


COUNTING = {"article page", "one view counts once", "bot not counted", "prefetch not counted"}


@pytest.mark.parametrize("asked", [True, False], ids=["ADMIN=token", "ADMIN_TOKEN-in-env"])
def test_a_refused_token_without_slug_fails_and_counts_no_view(asked: bool) -> None:
    """Credentials the admin API refuses are a FAIL whether asked for or only found in the
    environment, and with no SLUG= no view is counted anywhere: not on the article the home
    page and the feed list. The checks that count nothing still run."""
    stack = Stack(admin_status=403)
    with serving(stack) as url:
        args = ("--admin", "token") if asked else ()
        code, checks, output = smoke(url, *args, ADMIN_TOKEN="wrong")
    assert code == 1, output
    assert set(checks.values()) == {"PASS", "FAIL"}, output  # no third kind of line (WARN)
    failed = {name for name, status in checks.items() if status != "PASS"}
    assert failed == COUNTING | {"marker article", "article to use"}, output
    assert "403" in output
    assert (
        "no marker article (admin API: PUT /api/admin/articles/newsdesk-smoke-marker "
        "(bearer ADMIN_TOKEN): 403"
    ) in output, output
    assert "no SLUG= given: name a quiet article with SLUG=... or give credentials" in output
    assert {"404 page", "feed", "sitemap", "/api/stats", "headers: feed"} <= set(checks)
    assert stack.views == {}  # no view counted on any article
    assert [method for method, _ in stack.admin_calls] == ["PUT"]  # nothing to unpublish


def test_a_refused_token_with_slug_counts_on_the_named_article_only() -> None:
    stack = Stack(admin_status=403)
    with serving(stack) as url:
        code, checks, output = smoke(url, "--slug", "named-article", ADMIN_TOKEN="wrong")
    assert code == 1 and checks["marker article"] == "FAIL", output  # the refusal still fails
    assert checks["article to use"] == "PASS", output
    assert "named-article (named with SLUG=...)" in output
    assert {n for n, s in checks.items() if s != "PASS"} == {"marker article"}, output
    assert stack.views == {"named-article": 1}  # not stub-article, the one listed


def test_without_credentials_the_named_article_is_used() -> None:
    stack = Stack()
    with serving(stack) as url:
        code, checks, output = smoke(url, "--slug", "named-article")
    assert code == 0 and "named-article (named with SLUG=...)" in output, output
    assert "marker article" not in checks and "marker unpublished" not in checks, output
    # One browser view; the bot and the prefetch counted nothing, the listed article nothing.
    assert stack.views == {"named-article": 1}
    assert stack.admin_calls == []


@pytest.mark.parametrize("admin", ["auto", "none"])
def test_without_credentials_nor_slug_it_fails_asking_for_one(admin: str) -> None:
    """Articles are listed on / and in the feed, but none was named: it does not pick one."""
    stack = Stack()
    with serving(stack) as url:
        code, checks, output = smoke(url, "--admin", admin)
    assert code == 1 and checks["article to use"] == "FAIL", output
    why = "not used, ADMIN=none" if admin == "none" else "no credentials, ADMIN_TOKEN is not set"
    assert f"no marker article (admin API: {why}" in output, output
    assert "name a quiet article with SLUG=... or give credentials with ADMIN=token|iam" in output
    for name in COUNTING:
        assert checks[name] == "FAIL", output  # reported as not done, never as passed
    assert {"feed", "sitemap", "404 page", "404 under /api/", "/api/stats"} <= {
        n for n, s in checks.items() if s == "PASS"
    }, output
    assert stack.views == {}


def test_the_marker_is_used_then_unpublished_even_when_the_budget_is_spent() -> None:
    """The admin API accepts: views go to the marker only (even with SLUG given), and the
    last request unpublishes it, although a hanging /api/stats spent the whole budget."""
    stack = Stack(admin_status=200, hang="/api/stats")
    with serving(stack) as url:
        code, checks, output = smoke(
            url, "--admin", "token", "--slug", "named-article", "--budget", "4", ADMIN_TOKEN=TOKEN
        )
    assert code == 1 and checks["/api/stats"] == "FAIL", output
    assert checks["marker article"] == checks["marker unpublished"] == "PASS", output
    assert stack.views == {MARKER: 1}, output
    assert [method for method, _ in stack.admin_calls] == ["PUT", "DELETE"]
    assert all(h["Authorization"] == f"Bearer {TOKEN}" for _, h in stack.admin_calls)


def test_iam_credentials_sign_the_marker_with_sigv4_for_execute_api() -> None:
    stack = Stack(admin_status=201)
    aws = {
        "AWS_ACCESS_KEY_ID": "AKIDSMOKETEST",
        "AWS_SECRET_ACCESS_KEY": "smoke-secret",
        "AWS_REGION": "eu-west-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    with serving(stack) as url:
        code, checks, output = smoke(url, "--admin", "iam", **aws)
    assert code == 0 and checks["marker article"] == "PASS" and "IAM SigV4" in output, output
    assert checks["marker unpublished"] == "PASS", output
    assert stack.views == {MARKER: 1}
    assert [method for method, _ in stack.admin_calls] == ["PUT", "DELETE"]
    for _, sent in stack.admin_calls:  # both signed
        authorization = sent["Authorization"]
        assert re.fullmatch(
            r"AWS4-HMAC-SHA256 Credential=AKIDSMOKETEST/\d{8}/eu-west-1/execute-api/aws4_request, "
            r"SignedHeaders=\S*host\S*x-amz-date\S*, Signature=[0-9a-f]{64}",
            authorization,
        ), authorization
        assert sent["X-Amz-Date"]


def test_a_silent_stack_fails_within_the_budget() -> None:
    """A server that accepts connections and never answers: every check fails with its
    reason (no answer, or the budget spent), nothing hangs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        code, checks, output = smoke(url, "--budget", "1")
    assert code == 1
    assert checks and set(checks.values()) == {"FAIL"}, output
    assert "timed out" in output and "time budget spent" in output, output


# ---- security headers over https -----------------------------------------------------------


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("smoke_script", SMOKE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "hsts, ok",
    [
        ("max-age=31536000; includeSubDomains", True),
        ("max-age=300", False),
        (None, False),
    ],
)
def test_https_answers_need_hsts_of_a_year(hsts: str | None, ok: bool) -> None:
    smoke_script = _module()
    headers = Message()
    headers["Content-Type"] = "application/json"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
    if hsts:
        headers["Strict-Transport-Security"] = hsts
    answer = smoke_script.Answer(200, headers, b"{}", "https://example.com/api/stats")
    assert smoke_script.security_headers(answer, https=False)  # plain http needs none
    if ok:
        assert "HSTS" in smoke_script.security_headers(answer, https=True)
    else:
        with pytest.raises(smoke_script.Failure, match="Strict-Transport-Security"):
            smoke_script.security_headers(answer, https=True)
