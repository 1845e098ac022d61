"""`make bench`: how fast newsdesk starts and answers, and what a page view costs.

In one run, on this machine:
- cold-start import time of each function's module from the `sam build` output
  (median of fresh python3.13 processes), beside `python -c pass` and `import boto3`;
- per route, on a warm in-process handler against DynamoDB Local: DynamoDB requests and
  consumed capacity (ReturnConsumedCapacity), latency p50/p99, and the floor: the same
  DynamoDB calls the route must make, timed raw with the same client;
- throughput of the local server (`python -m local run`) under concurrent clients;
- the estimated AWS bill per million page views from the list prices below.
Prints tables, checks the targets, writes artifacts/bench.json.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "newsdesk" / "python")]

BUILD = ROOT / ".aws-sam" / "build"

# AWS list prices, us-east-1, USD (checked 2026-11; storage, data transfer, CloudWatch and
# CloudFront are not included).
PRICES = {
    "lambda_arm64_gb_second": 0.0000133334,
    "lambda_request": 0.20 / 1e6,
    "http_api_request": 1.00 / 1e6,  # first 300 million a month
    "dynamodb_write_unit": 0.625 / 1e6,  # on-demand write request unit
    "dynamodb_read_unit": 0.125 / 1e6,  # on-demand read request unit
}
MEMORY_GB = 0.5  # the template's FunctionMemory default


# ---- cold starts ------------------------------------------------------------------------


def import_time_ms(python: str, statement: str, paths: list[Path], runs: int) -> float:
    """Median wall time of `statement` in fresh `python -I -S` processes whose sys.path is
    only the standard library plus `paths`: the Lambda layout of .aws-sam/build."""
    from local.tables import function_env

    prelude = f"import sys; sys.path[:0] = {[str(p) for p in paths]!r}; "
    # The template's function environment: a handler module checks its settings at import.
    env = {"PATH": os.environ["PATH"], "AWS_DEFAULT_REGION": "us-east-1", **function_env("bench")}
    samples = []
    for _ in range(runs + 1):  # the first run warms the .pyc cache and the OS page cache
        start = time.perf_counter()
        subprocess.run(
            [python, "-I", "-S", "-c", prelude + statement],
            env=env,
            check=True,
            capture_output=True,
        )
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples[1:])


def cold_starts(runs: int) -> dict[str, float]:
    from local.toolchain import python313

    python = python313()
    if python is None or not (BUILD / "PagesFunction").is_dir():
        raise SystemExit("bench: needs python3.13 and a build: run `make build` first")
    layers = [BUILD / "NewsdeskLayer" / "python", BUILD / "DependenciesLayer" / "python"]
    figures = {
        "python -c pass": import_time_ms(python, "pass", [], runs),
        "import boto3": import_time_ms(python, "import boto3", layers, runs),
        # The functions create their DynamoDB client at init (dal.warm): the fair baseline.
        "import boto3 + client": import_time_ms(
            python, "import boto3; boto3.client('dynamodb')", layers, runs
        ),
    }
    for name, function in (("pages", "PagesFunction"), ("api", "ApiFunction")):
        figures[f"import functions/{name}/app.py"] = import_time_ms(
            python, "import app", [BUILD / function, *layers], runs
        )
    return figures


_FIRST_REQUEST = """
import json, sys, time
spec = json.loads(sys.stdin.read())
sys.path[:0] = spec["paths"]
import app
class Context:
    function_name = "bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "bench-first-request"
    def get_remaining_time_in_millis(self):
        return 10_000
response = app.lambda_handler(spec["event"], Context())
assert response["statusCode"] == 200, response
"""


def first_request_ms(runs: int) -> dict[str, float]:
    """The whole cold start of the pages function, as Lambda bills it: a fresh python3.13
    process importing the built function (its init, the DynamoDB client included) and
    answering its first article view against DynamoDB Local; beside a bare process that
    imports boto3 and creates the DynamoDB client. Median of `runs` fresh processes each.
    The functions are built for this machine's architecture (local.toolchain)."""
    from local.tables import function_env
    from local.toolchain import build_for_this_machine, python313
    from tests.support import event

    python = python313()
    build = ROOT / ".aws-sam" / "bench-build"
    done = build_for_this_machine(build, Path(sys.executable).with_name("sam"))
    if python is None or done.returncode != 0:
        raise SystemExit("bench: the build for this machine failed:\n" + done.stderr[-2000:])
    layers = [build / "NewsdeskLayer" / "python", build / "DependenciesLayer" / "python"]
    env = {
        "PATH": os.environ["PATH"],
        **function_env("bench"),
        **{k: v for k, v in os.environ.items() if k.startswith("AWS_")},  # endpoint, keys
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }
    spec = json.dumps(
        {"paths": [str(p) for p in (build / "PagesFunction", *layers)], "event": event("article")}
    )
    bare = f"import sys; sys.path[:0] = {[str(p) for p in layers]!r}; " + (
        "import boto3; boto3.client('dynamodb')"
    )
    # Interleaved, bare then function in each round, and the ratio taken per round: a
    # change in the machine's load then hits both sides of a ratio alike.
    bare_ms, first_ms = [], []
    for _ in range(runs + 1):  # the first round warms the .pyc and the OS page cache
        bare_ms.append(_process_ms([python, "-I", "-S", "-c", bare], env, "", 0))
        first_ms.append(_process_ms([python, "-I", "-S", "-c", _FIRST_REQUEST], env, spec, 0))
    ratios = [f / b for b, f in zip(bare_ms[1:], first_ms[1:], strict=True)]
    return {
        "import boto3 + DynamoDB client": statistics.median(bare_ms[1:]),
        "pages function: init + first article view": statistics.median(first_ms[1:]),
        "first request / bare, median of per-round ratios": statistics.median(ratios),
        "load average (1 min) while measured": os.getloadavg()[0],
    }


def _process_ms(command: list[str], env: dict[str, str], stdin: str, runs: int) -> float:
    """Median wall time of `runs` runs of `command` after one warm-up (runs 0: one run)."""
    samples = []
    for _ in range(runs + 1):  # the first run warms the .pyc cache and the OS page cache
        start = time.perf_counter()
        subprocess.run(command, env=env, input=stdin, check=True, capture_output=True, text=True)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples[1:] or samples)


# ---- DynamoDB requests, capacity, latency ------------------------------------------------

_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


class DynamoDBMeter:
    """Counts requests and sums consumed capacity of every DynamoDB call on a client."""

    def __init__(self, client: Any) -> None:
        self.requests = 0
        self.read_units = 0.0
        self.write_units = 0.0
        client.meta.events.register("provide-client-params.dynamodb.*", self._ask_capacity)
        client.meta.events.register("after-call.dynamodb.*", self._record)

    def _ask_capacity(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if "ReturnConsumedCapacity" in model.input_shape.members:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")

    def _record(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        self.requests += 1
        consumed = parsed.get("ConsumedCapacity") or []
        entries = consumed if isinstance(consumed, list) else [consumed]
        units = sum(entry.get("CapacityUnits", 0.0) or 0.0 for entry in entries)
        # DynamoDB Local reports only CapacityUnits; the operation says which kind they are.
        if model.name in _WRITES:
            self.write_units += units
        else:
            self.read_units += units

    def snapshot(self) -> tuple[int, float, float]:
        return self.requests, self.read_units, self.write_units


def _timed(call: Callable[[], Any], n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return sorted(times)


def _p(times: list[float], q: float) -> float:
    return round(times[min(len(times) - 1, int(len(times) * q))], 2) if times else 0.0


@contextlib.contextmanager
def clocks_stopped() -> Iterator[None]:
    """No time passes for the service's clocks (wall clock and its caches' clock): a cache
    that would expire while a slow machine runs the n calls stays, so requests per call are
    the code's, not the machine's speed (a loaded run counted 2.01 requests per view)."""
    import time_machine
    from newsdesk import caches

    saved, stopped = caches.clock, caches.clock()
    caches.clock = lambda: stopped
    try:
        with time_machine.travel(time.time(), tick=False):
            yield
    finally:
        caches.clock = saved


def measure(
    meter: DynamoDBMeter, handler: Callable[[], Any], floor: Callable[[], Any] | None, n: int
) -> dict[str, float]:
    """Requests and capacity from n handler calls (clocks stopped); then latency with handler
    and floor calls interleaved, so both see the same DynamoDB Local (its latency drifts)."""
    handler()  # warm: imports, templates, caches, connections (not counted)
    with clocks_stopped():
        before = meter.snapshot()
        for _ in range(n):
            handler()
        after = meter.snapshot()
    row = {
        "dynamodb_requests": round((after[0] - before[0]) / n, 2),
        "read_units": round((after[1] - before[1]) / n, 2),
        "write_units": round((after[2] - before[2]) / n, 2),
    }
    times: list[float] = []
    raw: list[float] = []
    if floor is not None:
        floor()
    for _ in range(n):
        times += _timed(handler, 1)
        if floor is not None:
            raw += _timed(floor, 1)
    times.sort()
    raw.sort()
    row["p50_ms"] = _p(times, 0.5)
    row["p99_ms"] = _p(times, 0.99)
    if floor is not None:
        row["floor_p50_ms"] = _p(raw, 0.5)
        row["floor_p99_ms"] = _p(raw, 0.99)
        row["vs_floor"] = round(row["p50_ms"] / max(row["floor_p50_ms"], 0.001), 2)
    return row


@contextlib.contextmanager
def dynamodb_local() -> Iterator[str]:
    from local import dynamodb

    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "POWERTOOLS_METRICS_NAMESPACE": "newsdesk",
            "POWERTOOLS_SERVICE_NAME": "newsdesk",
            "MAX_VISITORS_PER_ADDRESS": "1000000",
        }
    )
    dynamodb.ensure_jar()
    handle = dynamodb.start(in_memory=True, allow_moto=False)
    try:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = handle.endpoint
        yield handle.endpoint
    finally:
        handle.stop()


def routes(n: int) -> dict[str, dict[str, float]]:
    """Per route, `measure`'s row (requests, units, latency, floor): render mode, then beacon
    mode, then render mode with VIEW_DEDUPE_SECONDS=0. Leaves COUNT_MODE=render set."""
    client, meter = _tables_and_meter()
    from newsdesk.config import settings

    calls = _Calls(n)
    floors = _Floors(client)
    returning_visitor = calls.returning_visitor()
    # DynamoDB Local is a JVM: warm its JIT first, or the first route measured pays for it.
    warm = calls.handler("pages", "article", new_reader=True)
    for _ in range(n):
        warm()
        floors.counted_view()
    rows = _render_mode_rows(meter, calls, floors, returning_visitor, n)
    _switch(settings, COUNT_MODE="beacon")
    rows["GET /articles/{slug} beacon mode"] = measure(
        meter, calls.handler("pages", "article", new_reader=True), floors.read_counter, n
    )
    rows["POST /api/articles/{slug}/views beacon"] = measure(
        meter,
        calls.handler("api", "article-view-beacon", new_reader=True),
        floors.counted_view,
        n,
    )
    _switch(settings, VIEW_DEDUPE_SECONDS="0", COUNT_MODE="render")
    rows["GET /articles/{slug} counted, VIEW_DEDUPE_SECONDS=0"] = measure(
        meter,
        calls.handler("pages", "article", new_reader=True),
        _both(floors.presence_and_visit, floors.add_view),
        n,
    )
    _switch(settings, VIEW_DEDUPE_SECONDS=None)
    rows[REFRESH] = measure(meter, calls.cold_figures(), floors.figures, n)
    rows[PEER] = _peer_row(client, n)
    return rows


PEER = "peer: UpdateItem ADD then GetItem (every request a view)"
REFRESH = "online now and total visits, read afresh (any audience)"


def _peer_row(newsdesk_client: Any, n: int) -> dict[str, float]:
    """scripts/peer_counter.py's handler on the counters table of DynamoDB Local, measured as
    the routes are (no floor: it is the floor of a counter with no rules)."""
    import boto3
    from newsdesk.config import settings
    from peer_counter import make_handler

    from tests.support import event

    client = boto3.client("dynamodb", endpoint_url=newsdesk_client.meta.endpoint_url)
    handler = make_handler(client, settings().counters_table)
    ready = event("article")
    return measure(DynamoDBMeter(client), lambda: handler(ready), None, n)


def _tables_and_meter() -> tuple[Any, DynamoDBMeter]:
    """The template's tables on DynamoDB Local (their names in os.environ), the sample
    articles imported; the newsdesk client and a meter on it."""
    import boto3

    from local import tables

    os.environ.update(tables.create_tables(boto3.client("dynamodb"), "bench"))
    from newsdesk.dal import db

    from tests.support import import_fixture

    db.reset()
    import_fixture()
    client = db.client()
    return client, DynamoDBMeter(client)


def _switch(settings: Any, **env: str | None) -> None:
    """Set (None: remove) environment variables and drop the cached settings."""
    for name, value in env.items():
        if value is None:
            os.environ.pop(name)
        else:
            os.environ[name] = value
    settings.cache_clear()


def _both(*calls: Callable[[], Any]) -> Callable[[], None]:
    def run() -> None:
        for call in calls:
            call()

    return run


def _render_mode_rows(
    meter: DynamoDBMeter,
    calls: _Calls,
    floors: _Floors,
    returning_visitor: Callable[[], Any],
    n: int,
) -> dict[str, dict[str, float]]:
    return {
        "GET /articles/{slug} counted view": measure(
            meter,
            calls.handler("pages", "article", new_reader=True),
            floors.counted_view,
            n,
        ),
        "GET /articles/{slug} repeat view": measure(
            meter, calls.handler("pages", "article"), floors.refused_marker, n
        ),
        "GET /articles/{slug} bot": measure(
            meter, calls.handler("pages", "article-bot"), floors.read_counter, n
        ),
        "GET /": measure(meter, calls.handler("pages", "index"), floors.listing, n),
        "GET /api/articles/{slug}/views": measure(
            meter, calls.handler("api", "article-views"), floors.article_and_counter, n
        ),
        "POST /api/visits new visit": measure(
            meter, calls.handler("api", "visits", new_reader=True), floors.presence_and_visit, n
        ),
        "POST /api/visits same visitor <30 s": measure(
            meter, calls.handler("api", "visits"), None, n
        ),
        "heartbeat every 31 s (incl. stats refresh)": measure(meter, returning_visitor, None, n),
        "GET /api/stats": measure(meter, calls.handler("api", "stats"), None, n),
    }


class _Calls:
    """Handler invocations for `measure`, on events made before the clock starts: only the
    handler is timed. Each call uses an event of its own (2 * n + 2 made per handler)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self._readers = count(1000)

    def handler(self, fn: str, name: str, new_reader: bool = False) -> Callable[[], Any]:
        """Invoke function `fn` ("pages", "api") with the support event `name`; a new
        reader's (fresh visitor) each time with `new_reader`."""
        from tests.support import event, invoke, reader

        ready = [
            reader(next(self._readers), name) if new_reader else event(name)
            for _ in range(2 * self.n + 2)
        ]
        sink = io.StringIO()

        def call() -> Any:
            with contextlib.redirect_stdout(sink):  # metrics go to stdout
                response = invoke(fn, ready.pop())
            sink.seek(0)
            sink.truncate()
            assert response["statusCode"] < 500, response
            return response

        return call

    @staticmethod
    def cold_figures() -> Callable[[], Any]:
        """presence.current_figures with this container's cache emptied first: the read a
        container makes every STATS_CACHE_SECONDS."""
        from newsdesk import caches, presence

        def call() -> Any:
            caches.clear_all()
            return presence.current_figures()

        return call

    @staticmethod
    def returning_visitor() -> Callable[[], Any]:
        """presence.heartbeat for one visitor, 31 s (simulated) after its last: one write
        each."""
        from newsdesk import presence

        returning = "b" * 32
        clock = count(1)
        start = datetime.now(UTC)

        def call() -> Any:
            return presence.heartbeat(returning, start + timedelta(seconds=31 * next(clock)))

        return call


class _Floors:
    """The floor of each route: the data-layer calls it must make (the same requests, with
    the same expressions), timed without the handler around them."""

    def __init__(self, client: Any) -> None:
        from newsdesk import api, articles
        from newsdesk.config import settings
        from newsdesk.dal import counters

        from tests.support import SLUG

        self.client = client
        self.conf = settings()
        self.slug = SLUG
        self.api, self.articles, self.counters = api, articles, counters
        self._raw_ids = count()

    def _visitor_write(self, marker: bool) -> Any:
        """The reader's one write (presence, visit gap, repeat-view window) for a new one."""
        from newsdesk.dal import connections

        now = int(time.time())
        window = connections.Marker(connections.marker_name(self.slug), now * 1000, now * 1000 + 1)
        return connections.record(
            f"{next(self._raw_ids):032x}",
            now,
            5400,
            bucket=now // 30 * 30,
            bucket_size=30,
            marker=window if marker else None,
        )

    def _bucket_write(self) -> None:
        """A new reader's arrival and visit in the online-now bucket."""
        now = int(time.time()) // 30 * 30
        self.counters.add_to_bucket(
            self.counters.bucket_key(30, now), {"n0": 1, "n1": 1, "v": 1}, now + 86400
        )

    def counted_view(self) -> None:  # a new reader's counted view: its three writes
        self._visitor_write(marker=True)
        self._bucket_write()
        self.counters.add_view(self.slug)

    def add_view(self) -> None:
        self.counters.add_view(self.slug)

    def refused_marker(self) -> None:  # a repeat view: the reader's write, refused
        from newsdesk.dal import connections

        with contextlib.suppress(connections.RepeatView):
            connections.record(
                "f" * 32,
                int(time.time()),
                5400,
                marker=connections.Marker("m00000000", int(time.time() * 1000), 2**50),
            )

    def read_counter(self) -> None:
        self.counters.views_of([self.slug])

    def article_and_counter(self) -> None:
        self.api.views_of_published(self.slug)

    def listing(self) -> None:
        page = self.articles.list_published(self.conf.page_size)
        self.counters.views_of(a.slug for a in page.articles)

    def presence_and_visit(self) -> None:  # a new visitor's heartbeat: their item, the bucket
        self._visitor_write(marker=False)
        self._bucket_write()

    def figures(self) -> None:  # the site item, 7 visit shards, 11 buckets: one request
        now = int(time.time()) // 30 * 30
        keys = [self.counters.SITE_KEY] + [self.counters.visit_shard_key(s) for s in range(7)]
        keys += [self.counters.bucket_key(30, now - 30 * i) for i in range(11)]
        self.counters.read_items(keys)


# ---- local server throughput ---------------------------------------------------------------


def throughput(seconds: float, clients: int) -> dict[str, dict[str, float]]:
    """`python -m local run` in its own process; `clients` threads here for `seconds`."""
    from local.dynamodb import free_port
    from tests.support import PHONE_UA, SLUG

    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }
    (ROOT / "artifacts").mkdir(exist_ok=True)  # not in a fresh clone
    log = (ROOT / "artifacts" / "bench-server.log").open("w")  # a pipe left unread would fill
    server = subprocess.Popen(
        [sys.executable, "-m", "local", "run"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{base}/api/stats", timeout=2).read()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("bench: the local server did not start")
        results = {}
        for label, path, method in (
            ("GET /articles/{slug} (counted views)", f"/articles/{SLUG}", "GET"),
            ("POST /api/visits", "/api/visits", "POST"),
        ):
            results[label] = _load(base + path, method, seconds, clients, PHONE_UA)
        return results
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _load(url: str, method: str, seconds: float, clients: int, ua: str) -> dict[str, float]:
    stop = time.perf_counter() + seconds
    ids = count()
    lock = threading.Lock()
    times: list[float] = []
    errors = 0

    def client(_: int) -> None:
        nonlocal errors
        while time.perf_counter() < stop:
            request = urllib.request.Request(
                url,
                method=method,
                data=b"" if method == "POST" else None,
                headers={"User-Agent": f"{ua} c{next(ids)}"},
            )
            start = time.perf_counter()
            try:
                urllib.request.urlopen(request, timeout=10).read()
                ok = True
            except OSError:
                ok = False
            with lock:
                if ok:
                    times.append((time.perf_counter() - start) * 1000)
                else:
                    errors += 1

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(client, range(clients)))
    elapsed = time.perf_counter() - began
    times.sort()
    return {
        "clients": clients,
        "requests_per_second": round(len(times) / elapsed, 1),
        "p50_ms": _p(times, 0.5),
        "p99_ms": _p(times, 0.99),
        "errors": errors,
    }


# ---- cost ------------------------------------------------------------------------------------


def request_cost(row: dict[str, float]) -> float:
    """One request through API Gateway and Lambda (billed per 1 ms) and its DynamoDB units."""
    billed_ms = max(1.0, round(row["p50_ms"] + 0.5))
    return (
        PRICES["http_api_request"]
        + PRICES["lambda_request"]
        + billed_ms / 1000 * MEMORY_GB * PRICES["lambda_arm64_gb_second"]
        + row["write_units"] * PRICES["dynamodb_write_unit"]
        + row["read_units"] * PRICES["dynamodb_read_unit"]
    )


def costs(rows: dict[str, dict[str, float]], mix_units: float) -> dict[str, float]:
    """USD per million page views. A page view = the page request, which registers the
    reader's presence and visit too (the widget sends no heartbeat on load; a reader who
    stays sends one a minute: see per-heartbeat), or in beacon mode the beacon. The new
    reader's view (its first of a visit: 3 write units) is the worst case; a million page
    views of real readers mix first views, later views and repeats, whose write units per
    page view `mix_units` the traffic model measures (scripts/traffic_model.py, 100 readers
    online: the smallest audience, where the most views move a reader's bucket)."""
    page = rows["GET /articles/{slug} counted view"]
    beacon = rows["POST /api/articles/{slug}/views beacon"]
    return {
        "render mode, every view a new reader's (worst case)": round(1e6 * request_cost(page), 2),
        "beacon mode, every view a new reader's (worst case)": round(1e6 * request_cost(beacon), 2),
        f"render mode, page views as the traffic model mixes them ({mix_units:.2f} WCU)": round(
            1e6 * request_cost({**page, "write_units": mix_units}), 2
        ),
        f"beacon mode behind a CDN, as mixed ({mix_units:.2f} WCU)": round(
            1e6 * request_cost({**beacon, "write_units": mix_units}), 2
        ),
        "each further heartbeat (per million)": round(
            1e6 * request_cost(rows["heartbeat every 31 s (incl. stats refresh)"]), 2
        ),
    }


def traffic_mix() -> float:
    """Write units per page view in the traffic model at 100 readers online (a few seconds;
    it runs on its own in-memory client, so the bench's DynamoDB Local is left alone)."""
    import traffic_model
    from newsdesk.dal import db

    client = db.client
    try:
        return traffic_model.run(100, 900).units_per_view
    finally:
        db.client = client  # type: ignore[method-assign]
        db.reset()


# ---- targets and report ----------------------------------------------------------------------


def targets(
    imports: dict[str, float], rows: dict[str, dict[str, float]], bill: dict[str, float]
) -> list[tuple[str, bool]]:
    boto3_ms = imports["import boto3 + client"]
    counted = rows["GET /articles/{slug} counted view"]
    peer = rows[PEER]
    units = counted["write_units"] + counted["read_units"]
    return [
        # Issue 15's targets (a counted view registers presence and a new visit too).
        ("counted view <= 3 write units", counted["write_units"] <= 3),
        (
            "render mode <= $3.00 per million page views (the traffic model's mix)",
            next(v for k, v in bill.items() if k.startswith("render mode, page views")) <= 3.00,
        ),
        (
            "beacon mode <= $3.00 per million page views (the traffic model's mix)",
            next(v for k, v in bill.items() if k.startswith("beacon mode behind")) <= 3.00,
        ),
        (
            "counted view: no more DynamoDB requests than the peer",
            counted["dynamodb_requests"] <= peer["dynamodb_requests"],
        ),
        (
            "counted view: no more capacity units than the peer",
            units <= peer["write_units"] + peer["read_units"],
        ),
        # A new reader's view: their item (presence, visit gap, repeat-view window), the
        # online-now bucket (arrival and visit), the counter.
        ("counted view <= 3 DynamoDB requests", counted["dynamodb_requests"] <= 3),
        (
            "online now, read afresh: <= 2 requests and <= 10 read units at any audience",
            rows[REFRESH]["dynamodb_requests"] <= 2 and rows[REFRESH]["read_units"] <= 10,
        ),
        (
            "repeat view <= 1 DynamoDB request",
            rows["GET /articles/{slug} repeat view"]["dynamodb_requests"] <= 1,
        ),
        (
            "counted view with dedupe off: <= 3 requests",
            rows["GET /articles/{slug} counted, VIEW_DEDUPE_SECONDS=0"]["dynamodb_requests"] <= 3,
        ),
        (
            "heartbeat flood: no writes",
            rows["POST /api/visits same visitor <30 s"]["write_units"] == 0,
        ),
        (
            "cold start: init + first article view <= 1.5x import boto3 + client",
            imports["first request / bare, median of per-round ratios"] <= 1.5,
        ),
        (
            "cold import (pages, client included) <= 1.5x import boto3 + client",
            imports["import functions/pages/app.py"] <= 1.5 * boto3_ms,
        ),
        (
            "cold import (api, client included) <= 1.5x import boto3 + client",
            imports["import functions/api/app.py"] <= 1.5 * boto3_ms,
        ),
        ("warm counted view <= 1.3x its DynamoDB floor", counted.get("vs_floor", 99) <= 1.3),
    ]


def _print_first_request(first: dict[str, float]) -> dict[str, float]:
    bare = first["import boto3 + DynamoDB client"]
    for name in ("import boto3 + DynamoDB client", "pages function: init + first article view"):
        print(f"  {name:<44} {first[name]:8.1f} ms  {first[name] / bare:.2f}x")
    ratio = first["first request / bare, median of per-round ratios"]
    load = first["load average (1 min) while measured"]
    print(f"  median of the per-round ratios: {ratio:.2f}x (load average {load:.1f})")
    return first


def main() -> int:
    args = _arguments()
    print(f"==> cold-start imports (median of {args.runs} fresh processes)", flush=True)
    imports = cold_starts(args.runs)
    for name, ms in imports.items():
        ratio = f"{ms / imports['import boto3 + client']:.2f}x" if "functions" in name else ""
        print(f"  {name:<32} {ms:8.1f} ms  {ratio}")

    with dynamodb_local():
        print(f"==> warm requests against DynamoDB Local ({args.requests} each)", flush=True)
        rows = routes(args.requests)
        _print_routes(rows)
        print("==> cold start, whole: init and the first request (fresh processes, interleaved)")
        imports.update(_print_first_request(first_request_ms(args.runs)))
        print(
            f"==> local server throughput ({args.clients} clients, {args.seconds:g} s each)",
            flush=True,
        )
        load = throughput(args.seconds, args.clients)
        for label, r in load.items():
            print(
                f"  {label:<40} {r['requests_per_second']:>7.1f} req/s  p50 {r['p50_ms']} ms"
                f"  p99 {r['p99_ms']} ms  errors {r['errors']}"
            )

    print("==> who counts: the bot filter beside crawlerdetect alone", flush=True)
    from bench_bots import run as who_counts  # scripts/bench_bots.py (issue 13)

    who_counts()  # prints its tables and targets
    bill = costs(rows, traffic_mix())
    print("==> estimated AWS cost, USD per million (us-east-1 list prices, 512 MB arm64)")
    for label, usd in bill.items():
        print(f"  {label:<64} ${usd:.2f}")
    checks = targets(imports, rows, bill)
    print("==> targets")
    for label, ok in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {label}")

    out = Path(args.out)
    _write_json(out, imports, rows, load, bill, checks)
    print(f"==> wrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10, help="fresh processes per import figure")
    parser.add_argument("--requests", type=int, default=300, help="warm requests per route")
    parser.add_argument("--seconds", type=float, default=5, help="duration of each load test")
    parser.add_argument("--clients", type=int, default=8, help="concurrent load-test clients")
    parser.add_argument("--out", default=str(ROOT / "artifacts" / "bench.json"))
    return parser.parse_args()


def _print_routes(rows: dict[str, dict[str, float]]) -> None:
    print(
        f"  {'route':<52} {'req':>5} {'RCU':>5} {'WCU':>5} {'p50':>7} {'p99':>7}"
        f" {'floor50':>7} {'x':>5}"
    )
    for route, r in rows.items():
        floor = (
            f"{r['floor_p50_ms']:>7.2f} {r['vs_floor']:>5.2f}"
            if "floor_p50_ms" in r
            else f"{'-':>7} {'-':>5}"
        )
        print(
            f"  {route:<52} {r['dynamodb_requests']:>5.2f} {r['read_units']:>5.2f} "
            f"{r['write_units']:>5.2f} {r['p50_ms']:>7.2f} {r['p99_ms']:>7.2f} {floor}"
        )


def _write_json(
    out: Path,
    imports: dict[str, float],
    rows: dict[str, dict[str, float]],
    load: dict[str, dict[str, float]],
    bill: dict[str, float],
    checks: list[tuple[str, bool]],
) -> None:
    """artifacts/bench.json (or --out): every figure of the run, the prices used."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "python": "3.13 (imports), " + sys.version.split()[0] + " (handlers)",
                "imports_ms": imports,
                "routes": rows,
                "local_server": load,
                "prices": PRICES,
                "usd_per_million": bill,
                "targets": dict(checks),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
