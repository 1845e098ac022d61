"""Text on the way in (the importer, the admin API, the WordPress import): characters that XML
and HTML cannot carry are dropped, and text in the wrong encoding is caught rather than
stored as garbage.

- `clean(text)`: NFC, without the characters `xml_text` drops.
- `xml_text(text)`: without the characters XML 1.0 cannot carry (section 2.2, production
  [2] `Char`: everything but tab, LF, CR, U+0020-U+D7FF, U+E000-U+FFFD and U+10000-U+10FFFF)
  and without those it and HTML tell authors to avoid (XML 1.0 section 2.2's note on
  U+007F-U+009F and the noncharacters; the HTML standard's parse errors
  "control-character-in-input-stream" and "noncharacter-in-input-stream"). Controls that
  Python counts as white space (VT, FF, U+001C-U+001F, NEL) become a space. Used by the feed
  and sitemap templates too (the `xml` filter), so they stay well-formed whatever is stored.
- `encoding_problem(*texts)`: why the texts are not what their writer meant, or None:
  mojibake (UTF-8 read as Windows-1252, Windows-1258 or Latin-1 and saved again, detected
  by ftfy's badness heuristic), Windows-1258 read as Windows-1252 (ftfy undoes only
  UTF-8 read as a single-byte code page; its own rule below) or VNI (the old Vietnamese
  font encoding, read as Windows-1252; no maintained detector exists, so its own rule
  below).
- `decode(data)`: a file's bytes as text: UTF-8 (with or without a BOM); else
  EncodingProblem naming what the bytes look like (VNI by the same rule, otherwise
  charset-normalizer's guess: Windows-1258, UTF-16, ...).

ftfy is imported only when a text has a pair of characters that UTF-8 mojibake always has (a
lead byte's character followed by a continuation byte's, as Windows-1252/1258 or Latin-1
show them), so clean Vietnamese text costs one regular-expression search.
"""

from __future__ import annotations

import re
import unicodedata

# Dropped: C0 controls but tab/LF/CR, DEL and C1 controls, lone surrogates, noncharacters.
_NONCHARACTERS = "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
)
_DROPPED = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef" + _NONCHARACTERS + "]"
)
# The same, for text without characters beyond U+FFFF (the common case): a class of BMP
# characters only, which re tests with a bitmap; _DROPPED's noncharacters of planes 1-16 make
# it test each character against every range (about ten times slower on a page).
_DROPPED_BMP = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]"
)
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_SPACE_LIKE = frozenset("\x0b\x0c\x1c\x1d\x1e\x1f\x85")

# The patterns below are compiled on first use (re's cache): the pages only need those above.
# A byte 0xC2-0xF4 (what starts a UTF-8 sequence) as Windows-1252/Latin-1 (U+00C2-U+00F4) or
# Windows-1258 shows it (some as combining marks, which NFC may have composed with the letter
# before: any accented Latin letter then), followed by a byte 0x80-0xBF (a continuation).
_LEAD = "\u00c0-\u024f\u0300\u0301\u0303\u0309\u0323\u1e00-\u1eff"
_CONTINUATION = (
    "\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122"
)
# Matched at the continuation (the lead looked behind for): Vietnamese letters are lead
# characters, continuations are rare in clean text, so re skips ahead from one to the next.
_MOJIBAKE_PAIR = f"[{_CONTINUATION}](?<=[{_LEAD}].)"
_NON_ASCII = r"[^\x00-\x7f]+"
# ftfy's "sloppy" codecs map the bytes Windows leaves undefined to U+0080-U+009F, as
# Windows and MySQL's latin1 do when they read UTF-8 as one of these.
MOJIBAKE_CODECS = ("sloppy-windows-1252", "sloppy-windows-1258", "latin-1")
MOJIBAKE_MIN_SEQUENCES = 2  # or one that gives a letter Latin-1 lacks (see _mojibake)
# A valid UTF-8 sequence of two to four bytes (RFC 3629 section 4), no surrogates.
_UTF8_SEQUENCE = (
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
# Combining marks of Latin scripts (Vietnamese NFD uses the first nine).
_LATIN_MARKS = frozenset("\u0300\u0301\u0302\u0303\u0306\u0309\u031b\u0323\u0308\u030c\u0327")

# VNI writes a Vietnamese letter as a base letter and marks from Windows-1252's upper half:
# "Việt" is "Vieät", "được" is "ñöôïc", "Độc lập" is "Ñoäc laäp". These signs never occur in
# Vietnamese written in Unicode: a vowel followed by ä å ø û ï ë ü (marks VNI puts after
# the vowel), ô/ö (VNI's ơ/ư) followed by a tone mark, and ñ/Ñ (VNI's đ/Đ) starting a word.
# Each sign is matched at its last character (what comes before it is looked behind for), one
# class of them all first: re then skips from one such character to the next instead of
# trying every letter (about five times faster on a page).
_VNI_SIGN = (  # the sign's last character is its kind
    r"[äåøûïëüÄÅØÛÏËÜùõÙÕñÑ](?:(?<=[aeiouyAEIOUY][äåøûïëüÄÅØÛÏËÜ])"
    r"|(?<=[ôöÔÖ][ùøûõïÙØÛÕÏ])|(?<=[ñÑ])(?<![^\W\d_].)(?=[a-zA-Zâêôö]))"
)
# Letters only Vietnamese written in Unicode has (ă đ ơ ư and U+1EA0-U+1EF9, NFC).
_VIETNAMESE = "[ăĂđĐơƠưƯ\u1ea0-\u1ef9]"
_WORD = r"\w+"
VNI_MIN_SIGNS = 3
VNI_MIN_KINDS = 3
# VNI's ơ/ư followed by a tone mark ("Thôøi söï" is "Thời sự"): never in another language,
# so two of them are enough in a short field (a category, a title) whose signs are few.
_VNI_HORN_TONE = "[ôöÔÖ][ùøûõïÙØÛÕÏ]"
VNI_MIN_HORN_TONES = 2

# Windows-1258 writes đ ơ ư ă as bytes Windows-1252 reads as ð õ ý ã (capitals Ð Õ Ý Ã), and
# most tone marks as combining marks after the vowel, bytes it reads as Ì ì Þ Ò ò (grave,
# acute, tilde, hook, dot below): "Việt" is "Viêòt", "bão" is "baÞo", "đón" is "ðón". A
# sign is ð/Ð starting a word or one of those marks right after a vowel. Unicode
# Vietnamese has those too: ì or ò after a plain vowel ("giò", "quì", "GIÒN"; Italian
# "ciò"), and Ð for Đ in text converted from old encodings ("Ðó là"). It never has a mark
# right after a vowel that already has one (one tone a syllable: "ôì", "õÒ", "ýò"), nor
# after a, e or y (the tone of "ai", "eo", "ay" is on the first vowel: "tài", "mèo"), nor
# after o but in "oò"/"OÒ" (the loanwords "goòng", "boòng", "XE GOÒNG"; "gioÒi" is "giỏi"),
# nor Þ after a vowel, nor Ì or Ò after small i or u: those signs are strong (a headline in
# capitals has them too: "GIAÒM" is "GIẢM"). A word with a
# sign is garbled when, read back as Windows-1258 (NFC), every mark has found its vowel and
# either the sign is strong or the word has a letter only Vietnamese has; a text is garbled
# when such words outnumber the others and one of them has a strong sign.
# Both matched at the sign's last character, what comes before it looked behind for (re
# then skips from one such rare character to the next: about ten times faster on a page).
_CP1258_SIGN = re.compile(
    r"[ðÐÌìÞÒò](?:(?<=[ðÐ])(?<![^\W\d_].)|(?<=[aeiouyâêôãõýAEIOUYÂÊÔÃÕÝ][ÌìÞÒò]))"
)
_CP1258_STRONG = re.compile(
    r"[ÌìÞÒò](?:(?<=[aeiouyâêôãõýAEIOUYÂÊÔÃÕÝ]Þ)|(?<=[aeyâêôãõýAEYÂÊÔÃÕÝ][ÌìÒò])"
    r"|(?<=o[ÌìÒ])|(?<=O[Ììò])|(?<=[iu][ÌÒ]))"
)
_COMBINING = re.compile("[\u0300-\u036f]")


class EncodingProblem(ValueError):
    """The bytes or the text are in an encoding they should not be; the message says which
    and what to do."""


def xml_text(text: str) -> str:
    """`text` without the characters XML 1.0 cannot carry or HTML calls errors (see the module
    docstring); white-space controls become spaces. Unchanged text is returned as is."""
    dropped = _DROPPED if _ASTRAL.search(text) else _DROPPED_BMP
    if dropped.search(text) is None:
        return text
    return _DROPPED.sub(lambda m: " " if m.group() in _SPACE_LIKE else "", text)


def clean(text: str) -> str:
    """NFC, without the characters `xml_text` drops."""
    return unicodedata.normalize("NFC", xml_text(text))


def encoding_problem(*texts: str) -> str | None:
    """Why these texts (an article's fields, as they came: before `clean`, whose dropped
    controls can be part of mojibake) are garbage, or None: mojibake or VNI, judged field by
    field, and VNI also over all of them (short fields have few signs)."""
    for text in texts:
        reason = _mojibake(text) or _code_page_mojibake(text) or _vni(text)
        if reason:
            return reason
    return _vni("\n".join(texts)) if len(texts) > 1 else None


def page_problem(lines: list[str]) -> str | None:
    """encoding_problem of a page's lines (as they came, before cleaning): each kind judged
    over them all (VNI's signs add up over a page); mojibake also line by line (a garbled
    title or paragraph among clean ones is out-voted on the whole page), and VNI also on the
    title alone and, by its ơ/ư-with-tone signs only, line by line (a body line in French
    has VNI's three kinds of signs: "goût", "Noël", "Haïti"; never those)."""
    whole = "\n".join(lines)
    # Each kind's telltale, searched once: none on the page, none in any line (none spans a LF).
    kinds = []
    if re.search(_MOJIBAKE_PAIR, whole):
        kinds.append(_mojibake)
    if _CP1258_STRONG.search(whole):
        kinds.append(_code_page_mojibake)
    for kind in kinds:
        problem = kind(whole) or next(filter(None, map(kind, lines)), None)
        if problem:
            return problem
    if re.search(_VNI_SIGN, whole) is None:  # no VNI sign on the page (the common case)
        return None
    problem = _vni(whole) or (_vni(lines[0]) if lines else None)
    return problem or next(filter(None, map(_vni_horn_tones, lines)), None)


def _mojibake(text: str) -> str | None:
    """The reason when `text` is mostly mojibake: UTF-8 sequences undone, more of them than
    non-ASCII characters that are not, and either two of them or one that gives a character
    Latin-1 lacks (a Vietnamese letter: "Ná»™i" is "Nội"). One sequence for a Latin-1
    character is ambiguous: "XÃ”" may be Vietnamese capitals before a closing quote."""
    if re.search(_MOJIBAKE_PAIR, text) is None:
        return None
    import ftfy.bad_codecs  # noqa: F401  (registers the sloppy-windows-125x codecs)

    undone, genuine, beyond_latin1 = 0, 0, False
    first: str | None = None
    for run in re.finditer(_NON_ASCII, text):
        sequences, rest, _, beyond = _undo(run.group())
        undone, genuine, beyond_latin1 = undone + sequences, genuine + rest, beyond_latin1 or beyond
        if sequences and first is None:
            first = run.group()
    if first is None or undone <= genuine:
        return None
    if undone < MOJIBAKE_MIN_SEQUENCES and not beyond_latin1:
        return None
    return _mojibake_reason(text, first)


def _undo(run: str) -> tuple[int, int, str, bool]:
    """A run of non-ASCII characters written back in the best of MOJIBAKE_CODECS: how many
    UTF-8 sequences of Latin text its bytes hold, how many non-ASCII bytes are left over,
    the run with those sequences decoded (NFC), and whether one of them decodes beyond
    Latin-1. Windows-1258 shows some bytes as combining marks, which NFC may have composed
    with the letter before them: each run is also tried with its letters decomposed."""
    best: tuple[int, int, str, bool] = (0, len(run), run, False)
    for codec in MOJIBAKE_CODECS:
        for variant in (run, _decomposed(run, codec)):
            try:
                data = variant.encode(codec)
            except UnicodeError:
                continue
            found = [m for m in re.finditer(_UTF8_SEQUENCE, data) if _plausible(m.group())]
            if len(found) > best[0]:
                used = sum(m.end() - m.start() for m in found)
                rest = sum(byte >= 0x80 for byte in data) - used
                beyond = any(len(m.group()) > 2 or m.group()[0] > 0xC3 for m in found)
                best = (len(found), rest, _fixed(data, found, codec), beyond)
    sequences, rest, fixed, beyond = best
    return sequences, rest, unicodedata.normalize("NFC", fixed), beyond


def _fixed(data: bytes, found: list[re.Match[bytes]], codec: str) -> str:
    """`data` read as `codec`, but the `found` sequences read as UTF-8."""
    parts, at = [], 0
    for match in found:
        parts += [data[at : match.start()].decode(codec), match.group().decode()]
        at = match.end()
    return "".join([*parts, data[at:].decode(codec)])


def _plausible(sequence: bytes) -> bool:
    """A UTF-8 sequence for a character this site's text has: a Latin letter, a mark
    Latin scripts use, a digit, punctuation, a symbol or a space. Not a control, nor a
    letter of another script (legitimate pairs such as "ủ”" give bytes 75 D2 94, "uҔ")."""
    char = sequence.decode()
    kind = unicodedata.category(char)
    if kind.startswith("L"):
        return unicodedata.name(char, "").startswith("LATIN")
    if kind.startswith("M"):
        return char in _LATIN_MARKS
    return kind[0] in "NPSZ"


def _decomposed(run: str, codec: str) -> str:
    """Each character as its NFD form when `codec` can write every part of it."""
    parts = []
    for char in run:
        nfd = unicodedata.normalize("NFD", char)
        try:
            nfd.encode(codec)
        except UnicodeError:
            nfd = char
        parts.append(nfd)
    return "".join(parts)


def _mojibake_reason(text: str, run: str) -> str:
    """The reason, with the words from the first mojibake on (about 40 characters) and what
    they should read."""
    sample = _sample(text, text.index(run), 40)
    reads = re.sub(_NON_ASCII, lambda m: _undo(m.group())[2], sample)
    return (
        "the text is mojibake: UTF-8 read as Windows-1252, Windows-1258 or Latin-1 and saved "
        f"again ({sample!r} should read {reads!r}); import it from a copy saved as UTF-8 from "
        "the original"
    )


def _code_page_mojibake(text: str) -> str | None:
    """The reason when `text` is Windows-1258 read as Windows-1252 (see _CP1258_SIGN): a
    garbled word has a strong sign, and garbled words outnumber the words with letters that
    cannot be so garbled (beyond Windows-1252, or marks left without a vowel when read
    back), by two or with no such word."""
    if _CP1258_STRONG.search(text) is None:
        return None
    garbled, genuine, first, strong = 0, 0, "", False
    # Words, then the non-ASCII ones: a pattern for those alone backtracks over every ASCII
    # letter run (quadratic in a long one).
    for word in (w for w in re.findall(_WORD, text) if not w.isascii()):
        try:
            read_back = unicodedata.normalize("NFC", word.encode("cp1252").decode("cp1258"))
        except UnicodeError:
            genuine += 1  # a letter Windows-1252 lacks: written in Unicode
            continue
        if _COMBINING.search(read_back):
            genuine += 1  # a mark without a vowel: these were letters ("mình", "còn")
            continue
        is_strong = _CP1258_STRONG.search(word) is not None
        if is_strong or (_CP1258_SIGN.search(word) and re.search(_VIETNAMESE, read_back)):
            garbled += 1
            strong = strong or is_strong
            first = first or word
    if not strong or garbled <= genuine or (garbled < 2 and genuine):
        return None
    sample = _sample(text, text.index(first), 40)
    read_back = sample.encode("cp1252", "replace").decode("cp1258", "replace")  # Š: 8A
    reads = unicodedata.normalize("NFC", read_back)
    return (
        "the text is mojibake: Windows-1258 read as Windows-1252 and saved again "
        f"({sample!r} should read {reads!r}); import it from a copy saved as UTF-8 from the "
        "original"
    )


def _horn_tones_outvote(text: str) -> bool:
    """VNI_MIN_HORN_TONES or more of VNI's ơ/ư-with-tone signs, more than letters only
    Unicode Vietnamese has."""
    horn_tones = len(re.findall(_VNI_HORN_TONE, text))
    return horn_tones >= VNI_MIN_HORN_TONES and horn_tones > len(re.findall(_VIETNAMESE, text))


def _vni_horn_tones(text: str) -> str | None:
    """_vni's reason when `text` is VNI by its ơ/ư-with-tone signs alone."""
    return _vni(text) if _horn_tones_outvote(text) else None


def _vni(text: str) -> str | None:
    """The reason when `text` reads as VNI: at least VNI_MIN_SIGNS signs of VNI_MIN_KINDS
    different marks, on one word in ten or more, and more of them than letters only
    Unicode Vietnamese has (names such as "Noël" or "Haïti" give one or two kinds); or
    VNI_MIN_HORN_TONES of its ơ/ư-with-tone signs, which no other language has, outvoting
    those letters (a short field: "Thôøi söï")."""
    matches = list(re.finditer(_VNI_SIGN, text))
    if not matches:
        return None
    signs = [match.group()[-1] for match in matches]
    if not _horn_tones_outvote(text):
        # a kind whatever its case: "NOËL" and "Noël" are one kind of sign, not two
        if len(signs) < VNI_MIN_SIGNS or len({s.lower() for s in signs}) < VNI_MIN_KINDS:
            return None
        if len(signs) <= len(re.findall(_VIETNAMESE, text)) or len(signs) * 10 < len(
            re.findall(_WORD, text)
        ):
            return None
    sample = _sample(text, matches[0].end(), 0)
    return (
        f"the text is VNI-encoded (the old Vietnamese font encoding, e.g. {sample!r}), not "
        "Unicode: convert it to Unicode (UTF-8) and import it again"
    )


_WORD_END = re.compile(r"\w{0,20}\Z")


def _sample(text: str, at: int, reach: int) -> str:
    """What a reason quotes: `text` from the start of the word at index `at` (at most 20
    letters back: not the URL or markup glued before it) to the first white space `reach`
    characters on, and at most 40 characters past that."""
    word = _WORD_END.search(text, max(0, at - 20), at)
    start = word.start() if word else at
    stop = min(len(text), at + reach + 40)
    gap = re.search(r"\s", text[at + reach : stop])
    return text[start : at + reach + gap.start() if gap else stop].strip()


def decode(data: bytes) -> str:
    """The text of a file: UTF-8 (a BOM is dropped); else EncodingProblem: "the file is not
    UTF-8 text (...)" with what it looks like."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise EncodingProblem(f"the file is not UTF-8 text ({_looks_like(data)})") from None


def _looks_like(data: bytes) -> str:
    """What non-UTF-8 bytes look like, for the reason given."""
    if _vni(data.decode("cp1252", errors="replace")):
        return (
            "it is VNI-encoded, the old Vietnamese font encoding: convert it to Unicode "
            "and save it as UTF-8"
        )
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        return "no known text encoding: save it as UTF-8"
    name = re.sub(r"^cp(125\d)$", r"Windows-\1", best.encoding).replace("utf_", "UTF-")
    language = f", {best.language}" if best.language and best.language != "Unknown" else ""
    return f"it looks like {name}{language}: save it as UTF-8"


__all__ = ["EncodingProblem", "clean", "decode", "encoding_problem", "page_problem", "xml_text"]
