"""E8, E9 and E10: the action guide ("Motivos para comunicarse", §11).

Errors leave in the action guide's own envelope (§11.6): ``{"cause"?, "error", "message",
"status_code"}``; an unexpected failure on these routes answers the guide's 500 row.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from postventa.actions import action_guide as guide
from postventa.api import serializers
from postventa.api.deps import CallerDep, ServicesDep
from postventa.api.responses import OrjsonResponse
from postventa.errors import Code, PostventaError

router = APIRouter(tags=["action guide"], default_response_class=OrjsonResponse)

TagParam = Annotated[str | None, Query(description="`post_sale`; accepted and ignored.")]
PackIdParam = Annotated[
    str, Path(description="Pack id, or the order id of an order without a pack.")
]

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"description": "Action-guide error envelope (§11.6)"}
    for status in (400, 401, 403, 404, 409, 429, 451, 500)
}

T = TypeVar("T")


def _pack_id(raw: str) -> int:
    if raw.isascii() and raw.isdigit() and len(raw) <= 19 and int(raw) < 2**63:
        return int(raw)
    raise PostventaError(Code.AG_PACK_FORBIDDEN, pack_id=raw)


async def _guarded(call: Awaitable[T]) -> T:
    """Expected failures keep their row; anything else is the guide's 500 row (§11.6)."""
    try:
        return await call
    except PostventaError:
        raise
    except Exception as exc:
        raise PostventaError(Code.AG_INTERNAL) from exc


@router.get(
    "/messages/action_guide/packs/{pack_id}",
    response_model=None,
    responses=_ERRORS,
    summary="Options the seller may use to contact the buyer (E8)",
)
async def options(
    services: ServicesDep, caller: CallerDep, pack_id: PackIdParam, tag: TagParam = None
) -> Response:
    body = await _guarded(guide.get_options(services, caller=caller, pack_id=_pack_id(pack_id)))
    return OrjsonResponse(body)


@router.get(
    "/messages/action_guide/packs/{pack_id}/caps_available",
    response_model=None,
    responses=_ERRORS,
    summary="Remaining uses of each option (E9)",
)
async def caps_available(
    services: ServicesDep, caller: CallerDep, pack_id: PackIdParam, tag: TagParam = None
) -> Response:
    body = await _guarded(guide.get_caps(services, caller=caller, pack_id=_pack_id(pack_id)))
    return OrjsonResponse(body)


@router.post(
    "/messages/action_guide/packs/{pack_id}/option",
    response_model=None,
    responses=_ERRORS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["option_id"],
                        "properties": {
                            "option_id": {"type": "string"},
                            "template_id": {"type": "string"},
                            "text": {"type": "string", "maxLength": 350},
                            "vars": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "id": {"type": "string"},
                                        "value": {"type": "integer"},
                                    },
                                },
                            },
                        },
                    }
                }
            },
        }
    },
    summary="Send a message through an option (E10)",
)
async def send_option(
    request: Request,
    services: ServicesDep,
    caller: CallerDep,
    pack_id: PackIdParam,
    tag: TagParam = None,
) -> Response:
    pack = _pack_id(pack_id)
    raw = await request.body()
    try:
        body = orjson.loads(raw) if raw.strip() else None
    except orjson.JSONDecodeError:
        raise PostventaError(Code.JSON_BODY_REQUIRED) from None
    if body is None:
        raise PostventaError(Code.JSON_BODY_REQUIRED)
    message = await _guarded(guide.do_send_option(services, caller=caller, pack_id=pack, body=body))
    # E3's success body: §11.5's sample also has to.name, removed from messaging in 2021 (S20).
    return OrjsonResponse(serializers.sent_message_json(message))
