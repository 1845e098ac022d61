"""`make bench`: what a page view costs and how fast a cold start imports.

Measures, in one run:
- cold-start import time of each function's module (`python -X importtime`, median of
  fresh processes) beside a bare `python -c pass` and a bare `import boto3`;
- DynamoDB requests and consumed capacity (ReturnConsumedCapacity) per request of each
  route on a warm function, against DynamoDB Local;
- warm in-process handler latency per route.
Prints a table and writes artifacts/bench.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "newsdesk" / "python")]

BUILD = ROOT / ".aws-sam" / "build"


def import_time_ms(python: str, statement: str, paths: list[Path], runs: int) -> float:
    """Median wall time of `statement` in fresh `python -I -S` processes whose sys.path is
    only the standard library plus `paths`: the Lambda layout of .aws-sam/build."""
    prelude = f"import sys; sys.path[:0] = {[str(p) for p in paths]!r}; "
    env = {
        "PATH": os.environ["PATH"],
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
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
    """Import times from the built artifact (run `make build` first) on python3.13."""
    from local.toolchain import python313

    python = python313()
    if python is None or not (BUILD / "PagesFunction").is_dir():
        raise SystemExit("bench: needs python3.13 and a build: run `make build` first")
    layers = [BUILD / "NewsdeskLayer" / "python", BUILD / "DependenciesLayer" / "python"]
    figures = {
        "python -c pass": import_time_ms(python, "pass", [], runs),
        "import boto3": import_time_ms(python, "import boto3", layers, runs),
    }
    for name, function in (("pages", "PagesFunction"), ("api", "ApiFunction")):
        figures[f"import functions/{name}/app.py"] = import_time_ms(
            python, "import app", [BUILD / function, *layers], runs
        )
    return figures


_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


class DynamoDBMeter:
    """Counts requests and sums consumed capacity of every DynamoDB call on a client."""

    def __init__(self, client: Any) -> None:
        self.requests = 0
        self.read_units = 0.0
        self.write_units = 0.0
        events = client.meta.events
        events.register("provide-client-params.dynamodb.*", self._ask_capacity)
        events.register("after-call.dynamodb.*", self._record)

    def _ask_capacity(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if "ReturnConsumedCapacity" in model.input_shape.members:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")

    def _record(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        self.requests += 1
        consumed = parsed.get("ConsumedCapacity") or []
        units = sum(
            entry.get("CapacityUnits", 0.0) or 0.0
            for entry in (consumed if isinstance(consumed, list) else [consumed])
        )
        # DynamoDB Local reports only CapacityUnits; the operation says which kind they are.
        if model.name in _WRITES:
            self.write_units += units
        else:
            self.read_units += units

    def snapshot(self) -> tuple[int, float, float]:
        return self.requests, self.read_units, self.write_units


def per_request(meter: DynamoDBMeter, call: Callable[[], Any], n: int) -> dict[str, float]:
    call()  # warm: imports, templates, connections
    before = meter.snapshot()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    after = meter.snapshot()
    times.sort()
    return {
        "dynamodb_requests": (after[0] - before[0]) / n,
        "read_units": round((after[1] - before[1]) / n, 2),
        "write_units": round((after[2] - before[2]) / n, 2),
        "p50_ms": round(statistics.median(times), 2),
        "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 2),
    }


def page_costs(n: int) -> dict[str, dict[str, float]]:
    from local import dynamodb, tables

    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "POWERTOOLS_METRICS_NAMESPACE": "newsdesk",
            "POWERTOOLS_SERVICE_NAME": "newsdesk",
        }
    )
    dynamodb.ensure_jar()
    handle = dynamodb.start(in_memory=True, allow_moto=False)
    try:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = handle.endpoint
        import boto3

        names = tables.create_tables(boto3.client("dynamodb"), "bench")
        os.environ.update(names)
        from datetime import UTC, datetime, timedelta
        from itertools import count

        from newsdesk import db, presence
        from newsdesk.config import settings

        from tests.support import event, import_fixture, invoke, reader

        db.reset()
        import_fixture()
        meter = DynamoDBMeter(db.client())
        readers = count(1000)
        import contextlib
        import io

        def quiet(
            fn: str, name: str, new_reader: bool = False, **changes: Any
        ) -> Callable[[], Any]:
            def call() -> Any:
                data = reader(next(readers), name, **changes) if new_reader else event(name)
                with contextlib.redirect_stdout(io.StringIO()):
                    response = invoke(fn, data)
                assert response["statusCode"] < 500, response
                return response

            return call

        clock = count(1)
        returning = "b" * 32
        start = datetime.now(UTC)

        def returning_visitor() -> Any:
            # The same visitor every 31 s (simulated): one write each, no new visit.
            return presence.heartbeat(returning, start + timedelta(seconds=31 * next(clock)))

        costs = {
            "GET /articles/{slug} (counted view)": per_request(
                meter, quiet("pages", "article", new_reader=True), n
            ),
            "GET /articles/{slug} (repeat view)": per_request(meter, quiet("pages", "article"), n),
            "GET /articles/{slug} (bot)": per_request(meter, quiet("pages", "article-bot"), n),
            "GET /": per_request(meter, quiet("pages", "index"), n),
            "GET /api/articles/{slug}/views": per_request(meter, quiet("api", "article-views"), n),
            "POST /api/visits (new visit)": per_request(
                meter, quiet("api", "visits", new_reader=True), n
            ),
            "POST /api/visits (flood, same visitor)": per_request(meter, quiet("api", "visits"), n),
            "heartbeat, present visitor every 31 s": per_request(meter, returning_visitor, n),
            "GET /api/stats": per_request(meter, quiet("api", "stats"), n),
        }
        os.environ["COUNT_MODE"] = "beacon"
        settings.cache_clear()
        costs["GET /articles/{slug} (beacon mode)"] = per_request(
            meter, quiet("pages", "article", new_reader=True), n
        )
        costs["POST /api/articles/{slug}/views (beacon)"] = per_request(
            meter, quiet("api", "article-view-beacon", new_reader=True), n
        )
        return costs
    finally:
        handle.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10, help="fresh processes per import figure")
    parser.add_argument("--requests", type=int, default=200, help="warm requests per route")
    parser.add_argument("--out", default=str(ROOT / "artifacts" / "bench.json"))
    args = parser.parse_args()

    print(f"==> cold-start imports (median of {args.runs} fresh processes)", flush=True)
    imports = cold_starts(args.runs)
    for name, ms in imports.items():
        print(f"  {name:<34} {ms:8.1f} ms")
    base = imports["import boto3"]
    for name in ("pages", "api"):
        ratio = imports[f"import functions/{name}/app.py"] / base
        print(f"  functions/{name} / import boto3      {ratio:8.2f} x")

    print(f"==> warm requests against DynamoDB Local ({args.requests} each)", flush=True)
    costs = page_costs(args.requests)
    print(f"  {'route':<38} {'DDB req':>7} {'RCU':>6} {'WCU':>6} {'p50 ms':>7} {'p99 ms':>7}")
    for route, c in costs.items():
        print(
            f"  {route:<38} {c['dynamodb_requests']:>7.2f} {c['read_units']:>6.2f} "
            f"{c['write_units']:>6.2f} {c['p50_ms']:>7.2f} {c['p99_ms']:>7.2f}"
        )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {"python": sys.version.split()[0], "imports_ms": imports, "routes": costs}, indent=2
        )
    )
    print(f"==> wrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
