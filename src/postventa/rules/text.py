"""What a message text may contain (§6.1, §6.3).

Allowed: the ISO-8859-1 (latin-1) repertoire plus emoji. The reference names the emoji list of
``vdurmont/emoji-java``; we use the maintained ``emoji`` package (the Unicode emoji list, a superset
that includes skin tones, ZWJ sequences and flags) rather than a hand-kept table.
"""

from __future__ import annotations

import emoji

from postventa.errors import Code, PostventaError
from postventa.model import Role


def has_only_supported_characters(text: str) -> bool:
    if "\x00" in text:
        # NUL is in latin-1, but PostgreSQL text cannot store it (the insert would fail with a
        # 500) and no client means it: refused on both databases alike.
        return False
    if text.isascii():
        return True
    remainder = emoji.replace_emoji(text, replace="")
    # Whatever is not part of an emoji must be latin-1 (a stray joiner, CJK, Cyrillic, €: no).
    try:
        remainder.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def max_length_for(role: Role, *, seller_max: int, buyer_max: int) -> int:
    return seller_max if role is Role.seller else buyer_max


def check_text(text: object, *, max_length: int) -> str:
    """The text to store, or the §6.3 error that refuses it (charset before length, as §20)."""
    if not isinstance(text, str) or not text.strip():
        raise PostventaError(Code.TEXT_REQUIRED)
    if not has_only_supported_characters(text):
        raise PostventaError(Code.TEXT_UNSUPPORTED_CHARS)
    if len(text) > max_length:
        raise PostventaError(Code.TEXT_TOO_LONG, max=max_length)
    return text
