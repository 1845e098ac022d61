"""Nothing is lost under concurrency, against DynamoDB Local: many writers on one counter,
and a mixed load of page views, heartbeats, re-imports and edits through the local HTTP
server (each concurrent request in its own copy of the function, as Lambda runs them)."""

from __future__ import annotations

import json
import random
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from newsdesk import counters, identity, presence
from newsdesk.config import settings
from newsdesk.importer import import_paths

from tests.support import PHONE_UA, SLUG, import_fixture


def test_16_threads_x_100_views_add_exactly_1600(ddb_local_tables: dict[str, str]) -> None:
    import_fixture()
    before = counters.views_of([SLUG])[SLUG]

    def hundred(_: int) -> list[int]:
        return [counters.count_view(SLUG) for _ in range(100)]

    with ThreadPoolExecutor(max_workers=16) as pool:
        totals = [n for batch in pool.map(hundred, range(16)) for n in batch]
    assert counters.views_of([SLUG])[SLUG] == before + 1600
    assert sorted(totals) == list(range(before + 1, before + 1601))  # no lost or doubled ADD


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
    local_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # All requests come from 127.0.0.1: lift the per-address cap so readers are distinct.
    monkeypatch.setenv("MAX_VISITORS_PER_ADDRESS", "1000000")
    # Edits must show at once here; across containers the article cache outlives an edit by
    # up to ARTICLE_CACHE_SECONDS by design.
    monkeypatch.setenv("ARTICLE_CACHE_SECONDS", "0")
    settings.cache_clear()
    presence.reset_cache()
    identity.forget_cached_salt()
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
    assert stats["total"] == 4000 + 120  # legacy floor (largest imported count) + 120 visits


def test_sharded_counter_sums_stay_exact_under_concurrency(
    ddb_local_tables: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hot article's counter spread over 8 items: 8 threads x 50 views add exactly 400,
    every read (page, API, listing) sums the shards, and the legacy count is kept once."""
    monkeypatch.setenv("COUNTER_SHARDS", "8")
    settings.cache_clear()
    import_fixture()

    def fifty(_: int) -> list[int]:
        return [counters.count_view(SLUG) for _ in range(50)]

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
