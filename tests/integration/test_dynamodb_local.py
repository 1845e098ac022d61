"""Against DynamoDB Local (AWS's own engine): atomic counting under concurrency, imports
that are whole-or-nothing and idempotent, and the handlers end to end."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest
from newsdesk.dal import counters
from newsdesk.importer import import_paths

from tests.support import FIXTURE, SLUG, event, import_fixture, invoke, reader

pytestmark = pytest.mark.usefixtures("ddb_local_tables")


def api_views(slug: str = SLUG) -> int:
    response = invoke(
        "api",
        event(
            "article-views", rawPath=f"/api/articles/{slug}/views", pathParameters={"slug": slug}
        ),
    )
    assert response["statusCode"] == 200, response
    return int(json.loads(response["body"])["views"])


def test_8_threads_x_50_views_add_exactly_400() -> None:
    import_fixture()
    before = api_views()

    def read_fifty(_: int) -> list[int]:
        return [counters.add_view(SLUG) for _ in range(50)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = [n for batch in pool.map(read_fifty, range(8)) for n in batch]
    assert api_views() == before + 400
    # Every increment returned a distinct new total: no lost or doubled update.
    assert sorted(results) == list(range(before + 1, before + 401))


def test_counted_views_through_the_page_handler() -> None:
    """One execution environment handles one event at a time, as in Lambda: the handler is
    invoked in turn here (its Powertools Metrics buffer is per environment, not thread-safe).
    Concurrent views go through the local server's environments in test_concurrency.py."""
    import_fixture()
    statuses = [invoke("pages", reader(n))["statusCode"] for n in range(20)]
    assert statuses == [200] * 20
    assert api_views() == 9574 + 20


def test_import_is_idempotent_and_reports_what_it_did(tmp_path: Path) -> None:
    lines: list[str] = []
    first = import_paths([FIXTURE], report=lines.append)
    assert (first.imported, first.updated, first.unchanged) == (1, 0, 0)
    counters.add_view(SLUG)
    again = import_paths([FIXTURE], report=lines.append)
    assert (again.imported, again.updated, again.unchanged) == (0, 0, 1)
    assert api_views() == 9575  # never reset, never re-added

    edited = tmp_path / "edited.txt"
    edited.write_text(
        FIXTURE.read_text("utf-8").replace("Thanh Tùng", "Thanh Tùng - Minh Hà"), "utf-8"
    )
    changed = import_paths([edited], report=lines.append)
    assert (changed.imported, changed.updated) == (0, 1)
    assert api_views() == 9575
    page = invoke("pages", event("article"))["body"]
    assert "Thanh Tùng - Minh Hà" in page
    assert lines[0].startswith("[1/1]") and "imported" in lines[0]


def test_malformed_file_is_rejected_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("Tiêu đề\nkhông có ngày\n\nNội dung.\n", "utf-8")
    summary = import_paths([bad, FIXTURE], report=lambda _: None)
    assert summary.imported == 1
    assert summary.rejected == [(str(bad), summary.rejected[0][1])]
    assert "line 2" in summary.rejected[0][1]
    client = boto3.client("dynamodb")
    import os

    items = client.scan(TableName=os.environ["ARTICLES_TABLE"])["Items"]
    assert [i["slug"]["S"] for i in items] == [SLUG]


def test_index_pages_through_articles_newest_first(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PAGE_SIZE", "2")
    from newsdesk.config import settings

    settings.cache_clear()
    articles = [
        {
            "title": f"Bài số {n}",
            "body": ["Nội dung."],
            "views": n,
            "published_at": f"2024-01-{n:02d}T08:00:00+07:00",
        }
        for n in range(1, 6)
    ]
    articles.append(
        {
            "title": "Bài nháp",
            "body": ["x"],
            "status": "draft",
            "published_at": "2024-01-09T08:00:00+07:00",
        }
    )
    articles.append(
        {"title": "Bài hẹn giờ", "body": ["x"], "published_at": "2999-01-01T08:00:00+07:00"}
    )
    path = tmp_path / "many.json"
    path.write_text(json.dumps(articles, ensure_ascii=False), "utf-8")
    assert import_paths([path], report=lambda _: None).imported == 7

    seen: list[str] = []
    query = ""
    for _ in range(5):
        data = event(
            "index",
            rawQueryString=query,
            queryStringParameters={"cursor": query[7:]} if query else None,
        )
        body = invoke("pages", data)["body"]
        listing = body.split('<ul class="list">', 1)[1].split("</ul>", 1)[0]  # not the menu
        seen += re.findall(r'<li><a href="[^"]*">([^<]*)</a>', listing)
        # The "older" link (page 2 on also names its own cursor in its canonical link).
        nxt = re.findall(r'<a rel="next" href="[^"]*\?cursor=([^"]*)"', body)
        if not nxt:
            break
        from urllib.parse import unquote

        query = "cursor=" + unquote(nxt[0])
    assert seen == [f"Bài số {n}" for n in range(5, 0, -1)]


def test_forged_cursor_is_a_400_page() -> None:
    data = event(
        "index", rawQueryString="cursor=bm9wZQ", queryStringParameters={"cursor": "bm9wZQ"}
    )
    response = invoke("pages", data)
    assert response["statusCode"] == 400
    assert "Yêu cầu không hợp lệ" in response["body"]
