"""Shared dependencies: the services, and the caller behind the access token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyQuery, HTTPAuthorizationCredentials, HTTPBearer

from postventa.errors import Code, PostventaError
from postventa.model import Caller
from postventa.operator.clock import sync_clock
from postventa.services import Services
from postventa.storage.tokens import find_caller

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer APP_USR-…`")
_query_token = APIKeyQuery(
    name="access_token",
    auto_error=False,
    description="Legacy `?access_token=`; accepted unless POSTVENTA_ACCEPT_QUERY_TOKEN=false.",
)


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def current_caller(
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
    async with services.db.read() as conn:
        caller = await find_caller(conn, token, now=services.clock.now())
    if caller is None:
        raise PostventaError(Code.INVALID_TOKEN)
    return caller


CallerDep = Annotated[Caller, Depends(current_caller)]
