"""Operator authentication and per-request clock sync."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Security
from fastapi.security import APIKeyHeader

from postventa.api.deps import ServicesDep
from postventa.errors import Code, PostventaError
from postventa.operator.clock import sync_clock

_operator_key = APIKeyHeader(
    name="X-Postventa-Operator-Key",
    auto_error=False,
    description="The operator key (POSTVENTA_OPERATOR_KEY; a fixed demo key in sandbox mode).",
)


async def require_operator(
    services: ServicesDep, key: Annotated[str | None, Security(_operator_key)]
) -> None:
    if not key:
        raise PostventaError(Code.OPERATOR_KEY_REQUIRED)
    expected = services.settings.effective_operator_key()
    if not hmac.compare_digest(key.encode(), expected.encode()):
        raise PostventaError(Code.OPERATOR_KEY_INVALID)
    await sync_clock(services)


OperatorDep = Depends(require_operator)
