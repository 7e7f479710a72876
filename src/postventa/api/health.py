"""``GET /_postventa/ping``: a liveness probe that touches nothing but the HTTP stack.

It needs no token and no database, so its throughput is the ceiling of the stack (server,
framework, serialisation) that the benchmark (``bench/``) compares every endpoint with. It is not
part of Mercado Libre's API and stays out of the OpenAPI document.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from postventa.api.responses import OrjsonResponse

router = APIRouter(tags=["health"], default_response_class=OrjsonResponse)

_PING_BODY = {"status": "ok"}


@router.get("/_postventa/ping", response_model=None, include_in_schema=False)
async def ping() -> Response:
    return OrjsonResponse(_PING_BODY)
