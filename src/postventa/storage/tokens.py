"""Access tokens, looked up by their SHA-256 hash only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from postventa.ids import hash_token
from postventa.model import Caller
from postventa.storage.tables import access_tokens


async def find_caller(conn: AsyncConnection, token: str, *, now: datetime) -> Caller | None:
    """The caller a token stands for, or ``None`` when it is unknown or expired."""
    row = (
        await conn.execute(
            select(
                access_tokens.c.user_id,
                access_tokens.c.application_id,
                access_tokens.c.expires_at,
            ).where(access_tokens.c.token_hash == hash_token(token))
        )
    ).first()
    if row is None or row.expires_at <= now:
        return None
    return Caller(user_id=row.user_id, application_id=row.application_id)


async def insert_token(
    conn: AsyncConnection,
    *,
    token: str,
    user_id: int,
    application_id: int | None,
    created_at: datetime,
    expires_at: datetime,
) -> None:
    await conn.execute(
        insert(access_tokens).values(
            token_hash=hash_token(token),
            user_id=user_id,
            application_id=application_id,
            created_at=created_at,
            expires_at=expires_at,
        )
    )
