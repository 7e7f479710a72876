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
# Sandbox-only master secret the webhook secrets derive from (notifications/signing.py).
DEMO_WEBHOOK_MASTER_SECRET = "pv-webhook-sandbox-master-secret"


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
    # --- notifications (§13; notifications/ package docstring) ---
    # A 200 within this many milliseconds is a delivery; anything else is retried (§13.4).
    notification_timeout_ms: int = Field(default=500, ge=1)
    # Attempts in all, spread with exponential backoff and jitter over the retry window (§13.4).
    notification_max_attempts: int = Field(default=8, ge=1, le=100)
    notification_retry_window_seconds: float = Field(default=3600, gt=0)
    # Missed notifications stay in GET /missed_feeds this long (§13.5: 2 days).
    missed_feed_retention_seconds: int = Field(default=2 * 86400, ge=1)
    # How long a claimed notification is reserved for the dispatcher that claimed it.
    notification_lease_seconds: float = Field(default=30, gt=0)
    dispatcher_poll_ms: int = Field(default=200, ge=1)
    dispatcher_batch_size: int = Field(default=100, ge=1)
    dispatcher_per_host_limit: int = Field(default=16, ge=1)
    # `postventa serve` runs a dispatcher in each server process unless this is false.
    dispatcher_in_server: bool = True
    # Webhook secrets are HMAC(master, application id), never stored. Sandbox mode falls back to
    # a well-known master secret; production mode refuses to sign without one.
    webhook_master_secret: str | None = None

    def effective_operator_key(self) -> str:
        if self.operator_key:
            return self.operator_key
        if self.mode is Mode.production:
            raise ValueError("POSTVENTA_OPERATOR_KEY must be set in production mode")
        return DEMO_OPERATOR_KEY

    def effective_webhook_master_secret(self) -> str:
        if self.webhook_master_secret:
            return self.webhook_master_secret
        if self.mode is Mode.production:
            raise ValueError("POSTVENTA_WEBHOOK_MASTER_SECRET must be set in production mode")
        return DEMO_WEBHOOK_MASTER_SECRET
