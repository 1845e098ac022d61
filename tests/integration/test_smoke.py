"""`make smoke URL=...` (scripts/smoke.py), run as operators run it: a separate process that
only sees the URL. It passes against the local stack in both count modes, twice in a row
(a re-run is a new visitor), and against a stand-in stack it fails, naming the one check
that a broken behaviour breaks."""

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
    """Run the script; its exit code, {check name: PASS/FAIL/WARN} and its whole output."""
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
        if status in ("PASS", "FAIL", "WARN"):
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


def _views(base: str, slug: str) -> int:
    with urllib.request.urlopen(f"{base}/api/articles/{slug}/views", timeout=10) as reply:
        return int(json.load(reply)["views"])


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
        assert set(checks) == EVERY_CHECK | {"marker article"}, output
        assert set(checks.values()) == {"PASS"}, output
        assert f"{mode} mode" in output
        assert f"{run - 1} -> {run} after one browser view" in output
    assert _views(url, MARKER) == 2  # two runs, two counted views: the marker stays


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
    admin_status: int = 403
    listed: bool = True  # the home page and the feed link the article
    views: int = 0  # one article, whatever its slug (the marker's or stub-article)
    admin_calls: list[Message] = field(default_factory=list)  # the headers of each
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(
        self, method: str, path: str, headers: Message
    ) -> tuple[int, str, str, dict[str, str]]:
        if method == "PUT" and path.startswith("/api/admin/"):
            self.admin_calls.append(headers)
            answer = {"outcome": "created"} if self.admin_status == 201 else {"message": "no"}
            return self.admin_status, "application/json", json.dumps(answer), {}
        if path == "/":
            body = (
                '<a href="http://elsewhere/articles/stub-article">Stub</a>' if self.listed else ""
            )
            return 200, "text/html; charset=utf-8", self.page(body), {"Cache-Control": "no-store"}
        article = re.fullmatch(r"/articles/([a-z-]+)", path)
        if article and method == "GET":
            beacon = self.mode == "beacon"
            counted = self.count(headers) if not beacon or self.page_counts_in_beacon_mode else 0
            body = f"<p>Views: <span data-views>{counted or self.views}</span></p>"
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
            data = {"slug": views[1], "views": self.views}
            return 200, "application/json", json.dumps(data), {}
        if views and method == "POST" and self.mode == "beacon":
            counted = self.count(headers)
            data = {"slug": views[1], "views": self.views, "counted": bool(counted)}
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

    def count(self, headers: Message) -> int:
        """Count a view (unless a bot or a prefetch, or told otherwise): the new total, or 0
        when not counted."""
        bot = "bot" in headers.get("User-Agent", "").lower()
        prefetch = "prefetch" in headers.get("Sec-Purpose", "")
        with self.lock:
            if (not bot or self.count_bots) and (not prefetch or self.count_prefetches):
                self.views += self.views_per_view
                return self.views
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

        do_GET = do_POST = do_PUT = handle_one

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
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
        code, checks, output = smoke(url)
    assert set(checks) == EVERY_CHECK | {"article to use"}, output
    failed = {name for name, status in checks.items() if status != "PASS"}
    if broken is None:
        assert (code, failed) == (0, set()), output
    else:
        assert (code, failed) == (1, {broken}), output
        assert output.splitlines()[-1].endswith(f": {broken}"), output  # the summary names it


def test_a_refused_marker_fails_only_when_credentials_were_asked_for() -> None:
    with serving(Stack(admin_status=403)) as url:
        code, checks, output = smoke(url, "--admin", "token", ADMIN_TOKEN="wrong")
        assert code == 1 and checks["marker article"] == "FAIL", output
        assert "403" in output
        # The other checks go on with the first listed article.
        assert {n for n, s in checks.items() if s != "PASS"} == {"marker article"}, output
        code, checks, output = smoke(url, ADMIN_TOKEN="wrong")  # found in the environment
        assert code == 0 and checks["marker article"] == "WARN", output


def test_without_credentials_the_named_article_is_used() -> None:
    stack = Stack()
    with serving(stack) as url:
        code, _, output = smoke(url, "--slug", "stub-article")
    assert code == 0 and "stub-article (named with SLUG=...)" in output, output
    assert stack.views == 1  # one browser view; the bot and the prefetch counted nothing


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
    assert "newsdesk-smoke-marker" in output and stack.views == 1
    (sent,) = stack.admin_calls
    authorization = sent["Authorization"]
    assert re.fullmatch(
        r"AWS4-HMAC-SHA256 Credential=AKIDSMOKETEST/\d{8}/eu-west-1/execute-api/aws4_request, "
        r"SignedHeaders=\S*host\S*x-amz-date\S*, Signature=[0-9a-f]{64}",
        authorization,
    ), authorization
    assert sent["X-Amz-Date"]


def test_without_credentials_nor_a_listed_article_it_fails_asking_for_one() -> None:
    with serving(Stack(listed=False)) as url:
        code, checks, output = smoke(url)
    assert code == 1 and checks["article to use"] == "FAIL" and "SLUG=" in output, output
    for name in ("one view counts once", "bot not counted", "prefetch not counted"):
        assert checks[name] == "FAIL", output  # reported as not done, never as passed
    assert checks["feed"] == checks["sitemap"] == checks["404 page"] == "PASS", output


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
