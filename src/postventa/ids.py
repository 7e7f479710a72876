"""Identifiers in Mercado Libre's shapes."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from datetime import datetime

MESSAGE_ID_RE = re.compile(r"^[0-9a-f]{32}$")


def new_message_id(at: datetime, *, seed: bytes | None = None) -> str:
    """32 lowercase hex characters, time-ordered (UUIDv7 layout without the dashes).

    The leading 48 bits are the creation time in milliseconds, so new rows land at the right
    edge of the primary-key index instead of at random pages. ``seed`` replaces the random bits
    with a hash of it, for demo data that must be the same on every machine.
    """
    global _last_id
    millis = int(at.timestamp() * 1000) & ((1 << 48) - 1)
    noise = hashlib.sha256(seed).digest()[:10] if seed is not None else os.urandom(10)
    rand = int.from_bytes(noise, "big")
    value = (millis << 80) | (0x7 << 76) | (rand & ((1 << 76) - 1))
    # RFC 9562 variant bits on the 17th hex digit.
    value = (value & ~(0xC << 60)) | (0x8 << 60)
    if seed is None:
        # Monotonic within a process (RFC 9562 §6.2, method 2): two messages created in the
        # same millisecond still sort in creation order, as E1's ordering by (time, id) needs.
        if _last_id >> 80 == millis and value <= _last_id:
            value = _last_id + 1
        _last_id = value
    return f"{value:032x}"


_last_id = 0


def is_message_id(value: str) -> bool:
    return MESSAGE_ID_RE.fullmatch(value) is not None


def new_access_token(app_id: int, user_id: int, at: datetime) -> str:
    """``APP_USR-{app_id}-{MMDDHH}-{32 hex}-{user_id}``, as Mercado Libre issues them (§14.1)."""
    return f"APP_USR-{app_id}-{at:%m%d%H}-{secrets.token_hex(16)}-{user_id}"


def hash_token(token: str) -> str:
    """Tokens are stored only as this hash.

    A fast hash is right here: the token carries 128 random bits, so there is nothing to
    brute-force, and a slow password hash would cap request throughput.
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
