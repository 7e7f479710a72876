"""Access tokens, looked up by their SHA-256 hash only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from postventa.ids import hash_token
from postventa.model import Caller
from postventa.storage.tables import access_tokens


async def find_token(conn: AsyncConnection, token_hash: str) -> tuple[Caller, datetime] | None:
    """The caller a token hash stands for and when the token expires, or ``None`` if unknown.

    Expiry is the caller's to compare with its clock (the API caches the pair per process).
    """
    row = (
        await conn.execute(
            select(
                access_tokens.c.user_id,
                access_tokens.c.application_id,
                access_tokens.c.expires_at,
            ).where(access_tokens.c.token_hash == token_hash)
        )
    ).first()
    if row is None:
        return None
    return Caller(user_id=row.user_id, application_id=row.application_id), row.expires_at


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
