"""Most read lists and per-day view buckets, against DynamoDB Local."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import boto3
import pytest
from newsdesk import mostread
from newsdesk.config import settings
from newsdesk.dal import counters
from newsdesk.importer import import_paths
from time_machine import TimeMachineFixture

from tests.clock import tomorrow_at_ten
from tests.support import Calls


@pytest.fixture(autouse=True)
def now(ddb_local_tables: dict[str, str], time_machine: TimeMachineFixture) -> datetime:
    """The clock starts at 10:00 tomorrow (site time) and ticks: the day bucket a view lands
    in and the day the lists are computed for cannot fall on two sides of a midnight."""
    start = tomorrow_at_ten()
    time_machine.move_to(start, tick=True)
    return start


def _import(tmp_path: Path, articles: list[dict]) -> None:
    path = tmp_path / "articles.json"
    path.write_text(json.dumps(articles, ensure_ascii=False), "utf-8")
    summary = import_paths([path], report=lambda _: None)
    assert summary.rejected == []


def _article(slug: str, views: int, **extra: str) -> dict:
    return {
        "title": f"Tin {slug}",
        "slug": slug,
        "body": ["Nội dung."],
        "views": views,
        "published_at": "2024-01-01T08:00:00+07:00",
        **extra,
    }


def _set_day(slug: str, days_ago: int, views: int) -> None:
    today = datetime.now(settings().tz).date()
    boto3.client("dynamodb").update_item(
        TableName=settings().counters_table,
        Key=counters.counter_key(slug),
        UpdateExpression="SET #d = :n",
        ExpressionAttributeNames={"#d": counters.day_attribute(today - timedelta(days=days_ago))},
        ExpressionAttributeValues={":n": {"N": str(views)}},
    )


@pytest.mark.usefixtures("ddb_local_tables")
def test_today_week_and_all_time(tmp_path: Path, now: datetime) -> None:
    _import(
        tmp_path,
        [
            _article("co-dien", 50_000),  # old favourite: all time only
            _article("hom-nay", 10),
            _article("tuan-nay", 20),
            _article("nhap", 90_000, status="draft"),
            _article("hen-gio", 80_000, published_at="2999-01-01T08:00:00+07:00"),
        ],
    )
    for _ in range(3):
        counters.add_view("hom-nay")  # today, through the real counting path
    _set_day("tuan-nay", 3, 40)  # earlier this week
    _set_day("co-dien", 20, 5)  # outside the week
    calls = Calls()
    lists = mostread.refresh(now)
    assert [e["slug"] for e in lists["today"]] == ["hom-nay"]
    assert lists["today"][0] == {"slug": "hom-nay", "title": "Tin hom-nay", "views": 3}
    assert [e["slug"] for e in lists["week"]] == ["tuan-nay", "hom-nay"]
    assert [e["slug"] for e in lists["all"]] == ["co-dien", "tuan-nay", "hom-nay"]
    # Bounded work: one index query, one batch of counters, one of titles, one write; then
    # the category menu (newsdesk.menu): one query of the articles' index, one write.
    assert calls.count("Query", "-counters") == 1 and calls.count("BatchGetItem") == 2
    assert calls.count("Query", "-articles") == 1 and calls.count("PutItem") == 2
    assert mostread.lists() == lists


@pytest.mark.usefixtures("ddb_local_tables")
def test_a_view_lands_in_todays_bucket_and_the_job_drops_old_ones(tmp_path: Path) -> None:
    _import(tmp_path, [_article("bai", 0)])
    _set_day("bai", counters.KEEP_DAYS + 2, 7)
    _set_day("bai", 3, 2)
    counters.add_view("bai")

    def stored() -> dict:
        return boto3.client("dynamodb").get_item(
            TableName=settings().counters_table, Key=counters.counter_key("bai")
        )["Item"]

    today = counters.day_attribute(datetime.now(settings().tz).date())
    assert stored()[today] == {"N": "1"}
    mostread.refresh()
    days = sorted(name for name in stored() if name.startswith("d"))
    three_ago = counters.day_attribute(datetime.now(settings().tz).date() - timedelta(days=3))
    assert days == sorted([three_ago, today])  # the 38-day-old bucket is gone
    assert counters.views_of(["bai"]) == {"bai": 1}


@pytest.mark.usefixtures("ddb_local_tables")
def test_pages_show_the_lists_and_the_stats_chart(tmp_path: Path) -> None:
    import re

    from tests.support import SLUG, event, import_fixture, invoke, reader

    import_fixture()
    for n in range(3):
        invoke("pages", reader(n))
    _set_day(SLUG, 2, 40)
    mostread.refresh()
    index = invoke("pages", event("index"))["body"]
    assert "Đọc nhiều nhất" in index and "Hôm nay" in index and "Mọi thời điểm" in index
    assert re.search(
        rf'<li><a href="[^"]*/articles/{SLUG}">Sơ kết[^<]*</a> <span class="meta">\(3\)', index
    )
    page = invoke("pages", event("article-stats"))
    assert page["statusCode"] == 200
    svg = page["body"]
    assert svg.count("<rect ") == 30
    today = datetime.now(settings().tz).date()
    assert f"<title>{today:%d/%m/%Y}: 3</title>" in svg
    assert f"<title>{today - timedelta(days=2):%d/%m/%Y}: 40</title>" in svg
    assert "Tổng: 9.577 | 30 ngày qua: 43" in svg  # all time 9.574 + 3; the month 3 + 40
    assert page["headers"]["Content-Security-Policy"].startswith("default-src 'none'")


def test_the_all_time_list_agrees_with_the_counts_on_the_same_page(tmp_path: Path) -> None:
    """Issue 12, item 6: the lists are computed every 5 minutes; views counted since must not
    leave the all-time list showing a lower count for an article than the page beside it."""
    import re

    from tests.support import SLUG, event, import_fixture, invoke, reader

    import_fixture()
    invoke("pages", reader(1))
    mostread.refresh()  # the all-time list: 9.575
    mostread.forget()
    invoke("pages", reader(2))
    page = invoke("pages", reader(3))["body"]  # counted: 9.577 on the page

    def listed(html: str) -> str:
        section = html.split(">Mọi thời điểm</h3>", 1)[1]
        found = re.search(rf'/articles/{SLUG}">[^<]*</a> <span class="meta">\(([\d.]+)\)', section)
        assert found, "the article is not in the all-time list"
        return found.group(1)

    assert "<span data-views>9.577</span>" in page
    assert listed(page) == "9.577"
    index = invoke("pages", event("index"))["body"]
    assert "</time> | Lượt xem: 9.577</span>" in index  # the listing's own count
    assert listed(index) == "9.577"


def test_a_count_lowered_by_an_editor_is_not_shown_higher_in_the_list_beside_it(
    tmp_path: Path,
) -> None:
    """The all-time list shows the page's own current count, also when an editor lowered it
    since the list was computed."""
    import re

    from newsdesk import editing

    from tests.support import SLUG, import_fixture, invoke, reader

    import_fixture()
    mostread.refresh()  # the all-time list: 9.574
    mostread.forget()
    editing.set_views(SLUG, 500, "editor")
    page = invoke("pages", reader(1))["body"]  # counted: 501
    section = page.split(">Mọi thời điểm</h3>", 1)[1]
    assert "<span data-views>501</span>" in page
    assert re.search(rf'/articles/{SLUG}">[^<]*</a> <span class="meta">\(501\)', section)


def test_in_beacon_mode_the_lists_count_of_the_article_follows_the_beacon(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The widget updates every data-views element with the beacon's answer: the article's
    all-time entry is one of them, so the two never disagree after the count."""
    from tests.support import SLUG, import_fixture, invoke, reader

    monkeypatch.setenv("COUNT_MODE", "beacon")
    settings.cache_clear()
    import_fixture()
    mostread.refresh()
    mostread.forget()
    page = invoke("pages", reader(1))["body"]
    section = page.split(">Mọi thời điểm</h3>", 1)[1]
    assert f'/articles/{SLUG}">' in section
    entry = section.split(f'/articles/{SLUG}">', 1)[1].split("</li>", 1)[0]
    assert "<span data-views>9.574</span>" in entry


def test_an_article_that_now_beats_the_list_enters_it_on_its_own_page(tmp_path: Path) -> None:
    """The all-time list is up to 5 minutes old: an article outside it whose count, shown on
    the same page, beats the list's last entry is listed, at its rank, and the list stays 5
    long."""
    import re

    from newsdesk import editing

    from tests.support import event, invoke, reader

    _import(
        tmp_path, [_article(f"tin-{n}", views) for n, views in enumerate((90, 80, 70, 60, 50, 40))]
    )
    mostread.refresh()
    mostread.forget()
    editing.set_views("tin-5", 75, "editor")
    page = invoke(
        "pages",
        reader(1, rawPath="/articles/tin-5", pathParameters={"slug": "tin-5"}),
    )["body"]
    assert "<span data-views>76</span>" in page
    section = page.split(">Mọi thời điểm</h3>", 1)[1].split("</ol>", 1)[0]
    listed = re.findall(r'/articles/(tin-\d)">[^<]*</a> <span class="meta">\(([\d.]+)\)', section)
    assert listed == [
        ("tin-0", "90"),
        ("tin-1", "80"),
        ("tin-5", "76"),
        ("tin-2", "70"),
        ("tin-3", "60"),
    ]
    index = invoke("pages", event("index"))["body"]  # the listing shows tin-5's count too
    section = index.split(">Mọi thời điểm</h3>", 1)[1].split("</ol>", 1)[0]
    assert "/articles/tin-5" in section and "/articles/tin-4" not in section
