"""Settings, read once from ``POSTVENTA_*`` environment variables (or a ``.env`` file)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE_URL = "sqlite+aiosqlite:///./postventa.db"


class UnreadDefaultRole(StrEnum):
    """What ``GET /messages/unread`` does with a missing or invalid ``role``."""

    seller = "seller"  # 2024 pages (S0b, S25) and GS (S13)
    all = "all"  # oldest English page (S0a): "returns all cases"


class Mode(StrEnum):
    sandbox = "sandbox"  # integrators: demo data, a movable clock
    production = "production"  # marketplaces: the clock is wall-clock time, always


DEMO_OPERATOR_KEY = "pv-operator-sandbox-key"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POSTVENTA_", env_file=".env", extra="ignore")

    database_url: str = DEFAULT_SQLITE_URL
    # Conversations returned by one GET /messages/unread (500 since 2024; the older page says 1000).
    unread_cap: int = Field(default=500, ge=1, le=100_000)
    unread_default_role: UnreadDefaultRole = UnreadDefaultRole.seller
    # Real SDKs still send ?access_token=; ML made the header mandatory in 2021 (§1.1).
    accept_query_token: bool = True
    page_default_limit: int = Field(default=10, ge=1)
    page_max_limit: int = Field(default=100, ge=1)
    # E1 ordering is undocumented (§3.2, §19 Q3): see docs/compatibility.md.
    message_order: Literal["asc", "desc"] = "asc"
    # GET /messages/{id}: which of the two §5 formats answers when no x-format-new header is sent.
    message_format_default: Literal["new", "legacy"] = "new"
    seller_max_message_length: int = 350
    buyer_max_message_length: int = 3500
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_ids_per_mark_as_read: int = Field(default=100, ge=1)
    db_pool_size: int = Field(default=10, ge=1)
    mode: Mode = Mode.sandbox
    # The /_postventa/ operator API key. Sandbox mode falls back to a well-known demo key;
    # production mode refuses to start without one.
    operator_key: str | None = None
    # Action guide (E10): option executions per seller per minute before 429 (§1.4: 500 rpm).
    action_guide_rate_limit_per_minute: int = Field(default=500, ge=1)
    # Lifetime of access tokens issued through the operator API (§14.1: 6 hours).
    token_lifetime_seconds: int = Field(default=21600, ge=60)

    def effective_operator_key(self) -> str:
        if self.operator_key:
            return self.operator_key
        if self.mode is Mode.production:
            raise ValueError("POSTVENTA_OPERATOR_KEY must be set in production mode")
        return DEMO_OPERATOR_KEY
