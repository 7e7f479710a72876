"""Users (sellers, buyers, the §12 AI agents), applications and access tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from postventa.actions.state import recompute_user_conversations
from postventa.errors import Code, PostventaError
from postventa.ids import new_access_token
from postventa.services import Services
from postventa.storage.tables import applications, users
from postventa.storage.tokens import insert_token

SITES = ("MLA", "MLB", "MLM", "MCO", "MLC", "MLU", "MPE", "MEC")
# The per-site AI messaging agent users of §12 (MLU's id also stands for the other sites).
AGENT_USER_IDS = {
    "MLC": 3020819166,
    "MCO": 3037204123,
    "MLM": 3037204279,
    "MLA": 3037674934,
    "MLB": 3037675074,
    "MLU": 3037204685,
}


def agent_id_for(site_id: str) -> int:
    return AGENT_USER_IDS.get(site_id, AGENT_USER_IDS["MLU"])


@dataclass(frozen=True)
class User:
    id: int
    nickname: str
    site_id: str
    kind: str
    deactivated: bool
    restricted: bool


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    user_id: int
    application_id: int
    expires_in: int
    expires_at: datetime


async def _get_user(conn: AsyncConnection, user_id: int) -> User | None:
    row = (
        await conn.execute(
            select(
                users.c.id,
                users.c.nickname,
                users.c.site_id,
                users.c.kind,
                users.c.deactivated,
                users.c.restricted,
            ).where(users.c.id == user_id)
        )
    ).first()
    return None if row is None else User(**row._asdict())


async def require_user(conn: AsyncConnection, user_id: int) -> User:
    user = await _get_user(conn, user_id)
    if user is None:
        raise PostventaError(Code.OPERATOR_NOT_FOUND, kind="User", id=user_id)
    return user


def check_site(site_id: str) -> None:
    if site_id not in SITES:
        raise PostventaError(
            Code.OPERATOR_INVALID, field="site_id", reason=f"one of {', '.join(SITES)}"
        )


async def do_create_user(
    services: Services, *, user_id: int, nickname: str, site_id: str, kind: str = "user"
) -> User:
    check_site(site_id)
    async with services.db.write() as conn:
        if await _get_user(conn, user_id) is not None:
            raise PostventaError(Code.OPERATOR_ALREADY_EXISTS, kind="User", id=user_id)
        taken = await conn.scalar(select(users.c.id).where(users.c.nickname == nickname))
        if taken is not None:
            raise PostventaError(Code.OPERATOR_ALREADY_EXISTS, kind="Nickname", id=nickname)
        await conn.execute(
            insert(users).values(
                id=user_id,
                nickname=nickname,
                site_id=site_id,
                kind=kind,
                created_at=services.clock.now(),
            )
        )
    return User(user_id, nickname, site_id, kind, deactivated=False, restricted=False)


async def do_ensure_agent(services: Services, *, site_id: str) -> User:
    """The site's AI agent user (§12), created on first use."""
    agent_id = agent_id_for(site_id)
    async with services.db.read() as conn:
        existing = await _get_user(conn, agent_id)
    if existing is not None:
        return existing
    return await do_create_user(
        services, user_id=agent_id, nickname=f"AGENT_{site_id}", site_id=site_id, kind="agent"
    )


async def do_set_user_state(
    services: Services, *, user_id: int, deactivated: bool | None, restricted: bool | None
) -> User:
    values = {
        key: value
        for key, value in (("deactivated", deactivated), ("restricted", restricted))
        if value is not None
    }
    async with services.db.write() as conn:
        await require_user(conn, user_id)
        if values:
            await conn.execute(update(users).where(users.c.id == user_id).values(**values))
            await recompute_user_conversations(conn, user_id=user_id, now=services.clock.now())
        return await require_user(conn, user_id)


async def do_create_application(
    services: Services,
    *,
    application_id: int,
    owner_user_id: int,
    name: str,
    callback_url: str | None,
    topics: list[str],
) -> None:
    async with services.db.write() as conn:
        await require_user(conn, owner_user_id)
        found = await conn.scalar(
            select(applications.c.id).where(applications.c.id == application_id)
        )
        if found is not None:
            raise PostventaError(
                Code.OPERATOR_ALREADY_EXISTS, kind="Application", id=application_id
            )
        await conn.execute(
            insert(applications).values(
                id=application_id,
                owner_user_id=owner_user_id,
                name=name,
                callback_url=callback_url,
                topics=topics,
                created_at=services.clock.now(),
            )
        )


async def do_issue_token(
    services: Services, *, user_id: int, application_id: int, expires_in: int | None
) -> IssuedToken:
    """A new ``APP_USR-…`` token; only its hash is stored, so this is the one chance to see it."""
    lifetime = expires_in or services.settings.token_lifetime_seconds
    now = services.clock.now()
    async with services.db.write() as conn:
        await require_user(conn, user_id)
        found = await conn.scalar(
            select(applications.c.id).where(applications.c.id == application_id)
        )
        if found is None:
            raise PostventaError(Code.OPERATOR_NOT_FOUND, kind="Application", id=application_id)
        token = new_access_token(application_id, user_id, now)
        expires_at = now + timedelta(seconds=lifetime)
        await insert_token(
            conn,
            token=token,
            user_id=user_id,
            application_id=application_id,
            created_at=now,
            expires_at=expires_at,
        )
    return IssuedToken(token, user_id, application_id, lifetime, expires_at)
