"""newsdesk.text: what XML and HTML cannot carry is dropped (issue 14, item 5), and text in
the wrong encoding is caught (item 4): mojibake (UTF-8 read as Windows-1252, Windows-1258 or
Latin-1 and saved again, NFC-normalised or not) and VNI, with no false alarm on Vietnamese
written in Unicode, capitals and punctuation included, nor on foreign names.

The mojibake is made here the way it is made in the wild: the UTF-8 bytes decoded with the
wrong code page (as Windows and MySQL's latin1 do, undefined bytes becoming C1 controls),
then possibly NFC-normalised by whatever stored it. VNI is made with the VNI-Windows table
(tests.unit.vni)."""

from __future__ import annotations

import re
import unicodedata
from xml.etree import ElementTree

import pytest
from newsdesk.text import (
    EncodingProblem,
    clean,
    decode,
    encoding_problem,
    page_problem,
    xml_text,
)

from tests.support import FIXTURE
from tests.unit.vni import to_vni

# Vietnamese as newsrooms write it: headlines in capitals, quotes, dashes, ellipses, NBSPs.
VIETNAMESE = [
    "Bão lớn đổ bộ miền Trung, người dân sơ tán",
    "Báo lớn đổ bộ miền Trung",
    "GDP Việt Nam đã vượt Singapore",
    "Thủ tướng: “Chúng ta phải làm ngay”…",
    "Đà Nẵng – Hội An: mùa lễ hội",
    "“CÔNG AN XÃ” VÀO CUỘC, NGÃ BA ĐƯỜNG… ĐÃ THÔNG",
    "Ông bà\u00a0con cháu sum họp; nhiệt độ 35°C, độ ẩm 80%",
    "Nội dung",
    "Tổng: 9.574 — lượt xem",
    "Ủy ban nhân dân tỉnh Quảng Ngãi — Ấn Độ, Ả Rập Xê Út, Ê-xtô-ni-a",
    "Kinh tế & Xã hội « tuần qua » ‘nổi bật’",
]
FOREIGN = [
    "Die Größe der Häuser in München",
    "Noël à Paris: une naïve mosaïque",
    "Citroën, Raphaël, Zoë, Israël và Haïti",
    "Søren Kierkegaard, Tromsø, Bjørn, Ærø, Ålesund",
    "Señor Ñoño, niño, año, España, mañana, Peña",
    "café, crème brûlée, Ångström, Œuvre, Müller",
]


def sloppy(text: str, codec: str, nfc: bool = False) -> str:
    """`text`'s UTF-8 bytes read as `codec` (bytes it leaves undefined as C1 controls)."""
    read = "".join(
        bytes([b]).decode(codec, errors="ignore") or chr(b) for b in text.encode("utf-8")
    )
    return unicodedata.normalize("NFC", read) if nfc else read


MOJIBAKE = [
    (sloppy(form, codec, nfc), codec, name, normalised)
    for name in ("Bão lớn đổ bộ miền Trung", "Nội dung", "Thể thao", "Việt Nam")
    for normalised, form in (("NFC", name), ("NFD", unicodedata.normalize("NFD", name)))
    for codec in ("cp1252", "cp1258", "latin-1")
    for nfc in (False, True)
]


# ---- item 5: characters XML cannot carry -----------------------------------------------------


def test_every_character_xml_cannot_carry_is_dropped() -> None:
    forbidden = [chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20))]
    discouraged = [chr(c) for c in range(0x7F, 0xA0)] + ["\ufdd0", "\ufffe", "\uffff"]
    discouraged += ["\U0001fffe", "\U0010ffff", "\ud800"]  # the last: a lone surrogate
    text = "Tin" + "".join(forbidden + discouraged) + " nhanh"
    cleaned = xml_text(text)
    assert re.fullmatch(r"Tin *nhanh", cleaned), repr(cleaned)
    ElementTree.fromstring(f"<t>{cleaned}</t>")  # an XML parser takes it
    assert xml_text("Tin\u0001 nhanh") == "Tin nhanh"
    assert xml_text("a\x0bb\x0cc\x85d\x1fe") == "a b c d e", "white-space controls are spaces"


def test_text_xml_can_carry_is_left_as_it_is() -> None:
    text = "Tab\tLF\nCR\r <>&\"' ẞ € 😀 \U00010000 \ufffd \u2028 Thời sự"
    assert xml_text(text) is text
    assert clean(unicodedata.normalize("NFD", "Thời sự\x01")) == "Thời sự"


# ---- item 4: mojibake ------------------------------------------------------------------------


@pytest.mark.parametrize(("garbage", "codec", "meant", "form"), MOJIBAKE)
def test_mojibake_is_caught_with_what_it_should_read(
    garbage: str, codec: str, meant: str, form: str
) -> None:
    reason = encoding_problem(garbage)
    assert reason is not None, f"{garbage!r} ({meant} in {form}, read as {codec}) not caught"
    assert reason.startswith("the text is mojibake: UTF-8 read as Windows-1252")
    first_word = garbage.split()[0]
    assert repr(first_word)[1:-1] in reason, reason
    should_read = reason.split("should read ")[1].split(")")[0]
    assert unicodedata.normalize("NFC", meant).split()[0] in unicodedata.normalize(
        "NFC", should_read
    ), reason


@pytest.mark.parametrize("text", VIETNAMESE + FOREIGN)
def test_vietnamese_and_foreign_text_is_not_flagged(text: str) -> None:
    for form in (text, text.upper(), unicodedata.normalize("NFD", text)):
        assert encoding_problem(form) is None, form


def test_the_legacy_fixture_is_not_flagged() -> None:
    page = FIXTURE.read_text(encoding="utf-8")
    assert encoding_problem(page) is None
    assert encoding_problem(unicodedata.normalize("NFD", page)) is None
    assert encoding_problem(page.upper()) is None


def test_no_vietnamese_letter_next_to_any_punctuation_is_taken_for_mojibake() -> None:
    """Every Vietnamese vowel (all tones, both cases) and đ, next to every character that a
    continuation byte shows as in Windows-1252/1258: the pairs that make mojibake look like
    text. ftfy's own heuristic (ftfy.badness) flags "XÃ”" and "À°" here; the exact reversal
    with its count of what is left over does not."""
    bases = "aăâeêioôơuưyAĂÂEÊIOÔƠUƯY"
    tones = ["", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"]
    letters = sorted(
        {unicodedata.normalize("NFC", b + t) for b in bases for t in tones} | {"đ", "Đ"}
    )
    marks = [
        *(chr(c) for c in range(0xA0, 0xC0)),
        *"ŒœŠšŸŽžƒˆ˜–—‘’‚“”„†‡•…‰‹›€™",
    ]
    flagged = [
        text
        for letter in letters
        for mark in marks
        for text in (f"chữ {letter}{mark} và", f"{letter}{mark}{letter}", f"“{letter}{mark}”")
        if encoding_problem(text) or encoding_problem(unicodedata.normalize("NFD", text))
    ]
    assert flagged == []


# ---- item 4: VNI -----------------------------------------------------------------------------


def test_vni_is_caught() -> None:
    motto = "Cộng hòa xã hội chủ nghĩa Việt Nam. Độc lập – Tự do – Hạnh phúc"
    assert to_vni(motto) == (
        "Coäng hoøa xaõ hoäi chuû nghóa Vieät Nam. Ñoäc laäp – Töï do – Haïnh phuùc"
    )
    for text in (motto, "Bão lớn đổ bộ miền Trung", "Đà Nẵng", FIXTURE.read_text("utf-8")):
        reason = encoding_problem(to_vni(text))
        assert reason is not None and reason.startswith("the text is VNI-encoded"), text
    assert "'Coäng'" in str(encoding_problem(to_vni(motto)))


def test_an_articles_fields_are_judged_together() -> None:
    assert encoding_problem("Tin nhanh", "Ñaø Naüng") is not None
    assert encoding_problem("Tin nhanh", sloppy("Nội dung", "cp1252")) is not None
    assert encoding_problem("Tin nhanh", "Nội dung", "Noël") is None


# ---- files -----------------------------------------------------------------------------------


def windows_1258(text: str) -> bytes:
    """Vietnamese in Windows-1258: base letters with their shape marks precomposed where the
    code page has them, tone marks as combining characters."""
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        base, *marks = unicodedata.normalize("NFD", char)
        for i, mark in enumerate(marks):
            rest = "".join(marks[:i] + marks[i + 1 :])
            try:
                out += (unicodedata.normalize("NFC", base + mark) + rest).encode("cp1258")
                break
            except UnicodeEncodeError:
                continue
        else:  # no precomposed form: the base letter, then each mark
            out += (base + "".join(marks)).encode("cp1258")
    return bytes(out)


def read_as_windows_1252(text: str) -> str:
    """Vietnamese saved as Windows-1258 and opened as Windows-1252 (what an editor, a CMS or
    a converter does when it assumes Western European), then saved again as UTF-8."""
    return windows_1258(text).decode("cp1252", errors="replace")


@pytest.mark.parametrize("text", VIETNAMESE)
def test_windows_1258_read_as_windows_1252_is_caught_with_what_it_should_read(text: str) -> None:
    garbled = read_as_windows_1252(text)
    assert garbled != text
    for form in (garbled, unicodedata.normalize("NFC", garbled)):
        reason = encoding_problem(form)
        assert reason is not None, f"{form!r} ({text}) not caught"
        assert reason.startswith("the text is mojibake: Windows-1258 read as Windows-1252")


def test_windows_1258_read_as_windows_1252_says_what_it_should_read() -> None:
    reason = str(encoding_problem(read_as_windows_1252("Việt Nam đón bão số 5 ở miền Trung")))
    assert "'Viêòt Nam ðón baÞo sôì 5 õÒ miêÌn Trung' should read" in reason
    assert "'Việt Nam đón bão số 5 ở miền Trung'" in reason


def test_a_page_garbled_so_is_rejected_whole_or_by_its_title_alone() -> None:
    page = FIXTURE.read_text(encoding="utf-8").splitlines()
    assert page_problem(page) is None
    assert page_problem(read_as_windows_1252("\n".join(page)).splitlines()) is not None
    # the title alone (a CMS that garbled one field), over a clean body
    assert page_problem([read_as_windows_1252(page[0]), *page[1:]]) is not None
    # one short word with a strong sign is enough: "Bão" as "BaÞo"
    assert encoding_problem(read_as_windows_1252("Bão")) is not None


def test_words_a_garbled_text_could_hold_are_not_flagged_in_unicode_text() -> None:
    """ì and ò after a plain vowel are Vietnamese letters too ("giò lụa", "quì", "GIÒN"),
    and ã õ ý are everyday letters: only with other garbled words do they count."""
    for text in (
        "Giò",
        "giò lụa",
        "Quì lạy",
        "GIÒN TAN",
        "Giòn",
        "hãy ý kiến",
        "cõi",
        "Mã số",
        "Cách làm giò lụa giòn ngon",
        "CÁCH LÀM GIÒ LỤA GIÒN NGON",
        "Ðó là lý do",  # Ð (U+00D0) for Đ, as text converted from old encodings has it
        "Ðô la",
        "Ciò può",
        "Xe goòng chở than",  # oò: loanwords (goòng, boòng, coòng), in either case
        "XE GOÒNG CHỞ THAN",
        "Boòng tàu ngập nước",
        "Loòng coòng",
    ):
        assert encoding_problem(text) is None, text
        page = FIXTURE.read_text(encoding="utf-8").splitlines()
        assert page_problem([*page[:3], text, *page[3:]]) is None, text


def test_vietnamese_names_in_unicode_are_not_taken_for_any_garbling() -> None:
    """Babel's Vietnamese (CLDR) names of languages, countries, scripts, currencies, months
    and days, each as a field and word by word: real Vietnamese, none of it flagged."""
    from babel import Locale

    vi = Locale.parse("vi")
    names = (
        [
            name
            for names in (vi.languages, vi.territories, vi.scripts, vi.currencies)
            for name in names.values()
        ]
        + list(vi.months["format"]["wide"].values())
        + list(vi.days["format"]["wide"].values())
    )
    assert len(names) > 1000
    flagged = [
        text
        for name in names
        for text in (name, *name.split())
        if encoding_problem(text) or encoding_problem(text.upper())
    ]
    assert flagged == []


# ---- VNI in a short field --------------------------------------------------------------------


@pytest.mark.parametrize(
    "headline",
    [
        "ĐÓ LÀ LÝ DO VÌ SAO GIÁ VÀNG GIẢM SÂU",
        "CÁCH LÀM GIÒ LỤA GIÒN NGON TẠI NHÀ",
        "Bà mẹ đơn thân nuôi ba con ăn học thành tài",
        "Học sinh giỏi",  # "gioÒi": Ò after a small o is never Unicode (only "goòng" has oò)
        "HỌC SINH GIỎI",  # "HOòC": ò after a capital O
        "Trò chơi",
        "Hỏi đáp",
    ],
)
def test_a_garbled_headline_in_capitals_or_with_few_marks_is_caught(headline: str) -> None:
    """Ì or Ò after A, E or Y never occurs in Unicode Vietnamese ("GIAÒM" is "GIẢM"), nor a
    mark after O but in "oò"/"OÒ" (goòng)."""
    garbled = read_as_windows_1252(headline)
    assert encoding_problem(garbled) is not None, garbled


def test_one_vni_paragraph_in_a_clean_page_is_caught() -> None:
    """By VNI's ơ/ư-with-tone signs, which no other language has, line by line."""
    page = FIXTURE.read_text(encoding="utf-8").splitlines()
    body = [n for n, line in enumerate(page) if n > 2 and len(line.split()) > 30]
    assert body
    for n in body:
        assert page_problem([*page[:n], to_vni(page[n]), *page[n + 1 :]]) is not None, n


def test_a_french_line_in_a_page_is_not_taken_for_vni() -> None:
    """VNI is judged over the whole page (and on the title alone): one line with "goût",
    "Noël" and "Haïti" has VNI's three kinds of signs, and is French."""
    page = FIXTURE.read_text(encoding="utf-8").splitlines()
    for line in ("« Le goût de Noël à Haïti »", "Citroën, Loïc et le goût d'août"):
        assert page_problem([*page[:3], line, *page[3:]]) is None, line


def test_vni_in_a_short_field_is_caught() -> None:
    assert to_vni("Thời sự") == "Thôøi söï"
    assert str(encoding_problem("Thôøi söï")).startswith("the text is VNI-encoded")
    title = to_vni("Hội nghị tổng kết năm học ở thành phố")
    page = FIXTURE.read_text(encoding="utf-8").splitlines()
    assert page_problem([title, *page[1:]]) is not None  # a VNI title over a clean body


def test_a_windows_1258_file_is_named_as_such() -> None:
    page = FIXTURE.read_text(encoding="utf-8")
    data = windows_1258(page)
    assert unicodedata.normalize("NFC", data.decode("cp1258")) == unicodedata.normalize("NFC", page)
    with pytest.raises(EncodingProblem) as caught:
        decode(data)
    assert str(caught.value) == (
        "the file is not UTF-8 text (it looks like Windows-1258, Vietnamese: save it as UTF-8)"
    )


def test_a_vni_file_is_named_as_such() -> None:
    data = to_vni(FIXTURE.read_text(encoding="utf-8")).encode("cp1252")
    with pytest.raises(EncodingProblem, match=r"not UTF-8 text \(it is VNI-encoded"):
        decode(data)


def test_utf8_with_or_without_bom_is_read_and_utf16_is_named() -> None:
    page = FIXTURE.read_text(encoding="utf-8")
    assert decode(page.encode("utf-8")) == page
    assert decode(b"\xef\xbb\xbf" + page.encode("utf-8")) == page
    with pytest.raises(EncodingProblem, match=r"not UTF-8 text \(it looks like UTF-16"):
        decode(page.encode("utf-16"))


def test_the_reason_quotes_the_garbled_words_not_the_link_before_them() -> None:
    url = "https://vnexpress.net/thoi-su/bao-so-5-do-bo-mien-trung-nguoi-dan-so-tan-4712345.html"
    headline = "Bão lớn đổ bộ miền Trung, người dân sơ tán"
    for garbled in (read_as_windows_1252(headline), sloppy(headline, "cp1252"), to_vni(headline)):
        reason = encoding_problem(f'<p><a href="{url}">{garbled}</a></p>')
        assert reason is not None and url not in reason, reason
        assert any(word in reason for word in garbled.split()[:3]), reason
        page = FIXTURE.read_text(encoding="utf-8").splitlines()
        reason = page_problem([*page[:3], url, garbled, *page[3:]])
        assert reason is not None and url not in reason, reason


def test_a_reason_is_given_whatever_letters_follow_the_garbled_words() -> None:
    """Š š Ž ž are Windows-1252 letters with no Windows-1258 byte: read back as "?"."""
    reason = encoding_problem(read_as_windows_1252("Việt Nam đón bão số 5") + " của Žižek")
    assert reason is not None and "Việt Nam đón bão" in reason, reason


def test_a_french_title_in_capitals_is_not_taken_for_vni() -> None:
    """ë and Ë are one kind of VNI sign: "NOËL" beside "Noël" is not a second kind."""
    fields = ("NOËL À HAÏTI", "Noël à Haïti: la fête malgré la crise", "Jean Dupont")
    assert encoding_problem(*fields) is None
    assert encoding_problem(*(to_vni(f) for f in ("Thời sự", "Tin nóng"))) is not None


def test_the_reason_quotes_a_few_words_not_a_whole_text_without_spaces() -> None:
    """A garbled word before a long run without spaces (a URL, a data string): the reason
    names the words, cut short, and the check does not crawl along the run."""
    for text, kind in (
        ("Viêòt " + "a" * 20_000, "Windows-1258"),
        (sloppy("Bão lớn đổ bộ", "cp1252") + " " + "b" * 20_000, "mojibake"),
        (to_vni("Thời sự") + " " + "c" * 20_000, "VNI"),
    ):
        reason = encoding_problem(text)
        assert reason is not None and kind in reason, text[:20]
        assert len(reason) < 400, reason
