"""Migrating a real site (issue 14, items 1, 2, 3, 7 and 8), against DynamoDB Local: every
article keeps its own URL and count, an editor's count survives a re-import, one bad item
of a list is rejected alone and named, bulk imports are batched, visible and resumable,
and the operator's commands wait for a slow DynamoDB instead of failing like a page."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from newsdesk import cli, editing, presence
from newsdesk.dal import articles as stored_articles
from newsdesk.dal import counters, db
from newsdesk.importer import Summary, import_paths
from newsdesk.slugs import short_id

from tests.faultproxy import FaultProxy
from tests.support import FIXTURE, ROOT, SLUG, Calls, event, import_fixture, invoke

pytestmark = pytest.mark.usefixtures("ddb_local_tables")

WHEN = "2024-05-01T09:30:00+07:00"


# ---- helpers -----------------------------------------------------------------------------------


def json_file(folder: Path, name: str, items: Any) -> Path:
    path = folder / name
    path.write_text(json.dumps(items, ensure_ascii=False), "utf-8")
    return path


def article(title: str, views: int = 0, **extra: Any) -> dict[str, Any]:
    body = [f"Nội dung của bài {title}."]
    return {"title": title, "body": body, "published_at": WHEN, "views": views, **extra}


def legacy_page(folder: Path, name: str, title: str, when: str, views: int) -> Path:
    """A page in the old CMS's format (the fixture's): title, date and count, paragraphs."""
    path = folder / name
    path.write_text(
        f"{title}\ncms-publish-date {when} | cms-view-count: {views}\n\n"
        f"Nội dung bài {name}, đoạn một.\n\nĐoạn hai.\n",
        "utf-8",
    )
    return path


def pages(folder: Path, count: int) -> list[Path]:
    """`count` legacy pages with distinct titles, counts 1000 + n."""
    folder.mkdir(exist_ok=True)
    return [
        legacy_page(folder, f"{n:04d}.txt", f"Tin số {n}", "01/02/2024 | 08:00", 1000 + n)
        for n in range(count)
    ]


def run(paths: list[Path], **kw: Any) -> tuple[Summary, list[str]]:
    lines: list[str] = []
    return import_paths(paths, report=lines.append, **kw), lines


def scan(var: str) -> list[dict[str, Any]]:
    """Every item of a table, read outside the newsdesk client (not in Calls)."""
    client = boto3.client("dynamodb")
    return client.scan(TableName=os.environ[var], ConsistentRead=True)["Items"]


def stored() -> dict[str, dict[str, Any]]:
    """The articles by slug (not the source key items: stored_articles.home_key)."""
    items = scan("ARTICLES_TABLE")
    return {i["slug"]["S"]: i for i in items if not i["slug"]["S"].startswith("source#")}


def source_keys() -> dict[str, str]:
    """Source identity -> the slug its source key item names."""
    items = scan("ARTICLES_TABLE")
    found = [i for i in items if i["slug"]["S"].startswith("source#")]
    return {item["source"]["S"]: item["article"]["S"] for item in found}


def total(slug: str) -> int:
    return counters.views_of([slug])[slug]


def audits(slug: str) -> list[dict[str, Any]]:
    found = [i for i in scan("COUNTERS_TABLE") if i["id"]["S"].startswith(f"audit#views#{slug}#")]
    return sorted(found, key=lambda item: item["when"]["S"])


def shown_title(slug: str) -> str:
    """The article page's <h1>, as a crawler gets it (not counted)."""
    data = event("article-bot")
    data["rawPath"] = data["requestContext"]["http"]["path"] = f"/articles/{slug}"
    data["pathParameters"] = {"slug": slug}
    response = invoke("pages", data)
    assert response["statusCode"] == 200, slug
    body = response["body"]
    start = body.index(">", body.index("<h1")) + 1
    return str(body[start : body.index("</h1>", start)])


class Transactions:
    """The TransactItems of every TransactWriteItems the newsdesk client sends from now on."""

    def __init__(self) -> None:
        self.sent: list[list[dict[str, Any]]] = []
        db.client().meta.events.register(
            "provide-client-params.dynamodb.TransactWriteItems", self._record
        )

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        self.sent.append(params["TransactItems"])

    def tables(self) -> list[set[str]]:
        return [
            {os.environ[var] for var in ("ARTICLES_TABLE", "COUNTERS_TABLE")}
            & {next(iter(action.values()))["TableName"] for action in items}
            for items in self.sent
        ]


class Batches:
    """The puts of every BatchWriteItem the newsdesk client sends from now on, in order:
    (table variable, key) per put, one list per call."""

    def __init__(self) -> None:
        self.sent: list[list[tuple[str, str]]] = []
        db.client().meta.events.register(
            "provide-client-params.dynamodb.BatchWriteItem", self._record
        )

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        var = {os.environ[v]: v for v in ("ARTICLES_TABLE", "COUNTERS_TABLE")}
        self.sent.append(
            [
                (var[table], next(iter(r["PutRequest"]["Item"].values()))["S"])
                for table, requests in params["RequestItems"].items()
                for r in requests
            ]
        )


# ---- 1. an article is the same article only when its source identity matches ----------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Bão lớn đổ bộ miền Trung", "Báo lớn đổ bộ miền Trung"),  # a tone mark
        ("Đường mới về xã vùng cao", "Dường mới về xã vùng cao"),  # đ/d
        ("GDP Việt Nam đã vượt Singapore", "GDP Viet Nam da vuot Singapore"),  # diacritics
        ("Giá xăng: tăng mạnh!", "giá xăng tăng mạnh"),  # punctuation and case
        ("Hội nghị tổng kết " * 8 + "lần một", "Hội nghị tổng kết " * 8 + "lần hai"),  # 100 chars
    ],
    ids=["tone-mark", "d", "diacritics", "punctuation-case", "first-100"],
)
def test_titles_that_make_one_slug_are_two_articles_at_stable_urls(
    tmp_path: Path, first: str, second: str
) -> None:
    path = json_file(tmp_path, "two.json", [article(first, 812), article(second, 455)])

    summary, lines = run([path])
    assert (summary.imported, summary.updated, summary.rejected) == (2, 0, [])
    slugs = sorted(stored())
    assert len(slugs) == 2
    base, unique = slugs[0], slugs[1]
    assert unique == f"{base}-{short_id(f'title:2024-05-01T02:30:00Z {second}')}"
    assert summary.renamed == [(unique, base)]
    assert any(f"slug {base} is another article's" in line for line in lines)
    assert (shown_title(base), shown_title(unique)) == (first, second)
    assert (total(base), total(unique)) == (812, 455)  # no count lost

    again, _ = run([path])  # the same import again: nothing moves, nothing is written
    assert (again.imported, again.updated, again.unchanged) == (0, 0, 2)
    assert sorted(stored()) == slugs


def test_two_legacy_pages_with_one_title_and_two_dates_stay_two_articles(tmp_path: Path) -> None:
    title = "Thông báo lịch tiếp công dân"
    one = legacy_page(tmp_path, "a.txt", title, "01/03/2019 | 08:00", 812)
    two = legacy_page(tmp_path, "b.txt", title, "05/04/2019 | 09:30", 455)
    summary, _ = run([one, two])
    assert summary.imported == 2
    counts = sorted(total(slug) for slug in stored())
    assert counts == [455, 812]


def test_a_rejected_page_takes_no_url_from_the_article_after_it(tmp_path: Path) -> None:
    """A page refused for its text (here a VNI body) is not an article: another page with
    its title, later in the same run, gets the title's own URL, and no note says that URL
    is another article's."""
    from tests.unit.vni import to_vni

    title = "Thông báo lịch tiếp công dân"
    bad = legacy_page(tmp_path, "a.txt", title, "01/03/2019 | 08:00", 812)
    text = bad.read_text("utf-8").split("\n\n", 1)
    bad.write_text(text[0] + "\n\n" + to_vni(text[1] * 3), "utf-8")
    good = legacy_page(tmp_path, "b.txt", title, "05/04/2019 | 09:30", 455)
    summary, lines = run([bad, good])
    assert (summary.imported, len(summary.rejected)) == (1, 1)
    assert list(stored()) == ["thong-bao-lich-tiep-cong-dan"]
    assert not summary.renamed, lines


def test_articles_stored_before_identities_keep_their_urls(tmp_path: Path) -> None:
    """Articles imported before this change have no `source`: the one at a slug is the same
    article as a page published at the same time (its live URL stays), another one is not."""
    import_fixture()
    table = os.environ["ARTICLES_TABLE"]
    boto3.client("dynamodb").update_item(  # as stored before 2026-12
        TableName=table,
        Key={"slug": {"S": SLUG}},
        UpdateExpression="REMOVE #s",
        ExpressionAttributeNames={"#s": "source"},
    )
    text = FIXTURE.read_text("utf-8")
    other = tmp_path / "other-day.txt"
    other.write_text(
        text.replace("27/11/2018 | 08:12", "03/12/2018 | 10:00").replace("9574", "120")
    )
    summary, _ = run([other, FIXTURE])
    assert (summary.imported, summary.unchanged) == (1, 1)
    assert summary.renamed == [(summary.renamed[0][0], SLUG)]
    assert total(SLUG) == 9574 and total(summary.renamed[0][0]) == 120
    assert "source" not in stored()[SLUG]  # left as it was: unchanged


def test_json_ids_are_identities_and_an_export_carries_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    items = [article("Tin nhanh", views=3, id="cms-1"), article("Tin nhanh", views=4, id="cms-2")]
    path = json_file(tmp_path, "ids.json", items)
    first, _ = run([path])
    assert first.imported == 2
    moved = first.renamed[0][0]
    assert moved == f"tin-nhanh-{short_id('id:cms-2')}"
    items[1]["body"] = ["Bản sửa."]
    second, _ = run([json_file(tmp_path, "ids2.json", items)])
    assert (second.updated, second.unchanged, second.imported) == (1, 1, 0)
    assert stored()[moved]["body"]["L"] == [{"S": "Bản sửa."}]

    out = tmp_path / "export.json"
    assert cli.main(["export", "--out", str(out)]) == 0
    exported = {entry["slug"]: entry for entry in json.loads(out.read_text("utf-8"))}
    assert {slug: entry["id"] for slug, entry in exported.items()} == {
        "tin-nhanh": "cms-1",
        moved: "cms-2",
    }
    assert cli.main(["import", str(out)]) == 0
    assert capsys.readouterr().out.startswith("imported 0, updated 0, unchanged 2,")


def test_an_article_whose_title_changes_at_the_source_keeps_its_url(tmp_path: Path) -> None:
    first = [article("Tin nhanh", views=7, id="cms-9"), article("Tin khác", id="cms-8")]
    run([json_file(tmp_path, "a.json", first)])
    assert source_keys() == {"id:cms-9": "tin-nhanh", "id:cms-8": "tin-khac"}
    edited = [{**first[0], "title": "Tin nhanh (cập nhật)", "updated_at": "2030-01-01T00:00:00Z"}]
    summary, lines = run([json_file(tmp_path, "b.json", edited)])
    assert (summary.updated, summary.imported, summary.renamed) == (1, 0, [])
    assert summary.stayed == [("tin-nhanh", "tin-nhanh-cap-nhat")]
    assert lines[0].endswith(
        ": updated tin-nhanh (its source now gives it slug tin-nhanh-cap-nhat: its URL stays)"
    )
    assert set(stored()) == {"tin-nhanh", "tin-khac"}
    assert shown_title("tin-nhanh") == "Tin nhanh (cập nhật)"
    assert total("tin-nhanh") == 7
    # Twice over, and in another run: still that article.
    again = [{**edited[0], "title": "Tin nhanh lần hai", "updated_at": "2030-01-02T00:00:00Z"}]
    assert run([json_file(tmp_path, "c.json", again)])[0].updated == 1
    assert set(stored()) == {"tin-nhanh", "tin-khac"}
    # The key item lists nowhere: not in the feed, the sitemap nor the export.
    out = tmp_path / "export.json"
    assert cli.main(["export", "--out", str(out)]) == 0
    assert sorted(e["slug"] for e in json.loads(out.read_text("utf-8"))) == [
        "tin-khac",
        "tin-nhanh",
    ]
    feed = invoke("pages", event("feed"))["body"]
    assert feed.count("<item>") == 2


def test_a_slug_changed_at_the_source_keeps_the_articles_url(tmp_path: Path) -> None:
    """BREAK14 finding 16: the same JSON id (a WordPress guid) with another slug was a second
    article with its own count."""
    first = [article("Tin có id", views=100, id="story-77", slug="bai-co-id")]
    run([json_file(tmp_path, "a.json", first)])
    moved = [{**first[0], "slug": "bai-co-id-moi", "views": 150}]
    summary, _ = run([json_file(tmp_path, "b.json", moved)])
    assert (summary.updated, summary.imported) == (1, 0)
    assert summary.stayed == [("bai-co-id", "bai-co-id-moi")]
    assert set(stored()) == {"bai-co-id"}
    assert total("bai-co-id") == 150


def test_an_article_stored_before_source_keys_gets_one_on_a_rerun(tmp_path: Path) -> None:
    items = [article("Tin nhanh", views=7, id="cms-9")]
    run([json_file(tmp_path, "a.json", items)])
    boto3.client("dynamodb").delete_item(
        TableName=os.environ["ARTICLES_TABLE"],
        Key={"slug": {"S": stored_articles.home_key("id:cms-9")}},
    )  # as an older version stored it
    summary, _ = run([json_file(tmp_path, "a.json", items)])
    assert (summary.unchanged, summary.updated) == (1, 0)
    assert source_keys() == {"id:cms-9": "tin-nhanh"}
    edited = [{**items[0], "title": "Tiêu đề mới", "updated_at": "2030-01-01T00:00:00Z"}]
    assert run([json_file(tmp_path, "b.json", edited)])[0].updated == 1
    assert set(stored()) == {"tin-nhanh"}


def test_one_source_id_is_one_article_even_when_two_runs_place_it_at_once(
    tmp_path: Path,
) -> None:
    """Another import stores the article (by its old title) between this one's read and its
    write: the source key item's condition refuses the second article, which is read again
    and found by its id."""
    from zoneinfo import ZoneInfo

    from newsdesk import storing
    from newsdesk.importer import parse_json_article

    def parsed(title: str) -> Any:
        return parse_json_article(article(title, id="cms-1"), ZoneInfo("Asia/Ho_Chi_Minh"))

    write_together = stored_articles.write_together

    def racing(actions: list[dict[str, Any]]) -> Any:
        stored_articles.write_together = write_together  # type: ignore[assignment]
        assert storing.store_one(parsed("Tin cũ")).outcome == "imported"  # the other run
        return write_together(actions)

    stored_articles.write_together = racing  # type: ignore[assignment]
    try:
        outcome = storing.store_one(parsed("Tin mới"))
    finally:
        stored_articles.write_together = write_together  # type: ignore[assignment]
    assert (outcome.outcome, outcome.slug) == ("updated", "tin-cu")
    assert set(stored()) == {"tin-cu"}
    assert source_keys() == {"id:cms-1": "tin-cu"}


def test_a_legacy_pages_last_edit_is_its_publish_time_not_its_files(tmp_path: Path) -> None:
    """BREAK14 finding 2: a clone or a copy sets a page's file time to the moment it was made;
    that time was the article's version, so lastmod and article:modified_time said every
    2018 article was edited today."""
    (page,) = pages(tmp_path / "p", 1)  # published 01/02/2024 08:00 at +07:00
    os.utime(page, (2_000_000_000, 2_000_000_000))  # 2033: a copy made later
    run([page])
    published = "2024-02-01T01:00:00Z"
    assert stored()["tin-so-0"]["version"]["S"] == published
    sitemap = invoke("pages", event("sitemap"))["body"]
    assert f"<lastmod>{published}</lastmod>" in sitemap and "2033" not in sitemap
    # Stored by an older version (the file time; the old parser's digest): a re-run puts
    # it right, the counts untouched.
    boto3.client("dynamodb").update_item(
        TableName=os.environ["ARTICLES_TABLE"],
        Key={"slug": {"S": "tin-so-0"}},
        UpdateExpression="SET version = :v, source_digest = :d",
        ExpressionAttributeValues={":v": {"S": "2033-05-18T03:33:20Z"}, ":d": {"S": "old"}},
    )
    summary, lines = run([page])
    assert (summary.updated, summary.stale) == (1, 0), lines
    assert stored()["tin-so-0"]["version"]["S"] == published
    assert run([page])[0].unchanged == 1
    # An edited page is written, never "older than stored", whatever its file's time
    # (finding 25: restored with cp -p, rsync -t, unzip).
    page.write_text(page.read_text("utf-8").replace("đoạn một", "đoạn đã sửa"), "utf-8")
    os.utime(page, (1_546_300_800, 1_546_300_800))  # 2019-01-01
    assert run([page])[0].updated == 1
    assert total("tin-so-0") == 1000


# ---- 2. an editor's count wins over a later import ---------------------------------------------


def edited_fixture(tmp_path: Path, views: int = 9574) -> Path:
    path = tmp_path / "edited.txt"
    text = FIXTURE.read_text("utf-8").replace("Thanh Tùng", "Thanh Tùng - Minh Hà")
    path.write_text(text.replace("cms-view-count: 9574", f"cms-view-count: {views}"), "utf-8")
    return path


def test_an_editors_count_survives_a_reimport_and_the_import_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import_fixture()
    editing.set_views(SLUG, 5, "editor@example.org")
    code = cli.main(["import", str(edited_fixture(tmp_path))])
    out, err = capsys.readouterr()
    assert code == 0
    assert (
        out.startswith("imported 0, updated 1, unchanged 0,") and "kept an editor's count 1" in out
    )
    assert f"kept {SLUG}'s count set by an editor: 5 (set by editor@example.org on " in out
    assert "kept the count an editor set" in err  # the article's own line
    assert total(SLUG) == 5
    assert [(a["who"]["S"], a["new"]["N"]) for a in audits(SLUG)] == [("editor@example.org", "5")]
    assert "Thanh Tùng - Minh Hà" in invoke("pages", event("article-bot"))["body"]


def test_a_reimport_whose_only_change_is_the_count_updates_the_count(tmp_path: Path) -> None:
    """BREAK14 finding 10: a site re-exported the night before the move, its articles as
    they were, its counts higher: the views since the first export count."""
    items = [article("Tin nhanh", views=3, id="cms-1"), article("Tin chậm", views=4)]
    run([json_file(tmp_path, "a.json", items)])
    (page,) = pages(tmp_path / "p", 1)
    run([page])
    items[0]["views"], items[1]["views"] = 30, 40
    page.write_text(page.read_text("utf-8").replace("count: 1000", "count: 1500"), "utf-8")
    summary, lines = run([json_file(tmp_path, "b.json", items), page])
    assert (summary.updated, summary.unchanged) == (3, 0), lines
    assert [total(slug) for slug in ("tin-nhanh", "tin-cham", "tin-so-0")] == [30, 40, 1500]
    assert [(a["old"]["N"], a["new"]["N"]) for a in audits("tin-nhanh")] == [("3", "30")]
    # An editor's count is kept, and the import says so.
    editing.set_views("tin-nhanh", 5, "cli:an")
    items[0]["views"] = 60
    summary, lines = run([json_file(tmp_path, "c.json", items)])
    assert (summary.updated, summary.unchanged) == (0, 2)
    assert [slug for slug, _ in summary.kept] == ["tin-nhanh"]
    assert total("tin-nhanh") == 5
    assert run([json_file(tmp_path, "c.json", items)])[0].kept == summary.kept  # each run


def old_set_views(slug: str, target: int, when: str) -> None:
    """A set-views as made before 0addad3: the counter's legacy count set (no set_by, set_at)
    and an audit record without `via`."""
    client = boto3.client("dynamodb")
    table = os.environ["COUNTERS_TABLE"]
    client.update_item(
        TableName=table,
        Key=counters.counter_key(slug),
        UpdateExpression="SET legacy = :l REMOVE set_by, set_at",
        ExpressionAttributeValues={":l": {"N": str(target)}},
    )
    record = {"slug": slug, "who": "editor@example.org", "when": when}
    client.put_item(
        TableName=table,
        Item={
            "id": {"S": counters.audit_id(slug, when)},
            **{name: {"S": value} for name, value in record.items()},
            "old": {"N": "9574"},
            "new": {"N": str(target)},
        },
    )


def test_a_set_views_made_before_they_were_marked_survives_a_reimport(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import UTC, datetime, timedelta

    from newsdesk import storing

    import_fixture()
    run([json_file(tmp_path, "a.json", [article("Tin sửa sau", views=7)])])
    later = (datetime.now(UTC) + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    old_set_views(SLUG, 5, later)
    old_set_views("tin-sua-sau", 3, "2020-01-01T00:00:00.000000Z")  # before the import above
    # As stored before the upgrade: no import since has read the audit trail.
    boto3.client("dynamodb").update_item(
        TableName=os.environ["COUNTERS_TABLE"],
        Key=counters.SITE_KEY,
        UpdateExpression="REMOVE editor_marks_at",  # counters.EDITOR_MARKS
    )
    getattr(storing, "_MARKS_READ", set()).clear()  # a new import process

    assert cli.main(["import", str(edited_fixture(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert total(SLUG) == 5, out
    assert f"kept {SLUG}'s count set by an editor: 5 (set by editor@example.org on {later})" in out
    assert f"the count {SLUG} was set to by editor@example.org on {later} is kept" in out
    # Written after that set-views (an import of the time rewrote the count): not marked.
    assert "the count tin-sua-sau was set to by editor@example.org on 2020-01-01" in out
    assert "is not kept: the article was written after it" in out
    # Once per table: a later import process reads the site item only.
    getattr(storing, "_MARKS_READ", set()).clear()
    calls = Calls()
    run([edited_fixture(tmp_path)])
    assert calls.count("Scan", os.environ["COUNTERS_TABLE"]) == 0
    assert total(SLUG) == 5


def test_an_import_that_changes_a_count_is_on_the_record(tmp_path: Path) -> None:
    import_fixture()
    for _ in range(3):
        counters.add_view(SLUG)
    summary, _ = run([edited_fixture(tmp_path, views=10_000)], who="cli:operator")
    assert summary.updated == 1 and not summary.kept
    assert total(SLUG) == 10_003  # the new legacy count, and the views counted here
    (record,) = audits(SLUG)
    assert (record["who"]["S"], record["via"]["S"]) == ("cli:operator", "import")
    assert (record["old"]["N"], record["new"]["N"]) == ("9577", "10003")


@pytest.mark.parametrize("content", ["changed", "count only"])
def test_a_reimport_raises_the_site_total_to_the_articles_new_count(
    tmp_path: Path, content: str
) -> None:
    """BREAK finding (2026-12-01): a re-import with a higher legacy count raised the site's
    total visits only to that legacy count, while the article then showed it plus the views
    counted since the launch: a page showed an article read more often than the whole site.
    Both ways an import changes a count: with the article (updated) and alone."""
    import_fixture()
    for n in range(3):  # three readers since the launch: three visits, three views
        assert invoke("pages", event("article", source_ip=f"198.51.0.{n + 1}"))["statusCode"] == 200
    assert total(SLUG) == 9574 + 3
    if content == "changed":
        page = edited_fixture(tmp_path, views=20_000)
    else:
        page = tmp_path / "page.txt"
        page.write_text(FIXTURE.read_text("utf-8").replace("9574", "20000"), "utf-8")
    summary, lines = run([page])
    assert summary.updated == 1, lines
    assert total(SLUG) == 20_003
    assert presence.total_visits_now() >= 20_003


def test_a_set_views_between_the_imports_read_and_its_write_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The import read the counter, then an editor set the count: the import's write is
    conditional on what it read, so it is refused, re-read, and the editor's count kept."""
    import_fixture()
    read_counts = counters.counts
    sets = iter([lambda: editing.set_views(SLUG, 77, "editor@example.org")])

    def counts_then_an_editor(slugs: Any) -> dict[str, counters.Count]:
        found = read_counts(slugs)
        next(sets, lambda: None)()
        return found

    monkeypatch.setattr(counters, "counts", counts_then_an_editor)
    summary, _ = run([edited_fixture(tmp_path, views=20_000)])
    assert summary.updated == 1 and [slug for slug, _ in summary.kept] == [SLUG]
    assert total(SLUG) == 77
    assert [a["via"]["S"] for a in audits(SLUG)] == ["set-views"]


def test_a_save_that_keeps_the_count_leaves_the_counter_out(tmp_path: Path) -> None:
    """So a view counted meanwhile never meets the save's transaction (AWS refuses a single
    write to an item a transaction holds: tests/integration/test_aws_semantics.py)."""
    import_fixture()
    sent = Transactions()
    summary, _ = run([edited_fixture(tmp_path)])
    assert summary.updated == 1
    assert sent.tables() == [{os.environ["ARTICLES_TABLE"]}]


# ---- 3. each item of a list on its own ----------------------------------------------------------


def test_a_slug_that_cannot_be_a_url_gets_one_that_can_and_is_reported(
    tmp_path: Path,
) -> None:
    items = [article("Tin một", slug="."), article("Tin hai", slug="..", id="2"), article("Ba")]
    summary, lines = run([json_file(tmp_path, "a.json", items)])
    assert (summary.imported, summary.rejected) == (3, [])
    assert summary.derived == [("tin-mot", "."), ("tin-hai", "..")]
    assert f"{tmp_path}/a.json[0] 'Tin một': imported tin-mot (its slug '.' cannot be a URL)" in [
        line.split("] ", 1)[1] for line in lines
    ]
    assert set(stored()) == {"tin-mot", "tin-hai", "ba"}
    # Re-run: the same articles, unchanged (their identities, not the unusable slug).
    again, _ = run([json_file(tmp_path, "a.json", items)])
    assert (again.unchanged, again.imported, again.derived) == (3, 0, [])


def test_counts_no_counter_could_have_are_rejected_alone_and_the_rest_imported(
    tmp_path: Path,
) -> None:
    """BREAK14 findings 5 and 6: a count of "²" crashed the import with a traceback, and
    one of 40 digits (over DynamoDB's 38) cancelled the whole batch it was in."""
    from tests.unit.test_wxr import export, item

    def meta(value: str) -> str:
        return (
            "<wp:postmeta><wp:meta_key><![CDATA[post_views_count]]></wp:meta_key>"
            f"<wp:meta_value><![CDATA[{value}]]></wp:meta_value></wp:postmeta>\n\t\t</item>"
        )

    posts = [
        item(n).replace("\t\t</item>", meta(value))
        for n, value in ((1, "²"), (2, "١٢٣"), (3, "9" * 45), (4, "812"), (5, "1" + "0" * 13))
    ]
    listed = [article("Tin một", views=1), article("Tin hai", views=10**40), article("Tin ba")]
    (page,) = pages(tmp_path / "p", 1)
    page.write_text(page.read_text("utf-8").replace("count: 1000", "count: " + "9" * 39), "utf-8")
    paths = [export(tmp_path, *posts), json_file(tmp_path, "a.json", listed), page]
    summary, _ = run(paths)
    assert summary.imported == 5
    assert sorted(where for where, _ in summary.rejected) == sorted(
        [
            f"{paths[0]} post 3 'Bài số 3'",
            f"{paths[0]} post 5 'Bài số 5'",
            f"{paths[1]}[1] 'Tin hai'",
            str(page),
        ]
    )
    assert all("1,000,000,000,000" in why for _, why in summary.rejected)
    assert [total(s) for s in ("bai-so-1", "bai-so-2", "bai-so-4", "tin-mot", "tin-ba")] == [
        0,
        0,
        812,
        1,
        0,
    ]


def test_one_bad_item_of_a_list_is_rejected_alone_and_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    items = [article(f"Tin số {n}", views=n) for n in range(30)]
    items[7] = {**items[7], "body_html": ""}
    del items[7]["body"]
    items[21]["title"] = ""
    path = json_file(tmp_path, "list.json", items)
    code = cli.main(["import", str(path)])
    out, _ = capsys.readouterr()
    assert code == 1
    assert out.startswith(
        "imported 28, updated 0, unchanged 0, skipped as older than stored 0, rejected 2"
    )
    assert f"  rejected {path}[7] 'Tin số 7': 'body_html' is empty\n" in out
    assert f"  rejected {path}[21]: the title is empty\n" in out
    assert len(stored()) == 28


# ---- 7. bulk imports: batched, whole, visible, resumable ---------------------------------------


def test_a_first_import_is_batched_and_a_rerun_only_reads(tmp_path: Path) -> None:
    files = pages(tmp_path / "pages", 250)
    calls = Calls()
    sent = Transactions()
    batches = Batches()
    first, _ = run(files)
    assert first.imported == 250
    # 100 articles planned at a time (one BatchGetItem of their slugs, one of their counters
    # per 100); new ones written by BatchWriteItem, 25 puts a call, no transaction.
    assert sent.sent == []
    assert all(len(puts) <= 25 for puts in batches.sent)
    puts = [put for call in batches.sent for put in call]
    assert sorted(puts) == sorted(
        [("ARTICLES_TABLE", f"tin-so-{n}") for n in range(250)]
        + [("COUNTERS_TABLE", f"views#tin-so-{n}") for n in range(250)]
    )
    # Each article's own item goes in a call after the one that wrote its counter.
    call_of = {put: i for i, call in enumerate(batches.sent) for put in call}
    assert all(
        call_of[("ARTICLES_TABLE", f"tin-so-{n}")]
        > call_of[("COUNTERS_TABLE", f"views#tin-so-{n}")]
        for n in range(250)
    )
    assert calls.count("BatchGetItem", os.environ["ARTICLES_TABLE"]) == 3
    assert all(total(f"tin-so-{n}") == 1000 + n for n in range(0, 250, 49))

    calls.made.clear()
    again, _ = run(files)
    assert (again.imported, again.updated, again.unchanged) == (0, 0, 250)
    assert calls.made == [("BatchGetItem", os.environ["ARTICLES_TABLE"], ())] * 3


def test_a_group_refused_by_a_condition_is_written_article_by_article(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An editor creates `tin-so-3` between the import's read of the slugs and its write:
    the group's transaction is refused whole, then each of its articles is stored on its own,
    read afresh: the editor's article stays, the page gets a unique slug, the rest go in."""
    files = pages(tmp_path / "pages", 20)
    read_slots = stored_articles.slots
    once = itertools.count()

    def slots_then_an_editor(slugs: Any) -> dict[str, Any]:
        found = read_slots(slugs)
        if next(once) == 0:
            editing.put_article(
                "tin-so-3",
                {**article("Bài của biên tập viên"), "author": "An", "status": "published"},
                "editor@example.org",
            )
        return found

    monkeypatch.setattr(stored_articles, "slots", slots_then_an_editor)
    summary, _ = run(files)
    assert summary.imported == 20 and not summary.rejected
    unique = f"tin-so-3-{short_id('title:2024-02-01T01:00:00Z Tin số 3')}"
    assert summary.renamed == [(unique, "tin-so-3")]
    assert shown_title("tin-so-3") == "Bài của biên tập viên"
    assert (shown_title(unique), total(unique)) == ("Tin số 3", 1003)


def test_bulk_imports_under_unprocessed_keys_and_conflicts(
    dynamodb_proxy: FaultProxy, tmp_path: Path
) -> None:
    """AWS answers part of a BatchGetItem (UnprocessedKeys) and of a BatchWriteItem
    (UnprocessedItems: both retried with backoff), and cancels transactions that meet another
    (TransactionConflict: retried); every article still goes in whole, exactly once."""
    files = pages(tmp_path / "pages", 120)
    partial = dynamodb_proxy.unprocessed("*", share=0.5, seed=3)
    summary, _ = run(files)
    dynamodb_proxy.clear()
    assert (summary.imported, summary.rejected) == (120, [])
    assert partial.left > 0  # AWS's behaviour did happen
    # New articles by BatchWriteItem: 10 calls at least (3 groups; counters, then articles).
    assert dynamodb_proxy.seen("BatchWriteItem") > 10
    assert dynamodb_proxy.seen("TransactWriteItems") == 0
    assert sorted(total(f"tin-so-{n}") for n in range(120)) == list(range(1000, 1120))
    # Their counts changed at the source: updates, by transaction.
    for page in files:
        page.write_text(page.read_text("utf-8").replace("count: 1", "count: 2"), "utf-8")
    race = dynamodb_proxy.conflict_on("TransactWriteItems", calls=[1, 3])
    sent = Transactions()
    summary, lines = run(files)
    dynamodb_proxy.clear()
    assert (summary.updated, summary.rejected) == (120, []), lines
    assert race.hits == 2
    # 3 groups (a counter and an audit record an article: 50 a group: 100, 100, 40 actions),
    # 2 of them sent again; which 2 depends on the order the import's threads send them in.
    sizes = Counter(len(actions) for actions in sent.sent)
    again = sizes - Counter([100, 100, 40])
    assert sum(again.values()) == 2 and set(again) <= {100, 40}, (sent.sent, lines)
    assert sorted(total(f"tin-so-{n}") for n in range(120)) == list(range(2000, 2120))


def fake_clock(step: float) -> Iterator[float]:
    return (step * n for n in itertools.count())


def test_the_cli_import_shows_progress_rate_and_time_left(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    files = pages(tmp_path / "pages", 150)
    ticks = fake_clock(11.0)  # every reading 11 s later: a line each time (a log: every 10 s)
    monkeypatch.setattr(cli, "clock", lambda: next(ticks))
    assert cli.main(["import", str(tmp_path / "pages")]) == 0
    _, err = capsys.readouterr()
    progress = [line for line in err.splitlines() if " articles" in line]
    assert progress, err
    assert any("% of the files)" in line and " left" in line for line in progress)
    assert progress[-1].startswith("150 articles") and "done in" in progress[-1]
    assert "/s" in progress[-1]
    assert len(files) == 150


def test_ctrl_c_shows_the_counts_so_far_and_a_rerun_finishes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C as soon as the first article is stored: the writes under way end (each article
    whole), the counts so far are printed, and they are exactly what was stored."""
    pages(tmp_path / "pages", 600)
    show = cli.Progress.show
    pressed = []

    def ctrl_c_at_the_first_article(self: cli.Progress, done: int, *args: Any) -> None:
        if done and not pressed:
            pressed.append(done)
            raise KeyboardInterrupt
        show(self, done, *args)

    monkeypatch.setattr(cli.Progress, "show", ctrl_c_at_the_first_article)
    assert cli.main(["import", str(tmp_path / "pages")]) == 2
    out, err = capsys.readouterr()
    line = out.splitlines()[0]
    assert line.startswith("imported ") and line.endswith(" (interrupted)")
    so_far = int(line.split("imported ")[1].split(",")[0])
    assert 0 < so_far < 600
    assert len(stored()) == so_far  # what it said is what was stored, each article whole
    assert len([i for i in scan("COUNTERS_TABLE") if i["id"]["S"].startswith("views#")]) == so_far
    assert "rerun to pick up where it stopped" in err

    monkeypatch.setattr(cli.Progress, "show", show)
    assert cli.main(["import", str(tmp_path / "pages")]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith(f"imported {600 - so_far}, updated 0, unchanged {so_far},")


def test_ctrl_c_on_an_import_process_prints_the_counts_so_far_then_the_rerun_hint(
    tmp_path: Path,
) -> None:
    """SIGINT, as Ctrl-C in a terminal sends it, to a `python -m newsdesk import` process once
    it has stored articles (its --verbose line for the first one read, not a time waited):
    the summary line with what was stored so far, marked (interrupted), then the hint."""
    pages(tmp_path / "pages", 3000)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "layers" / "newsdesk" / "python")}
    command = [sys.executable, "-m", "newsdesk", "import", "--verbose", str(tmp_path / "pages")]
    with tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.PIPE, text=True)
        assert process.stderr is not None
        err = []
        for line in process.stderr:
            err.append(line)
            if ": imported " in line:  # an article is stored
                process.send_signal(signal.SIGINT)
                break
        err += process.stderr.readlines()
        assert process.wait(timeout=120) == 2, err
        out.seek(0)
        summary = out.readline().rstrip("\n")
    assert summary.startswith("imported ") and summary.endswith(" (interrupted)"), summary
    so_far = int(summary.split("imported ")[1].split(",")[0])
    assert 0 < so_far < 3000
    assert len(stored()) == so_far  # what it said is what was stored
    assert err[-1] == "newsdesk: interrupted; rerun to pick up where it stopped\n", err[-3:]


def test_a_listing_piped_into_head_ends_quietly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BREAK14 finding 24a: `newsdesk list | head -5` ended in a BrokenPipeError traceback."""
    import sys

    run(pages(tmp_path / "pages", 30))
    read, write = os.pipe()
    os.close(read)  # head has read its lines and gone
    monkeypatch.setattr(sys, "stdout", os.fdopen(write, "w", buffering=1))
    assert cli.main(["list"]) == 0


# ---- 8. operator commands: their own timeouts, retries and a progress line -----------------


def test_the_cli_waits_for_a_slow_dynamodb_that_a_page_would_give_up_on(
    dynamodb_proxy: FaultProxy, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Answers that take 1.5 s, twice in a row: past a page's 1 s read timeout and its one
    retry, well within an operator command's."""
    import_fixture()
    dynamodb_proxy.fail("Query", mode="late", delay=1.5, times=2)
    out = tmp_path / "export.json"
    assert cli.main(["export", "--out", str(out)]) == 0
    assert [entry["slug"] for entry in json.loads(out.read_text("utf-8"))] == [SLUG]
    dynamodb_proxy.fail("BatchGetItem", mode="late", delay=1.5, times=2)
    assert cli.main(["set-views", SLUG, "12"]) == 0
    assert total(SLUG) == 12
    capsys.readouterr()


def test_the_pages_keep_their_own_budget() -> None:
    db.use_operator_client()
    operator = db.client().meta.config
    assert (operator.read_timeout, operator.retries["total_max_attempts"]) == (60.0, 10)
    db.reset()
    page = db.client().meta.config
    assert (page.read_timeout, page.retries["total_max_attempts"]) == (1.0, 2)


def test_export_shows_a_progress_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(pages(tmp_path / "pages", 150))
    ticks = fake_clock(11.0)
    monkeypatch.setattr(cli, "clock", lambda: next(ticks))
    assert cli.main(["export", "--out", str(tmp_path / "all.json")]) == 0
    _, err = capsys.readouterr()
    assert "100 articles read, " in err and " left" in err
    assert "150 articles read, " in err and "done in" in err
    assert "exported 150 article(s)" in err
