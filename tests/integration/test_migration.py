"""Migrating a real site (issue 14, items 1, 2, 3, 7 and 8), against DynamoDB Local: every
article keeps its own URL and count, an editor's count survives a re-import, one bad item
of a list is rejected alone and named, bulk imports are batched, visible and resumable,
and the operator's commands wait for a slow DynamoDB instead of failing like a page."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from newsdesk import cli, editing
from newsdesk.dal import articles as stored_articles
from newsdesk.dal import counters, db
from newsdesk.importer import Summary, import_paths
from newsdesk.slugs import short_id

from tests.faultproxy import FaultProxy
from tests.support import FIXTURE, SLUG, Calls, event, import_fixture, invoke

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
    return {item["slug"]["S"]: item for item in scan("ARTICLES_TABLE")}


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
    first, _ = run(files)
    assert first.imported == 250
    # 100 articles planned at a time, written 50 to a transaction (100 actions: each article
    # whole, with its counter), one BatchGetItem of their slugs per 100.
    assert len(sent.sent) == 2 + 2 + 1
    assert all(len(items) <= 100 for items in sent.sent)
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
    """AWS answers part of a BatchGetItem (UnprocessedKeys: retried with backoff) and cancels
    transactions that meet another (TransactionConflict: retried); every article still goes
    in whole, exactly once."""
    files = pages(tmp_path / "pages", 120)
    partial = dynamodb_proxy.unprocessed("BatchGetItem", share=0.5, seed=3)
    race = dynamodb_proxy.conflict_on("TransactWriteItems", calls=[1, 3])
    summary, _ = run(files)
    dynamodb_proxy.clear()
    assert (summary.imported, summary.rejected) == (120, [])
    assert partial.left > 0 and race.hits == 2  # AWS's behaviours did happen
    assert dynamodb_proxy.seen("TransactWriteItems") == 3 + 2  # 3 groups, 2 sent again
    assert sorted(total(f"tin-so-{n}") for n in range(120)) == list(range(1000, 1120))


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
    _, err = capsys.readouterr()
    line = next(line for line in err.splitlines() if line.startswith("interrupted; so far: "))
    so_far = int(line.split("imported ")[1].split(",")[0])
    assert 0 < so_far < 600
    assert len(stored()) == so_far  # what it said is what was stored, each article whole
    assert len([i for i in scan("COUNTERS_TABLE") if i["id"]["S"].startswith("views#")]) == so_far
    assert "rerun to pick up where it stopped" in err

    monkeypatch.setattr(cli.Progress, "show", show)
    assert cli.main(["import", str(tmp_path / "pages")]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith(f"imported {600 - so_far}, updated 0, unchanged {so_far},")


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
