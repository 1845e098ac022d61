"""The importer reads the legacy page exactly as a reader saw it, minus the page chrome."""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from newsdesk.importer import InvalidArticle, parse_file, parse_json_article, parse_legacy

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


@pytest.mark.parametrize(
    ("patch", "reason"),
    [
        ({"title": ""}, "title"),
        ({"body": 5}, "body"),
        ({"published_at": "yesterday"}, "ISO 8601"),
        ({"views": -1}, "views"),
        ({"views": "9"}, "views"),
        ({"status": "live"}, "status"),
        ({"slug": "../etc/passwd"}, "slug"),
    ],
)
def test_invalid_json_articles_are_rejected(patch: dict[str, object], reason: str) -> None:
    base = {"title": "T", "body": ["x"], "published_at": "2024-05-01T09:30:00+07:00"}
    with pytest.raises(InvalidArticle, match=reason):
        parse_json_article({**base, **patch}, HCM)


def test_a_bad_article_in_a_json_list_rejects_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "mixed.json"
    good = {"title": "T", "body": ["x"], "published_at": "2024-05-01T09:30:00+07:00"}
    path.write_text(json.dumps([good, {"title": "no body"}]), "utf-8")
    with pytest.raises(InvalidArticle, match="body"):
        parse_file(path, HCM)


def test_non_utf8_and_broken_json_files(tmp_path: Path) -> None:
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Tiêu đề".encode("utf-16"))
    with pytest.raises(InvalidArticle, match="UTF-8"):
        parse_file(latin, HCM)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", "utf-8")
    with pytest.raises(InvalidArticle, match="invalid JSON"):
        parse_file(broken, HCM)
