"""Unicode Vietnamese to VNI-Windows (the font encoding Vietnamese offices used before
Unicode), as Windows-1252 shows its bytes: a base letter followed by its marks ("Việt" is
"Vieät", "Đ" is "Ñ"). For making VNI test text; the service only detects it."""

from __future__ import annotations

import unicodedata

_ACUTE, _GRAVE, _HOOK, _TILDE, _DOT = "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"
_CIRCUMFLEX, _BREVE, _HORN = "\u0302", "\u0306", "\u031b"
_TONES = (_ACUTE, _GRAVE, _HOOK, _TILDE, _DOT)
# The tone's byte after a plain vowel, after a circumflexed one (â ê ô), after ă.
_PLAIN = dict(zip(_TONES, "ùøûõï", strict=True))
_HAT = dict(zip(_TONES, "áàåãä", strict=True))
_BREVE_TONE = dict(zip(_TONES, "éèúüë", strict=True))
_I = dict(zip(_TONES, "íìæóò", strict=True))  # i with a tone is one byte


def _letter(base: str, tone: str | None, shape: str | None) -> str:
    if base == "i":
        return _I[tone] if tone else "i"
    if base == "y" and tone == _DOT:
        return "î"
    if shape == _HORN:
        return {"o": "ô", "u": "ö"}[base] + (_PLAIN[tone] if tone else "")
    if shape == _CIRCUMFLEX:
        return base + (_HAT[tone] if tone else "â")
    if shape == _BREVE:
        return base + (_BREVE_TONE[tone] if tone else "ê")
    return base + (_PLAIN[tone] if tone else "")


def to_vni(text: str) -> str:
    out = []
    for char in unicodedata.normalize("NFC", text):
        lower = char.lower()
        if lower == "đ":
            out.append("Ñ" if char.isupper() else "ñ")
            continue
        base, *marks = unicodedata.normalize("NFD", lower)
        vietnamese = set(marks) <= {*_TONES, _CIRCUMFLEX, _BREVE, _HORN}
        if not marks or base not in "aeiouy" or not vietnamese:
            out.append(char)
            continue
        tone = next((m for m in marks if m in _TONES), None)
        shape = next((m for m in marks if m not in _TONES), None)
        vni = _letter(base, tone, shape)
        out.append(vni.upper() if char.isupper() else vni)
    return "".join(out)
