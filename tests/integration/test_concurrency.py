"""Nothing is lost under concurrency, against DynamoDB Local: many writers on one counter,
and a mixed load of page views, heartbeats, re-imports and edits through the local HTTP
server (each concurrent request in its own execution environment, a process, as Lambda runs
them), and the execution environments' separate module state seen from outside.

Every DynamoDB request goes through tests/faultproxy.py (the dynamodb_proxy fixture, which
local_server uses too) with a region's latency switched on: 4 +- 2 ms per request, seeded, so
requests overlap as they do on AWS instead of each finishing in DynamoDB Local's fraction of a
millisecond. Each test checks its requests really went through the proxy. No other AWS
behaviour is switched on here (the tests of those are in test_aws_semantics.py). No test here
reads a clock.
"""

from __future__ import annotations

import importlib.util
import json
import random
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from newsdesk import caches
from newsdesk.config import settings
from newsdesk.dal import counters
from newsdesk.importer import import_paths

from local.server import ENVIRONMENT_HEADER, running_server
from tests.faultproxy import FaultProxy, Latency
from tests.support import PHONE_UA, ROOT, SLUG, import_fixture


@pytest.fixture
def region(dynamodb_proxy: FaultProxy) -> Latency:
    """A region's round trip on every DynamoDB request of the test: 4 +- 2 ms, seeded."""
    return dynamodb_proxy.latency(0.004, 0.002, seed=12)


def test_16_threads_x_100_views_add_exactly_1600(
    dynamodb_proxy: FaultProxy, region: Latency
) -> None:
    import_fixture()
    before = counters.views_of([SLUG])[SLUG]
    writes = dynamodb_proxy.seen("UpdateItem", "-counters")

    def hundred(_: int) -> list[int]:
        return [counters.add_view(SLUG) for _ in range(100)]

    with ThreadPoolExecutor(max_workers=16) as pool:
        totals = [n for batch in pool.map(hundred, range(16)) for n in batch]
    assert counters.views_of([SLUG])[SLUG] == before + 1600
    assert sorted(totals) == list(range(before + 1, before + 1601))  # no lost or doubled ADD
    # The writes went through the proxy, each after its added latency.
    assert dynamodb_proxy.seen("UpdateItem", "-counters") >= writes + 1600
    assert all(seen.delay > 0 for seen in dynamodb_proxy.requests())


def _article(n: int, version: int) -> dict[str, Any]:
    return {
        "title": f"Bài {n}",
        "slug": f"bai-{n}",
        "body": [f"Bài {n}, phiên bản {version}.", "Đoạn hai."],
        "published_at": "2024-03-01T08:00:00+07:00",
        "updated_at": f"2024-03-02T08:{version:02d}:00+07:00",
        "views": 1000 * n,
    }


def _get(url: str, ua: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"User-Agent": ua})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.read().decode()


def _post(url: str, ua: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=b"", method="POST", headers={"User-Agent": ua})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


def test_mixed_load_keeps_every_article_whole_and_every_count_exact(
    local_server: str,
    dynamodb_proxy: FaultProxy,
    region: Latency,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # All requests come from 127.0.0.1: lift the per-address cap so readers are distinct.
    monkeypatch.setenv("MAX_VISITORS_PER_ADDRESS", "1000000")
    # Edits must show at once here; across containers the article cache outlives an edit by
    # up to ARTICLE_CACHE_SECONDS by design (see the test below). The same for the visit
    # total, cached per container for STATS_CACHE_SECONDS.
    monkeypatch.setenv("ARTICLE_CACHE_SECONDS", "0")
    monkeypatch.setenv("STATS_CACHE_SECONDS", "0")
    settings.cache_clear()
    caches.clear_all()
    articles = range(1, 5)
    for n in articles:
        path = tmp_path / f"bai-{n}-v1.json"
        path.write_text(json.dumps(_article(n, 1), ensure_ascii=False), "utf-8")
        assert import_paths([path], report=lambda _: None).imported == 1

    rng = random.Random(7)
    jobs: list[tuple[str, Any]] = []
    views_per_article = dict.fromkeys(articles, 0)
    for reader in range(240):
        n = rng.choice(list(articles))
        views_per_article[n] += 1
        jobs.append(("view", (n, reader)))
    jobs += [("beat", reader) for reader in range(120)]
    # Edits arrive out of order: versions 2..6 of each article, shuffled, plus re-imports of v1.
    for n in articles:
        for version in range(2, 7):
            jobs.append(("edit", (n, version)))
        jobs += [("reimport", n)] * 3
    rng.shuffle(jobs)

    def run(job: tuple[str, Any]) -> str:
        kind, arg = job
        if kind == "view":
            n, reader = arg
            status, body = _get(f"{local_server}/articles/bai-{n}", f"{PHONE_UA} r{reader}")
            assert status == 200 and f"Bài {n}" in body
        elif kind == "beat":
            status, data = _post(f"{local_server}/api/visits", f"{PHONE_UA} r{arg}")
            assert status == 200 and data["online"] >= 1
        elif kind == "edit":
            n, version = arg
            path = tmp_path / f"bai-{n}-v{version}.json"
            path.write_text(json.dumps(_article(n, version), ensure_ascii=False), "utf-8")
            import_paths([path], report=lambda _: None)
        else:
            import_paths([tmp_path / f"bai-{arg}-v1.json"], report=lambda _: None)
        return kind

    with ThreadPoolExecutor(max_workers=12) as pool:
        done = list(pool.map(run, jobs))
    assert len(done) == len(jobs)

    for n in articles:
        status, page = _get(f"{local_server}/api/articles/bai-{n}/views", "curl/8")
        assert status == 200
        assert json.loads(page)["views"] == 1000 * n + views_per_article[n]
        _, html = _get(f"{local_server}/articles/bai-{n}", "Googlebot/2.1")  # not counted
        assert f"Bài {n}, phiên bản 6." in html  # the newest version won, whatever the order
        assert "Đoạn hai." in html
    _, stats = _post(f"{local_server}/api/visits", "Googlebot/2.1")
    # The legacy floor (the largest imported count) + one visit per reader: the 240 who read
    # (each view registers its reader's visit); the 120 heartbeats come from readers 0-119.
    assert stats["total"] == 4000 + 240
    # The functions' environments reached DynamoDB through the proxy: a counter write per view.
    assert dynamodb_proxy.seen("UpdateItem", "-counters", key_prefix="views#") >= 240
    assert all(seen.delay > 0 for seen in dynamodb_proxy.requests())


def _read(url: str) -> tuple[str, str]:
    """(the environment that answered, the page) for a reader's GET."""
    request = urllib.request.Request(url, headers={"User-Agent": PHONE_UA})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.headers[ENVIRONMENT_HEADER], response.read().decode()


def test_two_environments_keep_separate_article_caches(
    dynamodb_proxy: FaultProxy, region: Latency, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Like two Lambda containers: after an edit, a warm environment keeps showing its cached
    copy (for up to ARTICLE_CACHE_SECONDS), while a new one shows the edit at once."""
    monkeypatch.setenv("ARTICLE_CACHE_SECONDS", "3600")
    v1, v2 = tmp_path / "v1.json", tmp_path / "v2.json"
    v1.write_text(json.dumps(_article(1, 1), ensure_ascii=False), "utf-8")
    v2.write_text(json.dumps(_article(1, 2), ensure_ascii=False), "utf-8")
    assert import_paths([v1], report=lambda _: None).imported == 1
    with running_server() as server:
        pages = server.app.pools["PagesFunction"]
        url = f"{server.url}/articles/bai-1"
        a, page = _read(url)
        assert "Bài 1, phiên bản 1." in page
        assert import_paths([v2], report=lambda _: None).updated == 1  # the editor's change
        again, page = _read(url)
        assert again == a and "Bài 1, phiên bản 1." in page  # A serves its cached copy
        with pages.hold() as busy:  # A busy with another reader: the next one needs B
            assert busy.name == a
            b, page = _read(url)
        assert b != a
        assert "Bài 1, phiên bản 2." in page  # B started after the edit: no stale copy
        for _ in range(3):  # both live on, each with its own copy
            env, page = _read(url)
            assert ("phiên bản 1." in page, "phiên bản 2." in page) == (env == a, env != a)
    assert dynamodb_proxy.seen("GetItem", "-articles") >= 2  # A's and B's reads, via the proxy


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("newsdesk_load", ROOT / "scripts" / "load.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_short_load_of_pages_beacons_and_heartbeats_is_exact(
    dynamodb_proxy: FaultProxy, region: Latency, monkeypatch: pytest.MonkeyPatch
) -> None:
    """scripts/load.py, short: 8 clients, 120 requests, every one a new reader (its own
    source address); no answer >= 500, and views and visits grow by exactly what was sent
    (repeat beacons within VIEW_DEDUPE_SECONDS are not counted; a counted view is its new
    reader's visit too)."""
    monkeypatch.setenv("STATS_CACHE_SECONDS", "0")
    import_fixture()
    load = _load_script()
    with running_server() as server:
        report = load.run_load(server.url, SLUG, clients=8, seconds=300, requests=120)
    assert report.requests == 120, report.lines()
    assert report.ok, "\n".join(report.lines())
    assert set(report.by_kind) == {"page", "beacon", "repeat", "beat"}
    before, expected, after = report.views
    assert after == expected == before + report.by_kind["page"] + report.by_kind["beacon"]
    counted = report.by_kind["page"] + report.by_kind["beacon"]
    before, expected, after = report.visits
    assert after == expected == before + counted + report.by_kind["beat"]  # a new reader each
    assert dynamodb_proxy.seen("UpdateItem", "-counters", key_prefix="views#") >= counted


def test_sharded_counter_sums_stay_exact_under_concurrency(
    ddb_local_tables: dict[str, str],
    dynamodb_proxy: FaultProxy,
    region: Latency,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A hot article's counter spread over 8 items: 8 threads x 50 views add exactly 400,
    every read (page, API, listing) sums the shards, and the legacy count is kept once."""
    monkeypatch.setenv("COUNTER_SHARDS", "8")
    settings.cache_clear()
    import_fixture()

    def fifty(_: int) -> list[int]:
        return [counters.add_view(SLUG) for _ in range(50)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(fifty, range(8)))
    assert counters.views_of([SLUG])[SLUG] == 9574 + 400
    from tests.support import event, invoke

    response = invoke("api", event("article-views"))
    assert json.loads(response["body"])["views"] == 9574 + 400
    import boto3

    shards = [
        item["id"]["S"]
        for item in boto3.client("dynamodb").scan(TableName=ddb_local_tables["COUNTERS_TABLE"])[
            "Items"
        ]
        if item["id"]["S"].startswith(f"views#{SLUG}")
    ]
    assert len(shards) == 8  # the writes really were spread
    assert dynamodb_proxy.seen("UpdateItem", "-counters") >= 400  # via the proxy
