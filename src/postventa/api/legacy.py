"""The removed order-based API (§16): it answers 404 exactly as Mercado Libre does since 2021."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from postventa.api.errors import error_response
from postventa.errors import Code, PostventaError

router = APIRouter(include_in_schema=False)


_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]


@router.api_route("/messages/orders", methods=_METHODS)
@router.api_route("/messages/orders/{rest:path}", methods=_METHODS)
async def removed_order_api() -> Response:
    return error_response(PostventaError(Code.LEGACY_RESOURCE_NOT_FOUND))
