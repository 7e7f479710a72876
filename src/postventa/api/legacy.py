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


# Paths seen only in third-party code, never documented (§16): they do not exist. Without these
# routes they would reach GET /messages/{message_id} and answer 400 as a malformed message id.
@router.api_route("/messages/pending_read", methods=_METHODS)
@router.api_route("/messages/pending", methods=_METHODS)
@router.api_route("/messages/packs", methods=_METHODS)
async def undocumented_paths() -> Response:
    return error_response(PostventaError(Code.ROUTE_NOT_FOUND))
