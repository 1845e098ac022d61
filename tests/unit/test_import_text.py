"""What the importer does with text in the wrong encoding (issue 14, item 4) and with
characters XML cannot carry (item 5): garbage is rejected with the reason, naming the file;
controls are dropped from every field; nothing of either is ever stored."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from newsdesk.importer import InvalidArticle, import_paths, parse_file, parse_json_article

from tests.support import FIXTURE
from tests.unit.test_text import sloppy, windows_1258
from tests.unit.vni import to_vni

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
PAGE = FIXTURE.read_text(encoding="utf-8")
GOOD: dict[str, Any] = {
    "title": "Bão lớn đổ bộ miền Trung",
    "body": ["Người dân đã được sơ tán."],
    "byline": "Nguyễn Văn An",
    "summary": "Tóm tắt.",
    "category": "Thời sự",
    "published_at": "2024-05-01T09:30:00+07:00",
}


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


# ---- item 4: encodings -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("garbage", "how"),
    [
        (sloppy(PAGE, "cp1252"), "UTF-8 read as Windows-1252"),
        (sloppy(PAGE, "cp1258", nfc=True), "UTF-8 read as Windows-1258, NFC"),
        (sloppy(unicodedata.normalize("NFD", PAGE), "cp1258"), "NFD UTF-8 read as Windows-1258"),
        (sloppy(PAGE, "latin-1"), "UTF-8 read as Latin-1 (MySQL latin1)"),
    ],
)
def test_a_legacy_page_in_mojibake_is_rejected_with_the_reason(
    tmp_path: Path, garbage: str, how: str
) -> None:
    path = write(tmp_path, "page.txt", garbage)
    with pytest.raises(InvalidArticle, match="the text is mojibake") as caught:
        parse_file(path, HCM)
    assert "should read 'Sơ kết chương trình phối hợp" in str(caught.value), how


def test_a_vni_legacy_page_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "page.txt", to_vni(PAGE))
    with pytest.raises(InvalidArticle, match="the text is VNI-encoded"):
        parse_file(path, HCM)


def test_vni_and_windows_1258_bytes_are_named(tmp_path: Path) -> None:
    cp1258 = write(tmp_path, "cp1258.txt", windows_1258(PAGE))
    with pytest.raises(InvalidArticle, match=r"not UTF-8 text \(it looks like Windows-1258"):
        parse_file(cp1258, HCM)
    vni = write(tmp_path, "vni.txt", to_vni(PAGE).encode("cp1252"))
    with pytest.raises(InvalidArticle, match=r"not UTF-8 text \(it is VNI-encoded"):
        parse_file(vni, HCM)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", sloppy(GOOD["title"], "cp1252")),
        ("byline", sloppy(GOOD["byline"], "cp1258")),
        ("summary", sloppy("Tóm tắt bài viết", "latin-1")),
        ("category", sloppy(GOOD["category"], "cp1252", nfc=True)),
        ("body", [sloppy("Người dân đã được sơ tán.", "cp1252")]),
        ("body_html", "<p>" + sloppy("Người dân đã được sơ tán.", "latin-1") + "</p>"),
        ("title", to_vni(GOOD["title"])),
        ("body", [to_vni("Người dân đã được sơ tán kịp thời trước bão.")]),
    ],
)
def test_every_field_of_a_json_article_is_checked(field: str, value: Any) -> None:
    with pytest.raises(InvalidArticle, match=r"the text is (mojibake|VNI-encoded)"):
        parse_json_article({**GOOD, field: value}, HCM)


def test_json_escapes_do_not_hide_mojibake(tmp_path: Path) -> None:
    """A JSON file written with ensure_ascii holds mojibake as \\u escapes."""
    bad = {**GOOD, "title": sloppy(GOOD["title"], "cp1252")}
    path = write(tmp_path, "a.json", json.dumps(bad, ensure_ascii=True))
    assert "\\u00c3" in path.read_text("ascii")
    with pytest.raises(InvalidArticle, match="mojibake"):
        parse_file(path, HCM)


def test_the_import_names_the_file_and_stores_nothing(tmp_path: Path) -> None:
    """Before any DynamoDB call: a rejected file is reported with its reason."""
    path = write(tmp_path, "page.txt", sloppy(PAGE, "cp1252"))
    lines: list[str] = []
    summary = import_paths([path], report=lines.append)
    assert summary.imported == summary.updated == 0
    assert [where for where, _ in summary.rejected] == [str(path)]
    assert "the text is mojibake" in summary.rejected[0][1]
    assert lines and str(path) in lines[0] and "rejected" in lines[0]


# ---- item 5: control characters ----------------------------------------------------------------


def test_control_characters_are_dropped_from_every_json_field() -> None:
    parsed = parse_json_article(
        {
            **GOOD,
            "title": "Tin\u0001 nhanh",
            "byline": "Phóng\x7f viên",
            "summary": "Tóm\u0008 tắt\ufffe",
            "category": "Thời\u001b sự",
            "body": ["Đoạn\u0000 một", "Đoạn\x0b hai"],
            "body_html": "<p>Đoạn\u0002 một</p>",
        },
        HCM,
    ).article
    assert parsed.title == "Tin nhanh"
    assert (parsed.byline, parsed.summary, parsed.category) == ("Phóng viên", "Tóm tắt", "Thời sự")
    assert parsed.body == ("Đoạn một", "Đoạn hai")
    assert parsed.body_html == "<p>Đoạn một</p>"


def test_control_characters_are_dropped_from_a_legacy_page(tmp_path: Path) -> None:
    title, rest = PAGE.split("\n", 1)
    path = write(tmp_path, "page.txt", f"{title}\u0001\u0007\n{rest}".replace("Chiều", "Chi\x1bều"))
    article = parse_file(path, HCM)[0].article
    assert article.title == title.strip()
    assert article.body[0].startswith("Chiều 26/11/2018")
