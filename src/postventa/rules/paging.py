"""``limit`` and ``offset`` of E1 (§3.2), parsed from the raw query strings."""

from __future__ import annotations

from postventa.errors import Code, PostventaError
from postventa.model import Page

# Anything past a signed 32-bit integer is not a page anyone meant to ask for.
_MAX_PARAM = 2**31 - 1


def _parse_int(raw: str) -> int | None:
    raw = raw.strip()
    # One optional sign only: ``int()`` refuses "--5", so it must not get past this check.
    digits = raw[1:] if raw[:1] in ("-", "+") else raw
    if not raw or len(raw) > 11 or not digits.isdigit() or not raw.isascii():
        return None
    return int(raw)


def parse_page(
    limit: str | None, offset: str | None, *, default_limit: int, max_limit: int
) -> Page:
    """The page a caller asked for.

    ``limit`` <= 0 and malformed values get the two distinct messages of §3.4; values above
    ``max_limit`` are clamped (``paging.limit`` tells the caller what it got).
    """
    if limit is None:
        page_limit = default_limit
    else:
        parsed = _parse_int(limit)
        if parsed is None or parsed > _MAX_PARAM:
            raise PostventaError(Code.INVALID_LIMIT)
        if parsed <= 0:
            raise PostventaError(Code.LIMIT_NOT_POSITIVE)
        page_limit = min(parsed, max_limit)
    if offset is None:
        page_offset = 0
    else:
        parsed = _parse_int(offset)
        if parsed is None or parsed < 0 or parsed > _MAX_PARAM:
            raise PostventaError(Code.INVALID_OFFSET)
        page_offset = parsed
    return Page(limit=page_limit, offset=page_offset)
