"""Shared dependencies: the services, and the caller behind the access token.

Token cache
-----------
Every API request needs its caller, and looking the token up is a transaction of its own (the
single largest per-request cost after the action itself, see docs/performance.md). So each
server process keeps a small cache, :class:`TokenCache`: token hash -> (caller, expiry).

* Bounded in time and size: an entry is used for at most ``TOKEN_CACHE_SECONDS`` of wall time
  after it was read from the database, and at most ``TOKEN_CACHE_ENTRIES`` entries are kept (the
  oldest is dropped first).
* Expiry stays exact: the cached ``expires_at`` is compared with ``services.clock`` on every
  request, so a token is refused from its expiry instant on, even when the sandbox clock moves.
* Unknown and expired tokens are never cached: a newly issued token works at once, and random
  tokens cannot fill the cache.
* Invalidation: access-token rows are never updated or deleted today (issuing one inserts a new
  row). Whatever starts revoking tokens or changing their user or application must either clear
  ``app.state.token_cache`` in every process or accept up to ``TOKEN_CACHE_SECONDS`` of delay.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyQuery, HTTPAuthorizationCredentials, HTTPBearer

from postventa.errors import Code, PostventaError
from postventa.ids import hash_token
from postventa.model import Caller
from postventa.operator.clock import sync_clock
from postventa.services import Services
from postventa.storage.tokens import find_token

TOKEN_CACHE_SECONDS = 60.0
TOKEN_CACHE_ENTRIES = 20_000

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer APP_USR-…`")
_query_token = APIKeyQuery(
    name="access_token",
    auto_error=False,
    description="Legacy `?access_token=`; accepted unless POSTVENTA_ACCEPT_QUERY_TOKEN=false.",
)


async def get_services(request: Request) -> Services:
    # async on purpose: FastAPI runs a plain ``def`` dependency in its thread pool, a thread hop
    # on every request (most of the "FastAPI" share of the profile in docs/performance.md).
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


@dataclass(frozen=True, slots=True)
class _Entry:
    caller: Caller
    expires_at: datetime
    read_at: float  # monotonic seconds


class TokenCache:
    """Callers of recently seen valid tokens, per process; see the module docstring."""

    def __init__(
        self,
        *,
        ttl_seconds: float = TOKEN_CACHE_SECONDS,
        max_entries: int = TOKEN_CACHE_ENTRIES,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._monotonic = monotonic
        self._entries: dict[str, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, token_hash: str, *, now: datetime) -> Caller | None:
        """The cached caller while the entry is fresh and the token unexpired, else ``None``."""
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        if self._monotonic() - entry.read_at >= self.ttl_seconds or entry.expires_at <= now:
            del self._entries[token_hash]
            return None
        return entry.caller

    def put(self, token_hash: str, caller: Caller, expires_at: datetime) -> None:
        self._entries.pop(token_hash, None)
        while len(self._entries) >= self.max_entries:
            del self._entries[next(iter(self._entries))]
        self._entries[token_hash] = _Entry(caller, expires_at, self._monotonic())

    def clear(self) -> None:
        self._entries.clear()


def token_cache(request: Request) -> TokenCache:
    """The app's cache, created on first use (one per app, so one per server process)."""
    cache: TokenCache | None = getattr(request.app.state, "token_cache", None)
    if cache is None:
        cache = request.app.state.token_cache = TokenCache()
    return cache


async def current_caller(
    request: Request,
    services: ServicesDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    query_token: Annotated[str | None, Depends(_query_token)],
) -> Caller:
    """400 without a token (§14.3), 401 for an unknown or expired one."""
    token = bearer.credentials.strip() if bearer is not None else ""
    if not token and services.settings.accept_query_token and query_token:
        token = query_token.strip()
    if not token:
        raise PostventaError(Code.ACCESS_TOKEN_REQUIRED)
    if len(token) > 256:
        raise PostventaError(Code.INVALID_TOKEN)
    await sync_clock(services)
    now = services.clock.now()
    cache, token_hash = token_cache(request), hash_token(token)
    cached = cache.get(token_hash, now=now)
    if cached is not None:
        return cached
    async with services.db.hot_read() as conn:
        found = await find_token(conn, token_hash)
    if found is None or found[1] <= now:
        raise PostventaError(Code.INVALID_TOKEN)
    cache.put(token_hash, *found)
    return found[0]


CallerDep = Annotated[Caller, Depends(current_caller)]
