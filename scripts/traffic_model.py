"""Traffic model of "online now", visits and their cost at 100, 30,000 and 1,000,000 readers.

    .venv/bin/python scripts/traffic_model.py [--online 100 30000 1000000] [--seconds 600]

Readers arrive at random (Poisson, at the rate that keeps `online` readers in the exact
count below, see seconds_counted; the steady state's readers are already reading at 0),
stay a random time (exponential, mean STAY s), open a page on arrival and then every
PAGE_EVERY s on average (exponential), and between pages send the heartbeats the widget
sends (every presence.heartbeat_seconds, from the server's answer: a sample of readers at
large audiences). A request that fails (a write refused past a key's limit) leaves the
reader reading, as the widget does. Every request goes through the real newsdesk.presence
code (presence.view for a page, presence.register for a heartbeat) in one of CONTAINERS
simulated containers (each with its own caches, as Lambda execution environments have),
against MemoryDynamoDB: an in-memory DynamoDB that evaluates the expressions newsdesk sends
and records every call with its simulated second, its key and its capacity by AWS's rules:

- a write unit per 1 KB of the larger of the item before and after the write, a refused
  conditional write included ("Managing throughput capacity ... Write request units",
  Amazon DynamoDB Developer Guide; "If a ConditionExpression evaluates to false, ... the
  write still consumes write capacity units", Developer Guide, "Condition expressions");
- half a read unit per 4 KB of each item of an eventually consistent BatchGetItem, a missing
  item counted as the minimum (BatchGetItem reads each item as a GetItem, Developer Guide,
  "Read request units").

Every 5 simulated seconds, after the first two presence windows, the figure every container
would show (presence.current_figures) is compared with the exact count: readers whose last
request is less than the presence window old, counting for a reader who is not sampled (and
so sends only a keep-alive) the heartbeats a sampled reader would send. Printed: the error
(median, 99th percentile, worst, mean signed, share within target), the busiest partition
key's write units per second (AWS's limit: 1,000 per key), write units per page view, and
presence's cost per hour at list prices (scripts/bench.py's PRICES).
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import math
import os
import random
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "newsdesk" / "python")]

STAY = 300.0  # mean seconds a reader stays
PAGE_EVERY = 120.0  # mean seconds between a reader's pages
CONTAINERS = 50
THIN, THIN_ABOVE = 32, 100_000
BILLED_SECONDS, MEMORY_GB = 0.005, 0.5  # a heartbeat's Lambda time (bench: ~5 ms warm), 512 MB
STEP = 5
ARTICLES = 200  # readers pick pages by a Zipf law (s = 1) over this many articles
START = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10:00 in Hà Nội: no midnight inside


# ---- an in-memory DynamoDB that records calls --------------------------------------------------


class ConditionFailed(Exception):
    pass


def _size(item: dict[str, Any]) -> int:
    """An item's size by AWS's rules: names plus values (numbers: about 1 byte per two
    significant digits plus 1; strings: their UTF-8 bytes)."""
    total = 0
    for name, value in item.items():
        total += len(name)
        if "N" in value:
            total += len(value["N"].lstrip("-0").replace(".", "")) // 2 + 1
        elif "S" in value:
            total += len(value["S"].encode())
        else:
            total += len(str(value))
    return total


_CLAUSE = re.compile(r"\b(SET|ADD|REMOVE)\b")


@lru_cache(maxsize=4096)
def _parse_update(expression: str) -> list[tuple[str, str]]:
    """[(clause, action)] of an UpdateExpression."""
    parts = _CLAUSE.split(expression)
    actions = []
    for clause, body in zip(parts[1::2], parts[2::2], strict=True):
        depth, start = 0, 0
        for i, char in enumerate(body + ","):
            depth += char == "("
            depth -= char == ")"
            if char == "," and depth == 0:
                if body[start:i].strip():
                    actions.append((clause, body[start:i].strip()))
                start = i + 1
    return actions


def _name(token: str, names: dict[str, str]) -> str:
    return names.get(token, token)


@lru_cache(maxsize=4096)
def _compile_operand(text: str) -> tuple[str, ...]:
    text = text.strip()
    found = re.fullmatch(r"if_not_exists\(\s*([#\w]+)\s*,\s*(:\w+)\s*\)", text)
    if found:
        return ("default", found[1], found[2])
    found = re.fullmatch(r"(.+?)\s*-\s*(.+)", text)
    if found:
        return ("minus", found[1], found[2])
    return ("value", text) if text.startswith(":") else ("path", text)


def _operand(text: str, item: dict[str, Any], names: dict[str, str], values: dict[str, Any]) -> Any:
    kind, *args = _compile_operand(text)
    if kind == "default":
        return item.get(_name(args[0], names), values[args[1]])
    if kind == "minus":
        left, right = (_operand(x, item, names, values) for x in args)
        return {"N": str(int(left["N"]) - int(right["N"]))}
    return values[args[0]] if kind == "value" else item[_name(args[0], names)]


_COMPARE = {
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
    "=": lambda a, b: a == b,
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
}


@lru_cache(maxsize=4096)
def _compile_condition(text: str) -> tuple[Any, ...]:
    """A condition's tree: ("or"|"and", parts) / ("absent", path) / ("cmp", path, op, ref).
    The forms newsdesk sends: attribute_not_exists(a), a <op> :v, AND / OR, parentheses."""
    text = text.strip()
    for word in ("OR", "AND"):
        depth, i = 0, 0
        splits: list[str] = []
        for match in re.finditer(r"\(|\)|\b" + word + r"\b", text):
            if match[0] == "(":
                depth += 1
            elif match[0] == ")":
                depth -= 1
            elif depth == 0:
                splits.append(text[i : match.start()])
                i = match.end()
        if splits:
            splits.append(text[i:])
            return (word.lower(), tuple(_compile_condition(part) for part in splits))
    if text.startswith("(") and text.endswith(")"):
        return _compile_condition(text[1:-1])
    found = re.fullmatch(r"attribute_not_exists\(\s*([#\w]+)\s*\)", text)
    if found:
        return ("absent", found[1])
    found = re.fullmatch(r"([#\w]+)\s*(<=|<|=|>=|>)\s*(:\w+)", text)
    assert found, text
    return ("cmp", found[1], found[2], found[3])


def _holds(tree: tuple[Any, ...], item: dict[str, Any], names: dict[str, str], values: Any) -> bool:
    kind = tree[0]
    if kind == "or":
        return any(_holds(part, item, names, values) for part in tree[1])
    if kind == "and":
        return all(_holds(part, item, names, values) for part in tree[1])
    if kind == "absent":
        return _name(tree[1], names) not in item
    have = item.get(_name(tree[1], names))
    if have is None:
        return False
    want = values[tree[3]]
    a, b = (int(have["N"]), int(want["N"])) if "N" in want else (have.get("S"), want["S"])
    return bool(_COMPARE[tree[2]](a, b))


def _fails(p: dict[str, Any], old: dict[str, Any] | None) -> bool:
    """The request's ConditionExpression (if any) is false on the item `old`."""
    if "ConditionExpression" not in p:
        return False
    names, values = p.get("ExpressionAttributeNames", {}), p.get("ExpressionAttributeValues", {})
    return not _holds(_compile_condition(p["ConditionExpression"]), old or {}, names, values)


def _refused(operation: str, old: dict[str, Any] | None, p: dict[str, Any]) -> Exception:
    from botocore.exceptions import ClientError

    response: dict[str, Any] = {"Error": {"Code": "ConditionalCheckFailedException"}}
    if p.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and old:
        response["Item"] = dict(old)
    return ClientError(response, operation)  # type: ignore[arg-type]


def _units(item: dict[str, Any] | None, unit: int) -> int:
    return max(1, math.ceil(_size(item or {}) / unit))


@dataclass
class MemoryDynamoDB:
    """The calls newsdesk's presence code makes, on dicts, recorded per simulated second."""

    now: float = 0.0
    tables: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: defaultdict(dict))
    writes: dict[str, dict[int, float]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(float))
    )
    calls: Counter[str] = field(default_factory=Counter)
    write_units: float = 0.0
    read_units: float = 0.0
    weight: float = 1.0  # how many readers the current request stands for (see Simulation)
    limit: float = 1000.0  # write units per second per partition key, as AWS enforces
    throttled: int = 0  # writes refused for that (ThrottlingException)
    throttled_at: Counter[int] = field(default_factory=Counter)  # the same, by second

    @staticmethod
    def _key(key: dict[str, Any]) -> str:
        return next(iter(next(iter(key.values())).values()))

    def _admit(self, table: str, key: str, units: float) -> None:
        """Refuse a write past the key's 1,000 write units in this second, as AWS does
        (Developer Guide, "Best practices for designing and using partition keys
        effectively"; on demand: ThrottlingException, HTTP 400)."""
        if "visitor items" in _bucketed(key):
            return
        used = self.writes[f"{table}:{key}"][int(self.now)]
        if used + units * self.weight > self.limit:
            from botocore.exceptions import ClientError

            self.throttled += 1
            self.throttled_at[int(self.now)] += 1
            error = {"Code": "ThrottlingException", "Message": "Throughput exceeds the limit"}
            raise ClientError(
                {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}},  # type: ignore[typeddict-item]
                "UpdateItem",
            )

    def _charge(self, table: str, key: str, units: float) -> None:
        self.write_units += units * self.weight
        self.writes[f"{table}:{_bucketed(key)}"][int(self.now)] += units * self.weight

    def update_item(self, **p: Any) -> dict[str, Any]:
        self.calls["UpdateItem"] += 1
        table, key = p["TableName"], self._key(p["Key"])
        old = self.tables[table].get(key)
        item = dict(old or p["Key"])
        if _fails(p, old):
            self._charge(table, key, _units(old, 1024))
            raise _refused("UpdateItem", old, p)
        names, values = (
            p.get("ExpressionAttributeNames", {}),
            p.get("ExpressionAttributeValues", {}),
        )
        before = dict(item)
        self._admit(table, key, _units(old, 1024))
        for clause, action in _parse_update(p["UpdateExpression"]):
            if clause == "SET":
                target, expression = (x.strip() for x in action.split("=", 1))
                item[_name(target, names)] = _operand(expression, before, names, values)
            elif clause == "ADD":
                target, operand = action.split()
                current = int(item.get(_name(target, names), {"N": "0"})["N"])
                item[_name(target, names)] = {"N": str(current + int(values[operand]["N"]))}
            else:
                item.pop(_name(action, names), None)
        self.tables[table][key] = item
        self._charge(table, key, max(1, math.ceil(max(_size(old or {}), _size(item)) / 1024)))
        returned = {"ALL_OLD": old or {}, "ALL_NEW": item}.get(p.get("ReturnValues", ""), {})
        return {"Attributes": dict(returned)} if returned else {}

    def delete_item(self, **p: Any) -> dict[str, Any]:
        self.calls["DeleteItem"] += 1
        table, key = p["TableName"], self._key(p["Key"])
        old = self.tables[table].pop(key, None)
        self._charge(table, key, max(1, math.ceil(_size(old or {}) / 1024)))
        return {"Attributes": old} if old and p.get("ReturnValues") == "ALL_OLD" else {}

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.calls["BatchGetItem"] += 1
        found: dict[str, list[dict[str, Any]]] = {}
        for table, spec in RequestItems.items():
            for key in spec["Keys"]:
                item = self.tables[table].get(self._key(key))
                self.read_units += 0.5 * max(1, math.ceil(_size(item or {}) / 4096))
                if item is not None:
                    found.setdefault(table, []).append(dict(item))
        return {"Responses": found, "UnprocessedKeys": {}}

    def get_item(self, **p: Any) -> dict[str, Any]:
        self.calls["GetItem"] += 1
        item = self.tables[p["TableName"]].get(self._key(p["Key"]))
        self.read_units += (1 if p.get("ConsistentRead") else 0.5) * _units(item, 4096)
        return {"Item": dict(item)} if item else {}

    def put_item(self, **p: Any) -> dict[str, Any]:
        self.calls["PutItem"] += 1
        table, key = p["TableName"], self._key(p["Item"])
        old = self.tables[table].get(key)
        if _fails(p, old):
            self._charge(table, key, _units(old, 1024))
            raise _refused("PutItem", old, p)
        self.tables[table][key] = dict(p["Item"])
        self._charge(table, key, max(1, math.ceil(_size(p["Item"]) / 1024)))
        return {}


def _bucketed(key: str) -> str:
    """Visitor items are each their own key: report them as one group, by their count."""
    return key if not re.fullmatch(r"[0-9a-f]{32}", key) else "visitor items (each its own key)"


# ---- readers -----------------------------------------------------------------------------------


@dataclass
class Result:
    online: int
    samples: int
    error_median: float
    error_p99: float
    error_max: float
    bias: float  # mean of (shown - exact) / exact
    exact_mean: float  # the exact count, mean over the samples
    within: float
    target: str
    busiest_key: str
    busiest_wcu_per_s: float
    hot_counter: str
    counter_wcu_per_s: float
    views: int
    heartbeats: int
    refreshes: int
    units_per_view: float
    presence_usd_per_hour: float
    sampled_share: float
    throttled: int
    failed: int
    throttled_late: int  # writes refused after the first two windows
    failed_late: int
    model_seconds: float


def seconds_counted(window: int) -> float:
    """Mean seconds one reader is in the exact count ("online": a request under `window` s
    old): their stay, plus the window after their last request, less the age of that
    request when they leave. Requests come at gaps X = min(Exp(PAGE_EVERY), heartbeat
    period): the age's mean is E[X^2] / 2E[X] (a renewal process seen at a random time),
    27.5 s here. Arrivals at `online` / this keep `online` readers in the exact count, as
    the widget would show them (about 52% of them have the page open at that moment)."""
    from newsdesk import presence

    m, h = PAGE_EVERY, presence.HEARTBEAT_SECONDS
    mean = m * (1 - math.exp(-h / m))
    square = 2 * m * m * (1 - math.exp(-h / m) * (1 + h / m))
    return STAY + window - square / (2 * mean)


def _zipf(rng: random.Random, n: int) -> Iterator[str]:
    weights = [1 / (k + 1) for k in range(n)]
    while True:
        yield from (f"article-{k}" for k in rng.choices(range(n), weights, k=1000))


def _visitor(reader: int) -> str:
    return f"{reader * 2654435761 % 2**128:032x}"


class Simulation:
    """One audience size: readers' requests through the real presence code, in time order."""

    def __init__(self, online: int, seconds: int, seed: int, real: Any = None) -> None:
        from newsdesk import caches, presence
        from newsdesk.config import settings
        from newsdesk.dal import db

        self.online, self.seconds = online, seconds
        self.memory = MemoryDynamoDB()
        self.real = real  # a real client (DynamoDB Local behind the fault proxy), or None
        db.client = (lambda: real) if real is not None else (lambda: self.memory)  # type: ignore[assignment]
        caches.clear_all()
        settings.cache_clear()
        self.rng = random.Random(seed)
        self.slugs = _zipf(self.rng, ARTICLES)
        config = settings()
        self.window, self.dedupe = config.presence_window_seconds, config.view_dedupe_seconds
        self._seed_peak(config.counters_table)
        # Above THIN_ABOVE readers, those not sampled are replayed one in THIN (by their id),
        # each standing for THIN readers in every count and write unit: what they write is
        # their own item (cost) and a visit shard (a spread key); the figure comes from the
        # sampled readers, all of whom are replayed.
        self.level = presence.sampling_level(online)
        self.thin = THIN if online > THIN_ABOVE else 1
        self.weights: dict[int, int] = {}
        self.events: list[tuple[float, int, int, str]] = []  # (time, seq, reader, kind)
        self.seq = 0
        self.leaves: dict[int, float] = {}
        self.last: dict[int, float] = {}  # last request, or "seen" if not sampled: the exact set
        self.sent: dict[int, float] = {}  # last request sent (a keep-alive's timer restarts at it)
        self.every: dict[int, float] = {}
        self.counts: Counter[str] = Counter()
        self.failed_at: Counter[int] = Counter()  # requests that failed, by simulated second
        self.readers = self.sampled = 0
        self.errors: list[float] = []
        self.signed: list[float] = []  # (shown - exact) / exact: its mean is the figure's bias
        self.exact: list[int] = []
        self.within, self.view_units = 0, 0.0

    def _seed_peak(self, table: str) -> None:
        """The site's peak as a site of this size has it (the sampling level follows it)."""
        site = {"id": {"S": "site"}, "peak": {"N": str(self.online)}}
        self.memory.tables[table]["site"] = site
        if self.real is not None:
            self.real.put_item(TableName=table, Item=site)

    def push(self, at: float, reader: int, kind: str) -> None:
        heapq.heappush(self.events, (at, self.seq, reader, kind))
        self.seq += 1

    def arrive(self, at: float, reading: bool = False) -> None:
        """A new reader arriving at `at`; `reading`: one already reading when the model
        starts (see begin_reading)."""
        from newsdesk import presence

        reader = self.readers
        self.readers += 1
        stay = self.rng.expovariate(1 / STAY)
        if presence.level_of(_visitor(reader)) >= self.level:
            self.sampled += 1
            self.weights[reader] = 1
        elif reader % self.thin == 0:
            self.weights[reader] = self.thin
        else:
            return  # stood for by a replayed reader
        self.leaves[reader] = at + stay
        if reading:
            self.begin_reading(reader)
        else:
            self.push(at, reader, "page")

    def begin_reading(self, reader: int) -> None:
        """A reader already on the site at 0 (memoryless stays: a fresh one from 0): their
        visit began before the model (their visitor item says they were seen a minute ago,
        so their first request is no new visit), their next page comes after an exponential
        wait and their next heartbeat at a random point of its period, as in the steady
        state. (Starting them all with a page in the first window, as the model did, made
        the count at 300 s twice the steady one: the peak, and so the sampling level, was
        raised to K = 7 at 1,000,000.)"""
        from newsdesk import presence
        from newsdesk.config import settings

        visitor = _visitor(reader)
        sampled = presence.level_of(visitor) >= presence.sampling_level(self.online)
        self.every[reader] = presence.HEARTBEAT_SECONDS if sampled else presence.KEEP_ALIVE_SECONDS
        seen = int(START.timestamp()) - presence.HEARTBEAT_SECONDS
        item = {
            "visitor": {"S": visitor},
            "last_seen": {"N": str(seen)},
            "expires_at": {"N": str(seen + presence.lookback_seconds())},
        }
        table = settings().connections_table
        self.memory.tables[table][visitor] = item
        if self.real is not None:
            self.real.put_item(TableName=table, Item=item)
        self.push(self.rng.expovariate(1 / PAGE_EVERY), reader, "page")
        self.push(self.rng.random() * self.every[reader], reader, "beat")
        if not sampled:
            self.push(self.rng.random() * presence.HEARTBEAT_SECONDS, reader, "seen")

    def sample(self, at: float) -> None:
        """Every container's shown figure against the exact count."""
        from newsdesk import caches, presence

        exact = sum(self.weights[r] for r, seen in self.last.items() if seen > at - self.window)
        moment = START + timedelta(seconds=at)
        self.memory.now, self.memory.weight = at, 1
        for c in range(CONTAINERS):
            caches.use_environment(f"c{c}")
            signed = presence.current_figures(moment).online - exact
            self.errors.append(abs(signed) / max(1, exact))
            self.signed.append(signed / max(1, exact))
            self.within += abs(signed) <= _allowed(exact)
        self.exact.append(exact)

    def request(self, at: float, reader: int, kind: str) -> None:
        from newsdesk import caches, presence

        if kind == "seen":  # a reader not sampled is online all the same (the exact count)
            if at - self.last.get(reader, -1e9) >= presence.HEARTBEAT_SECONDS - 1e-6:
                self.last[reader] = at
                self.push(at + presence.HEARTBEAT_SECONDS, reader, "seen")
            return
        if kind == "beat" and at - self.sent.get(reader, -1e9) < self.every[reader] - 1e-6:
            return  # a page since: its own timer
        self.memory.now, self.memory.weight = at, self.weights[reader]
        caches.use_environment(f"c{self.rng.randrange(CONTAINERS)}")
        visitor = _visitor(reader)
        self.send(at, reader, kind)
        if kind == "page":
            self.counts["views"] += self.weights[reader]
            self.every[reader] = presence.heartbeat_seconds(visitor, presence.cached_figures())
            self.push(at + self.rng.expovariate(1 / PAGE_EVERY), reader, "page")
        else:
            self.counts["heartbeats"] += self.weights[reader]
        self.last[reader] = self.sent[reader] = at
        self.push(at + self.every[reader], reader, "beat")
        if self.every[reader] > presence.HEARTBEAT_SECONDS:
            self.push(at + presence.HEARTBEAT_SECONDS, reader, "seen")

    def send(self, at: float, reader: int, kind: str) -> None:
        """The request through the presence code. A write refused past a key's limit fails
        this request only: the page shows and the widget keeps its timer (templates/widget.js
        beats on whatever a beat answered), so the reader reads on and stays online. (The
        model used to end such a reader, and the 32 readers a replayed one stands for, which
        took them out of the exact count: at 1,000,000 online the figure read 3% high.)"""
        from newsdesk import presence
        from newsdesk.dal import counters

        moment = START + timedelta(seconds=at)
        visitor = _visitor(reader)
        before = self.memory.write_units
        try:
            if kind != "page":
                presence.register(visitor, moment)
                return
            slug = next(self.slugs)
            if presence.view(visitor, slug, self.dedupe, moment) is not None:
                counters.add_view(slug, moment.date())
        except ClientError:
            self.counts["failed"] += self.weights[reader]
            self.failed_at[int(at)] += self.weights[reader]
        finally:
            if kind == "page":
                self.view_units += self.memory.write_units - before

    def run(self) -> None:
        rate = self.online / seconds_counted(self.window)  # arrivals per second
        for _ in range(round(rate * STAY)):  # the steady state's readers on the site
            self.arrive(0.0, reading=True)
        t = 0.0
        while t < self.seconds:
            t += self.rng.expovariate(rate)
            self.arrive(t)
        next_sample = 2.0 * self.window  # after the first windows: the count has settled
        while self.events:
            at, _, reader, kind = heapq.heappop(self.events)
            while next_sample <= min(at, self.seconds):
                self.sample(next_sample)
                next_sample += STEP
            if at > self.seconds:
                break
            if at < self.leaves[reader]:
                self.request(at, reader, kind)

    def result(self, began: float) -> Result:

        from scripts.bench import PRICES

        memory = self.memory
        since = 2 * self.window
        busiest, rate = _busiest(memory, lambda key: not key.startswith("views#"), since)
        hot_counter, counter_rate = _busiest(memory, lambda key: key.startswith("views#"), since)
        per_request = (
            PRICES["http_api_request"]
            + PRICES["lambda_request"]
            + BILLED_SECONDS * MEMORY_GB * PRICES["lambda_arm64_gb_second"]
        )
        presence_usd = (
            self.counts["heartbeats"] * per_request
            + (memory.write_units - self.view_units) * PRICES["dynamodb_write_unit"]
            + memory.read_units * PRICES["dynamodb_read_unit"]
        )
        errors = sorted(self.errors)
        n = len(errors)
        return Result(
            online=self.online,
            samples=n,
            error_median=errors[n // 2] if n else 0,
            error_p99=errors[int(n * 0.99)] if n else 0,
            error_max=errors[-1] if n else 0,
            bias=sum(self.signed) / max(1, n),
            exact_mean=sum(self.exact) / max(1, len(self.exact)),
            within=self.within / max(1, n),
            target="max(5%, 1)" if self.online < 30_000 else "2%",
            busiest_key=busiest,
            busiest_wcu_per_s=rate,
            hot_counter=hot_counter,
            counter_wcu_per_s=counter_rate,
            views=self.counts["views"],
            heartbeats=self.counts["heartbeats"],
            refreshes=memory.calls["BatchGetItem"],
            units_per_view=self.view_units / max(1, self.counts["views"]),
            presence_usd_per_hour=presence_usd * 3600 / self.seconds,
            sampled_share=self.sampled / max(1, self.readers),
            throttled=memory.throttled,
            failed=self.counts["failed"],
            throttled_late=sum(n for t, n in memory.throttled_at.items() if t >= since),
            failed_late=sum(n for t, n in self.failed_at.items() if t >= since),
            model_seconds=time.perf_counter() - began,
        )


def run(online: int, seconds: int, seed: int = 20181127) -> Result:
    began = time.perf_counter()
    simulation = Simulation(online, seconds, seed)
    simulation.run()
    return simulation.result(began)


def run_on_dynamodb_local(online: int, seconds: int, seed: int = 20181127) -> tuple[Result, int]:
    """The same readers through the real presence code against DynamoDB Local, behind the
    fault proxy (tests/faultproxy.py) with AWS's per-key limit of 1,000 write units per
    second on the simulated clock, and TTL that does not delete during the run (as on AWS).
    Returns the figures (errors; units are not metered here) and the writes the limit
    refused (must be 0)."""
    import boto3

    from scripts.bench import _tables_and_meter, dynamodb_local
    from tests.faultproxy import FaultProxy

    global CONTAINERS
    began = time.perf_counter()
    with contextlib.ExitStack() as stack:
        endpoint = stack.enter_context(dynamodb_local())
        proxy = stack.enter_context(FaultProxy(endpoint))
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = proxy.endpoint
        _tables_and_meter()
        client = boto3.client("dynamodb", endpoint_url=proxy.endpoint)
        simulation_box: list[Simulation] = []
        limit = proxy.partition_limit(
            clock=lambda: simulation_box[0].memory.now if simulation_box else 0.0
        )
        proxy.lazy_ttl()
        CONTAINERS, containers = 10, CONTAINERS
        try:
            simulation = Simulation(online, seconds, seed, real=client)
            simulation_box.append(simulation)
            simulation.run()
        finally:
            CONTAINERS = containers
        return simulation.result(began), limit.throttled


def _allowed(exact: int) -> float:
    return max(1, 0.05 * exact) if exact < 30_000 * 0.9 else 0.02 * exact


def _busiest(memory: MemoryDynamoDB, wanted: Any, since: float) -> tuple[str, float]:
    """The shared key (not a visitor's own item) with the most write units in one second,
    from `since` on (the model's start, when every reader arrives within a minute, is no
    site's traffic)."""
    best, rate = "", 0.0
    for key, per_second in memory.writes.items():
        if "visitor items" in key or not wanted(key.split(":", 1)[1]):
            continue
        top = max((units for second, units in per_second.items() if second >= since), default=0)
        if top > rate:
            best, rate = key.split(":", 1)[1], top
    return best, rate


def main() -> int:
    from local.tables import function_env

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--online", type=int, nargs="+", default=[100, 30_000, 1_000_000])
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument(
        "--dynamodb-local",
        type=int,
        metavar="READERS",
        help="instead: this many readers on DynamoDB Local behind the per-key limit",
    )
    args = parser.parse_args()
    if args.dynamodb_local:
        result, refused = run_on_dynamodb_local(args.dynamodb_local, args.seconds)
        print(
            f"==> DynamoDB Local, {args.dynamodb_local:,} readers, {args.seconds} simulated s: "
            f"error median {100 * result.error_median:.2f}%, p99 {100 * result.error_p99:.2f}%, "
            f"max {100 * result.error_max:.2f}% ({100 * result.within:.1f}% of {result.samples} "
            f"samples within {result.target}); writes refused by the 1,000 WCU/s per-key "
            f"limit: {refused}; {result.views:,} views, {result.heartbeats:,} heartbeats; "
            f"{result.model_seconds:.0f} s to run"
        )
        return 0 if refused == 0 and result.within >= 0.99 else 1
    os.environ.update({k: v for k, v in function_env().items() if k not in os.environ})
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    print(
        f"==> traffic model: {args.seconds} simulated s, {CONTAINERS} containers, "
        f"stay {STAY:.0f} s, a page every {PAGE_EVERY:.0f} s"
    )
    for online in args.online:
        r = run(online, args.seconds)
        print(
            f"  online {r.online:>9,}: error median {100 * r.error_median:.2f}%, "
            f"p99 {100 * r.error_p99:.2f}%, max {100 * r.error_max:.2f}%, mean signed "
            f"{100 * r.bias:+.2f}% (target {r.target}: {100 * r.within:.1f}% of {r.samples} "
            f"samples within; exact count {r.exact_mean:,.0f} on average)\n"
            f"    sampled {100 * r.sampled_share:.1f}% of readers; busiest presence key "
            f"{r.busiest_key} {r.busiest_wcu_per_s:.0f} WCU/s; busiest counter "
            f"{r.hot_counter} {r.counter_wcu_per_s:.0f} WCU/s (after the first {2 * 300} s); "
            f"refused past 1,000 WCU/s a key: {r.throttled:,} writes, {r.failed:,} requests "
            f"failed ({r.throttled_late:,} and {r.failed_late:,} after the first {2 * 300} s)\n"
            f"    {r.units_per_view:.2f} WCU per page view; presence ${r.presence_usd_per_hour:.2f}"
            f" per hour ({r.views:,} views, {r.heartbeats:,} heartbeats, {r.refreshes:,} "
            f"refreshes; {r.model_seconds:.0f} s to run)",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
