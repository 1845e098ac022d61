"""Sample content for the page-design tests and the Lighthouse run (scripts/lighthouse.py): the
fixture article and articles in four categories whose titles carry the marks below letters
(ợ ộ ị ụ ậ ạ), one of them with a wide captioned picture.

The picture's URL is on a host that does not exist: browser tests answer it themselves
(`serve_pictures`), since the pages' CSP allows https images from anywhere and nothing here
may reach the internet.
"""

from __future__ import annotations

import json
import struct
import tempfile
import zlib
from pathlib import Path
from typing import Any

from tests.support import FIXTURE

PICTURE_URL = "https://img.example/song-thu-bon.png"
PICTURE_SIZE = (1200, 800)  # wider than any phone and than the article column
PICTURE_CAPTION = "Đua thuyền trên sông Thu Bồn, ngày hội của người dân hai bên bờ"
# The headline of the underline test: a dot below (ợ ộ ị ụ ậ ạ) in almost every word.
MARKED_TITLE = "Hội nghị tổng kết công tác phụ nữ: lợi ích từ hợp tác"
MARKED_SLUG = "hoi-nghi-tong-ket-cong-tac-phu-nu"
PICTURE_SLUG = "doc-dao-le-hoi-dua-thuyen-tren-song-thu-bon"
PICTURE_HOST = "https://img.example/**"  # every picture of the sample (serve_pictures)
# As a WordPress export writes a thumbnail linked to its full size: no alt text, and file
# names with spaces and Vietnamese letters (the sanitiser names the link, encodes the URLs).
LINKED_PICTURE_SLUG = "anh-ban-doc-gui-ve-toa-soan"
LINKED_PICTURE_HTML = (
    "<p>Ảnh do bạn đọc gửi về tòa soạn sau trận mưa lớn.</p>"
    '<p><a href="https://img.example/ảnh mưa lớn.png">'
    '<img src="https://img.example/ảnh mưa nhỏ.png" width="300" height="200"></a></p>'
)
# The menu's order: most articles first (Thời sự 3, Kinh tế 2), then by name.
CATEGORIES = {
    "thoi-su": "Thời sự",
    "kinh-te": "Kinh tế",
    "phap-luat": "Pháp luật",
    "van-hoa": "Văn hóa",
}


def _article(slug: str, title: str, category: str, day: int, **more: Any) -> dict[str, Any]:
    return {
        "slug": slug,
        "title": title,
        "category": category,
        "published_at": f"2018-11-{day:02d}T08:00:00+07:00",
        "author": "Phóng viên",
        "views": 100 + day,
        **(more or {"body": [f"{title}. Bài viết mẫu cho các trang của cổng thông tin."]}),
    }


PICTURE_HTML = (
    "<p>Lễ hội đua thuyền diễn ra vào dịp đầu năm, thu hút hàng nghìn người dân.</p>"
    f'<figure class="aligncenter"><img src="{PICTURE_URL}" alt="Các đội thuyền trên sông"'
    f' width="{PICTURE_SIZE[0]}" height="{PICTURE_SIZE[1]}">'
    f"<figcaption>{PICTURE_CAPTION}</figcaption></figure>"
    "<p>Ban tổ chức trao giải cho các đội đạt thành tích cao.</p>"
)

ARTICLES = [
    _article(MARKED_SLUG, MARKED_TITLE, "Thời sự", 26),
    _article(
        "tap-huan-nghiep-vu-dan-van-cho-can-bo-co-so",
        "Tập huấn nghiệp vụ dân vận cho cán bộ cơ sở",
        "Thời sự",
        25,
    ),
    _article(
        "boi-duong-kien-thuc-quoc-phong-va-an-ninh",
        "Bồi dưỡng kiến thức quốc phòng và an ninh",
        "Thời sự",
        24,
    ),
    _article(
        "hop-tac-phat-trien-du-lich-cong-dong",
        "Hợp tác phát triển du lịch cộng đồng vùng biển",
        "Kinh tế",
        23,
    ),
    _article(
        "loi-ich-tu-mo-hinh-hop-tac-xa-kieu-moi",
        "Lợi ích từ mô hình hợp tác xã kiểu mới",
        "Kinh tế",
        22,
    ),
    _article(
        PICTURE_SLUG,
        "Độc đáo lễ hội đua thuyền trên sông Thu Bồn",
        "Văn hóa",
        21,
        body_html=PICTURE_HTML,
    ),
    _article(
        "xu-ly-nghiem-vi-pham-trat-tu-an-toan-giao-thong",
        "Xử lý nghiêm vi phạm trật tự an toàn giao thông",
        "Pháp luật",
        20,
    ),
    _article(
        LINKED_PICTURE_SLUG,
        "Ảnh bạn đọc gửi về tòa soạn",
        "Pháp luật",
        19,
        body_html=LINKED_PICTURE_HTML,
    ),
]


def import_sample() -> None:
    """The fixture and ARTICLES into the tables the environment names (the real importer),
    then the scheduled job's lists and category menu (newsdesk.mostread.refresh)."""
    from newsdesk import mostread
    from newsdesk.importer import import_paths

    with tempfile.TemporaryDirectory(prefix="nd-content-") as tmp:
        listing = Path(tmp) / "articles.json"
        listing.write_text(json.dumps(ARTICLES, ensure_ascii=False), encoding="utf-8")
        summary = import_paths([FIXTURE, listing], report=lambda _: None)
    stored = summary.imported + summary.updated + summary.unchanged
    assert stored == 1 + len(ARTICLES), summary
    mostread.refresh()


def picture_png(width: int = PICTURE_SIZE[0], height: int = PICTURE_SIZE[1]) -> bytes:
    """A plain PNG of width x height (a river blue), made here: no image library needed."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes((40, 110, 160)) * width  # filter type 0, then RGB pixels
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(row * height, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )
