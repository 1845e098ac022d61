"""`make smoke URL=<base URL>`: a short black-box check of a running newsdesk stack.

Run it after every deploy (`URL` = the stack's `ApiUrl` output, or its `CdnUrl`) and against
`make run` (`URL=http://127.0.0.1:3000`). It only talks to that URL: redirects are not
followed, and nothing else is contacted (with `--admin iam`, botocore may fetch credentials
the usual way, e.g. from SSO or STS, to sign the request).

What it checks, one `PASS`/`FAIL` line each, exit 1 if any failed (2 for usage errors):

- the article it counts views on, and only that one: a marker article it creates or updates
  through the admin API (`PUT /api/admin/articles/newsdesk-smoke-marker`, published, dated
  2000-01-01 so that it sorts last) when it has admin credentials, i.e. `ADMIN_TOKEN` (a
  bearer token: the local stack) or `--admin iam` (SigV4 for `execute-api`, from the usual
  AWS credentials: a deployed stack's IAM-authorised admin routes, which must be called on
  the execute-api URL, not through CloudFront); else the article named with `--slug`. Never
  an article merely listed on `/` or in the feed: a view counted there would inflate a real
  article's count. Credentials the admin API refuses are a FAIL (`marker article`), whether
  asked for (`--admin token|iam`) or found in the environment (`ADMIN_TOKEN`). With neither a
  marker nor `--slug`, `article to use` and the checks that count views FAIL, saying why,
  and the checks that count nothing still run;
- the article page: 200 HTML, and its count mode (`render`: counted when the page renders,
  `Cache-Control: private, no-cache` or `no-store`; `beacon`: the page's script carries
  `data-slug` and counts with `POST /api/articles/{slug}/views`, the page is cacheable
  with an ETag);
- one view counts exactly once: `GET /api/articles/{slug}/views` before and after one view
  from a browser User-Agent (the page in render mode, the beacon in beacon mode). Each view
  uses a User-Agent seen nowhere before, so that a re-run is a new visitor; should that
  visitor still land on a visitor id already seen within VIEW_DEDUPE_SECONDS (an address
  has at most MAX_VISITORS_PER_ADDRESS ids a day), the view is answered as a repeat
  (`"counted": false`, or the old count on the page), which is not an error: another fresh
  User-Agent is tried. That count read is a BatchGetItem without a per-container cache,
  but eventually consistent on AWS, so it is re-read for up to a few seconds. Other
  readers of the same article count too: on a busy article use the marker;
- a bot's view (Googlebot) and a prefetch (`Sec-Purpose: prefetch`) are not counted;
- the home page (200 HTML), the 404 page (HTML, 404) and a 404 under `/api/` (JSON with a
  `message`);
- `/feed.xml` (`application/rss+xml`, RSS 2.0 that parses), `/sitemap.xml` (XML, a
  sitemaps.org `urlset` with at least the home page), `/api/stats` (JSON: `online`,
  `total`, `peak.online`, `peak.at`, `window_seconds`);
- security headers on every kind of answer, as `newsdesk/web.py` sets them:
  `X-Content-Type-Options: nosniff`, `Referrer-Policy: strict-origin-when-cross-origin`, a
  `Content-Security-Policy` with `default-src 'none'` (HTML: `frame-ancestors 'none'`, no
  `unsafe-inline`/`unsafe-eval`, and the SHA-256 of each inline script and style allowed),
  and on an https URL `Strict-Transport-Security` with `max-age` >= one year;
- last, when it made the marker: the marker unpublished again (`DELETE
  /api/admin/articles/newsdesk-smoke-marker`, status draft), so that it is not listed on
  the home page, in the feed or in the sitemap between runs. A draft keeps its count but
  answers 404 on its count and (once the per-container article caches expire) its page:
  the next run's PUT publishes it again, and its count goes on from where it was.

Every request has a timeout and the whole run a budget (`--budget`, 25 s); the marker's
unpublishing gets one request timeout more should the budget be spent. `--wait N` first
waits up to N seconds for the URL to answer (outside the budget): for CI right after
starting `make run`. Only the standard library is used, plus botocore for `--admin iam`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

MARKER_SLUG = "newsdesk-smoke-marker"
MARKER_ARTICLE = {
    "title": "Smoke test marker",
    "body": [
        "This article is kept by the deploy smoke test (make smoke) to check that a view is "
        "counted exactly once. It is not news.",
    ],
    "author": "newsdesk smoke test",
    "summary": "Kept by the deploy smoke test.",
    "published_at": "2000-01-01T00:00:00+00:00",
    "status": "published",
}
# A bot by any list (crawlerdetect's included): the requests that must not count.
BOT_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
# The smoke test's own requests that count nothing anyway (feeds, stats, 404s).
SMOKE_UA = "newsdesk-smoke/1.0 (+bot)"
VIEW_ATTEMPTS = 10  # fresh visitors tried when one lands on an id already seen (repeat view)
SETTLE_SECONDS = 4.0  # how long an eventually consistent count read may lag
REQUEST_TIMEOUT = 5.0
MAX_BODY = 20_000_000  # bytes read of an answer: a full sitemap (50,000 URLs) fits
HSTS_MIN_AGE = 31536000  # web.HSTS: one year
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def browser_ua() -> str:
    """A desktop Chrome User-Agent with a build number no real browser sends: a visitor
    nobody has been before (the visitor id hashes the address and the User-Agent)."""
    build = f"{secrets.randbelow(90000) + 10000}.{secrets.randbelow(900) + 100}"
    return (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/131.0.{build} Safari/537.36"
    )


class Failure(Exception):
    """A check failed; the message is its one-line reason."""


class BudgetExceeded(Exception):
    """The run's time budget is spent."""


@dataclass
class Answer:
    status: int
    headers: Message
    body: bytes
    url: str

    def header(self, name: str) -> str:
        return self.headers.get(name) or ""

    @property
    def content_type(self) -> str:
        return self.header("Content-Type").lower()

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            raise Failure(f"{self.url}: body is not JSON: {self.text()[:80]!r}") from None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects come back as answers (HTTPError): only the given URL is ever contacted."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class Client:
    """HTTP against one base URL, every request bounded by the run's deadline."""

    base: str
    deadline: float
    sign: Callable[[str, str, bytes, dict[str, str]], dict[str, str]] | None = None
    opener: urllib.request.OpenerDirector = field(
        default_factory=lambda: urllib.request.build_opener(_NoRedirect())
    )

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def request(
        self,
        method: str,
        path: str,
        *,
        ua: str = SMOKE_UA,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> Answer:
        left = self.remaining()
        if left <= 0.05:
            raise BudgetExceeded(f"time budget spent before {method} {path}")
        url = self.base + path
        sent = {"User-Agent": ua, "Accept": "*/*", **(headers or {})}
        request = urllib.request.Request(url, data=body, method=method, headers=sent)
        try:
            with self.opener.open(request, timeout=min(REQUEST_TIMEOUT, left)) as reply:
                return Answer(reply.status, reply.headers, reply.read(MAX_BODY), url)
        except urllib.error.HTTPError as err:
            with err:
                return Answer(err.code, err.headers, err.read(MAX_BODY), url)
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise Failure(f"{method} {path}: no answer ({reason})") from None

    def get(self, path: str, **kw: Any) -> Answer:
        return self.request("GET", path, **kw)


# ---- checks --------------------------------------------------------------------------------


@dataclass
class Report:
    results: list[tuple[str, bool, str]] = field(default_factory=list)
    out: Any = sys.stdout

    def record(self, name: str, ok: bool, reason: str) -> None:
        """One line, `PASS  <name> <reason>` or `FAIL  <name> <reason>`."""
        self.results.append((name, ok, reason))
        status = "PASS" if ok else "FAIL"
        print(f"{status}  {name:<22} {reason}", file=self.out, flush=True)

    def check(self, name: str, run: Callable[[], str]) -> bool:
        try:
            self.record(name, True, run())
            return True
        except (Failure, BudgetExceeded) as err:
            self.record(name, False, str(err))
            return False

    @property
    def failed(self) -> list[str]:
        return [name for name, ok, _ in self.results if not ok]


def expect_status(answer: Answer, *wanted: int) -> None:
    if answer.status not in wanted:
        raise Failure(
            f"{answer.url}: status {answer.status}, expected {'/'.join(map(str, wanted))}"
        )


def expect_type(answer: Answer, fragment: str) -> None:
    if fragment not in answer.content_type:
        raise Failure(f"{answer.url}: Content-Type {answer.content_type!r}, expected {fragment}")


def _csp_sources(csp: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def _inline_hashes(page: str, tag: str) -> list[str]:
    """CSP hash source of each inline <script>/<style> (its exact text, UTF-8). A JSON-LD
    data block (type="application/ld+json") is never run, so the CSP does not govern it."""
    found = []
    for attrs, content in re.findall(rf"<{tag}\b([^>]*)>(.*?)</{tag}>", page, re.S | re.I):
        if tag == "script" and re.search(r"\bsrc\s*=", attrs, re.I):
            continue
        if tag == "script" and re.search(r"\btype\s*=\s*\"?application/ld\+json", attrs, re.I):
            continue
        digest = hashlib.sha256(content.encode("utf-8")).digest()
        found.append("'sha256-" + base64.b64encode(digest).decode() + "'")
    return found


def security_headers(answer: Answer, https: bool) -> str:
    """What newsdesk/web.py puts on every answer; raises Failure naming what is missing."""
    csp = answer.header("Content-Security-Policy")
    directives = _csp_sources(csp)
    problems = _common_header_problems(answer, csp, directives)
    html = "text/html" in answer.content_type
    if html:
        problems += _html_csp_problems(answer.text(), csp, directives)
    if https:
        problems += _hsts_problems(answer)
    if problems:
        raise Failure(f"{answer.url}: " + "; ".join(problems))
    what = "nosniff, Referrer-Policy, CSP default-src 'none'"
    if html:
        what += ", inline script/style allowed by hash only"
    return what + (", HSTS" if https else "")


def _common_header_problems(
    answer: Answer, csp: str, directives: dict[str, list[str]]
) -> list[str]:
    """X-Content-Type-Options, Referrer-Policy and CSP default-src, on every answer."""
    problems = []
    if answer.header("X-Content-Type-Options").strip().lower() != "nosniff":
        problems.append(f"X-Content-Type-Options {answer.header('X-Content-Type-Options')!r}")
    referrer = answer.header("Referrer-Policy").strip().lower()
    if referrer != "strict-origin-when-cross-origin":
        problems.append(f"Referrer-Policy {referrer!r}")
    if directives.get("default-src") != ["'none'"]:
        problems.append(f"CSP without default-src 'none' ({csp[:60]!r})")
    return problems


def _html_csp_problems(page: str, csp: str, directives: dict[str, list[str]]) -> list[str]:
    """An HTML page's CSP: frame-ancestors 'none', no unsafe-inline/unsafe-eval, and the hash
    of each inline script and style of `page` allowed."""
    problems = []
    if directives.get("frame-ancestors") != ["'none'"]:
        problems.append("CSP without frame-ancestors 'none'")
    if "'unsafe-inline'" in csp or "'unsafe-eval'" in csp:
        problems.append("CSP allows unsafe-inline/unsafe-eval")
    for tag, directive in (("script", "script-src"), ("style", "style-src")):
        allowed = directives.get(directive, [])
        blocked = [h for h in _inline_hashes(page, tag) if h not in allowed]
        if blocked:
            problems.append(f"inline {tag} {blocked[0]} not in {directive}")
    return problems


def _hsts_problems(answer: Answer) -> list[str]:
    """Strict-Transport-Security with max-age of at least HSTS_MIN_AGE (an https URL)."""
    hsts = answer.header("Strict-Transport-Security")
    age = re.search(r"max-age=(\d+)", hsts)
    if not age or int(age.group(1)) < HSTS_MIN_AGE:
        return [f"Strict-Transport-Security {hsts!r} (need max-age>={HSTS_MIN_AGE})"]
    return []


def parse_xml(answer: Answer) -> ET.Element:
    """The XML root; a document type (entity expansion) is refused before parsing."""
    if b"<!DOCTYPE" in answer.body or b"<!ENTITY" in answer.body:
        raise Failure(f"{answer.url}: XML with a DOCTYPE/ENTITY, refused")
    try:
        return ET.fromstring(answer.body)
    except ET.ParseError as err:
        raise Failure(f"{answer.url}: not well-formed XML ({err})") from None


@dataclass
class Article:
    slug: str
    created: bool = False  # the marker, made through the admin API (unpublished at the end)
    mode: str = ""  # "render" or "beacon", from the page


class Smoke:
    def __init__(self, client: Client, report: Report, https: bool) -> None:
        self.client = client
        self.report = report
        self.https = https
        self.answers: dict[str, Answer] = {}  # kind of answer -> one answer, for the headers

    # -- the article -------------------------------------------------------------------------

    def admin_call(self, method: str, body: bytes | None, how: str) -> Answer:
        """One admin API call on the marker, signed; Failure unless it answered 200/201."""
        path = f"/api/admin/articles/{MARKER_SLUG}"
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if self.client.sign:
            headers = self.client.sign(method, self.client.base + path, body or b"", headers)
        answer = self.client.request(method, path, headers=headers, body=body)
        if answer.status not in (200, 201):
            raise Failure(f"{method} {path} ({how}): {answer.status} {answer.text()[:120]!r}")
        return answer

    def create_marker(self, how: str) -> str:
        """PUT the marker, published: created, updated (republished after the last run's
        unpublishing) or unchanged. Failure when the admin API refuses."""
        answer = self.admin_call("PUT", json.dumps(MARKER_ARTICLE).encode(), how)
        data = answer.json()
        outcome = data.get("outcome", "?") if isinstance(data, dict) else "?"
        return f"{MARKER_SLUG}: {outcome} through the admin API ({how}, {answer.status})"

    def unpublish_marker(self, how: str) -> None:
        """The check "marker unpublished": DELETE on the admin route sets the marker's status
        to draft (newsdesk/admin.py unpublish), so that it is listed nowhere until the next
        run publishes it again. Run last, even when the budget is spent (one more request
        timeout), so that a slow run does not leave the marker live."""

        def run() -> str:
            self.client.deadline = max(self.client.deadline, time.monotonic() + REQUEST_TIMEOUT)
            answer = self.admin_call("DELETE", None, how)
            data = answer.json()
            outcome = data.get("outcome") if isinstance(data, dict) else None
            if outcome not in ("unpublished", "unchanged"):
                raise Failure(f"DELETE answered {data!r}, not outcome unpublished")
            return f"{MARKER_SLUG}: {outcome} (draft until the next run publishes it)"

        self.report.check("marker unpublished", run)

    def home_page(self) -> None:
        def run() -> str:
            answer = self.client.get("/", headers={"Accept": "text/html"})
            expect_status(answer, 200)
            expect_type(answer, "text/html")
            self.answers["home page"] = answer
            # Distinct articles: a page may link one article more than once.
            links = set(re.findall(r'href="[^"]*/articles/([^"/?#]+)"', answer.text()))
            return f"/: 200 HTML, {len(links)} article link(s)"

        self.report.check("home page", run)

    def choose_article(self, slug: str | None, admin: str | None, why_not: str) -> Article | None:
        """The article whose count the counting checks change: the marker when the admin
        API accepts the credentials (`admin` says which; `why_not` why there are none), else
        the one named with SLUG, else none (a FAIL saying why). Never one merely listed on
        the site: a view counted there would inflate a real article's count. Refused
        credentials are a FAIL (`marker article`) whether asked for or found in the
        environment: the operator gave credentials that do not work."""
        if admin:
            try:
                made = self.create_marker(admin)
            except (Failure, BudgetExceeded) as err:
                self.report.record("marker article", False, str(err))
                why_not = str(err)
            else:
                unused = f"; SLUG={slug} not needed" if slug else ""
                self.report.record("marker article", True, made + unused)
                return Article(MARKER_SLUG, created=True)
        if slug:
            self.report.record("article to use", True, f"{slug} (named with SLUG=...)")
            return Article(slug)
        self.report.record(
            "article to use",
            False,
            f"no marker article (admin API: {why_not}) and no SLUG= given: name a quiet "
            "article with SLUG=... or give credentials with ADMIN=token|iam",
        )
        return None

    def article_page(self, article: Article) -> None:
        path = f"/articles/{urllib.parse.quote(article.slug)}"

        def run() -> str:
            # As a bot, which counts in neither mode. A marker just written may take a
            # moment to be readable (eventually consistent reads on AWS).
            until = time.monotonic() + (SETTLE_SECONDS if article.created else 0)
            while True:
                answer = self.client.get(path, ua=BOT_UA, headers={"Accept": "text/html"})
                if answer.status != 404 or time.monotonic() >= until:
                    break
                time.sleep(0.25)
            if answer.status == 404 and article.created:
                raise Failure(
                    f"{path}: 404 {SETTLE_SECONDS:g} s after the marker was published (an "
                    "environment that read it while it was a draft may keep that for "
                    "ARTICLE_CACHE_SECONDS: run again)"
                )
            expect_status(answer, 200)
            expect_type(answer, "text/html")
            self.answers["article page"] = answer
            page = answer.text()
            widget = re.search(r'<script\b[^>]*\bid="nd-widget"[^>]*>', page)
            beacon = bool(widget and re.search(r'\bdata-slug="', widget.group(0)))
            cache = answer.header("Cache-Control").lower()
            if beacon:
                article.mode = "beacon"
                if "s-maxage" not in cache or not answer.header("ETag"):
                    raise Failure(
                        f"beacon page (script has data-slug) but Cache-Control {cache!r}, "
                        f"ETag {answer.header('ETag')!r}: expected s-maxage and an ETag"
                    )
            else:
                article.mode = "render"
                # Counted at render: no shared cache may keep it (private or no-store), and
                # no reuse without asking (no-cache, no-store); `private, no-cache` also
                # lets the browser's back/forward cache keep it.
                personal = "private" in cache or "no-store" in cache
                if not personal or not ("no-cache" in cache or "no-store" in cache):
                    raise Failure(
                        f"render-mode page with Cache-Control {cache!r}, not "
                        "'private, no-cache' (or no-store)"
                    )
            return f"{path}: 200 HTML, {article.mode} mode (Cache-Control: {cache})"

        self.report.check("article page", run)

    # -- counting ----------------------------------------------------------------------------

    def views(self, slug: str, until: float = 0.0) -> int:
        """The count `GET /api/articles/{slug}/views` answers (Failure otherwise); a 404 is
        re-read until `until` (time.monotonic())."""
        path = f"/api/articles/{urllib.parse.quote(slug)}/views"
        while True:
            answer = self.client.get(path)
            if answer.status != 404 or time.monotonic() >= until:
                break
            time.sleep(0.25)
        expect_status(answer, 200)
        expect_type(answer, "application/json")
        self.answers.setdefault("JSON API", answer)
        data = answer.json()
        views = data.get("views") if isinstance(data, dict) else None
        if isinstance(views, bool) or not isinstance(views, int) or views < 0:
            raise Failure(f"GET {path}: {data!r} has no whole number 'views'")
        return views

    def views_settled(self, slug: str, want: int) -> int:
        """The count, re-read while it is below `want` (a lagging read), up to SETTLE_SECONDS."""
        until = time.monotonic() + SETTLE_SECONDS
        while True:
            views = self.views(slug)
            if views >= want or time.monotonic() >= until:
                return views
            time.sleep(0.25)

    def one_view(
        self, article: Article, ua: str, before: int, extra: dict[str, str] | None = None
    ) -> tuple[bool, int | None]:
        """One view as `ua`, as a browser makes it: the page, then in beacon mode the
        page's beacon. Whether it was counted, and the count answered (None: none shown).
        The beacon says whether it counted; a rendered page shows the new total when it
        counted (the UpdateItem's answer) and a known or read total, never above `before`,
        when not."""
        quoted = urllib.parse.quote(article.slug)
        headers = {"Accept": "text/html", **(extra or {})}
        answer = self.client.get(f"/articles/{quoted}", ua=ua, headers=headers)
        expect_status(answer, 200)
        if article.mode == "beacon":
            answer = self.client.request(
                "POST", f"/api/articles/{quoted}/views", ua=ua, headers=headers, body=b""
            )
            expect_status(answer, 200)
            data = answer.json()
            if not isinstance(data, dict) or not isinstance(data.get("counted"), bool):
                raise Failure(f"the beacon answered {data!r}, without a boolean 'counted'")
            shown = data.get("views")
            return data["counted"], shown if isinstance(shown, int) else None
        shown_text = re.search(r"<span data-views>([^<]*)</span>", answer.text())
        digits = re.sub(r"\D", "", shown_text.group(1)) if shown_text else ""
        shown = int(digits) if digits else None
        return shown is not None and shown > before, shown

    def counts_once(self, article: Article) -> int | None:
        """The check "one view counts once"; the count after it, None if it failed."""
        how = "the page and its beacon" if article.mode == "beacon" else "the page"
        result: list[int] = []

        def run() -> str:
            # The marker, just published again after the last run's unpublishing, may read
            # as a draft's 404 for a moment (eventually consistent reads).
            settle = SETTLE_SECONDS if article.created else 0.0
            before = self.views(article.slug, until=time.monotonic() + settle)
            for repeats in range(VIEW_ATTEMPTS):
                counted, shown = self.one_view(article, browser_ua(), before)
                if counted:
                    if shown is not None and shown != before + 1:
                        raise Failure(
                            f"one view via {how} answered {shown}, expected {before + 1} "
                            f"(was {before}; other readers of this article count too)"
                        )
                    after = self.views_settled(article.slug, before + 1)
                    if after != before + 1:
                        raise Failure(
                            f"the count went {before} -> {after} after one counted view via "
                            f"{how}, expected {before + 1}"
                        )
                    result.append(after)
                    note = (
                        f" (the {repeats} fresh User-Agent(s) before it got visitor ids seen "
                        "within VIEW_DEDUPE_SECONDS: repeat views)"
                        if repeats
                        else ""
                    )
                    return f"{before} -> {after} after one browser view via {how}{note}"
                if shown is None:
                    raise Failure(
                        f"a browser view via {how} showed no count (counter unreachable?)"
                    )
                moved = self.views(article.slug)
                if moved != before:  # a lagging read is lower, never higher
                    raise Failure(
                        f"a browser view via {how} answered as not counted, yet the count "
                        f"went {before} -> {moved}"
                    )
            after = self.views(article.slug)
            raise Failure(
                f"{VIEW_ATTEMPTS} views from fresh browser User-Agents via {how}: none counted "
                f"(count {before} -> {after}); unless this address has used all its "
                "MAX_VISITORS_PER_ADDRESS visitor ids within VIEW_DEDUPE_SECONDS, views are lost"
            )

        self.report.check("one view counts once", run)
        return result[0] if result else None

    def not_counted(
        self, article: Article, settled: int | None, name: str, ua: str, extra: dict[str, str]
    ) -> int | None:
        """A view as `ua` with `extra` headers leaves the count as it was: `settled`, the
        count the previous check left, else a fresh read. The count it read after."""
        seen: list[int] = []

        def run() -> str:
            base = self.views(article.slug) if settled is None else settled
            counted, _ = self.one_view(article, ua, base, extra)
            if counted:
                by = "the beacon" if article.mode == "beacon" else "the page"
                raise Failure(f"a {name} view was counted ({by} says so)")
            after = self.views(article.slug)
            seen.append(after)
            if after != base:
                raise Failure(
                    f"the count went {base} -> {after} after one {name} view, expected {base}"
                )
            return f"the count stayed {after} after one {name} view"

        self.report.check(f"{name} not counted", run)
        return seen[0] if seen else None

    # -- the rest ----------------------------------------------------------------------------

    def not_found_pages(self) -> None:
        def html() -> str:
            path = f"/smoke-no-such-page-{secrets.token_hex(4)}"
            answer = self.client.get(path, headers={"Accept": "text/html"})
            expect_status(answer, 404)
            expect_type(answer, "text/html")
            if "<html" not in answer.text().lower():
                raise Failure(f"{path}: 404 without an HTML page")
            self.answers["404 page"] = answer
            return f"{path}: 404 HTML page"

        def api() -> str:
            path = f"/api/smoke-no-such-route-{secrets.token_hex(4)}"
            answer = self.client.get(path)
            expect_status(answer, 404)
            expect_type(answer, "application/json")
            data = answer.json()
            if not isinstance(data, dict) or not isinstance(data.get("message"), str):
                raise Failure(f"{path}: 404 without a JSON message: {data!r}")
            return f"{path}: 404 JSON {{'message': {data['message']!r}}}"

        self.report.check("404 page", html)
        self.report.check("404 under /api/", api)

    def feed(self) -> None:
        def run() -> str:
            answer = self.client.get("/feed.xml")
            expect_status(answer, 200)
            expect_type(answer, "application/rss+xml")
            self.answers["feed"] = answer
            root = parse_xml(answer)
            channel = root.find("channel")
            if root.tag != "rss" or root.get("version") != "2.0" or channel is None:
                raise Failure(
                    f"/feed.xml: root <{root.tag} version={root.get('version')}>, no RSS 2.0"
                )
            items = channel.findall("item")
            if "max-age" not in answer.header("Cache-Control"):
                raise Failure(f"/feed.xml: Cache-Control {answer.header('Cache-Control')!r}")
            return f"RSS 2.0, {len(items)} item(s), Cache-Control: {answer.header('Cache-Control')}"

        self.report.check("feed", run)

    def sitemap(self) -> None:
        def run() -> str:
            answer = self.client.get("/sitemap.xml")
            expect_status(answer, 200)
            expect_type(answer, "xml")
            self.answers["sitemap"] = answer
            root = parse_xml(answer)
            if root.tag != f"{SITEMAP_NS}urlset":
                raise Failure(f"/sitemap.xml: root {root.tag!r}, expected a sitemaps.org urlset")
            locs = [loc.text or "" for loc in root.iter(f"{SITEMAP_NS}loc")]
            if not locs:
                raise Failure(
                    "/sitemap.xml: a urlset without one <loc> (the home page is always in)"
                )
            return f"urlset with {len(locs)} URL(s)"

        self.report.check("sitemap", run)

    def stats(self) -> None:
        def run() -> str:
            answer = self.client.get("/api/stats")
            expect_status(answer, 200)
            expect_type(answer, "application/json")
            self.answers["JSON API"] = answer
            data = answer.json()
            if not isinstance(data, dict):
                raise Failure(f"/api/stats: {data!r} is not an object")

            def count(value: Any) -> bool:
                return isinstance(value, int) and not isinstance(value, bool) and value >= 0

            peak = data.get("peak")
            peak_online = peak.get("online") if isinstance(peak, dict) else None
            wrong = [name for name in ("online", "total") if not count(data.get(name))]
            if not count(peak_online):
                wrong.append("peak.online")
            elif isinstance(peak, dict) and not isinstance(peak.get("at"), str | None):
                wrong.append("peak.at")
            window = data.get("window_seconds")
            if not count(window) or window == 0:
                wrong.append("window_seconds")
            if wrong:
                raise Failure(f"/api/stats: bad or missing {', '.join(wrong)} in {data!r}")
            return (
                f"online {data['online']}, total {data['total']}, peak {peak_online}, "
                f"window {window} s"
            )

        self.report.check("/api/stats", run)

    def headers(self) -> None:
        def check(answer: Answer) -> Callable[[], str]:
            path = urllib.parse.urlsplit(answer.url).path
            return lambda: f"{path}: " + security_headers(answer, self.https)

        for kind, answer in self.answers.items():
            self.report.check(f"headers: {kind}", check(answer))

    def run(self, slug: str | None, admin: str | None, why_not: str) -> None:
        """Every check, in order; views are counted on the chosen article only (see
        choose_article), and the marker, when made, is unpublished at the end whatever
        happened in between."""
        self.home_page()
        article = self.choose_article(slug, admin, why_not)
        try:
            counting = ["one view counts once", "bot not counted", "prefetch not counted"]
            if article is None:
                for name in ["article page", *counting]:
                    self.report.record(name, False, "skipped: no article to count views on")
            else:
                self.article_page(article)
                if article.mode:
                    settled = self.counts_once(article)
                    for name, ua, extra in (
                        ("bot", BOT_UA, {}),
                        ("prefetch", browser_ua(), {"Sec-Purpose": "prefetch;prerender"}),
                    ):
                        settled = self.not_counted(article, settled, name, ua, extra)
                else:
                    for name in counting:
                        self.report.record(name, False, "skipped: no readable article page")
            self.not_found_pages()
            self.feed()
            self.sitemap()
            self.stats()
            self.headers()
        finally:
            if article is not None and article.created and admin:
                self.unpublish_marker(admin)


# ---- admin credentials ---------------------------------------------------------------------


def bearer(token: str) -> Callable[[str, str, bytes, dict[str, str]], dict[str, str]]:
    def sign(method: str, url: str, body: bytes, headers: dict[str, str]) -> dict[str, str]:
        return {**headers, "Authorization": f"Bearer {token}"}

    return sign


def sigv4(base: str) -> Callable[[str, str, bytes, dict[str, str]], dict[str, str]]:
    """A signer of admin requests: SigV4 for API Gateway (service `execute-api`) with
    botocore's credential chain, the region from an execute-api host name, else AWS_REGION
    or the configured one. ValueError (a usage error) without botocore, credentials or a
    region."""
    try:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.session import Session
    except ImportError:  # pragma: no cover - .venv has it
        raise ValueError(
            "--admin iam needs botocore (run through `make smoke`, which uses .venv)"
        ) from None
    session = Session()
    credentials = session.get_credentials()
    if credentials is None:
        raise ValueError("--admin iam: no AWS credentials found (AWS_PROFILE, env, SSO...)")
    host = urllib.parse.urlsplit(base).hostname or ""
    found = re.search(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$", host)
    region = (
        found.group(1)
        if found
        else os.environ.get("AWS_REGION") or session.get_config_variable("region")
    )
    if not region:
        raise ValueError("--admin iam: set AWS_REGION (the URL is not an execute-api host)")
    frozen = credentials.get_frozen_credentials()

    def sign(method: str, url: str, body: bytes, headers: dict[str, str]) -> dict[str, str]:
        request = AWSRequest(method=method, url=url, data=body, headers=headers)
        SigV4Auth(frozen, "execute-api", region).add_auth(request)
        return dict(request.headers.items())

    return sign


def wait_for(base: str, seconds: float) -> bool:
    """True once GET /api/stats answers at all, within `seconds`."""
    until = time.monotonic() + seconds
    while True:
        client = Client(base, deadline=time.monotonic() + 2)
        try:
            client.get("/api/stats")
            return True
        except (Failure, BudgetExceeded):
            if time.monotonic() >= until:
                return False
            time.sleep(0.5)


def main(argv: list[str] | None = None, out: Any = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    out = out or sys.stdout
    parts = urllib.parse.urlsplit(args.url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        parser.error(f"URL must be http(s)://host[:port][/stage], got {args.url!r}")
    base = args.url.rstrip("/")
    if args.slug and not re.fullmatch(r"[^/?#\s]{1,200}", args.slug):
        parser.error(f"--slug {args.slug!r} is not a slug")
    sign, admin, why_not = _admin_credentials(parser, args.admin, base)
    if args.wait > 0 and not wait_for(base, args.wait):
        print(f"FAIL  {'reachable':<22} {base} did not answer within {args.wait:g} s", file=out)
        return 1
    started = time.monotonic()
    print(f"newsdesk smoke test of {base} (budget {args.budget:g} s)", file=out, flush=True)
    client = Client(base, deadline=started + args.budget, sign=sign)
    report = Report(out=out)
    Smoke(client, report, https=parts.scheme == "https").run(args.slug, admin, why_not)
    failed = report.failed
    elapsed = time.monotonic() - started
    print(
        f"{len(report.results)} checks, {len(failed)} failed, {elapsed:.1f} s"
        + (f": {', '.join(failed)}" if failed else ""),
        file=out,
    )
    return 1 if failed else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smoke", description="Black-box smoke test of a running newsdesk stack."
    )
    parser.add_argument("url", help="base URL: the stack's ApiUrl/CdnUrl, or http://127.0.0.1:3000")
    parser.add_argument(
        "--slug",
        help=(
            "the article to count views on when no marker can be made (a quiet one: other "
            "readers' views make the exact count fail)"
        ),
    )
    parser.add_argument(
        "--admin",
        choices=("auto", "token", "iam", "none"),
        default="auto",
        help=(
            "credentials to create (and at the end unpublish) the marker: token = ADMIN_TOKEN "
            "as a bearer token, iam = SigV4, none; auto (the default) = the token when "
            "ADMIN_TOKEN is set. Refused credentials are a FAIL"
        ),
    )
    parser.add_argument("--budget", type=float, default=25.0, help="seconds for all checks")
    parser.add_argument("--wait", type=float, default=0.0, help="first wait for the URL to answer")
    return parser


Signer = Callable[[str, str, bytes, dict[str, str]], dict[str, str]]


def _admin_credentials(
    parser: argparse.ArgumentParser, choice: str, base: str
) -> tuple[Signer | None, str | None, str]:
    """(the signer of admin requests, what it is, why there is none) for `--admin choice`;
    a usage error (parser.error) when the credentials asked for are not there."""
    token = os.environ.get("ADMIN_TOKEN", "")
    why_not = (
        "not used, ADMIN=none"
        if choice == "none"
        else "no credentials, ADMIN_TOKEN is not set and ADMIN=iam not given"
    )
    if choice == "iam":
        try:
            return sigv4(base), "IAM SigV4", why_not
        except ValueError as err:
            parser.error(str(err))
    elif choice == "token" or (choice == "auto" and token):
        if not token:
            parser.error("--admin token needs ADMIN_TOKEN")
        return bearer(token), "bearer ADMIN_TOKEN", why_not
    return None, None, why_not


if __name__ == "__main__":
    sys.exit(main())
