"""A bounded load test of the local stack: readers on an article page, its beacon and the
visitor widget's heartbeat, with exact counts checked at the end.

    .venv/bin/python scripts/load.py                         # 32 clients for 30 s, own stack
    .venv/bin/python scripts/load.py --clients 8 --seconds 5
    .venv/bin/python scripts/load.py --url http://127.0.0.1:3000 --slug SLUG
    .venv/bin/python scripts/load.py --root /tmp/other-checkout   # compare another version

Without --url it starts its own stack and stops it at the end: DynamoDB Local in memory on
a free port and `python -m local run` (what `make run` runs, with its settings) from --root
on another free port. It only talks to loopback addresses, stops after --seconds or
--requests, whichever comes first, and exits 1 when any answer is >= 500 or a count is not
exact. The visit total is cached per environment for STATS_CACHE_SECONDS (10 s by default),
so the final check waits up to --settle seconds for it to show every visit.

Every request is a new reader: its own source address in 127.0.0.0/8 (Linux routes that whole
block to the loopback interface) and its own User-Agent, so each has its own cookieless
visitor id (newsdesk/identity.py), whatever MAX_VISITORS_PER_ADDRESS is. The mix, per client
in turn: article pages (each counts one view), fresh beacons (POST /api/articles/{slug}/views:
counted), repeat beacons from a reader who just viewed the page (not counted: within
VIEW_DEDUPE_SECONDS), and heartbeats (POST /api/visits: one visit each). At the end the
article's views must have grown by exactly the pages and fresh beacons answered 200, and the
visit total by exactly those plus the heartbeats answered 200 (a counted view registers its
new reader's visit; a repeat beacon is the same visit).
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
for _path in (str(ROOT / "layers" / "newsdesk" / "python"), str(ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

BROWSER_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
# Per client, in turn (each client starts at its own place in the cycle).
PATTERN = ("page", "beat", "beacon", "page", "repeat", "beat", "page", "beacon", "beat", "page")
MAX_CLIENTS = 256
MAX_SECONDS = 600.0
MAX_REQUESTS = 1_000_000


class LoadError(Exception):
    """The load cannot run (bad arguments, stack not starting); the message says why."""


@dataclass
class Report:
    """What one run did and saw. Latencies in milliseconds; counts are of answers."""

    clients: int
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    by_kind: Counter[str] = field(default_factory=Counter)  # answered 200, by request kind
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)  # no HTTP answer, by exception
    views: tuple[int, int, int] = (0, 0, 0)  # before, expected after, after
    visits: tuple[int, int, int] = (0, 0, 0)
    problems: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + sum(self.errors.values())

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.server_errors and not self.errors

    def percentile(self, share: float) -> float:
        times = sorted(self.latencies_ms)
        if not times:
            return 0.0
        return round(times[min(len(times) - 1, int(share * len(times)))], 1)

    def lines(self) -> list[str]:
        rate = self.requests / self.seconds if self.seconds else 0.0
        out = [
            f"{self.requests} requests by {self.clients} clients in {self.seconds:.1f} s: "
            f"{rate:.1f} requests/s, p50 {self.percentile(0.5)} ms, "
            f"p99 {self.percentile(0.99)} ms",
            "statuses: " + ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items())),
            "answered 200 by kind: "
            + ", ".join(f"{k} {n}" for k, n in sorted(self.by_kind.items())),
            "views: before {}, expected {}, after {}".format(*self.views),
            "visits: before {}, expected {}, after {}".format(*self.visits),
        ]
        if self.errors:
            out.append("no answer: " + ", ".join(f"{k} x{n}" for k, n in self.errors.items()))
        out += [f"PROBLEM: {p}" for p in self.problems]
        out.append("OK: no answer >= 500 and every count exact" if self.ok else "FAILED")
        return out


def _loopback(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname or not parts.port:
        raise LoadError(f"--url must look like http://127.0.0.1:PORT, got {url!r}")
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port)}
    except OSError as err:
        raise LoadError(f"cannot resolve {parts.hostname}: {err}") from None
    if not all(ipaddress.ip_address(str(a).split("%")[0]).is_loopback for a in addresses):
        raise LoadError(f"{parts.hostname} is not a loopback address: this tool stays local")
    return parts.hostname, parts.port


class _Readers:
    """Fresh reader identities: a source address in 127.0.0.0/8 and a User-Agent each."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = secrets.randbelow(1_000_000)  # another run gets other addresses...
        self._run = secrets.token_hex(4)  # ...and other User-Agents anyway

    def new(self) -> tuple[str, str]:
        with self._lock:
            n = self._next
            self._next += 1
        high, rest = divmod(n % (254 * 256 * 254), 256 * 254)
        mid, low = divmod(rest, 254)
        return f"127.{1 + high}.{mid}.{1 + low}", f"{BROWSER_UA} load/{self._run}/{n}"


def _request(
    host: str, port: int, method: str, path: str, reader: tuple[str, str] | None = None
) -> tuple[int, bytes]:
    source = (reader[0], 0) if reader else None
    conn = http.client.HTTPConnection(host, port, timeout=60, source_address=source)
    try:
        headers = {"Connection": "close", "Accept": "text/html,application/json"}
        headers["User-Agent"] = reader[1] if reader else "newsdesk-load/1 (figures)"
        conn.request(method, path, body=b"" if method == "POST" else None, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _figures(host: str, port: int, slug: str) -> tuple[int, int]:
    """(the article's views, the site's visit total) as the API shows them."""
    status, body = _request(host, port, "GET", f"/api/articles/{quote(slug)}/views")
    if status != 200:
        raise LoadError(f"GET /api/articles/{slug}/views answered {status}: {body[:200]!r}")
    views = int(json.loads(body)["views"])
    status, body = _request(host, port, "GET", "/api/stats")
    if status != 200:
        raise LoadError(f"GET /api/stats answered {status}: {body[:200]!r}")
    return views, int(json.loads(body)["total"])


def run_load(
    base_url: str,
    slug: str,
    *,
    clients: int = 32,
    seconds: float = 30.0,
    requests: int = MAX_REQUESTS,
    settle: float = 15.0,
) -> Report:
    """Run the load against base_url (loopback only) and check the counts.

    Stops after `seconds` or `requests` requests in all, whichever comes first. `settle`:
    seconds to wait for the visit total to show every visit (it is cached per environment
    for STATS_CACHE_SECONDS; 0 there makes it exact at once)."""
    _check_bounds(clients, seconds, requests)
    host, port = _loopback(base_url)
    report = Report(clients)
    before = _figures(host, port, slug)
    readers = _Clients(host, port, slug, report, requests, seconds)
    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=clients, thread_name_prefix="reader") as pool:
        list(pool.map(readers.client, range(clients)))
    report.seconds = time.monotonic() - began
    _check_counts(host, port, slug, report, before, settle)
    return report


def _check_bounds(clients: int, seconds: float, requests: int) -> None:
    if not 1 <= clients <= MAX_CLIENTS:
        raise LoadError(f"clients must be 1..{MAX_CLIENTS}")
    if not 0 < seconds <= MAX_SECONDS or not 1 <= requests <= MAX_REQUESTS:
        raise LoadError(f"seconds must be in (0, {MAX_SECONDS:g}], requests 1..{MAX_REQUESTS}")


class _Clients:
    """The clients of one run: each sends PATTERN in turn as fresh readers, until the run's
    time is up or its budget of `requests` is spent, and records the answers in `report`."""

    def __init__(
        self, host: str, port: int, slug: str, report: Report, requests: int, seconds: float
    ) -> None:
        self.host = host
        self.port = port
        self.report = report
        self.readers = _Readers()
        self.lock = threading.Lock()
        self.budget = iter(range(requests))
        article = f"/articles/{quote(slug)}"
        beacon = f"/api/articles/{quote(slug)}/views"
        self.routes = {
            "page": ("GET", article),
            "beacon": ("POST", beacon),
            "repeat": ("POST", beacon),
            "beat": ("POST", "/api/visits"),
        }
        self.stop_at = time.monotonic() + seconds

    def client(self, number: int) -> None:
        """One client: its requests, starting at place `number` in PATTERN. A repeat beacon
        comes from the reader who last viewed the page (a page the first time)."""
        last_viewer: tuple[str, str] | None = None
        turn = number
        while time.monotonic() < self.stop_at and next(self.budget, None) is not None:
            kind = PATTERN[turn % len(PATTERN)]
            turn += 1
            if kind == "repeat" and last_viewer is None:
                kind = "page"
            reader = last_viewer if kind == "repeat" and last_viewer else self.readers.new()
            self.one(kind, reader)
            if kind in ("page", "beacon"):
                last_viewer = reader

    def one(self, kind: str, reader: tuple[str, str]) -> None:
        """One request of `kind` as `reader`, recorded: its status and latency, or the
        exception when there was no answer."""
        method, path = self.routes[kind]
        started = time.perf_counter()
        try:
            status, body = _request(self.host, self.port, method, path, reader)
        except OSError as err:
            with self.lock:
                self.report.errors[type(err).__name__] += 1
            return
        took = (time.perf_counter() - started) * 1000
        problem = _beacon_problem(kind, status, body)
        with self.lock:
            self.report.statuses[status] += 1
            self.report.latencies_ms.append(took)
            if status == 200:
                self.report.by_kind[kind] += 1
            if problem and len(self.report.problems) < 20:
                self.report.problems.append(problem)


def _beacon_problem(kind: str, status: int, body: bytes) -> str | None:
    """A fresh beacon must answer counted=true, a repeat one counted=false."""
    if status == 200 and kind in ("beacon", "repeat"):
        counted = json.loads(body).get("counted")
        if counted is not (kind == "beacon"):
            return f"a {kind} beacon answered counted={counted}"
    return None


def _check_counts(
    host: str, port: int, slug: str, report: Report, before: tuple[int, int], settle: float
) -> None:
    """The views grew by the pages and fresh beacons answered 200, the visits by those and
    the heartbeats answered 200 (each a new reader); a mismatch is a problem in `report`."""
    views_before, visits_before = before
    counted = report.by_kind["page"] + report.by_kind["beacon"]
    expected_views = views_before + counted
    expected_visits = visits_before + counted + report.by_kind["beat"]
    views_after, visits_after = _settled_figures(host, port, slug, expected_visits, settle)
    report.views = (views_before, expected_views, views_after)
    report.visits = (visits_before, expected_visits, visits_after)
    if views_after != expected_views:
        report.problems.append(f"views: expected {expected_views}, the API shows {views_after}")
    if visits_after != expected_visits:
        report.problems.append(f"visits: expected {expected_visits}, the API shows {visits_after}")


def _settled_figures(
    host: str, port: int, slug: str, expected_visits: int, settle: float
) -> tuple[int, int]:
    """_figures, read again for up to `settle` seconds while the visits are below
    `expected_visits`."""
    views_after, visits_after = _figures(host, port, slug)
    settle_until = time.monotonic() + settle
    while visits_after < expected_visits and time.monotonic() < settle_until:
        time.sleep(0.5)  # cached figures: wait for the cache to expire
        views_after, visits_after = _figures(host, port, slug)
    return views_after, visits_after


# ------------------------------------------------------------------ the stack, when not given


@contextmanager
def own_stack(root: Path, concurrency: int | None, log_path: Path) -> Iterator[str]:
    """DynamoDB Local (in memory) and `python -m local run` from `root`, both on free ports;
    yields the base URL and stops both."""
    from local import dynamodb

    handle = dynamodb.start(in_memory=True, allow_moto=False)
    try:
        port = dynamodb.free_port()
        env = {
            **os.environ,
            "PORT": str(port),
            "AWS_ENDPOINT_URL_DYNAMODB": handle.endpoint,
        }
        if concurrency is not None:
            env["LAMBDA_CONCURRENCY"] = str(concurrency)
        with log_path.open("wb") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "local", "run"],
                cwd=root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                base = f"http://127.0.0.1:{port}"
                _wait_until_serving(base, server, log_path)
                yield base
            finally:
                server.send_signal(signal.SIGTERM)  # `python -m local run` stops cleanly
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait(timeout=10)
    finally:
        handle.stop()


def _wait_until_serving(base: str, server: subprocess.Popen[bytes], log_path: Path) -> None:
    host, port = _loopback(base)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise LoadError(f"`python -m local run` exited ({server.returncode}):\n{tail}")
        try:
            if _request(host, port, "GET", "/api/stats")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise LoadError(f"`python -m local run` did not answer within 180 s (log: {log_path})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="a running local server (loopback only); default: own")
    parser.add_argument("--slug", help="the article to read (default: the sample article)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--requests", type=int, default=MAX_REQUESTS, help="at most, in all")
    parser.add_argument("--concurrency", type=int, help="LAMBDA_CONCURRENCY for the own stack")
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout to run (own stack)")
    parser.add_argument("--settle", type=float, default=15.0, help="seconds, see run_load")
    args = parser.parse_args(argv)
    if args.slug is None:
        from tests.support import SLUG

        args.slug = SLUG
    log_path = Path(tempfile.gettempdir()) / f"newsdesk-load-{os.getpid()}.log"
    try:
        if args.url:
            report = run_load(
                args.url,
                args.slug,
                clients=args.clients,
                seconds=args.seconds,
                requests=args.requests,
                settle=args.settle,
            )
        else:
            with own_stack(args.root.resolve(), args.concurrency, log_path) as url:
                print(f"own stack at {url} (server log: {log_path})", flush=True)
                report = run_load(
                    url,
                    args.slug,
                    clients=args.clients,
                    seconds=args.seconds,
                    requests=args.requests,
                    settle=args.settle,
                )
    except LoadError as err:
        print(f"load: {err}", file=sys.stderr)
        return 2
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
