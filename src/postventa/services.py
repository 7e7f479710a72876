"""The composition root's product: what every action is handed."""

from __future__ import annotations

from dataclasses import dataclass

from postventa.clock import Clock, SandboxClock, SystemClock
from postventa.config import Mode, Settings
from postventa.storage.db import Database


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    clock: Clock

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock | None = None) -> Services:
        """Production reads wall-clock time; sandbox wraps it so the operator API can move it."""
        base = clock or SystemClock()
        return cls(
            settings=settings,
            db=Database(settings.database_url, pool_size=settings.db_pool_size),
            clock=SandboxClock(base) if settings.mode is Mode.sandbox else base,
        )
