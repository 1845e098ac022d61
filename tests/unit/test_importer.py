"""The importer reads the legacy page exactly as a reader saw it, minus the page chrome."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from newsdesk.dal.articles import Slot
from newsdesk.importer import (
    PARSER_VERSION,
    InvalidArticle,
    Page,
    Parsed,
    Summary,
    parse_file,
    parse_json_article,
    parse_legacy,
    read_items,
    read_page,
    source_digest,
)
from newsdesk.slugs import MAX_SLUG_LENGTH, clean_slug, short_id
from newsdesk.storing import Outcome, candidates, place

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
TITLE = "Sơ kết chương trình phối hợp công tác năm 2018 giữa Ban Tuyên giáo Tỉnh ủy và Công an tỉnh"


def test_fixture_title_date_count_and_byline(fixture_text: str) -> None:
    parsed = parse_legacy(fixture_text, HCM)
    article = parsed.article
    assert article.title == TITLE
    assert article.published_at == datetime(2018, 11, 27, 1, 12, tzinfo=UTC)  # 08:12 at +07:00
    assert parsed.legacy_views == 9574
    assert article.byline == "Thanh Tùng"
    assert article.slug.startswith("so-ket-chuong-trinh-phoi-hop-cong-tac-nam-2018")


def test_fixture_body_drops_widget_and_empty_paragraphs(fixture_text: str) -> None:
    body = parse_legacy(fixture_text, HCM).article.body
    assert len(body) == 5
    assert body[0].startswith("Chiều 26/11/2018, Ban Tuyên giáo Tỉnh ủy")
    assert body[-1].endswith("trên không gian mạng.")
    text = "\n".join(body)
    for chrome in ("Số lượng truy cập", "Đang truy cập", "Tổng: 0", "Thanh Tùng", "cms-"):
        assert chrome not in text
    assert "\xa0" not in text
    assert all(unicodedata.is_normalized("NFC", p) for p in body)


def test_decomposed_unicode_is_normalised(fixture_text: str) -> None:
    nfd = parse_legacy(unicodedata.normalize("NFD", fixture_text), HCM)
    nfc = parse_legacy(fixture_text, HCM)
    assert nfd == nfc


def test_view_count_with_thousands_separator() -> None:
    text = (
        "Tiêu đề\ncms-publish-date 01/02/2020 | 23:05 | cms-view-count: 12.345\n\nNội dung bài.\n"
    )
    parsed = parse_legacy(text, HCM)
    assert parsed.legacy_views == 12345
    assert parsed.article.byline == ""  # a single paragraph is body, not a byline


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("Chỉ có tiêu đề\n", "cms-publish-date"),
        ("Tiêu đề\nngày 27/11/2018\n\nNội dung.\n", "line 2"),
        ("Tiêu đề\ncms-publish-date 31/02/2018 | 08:12 | cms-view-count: 1\n\nNội dung.", "date"),
        ("Tiêu đề\ncms-publish-date 27/11/2018 | 08:12 | cms-view-count: 1\n\n\xa0\n", "no body"),
    ],
)
def test_malformed_pages_say_what_is_wrong(text: str, reason: str) -> None:
    with pytest.raises(InvalidArticle, match=reason):
        parse_legacy(text, HCM)


def test_json_article_and_list(tmp_path: Path) -> None:
    one = {
        "title": "Đường mới",
        "body": "Đoạn một.\n\nĐoạn hai.",
        "published_at": "2024-05-01T09:30:00",
        "author": "Minh Anh",
        "views": 12,
        "category": "Thời sự",
    }
    parsed = parse_json_article(one, HCM)
    assert parsed.article.slug == "duong-moi"
    assert parsed.article.body == ("Đoạn một.", "Đoạn hai.")
    assert parsed.article.published_at == datetime(2024, 5, 1, 2, 30, tzinfo=UTC)
    assert parsed.article.byline == "Minh Anh"
    assert parsed.legacy_views == 12
    path = tmp_path / "many.json"
    path.write_text(json.dumps([one, {**one, "title": "Khác", "slug": "khac-hon"}]), "utf-8")
    assert [p.article.slug for p in parse_file(path, HCM)] == ["duong-moi", "khac-hon"]
    assert [p.pinned for p in parse_file(path, HCM)] == [False, True]


@pytest.mark.parametrize(
    ("patch", "reason"),
    [
        ({"title": ""}, "title"),
        ({"body": 5}, "body"),
        ({"published_at": "yesterday"}, "ISO 8601"),
        ({"views": -1}, "views"),
        ({"views": "9"}, "views"),
        ({"status": "live"}, "status"),
        ({"summary": "s" * 1001}, "'summary' is longer than 1,000"),  # BREAK14 finding 20
        ({"published_at": "0001-01-02T00:00:00Z"}, "'published_at' is out of range"),  # 27
        ({"published_at": "0999-06-01T00:00:00Z"}, "'published_at' is out of range"),
        ({"updated_at": "0204-01-01T00:00:00Z"}, "'updated_at' is out of range"),
        ({"author": "A" * 201}, "'author' is longer than 200"),
        ({"byline": "A" * 201}, "'author' is longer than 200"),
        ({"views": 10**12 + 1}, "'views' must be a whole number from 0 to 1,000,000,000,000"),
    ],
)
def test_invalid_json_articles_are_rejected(patch: dict[str, object], reason: str) -> None:
    base = {"title": "T", "body": ["x"], "published_at": "2024-05-01T09:30:00+07:00"}
    with pytest.raises(InvalidArticle, match=reason):
        parse_json_article({**base, **patch}, HCM)


def test_each_item_of_a_json_list_is_accepted_or_rejected_on_its_own(tmp_path: Path) -> None:
    """Issue 14, item 3: one bad item no longer rejects the whole list; it is named by its
    file, index and title."""
    path = tmp_path / "mixed.json"
    good = {"title": "Tin tốt", "body": ["x"], "published_at": "2024-05-01T09:30:00+07:00"}
    items = [good, {**good, "title": ""}, {**good, "title": "Không thân bài", "body": None}, good]
    path.write_text(json.dumps(items, ensure_ascii=False), "utf-8")
    read = list(read_items(path, HCM))
    assert [where for where, _ in read] == [
        f"{path}[0] 'Tin tốt'",
        f"{path}[1]",
        f"{path}[2] 'Không thân bài'",
        f"{path}[3] 'Tin tốt'",
    ]
    assert [type(item).__name__ for _, item in read] == [
        "Parsed",
        "InvalidArticle",
        "InvalidArticle",
        "Parsed",
    ]
    assert "title is empty" in str(read[1][1]) and "body" in str(read[2][1])
    with pytest.raises(InvalidArticle, match=r"mixed.json\[1\]: the title is empty"):
        parse_file(path, HCM)  # all or nothing, naming the first bad one


@pytest.mark.parametrize(
    ("body_html", "reason"),
    [
        ("", "'body_html' is empty"),
        ("  ", "'body_html' is empty"),
        ("<script>x</script>", "'body_html' has no text"),
    ],
)
def test_an_empty_body_html_is_named_body_html(body_html: str, reason: str) -> None:
    data = {"title": "T", "body_html": body_html, "published_at": "2024-05-01T09:30:00+07:00"}
    with pytest.raises(InvalidArticle, match=re.escape(reason)):
        parse_json_article(data, HCM)


def test_source_identity_and_pinned_slugs() -> None:
    base = {"title": "Bão lớn", "body": ["x"], "published_at": "2024-05-01T09:30:00+07:00"}
    by_title = parse_json_article(base, HCM)
    assert by_title.identity == "title:2024-05-01T02:30:00Z Bão lớn"
    assert not by_title.pinned
    assert parse_json_article({**base, "id": 42}, HCM).identity == "id:42"
    assert parse_json_article({**base, "id": "wxr:a"}, HCM).identity == "id:wxr:a"
    assert parse_json_article({**base, "slug": "bao"}, HCM).pinned  # the slug names it
    assert not parse_json_article({**base, "slug": "bao", "id": "7"}, HCM).pinned
    for bad in (True, "", 1.5, "x" * 501, ["a"]):
        with pytest.raises(InvalidArticle, match="'id'"):
            parse_json_article({**base, "id": bad}, HCM)


def test_legacy_pages_are_the_same_page_only_with_the_same_title_and_time(
    fixture_text: str,
) -> None:
    page = parse_legacy(fixture_text, HCM)
    later = parse_legacy(fixture_text.replace("27/11/2018 | 08:12", "28/11/2018 | 08:12"), HCM)
    assert page.article.slug == later.article.slug
    assert page.identity != later.identity
    assert page.identity == f"title:2018-11-27T01:12:00Z {TITLE}"


def _parsed(title: str, when: str = "2024-05-01T09:30:00+07:00", **extra: object) -> Parsed:
    return parse_json_article({"title": title, "body": ["x"], "published_at": when, **extra}, HCM)


def test_placement_gives_another_article_a_unique_slug_from_its_identity() -> None:
    tone, other = _parsed("Bão lớn đổ bộ miền Trung"), _parsed("Báo lớn đổ bộ miền Trung")
    assert tone.article.slug == other.article.slug == "bao-lon-do-bo-mien-trung"
    holder = Slot("bao-lon-do-bo-mien-trung", tone.identity, "2024-05-01T02:30:00Z", "h", "v")
    found = {tone.article.slug: holder}
    assert place(tone, found, {}) == ("at", "bao-lon-do-bo-mien-trung")
    unique = f"bao-lon-do-bo-mien-trung-{short_id(other.identity)}"
    assert place(other, found, {}) == ("read", unique)
    assert place(other, {**found, unique: None}, {}) == ("at", unique)
    # An article stored before identities (no source) is the same article when published
    # at the same time (its URL stays), another one when not.
    old = {tone.article.slug: Slot(tone.article.slug, "", "2024-05-01T02:30:00Z", "h", "v")}
    assert place(other, old, {}) == ("at", tone.article.slug)
    assert (
        place(_parsed("Báo lớn đổ bộ miền Trung", "2024-06-01T09:30:00+07:00"), old, {})[0]
        == "read"
    )
    # Within one run, a slug given to another identity is not free even before it is written.
    assert place(
        other, {tone.article.slug: None, unique: None}, {tone.article.slug: tone.identity}
    ) == ("at", unique)
    # Both slugs taken by others: rejected, never overwritten.
    stranger = Slot("x", "id:someone", "", "h", "v")
    assert place(other, {tone.article.slug: stranger, unique: stranger}, {}) == ("taken", "")
    # A pinned article (a slug given without an id) is whatever is at its slug.
    pinned = _parsed("Khác hẳn", slug="bao-lon-do-bo-mien-trung")
    assert place(pinned, {"bao-lon-do-bo-mien-trung": stranger}, {}) == (
        "at",
        "bao-lon-do-bo-mien-trung",
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Bão lớn đổ bộ miền Trung", "Báo lớn đổ bộ miền Trung"),  # a tone mark
        ("Đường mới về xã", "Dường mới về xã"),  # đ/d
        ("GDP Việt Nam đã vượt Singapore", "GDP Viet Nam da vuot Singapore"),  # diacritics
        ("Giá xăng: tăng!", "giá xăng tăng"),  # punctuation and case
        ("Hội nghị " * 15 + "lần một", "Hội nghị " * 15 + "lần hai"),  # first 100 characters
    ],
)
def test_titles_that_make_one_slug_make_two_urls(first: str, second: str) -> None:
    a, b = _parsed(first), _parsed(second)
    assert a.article.slug == b.article.slug  # the collision the importer has to resolve
    slug = a.article.slug
    assert candidates(a)[1] != candidates(b)[1]
    assert candidates(b) == [slug, f"{slug}-{short_id(b.identity)}"]
    assert candidates(b)[1] == candidates(_parsed(second))[1]  # the same on every run
    assert len(candidates(b)[1]) <= MAX_SLUG_LENGTH


@pytest.mark.parametrize(
    ("given", "slug"),
    [
        (".", "tin-nhanh"),
        ("..", "tin-nhanh"),
        ("../etc/passwd", "tin-nhanh"),
        ("a/b", "tin-nhanh"),
        ("%2e%2e", "tin-nhanh"),
        ("a%2Fb", "tin-nhanh"),
        ("x" * 201, "tin-nhanh"),
        ("Thời-Sự", "thoi-su"),  # a readable spelling: its transliteration
        ("tin nhanh hôm nay", "tin-nhanh-hom-nay"),
    ],
)
def test_a_slug_that_cannot_be_a_url_is_never_stored(given: str, slug: str) -> None:
    base = {"title": "Tin nhanh", "body": ["x"], "published_at": "2024-05-01T09:30:00+07:00"}
    parsed = parse_json_article({**base, "slug": given}, HCM)
    assert (parsed.article.slug, parsed.unusable_slug) == (slug, given)
    assert not parsed.pinned  # the source's slug did not name it: its title and time do
    assert clean_slug(parsed.article.slug) == parsed.article.slug
    good = parse_json_article({**base, "slug": "tin-nhanh"}, HCM)
    assert (good.article.slug, good.unusable_slug, good.pinned) == ("tin-nhanh", "", True)


def test_the_summary_reports_a_slug_given_for_one_that_cannot_be_a_url() -> None:
    summary = Summary()
    outcome = Outcome("a.json[0] 'Tin'", "imported", "tin", unusable="..")
    assert outcome.notable
    assert outcome.line() == "a.json[0] 'Tin': imported tin (its slug '..' cannot be a URL)"
    summary.add(outcome)
    assert summary.derived == [("tin", "..")]
    assert summary.line().endswith(", given a slug for one that cannot be a URL 1")


def test_the_summary_line_reports_unique_slugs_and_kept_counts() -> None:
    summary = Summary()
    summary.add(Outcome("[1/2] a.txt", "imported", "a"))
    summary.add(Outcome("[2/2] b.json[3] 'B'", "imported", "a-1234abcd", wanted="a"))
    summary.add(Outcome("[2/2] b.json[4]", "rejected", reason="the title is empty"))
    summary.add(Outcome("[2/2] b.json[5] 'C'", "updated", "c", kept="5 (set by cli:an on t)"))
    assert summary.line() == (
        "imported 2, updated 1, unchanged 0, skipped as older than stored 0, rejected 1, "
        "given a unique slug 1, kept an editor's count 1"
    )
    assert summary.rejected == [("b.json[4]", "the title is empty")]
    assert summary.done == 4


def test_non_utf8_and_broken_json_files(tmp_path: Path) -> None:
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Tiêu đề".encode("utf-16"))
    with pytest.raises(InvalidArticle, match="UTF-8"):
        parse_file(latin, HCM)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", "utf-8")
    with pytest.raises(InvalidArticle, match="invalid JSON"):
        parse_file(broken, HCM)


@pytest.mark.parametrize(
    "change",
    [
        lambda text: text,
        lambda text: unicodedata.normalize("NFD", text),
        lambda text: "\n\n \n" + text.replace("\n", "\r\n"),
        lambda text: text.replace("Sơ kết", "Sơ\u0001 kết\u000b", 1),
    ],
    ids=["as-is", "nfd", "blank-lines-crlf", "controls-in-title"],
)
def test_a_page_read_unparsed_is_the_page_parsed(fixture_text: str, change: Any) -> None:
    """A re-run places a page by its first lines only (and skips it when its bytes are those
    stored): they must give the same identity and slug as the whole parse."""
    text = change(fixture_text)
    page = read_page(text.encode(), text, HCM)
    assert isinstance(page, Page)
    parsed = page.parse()
    assert (page.identity, page.slug, page.published_at) == (
        parsed.identity,
        parsed.article.slug,
        parsed.article.published_at,
    )
    assert parsed.source_digest == page.source_digest == source_digest(text.encode())


def test_a_page_without_a_date_line_is_parsed_at_once() -> None:
    with pytest.raises(InvalidArticle, match="line 2"):
        read_page(b"x", "Tiêu đề\nkhông có ngày\n\nNội dung.", HCM)


def test_the_parser_version_moves_with_what_a_page_becomes(fixture_text: str) -> None:
    """When this fails, parse_legacy makes another article of the same bytes: bump
    PARSER_VERSION (else a re-run takes the changed pages for unchanged, by their source
    digest) and write both new values here."""
    digest = parse_legacy(fixture_text, HCM).article.content_hash()
    assert (PARSER_VERSION, digest) == ("2", "201422b56b4cf79bcff1976a6a82a058")


def test_a_json_file_nested_too_deeply_is_rejected_alone(tmp_path: Path) -> None:
    """BREAK14 finding 19: a RecursionError killed the whole import with a traceback."""
    from newsdesk.importer import read_items

    deep = tmp_path / "a.json"
    deep.write_text("[" * 100_000 + "]" * 100_000, "utf-8")
    ((where, item),) = list(read_items(deep, HCM))
    assert where == str(deep)
    assert isinstance(item, InvalidArticle) and str(item) == "invalid JSON: nested too deeply"
