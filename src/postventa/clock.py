"""The one source of "now".

Every timestamp Postventa writes or compares comes from a :class:`Clock`, so that a sandbox
control can move time for the whole service without a restart. ``grep -rn "datetime.now"
src/`` should find only this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware UTC datetime."""
        ...


class SystemClock:
    """Wall-clock time, optionally shifted by a fixed offset (the sandbox's moved clock)."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


class SandboxClock:
    """Another clock shifted by an offset that the operator API moves (sandbox mode only).

    The offset lives in the ``sandbox_clock`` table so every server process follows it: each
    request calls :meth:`set_offset` with the stored value before doing anything time-based
    (see ``postventa.operator.clock``).
    """

    def __init__(self, base: Clock) -> None:
        self.base = base
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return self.base.now() + self.offset

    def set_offset(self, offset: timedelta) -> None:
        self.offset = offset


@dataclass
class FakeClock:
    """A clock that only moves when told to; for tests and deterministic demo data."""

    current: datetime = field(default_factory=lambda: datetime(2026, 11, 1, 12, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta
