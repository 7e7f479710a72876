"""Access tokens, looked up by their SHA-256 hash only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from postventa.ids import hash_token
from postventa.model import Caller
from postventa.storage.sql import Query, Reader, fetch_one
from postventa.storage.tables import access_tokens

_BY_HASH = Query(
    select(
        access_tokens.c.user_id,
        access_tokens.c.application_id,
        access_tokens.c.expires_at,
    ).where(access_tokens.c.token_hash == bindparam("token_hash"))
)


async def find_token(conn: Reader, token_hash: str) -> tuple[Caller, datetime] | None:
    """The caller a token hash stands for and when the token expires, or ``None`` if unknown.

    Expiry is the caller's to compare with its clock (the API caches the pair per process).
    """
    row = await fetch_one(conn, _BY_HASH, token_hash=token_hash)
    if row is None:
        return None
    user_id, application_id, expires_at = row
    return Caller(user_id=user_id, application_id=application_id), expires_at


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
