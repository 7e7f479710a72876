"""E1, E2, E3 and E11: conversations and messages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request
from starlette.responses import Response

from postventa.actions.mark_as_read import do_mark_messages_read
from postventa.actions.read import do_read_conversation
from postventa.actions.send import do_send_message
from postventa.api import serializers
from postventa.api.deps import CallerDep, ServicesDep
from postventa.api.responses import OrjsonResponse
from postventa.api.schemas import (
    BlockedSendBody,
    ConversationOut,
    ErrorBody,
    LegacyMessageOut,
    MarkAsReadOut,
    SendMessageIn,
    SentMessageOut,
    SingleMessageOut,
    error_responses,
)
from postventa.errors import Code, PostventaError
from postventa.queries.messages import get_message
from postventa.rules.paging import parse_page

router = APIRouter(tags=["messages"], default_response_class=OrjsonResponse)
# E2's one-segment path would also match the legacy ``/messages/pending`` & co., so it is routed
# after them (api/app.py), while E1, E3 and E11 come first: routes are matched in order, and
# the hot ones should not wait behind the rest.
by_id_router = APIRouter(tags=["messages"], default_response_class=OrjsonResponse)

TagParam = Annotated[str | None, Query(description="`post_sale`; accepted and ignored.")]
PackIdParam = Annotated[
    str,
    Path(
        pattern=r"^[0-9]{1,19}$",
        description="Pack id, or the order id of an order without a pack (§1.2).",
    ),
]
SellerIdParam = Annotated[str, Path(pattern=r"^[0-9]{1,19}$", description="The pack's seller.")]


def _numeric_id(raw: str, name: str) -> int:
    if raw.isascii() and raw.isdigit() and len(raw) <= 19 and int(raw) < 2**63:
        return int(raw)
    raise PostventaError(Code.INVALID_PARAM, location="path", name=name)


@router.get(
    "/messages/packs/{pack_id}/sellers/{seller_id}",
    response_model=None,
    responses={200: {"model": ConversationOut}, **error_responses(400, 401, 403)},
    summary="Messages of a conversation (E1); marks them read unless mark_as_read=false",
)
async def read_conversation(
    services: ServicesDep,
    caller: CallerDep,
    pack_id: PackIdParam,
    seller_id: SellerIdParam,
    limit: Annotated[str | None, Query(description="Page size, default 10.")] = None,
    offset: Annotated[str | None, Query(description="Messages to skip, default 0.")] = None,
    mark_as_read: Annotated[
        str | None, Query(description="`false` leaves the messages unread.")
    ] = None,
    tag: TagParam = None,
) -> Response:
    settings = services.settings
    pack, seller = _numeric_id(pack_id, "pack_id"), _numeric_id(seller_id, "seller_id")
    page = parse_page(
        limit, offset, default_limit=settings.page_default_limit, max_limit=settings.page_max_limit
    )
    result = await do_read_conversation(
        services,
        caller=caller,
        pack_id=pack,
        seller_id=seller,
        page=page,
        mark_as_read=(mark_as_read or "").strip().lower() != "false",
    )
    return OrjsonResponse(serializers.conversation_page_json(result, settings))


@router.post(
    "/messages/packs/{pack_id}/sellers/{seller_id}",
    response_model=None,
    responses={
        200: {"model": SentMessageOut},
        403: {
            "description": "Not a party of the conversation, or the conversation is blocked.",
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            {"$ref": "#/components/schemas/ErrorBody"},
                            {"$ref": "#/components/schemas/BlockedSendBody"},
                        ]
                    }
                }
            },
        },
        **error_responses(400, 401, 413, 422),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/SendMessageIn"}}
            },
        }
    },
    summary="Send a message (E3)",
)
async def send_message(
    request: Request,
    services: ServicesDep,
    caller: CallerDep,
    pack_id: PackIdParam,
    seller_id: SellerIdParam,
    tag: TagParam = None,
) -> Response:
    pack, seller = _numeric_id(pack_id, "pack_id"), _numeric_id(seller_id, "seller_id")
    message = await do_send_message(
        services, caller=caller, pack_id=pack, seller_id=seller, body=await request.body()
    )
    return OrjsonResponse(serializers.sent_message_json(message))


@router.put(
    "/messages/mark_as_read/{message_ids}",
    response_model=None,
    responses={200: {"model": MarkAsReadOut}, **error_responses(400, 401)},
    summary="Mark messages read by id (E11, legacy)",
)
async def mark_as_read(
    services: ServicesDep,
    caller: CallerDep,
    message_ids: Annotated[
        str, Path(description="Comma-separated message ids of one conversation.")
    ],
    tag: TagParam = None,
) -> Response:
    result = await do_mark_messages_read(services, caller=caller, raw_ids=message_ids)
    return OrjsonResponse(
        {
            "marked": result.marked,
            "results": [
                {"id": m.id, "read": serializers.timestamp(m.read_at)} for m in result.messages
            ],
        }
    )


@router.put("/messages/mark_as_read", response_model=None, include_in_schema=False)
async def mark_as_read_without_ids(caller: CallerDep, tag: TagParam = None) -> Response:
    """An empty id list (``/messages/mark_as_read/``; the trailing slash is dropped before
    routing) is "empty or invalid" (§8.3), not a 405 from ``GET /messages/{message_id}``."""
    raise PostventaError(Code.MARK_IDS_INVALID)


@by_id_router.get(
    "/messages/{message_id}",
    response_model=None,
    responses={
        200: {
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            {"$ref": "#/components/schemas/SingleMessageOut"},
                            {"$ref": "#/components/schemas/LegacyMessageOut"},
                        ]
                    }
                }
            },
            "description": "New format (§5a) by default; the legacy flat format (§5b) with "
            "`x-format-new: false`.",
        },
        **error_responses(400, 401, 403),
    },
    summary="One message (E2)",
)
async def message_by_id(
    services: ServicesDep,
    caller: CallerDep,
    message_id: str,
    x_format_new: Annotated[
        str | None,
        Header(description="`true`: new format (§5a); `false`: legacy format (§5b)."),
    ] = None,
    tag: TagParam = None,
) -> Response:
    message = await get_message(services, caller=caller, message_id=message_id)
    wanted = (x_format_new or "").strip().lower()
    new_format = wanted == "true" or (
        wanted != "false" and services.settings.message_format_default == "new"
    )
    if new_format:
        return OrjsonResponse(serializers.single_message_envelope(message))
    return OrjsonResponse(serializers.legacy_message_json(message))


# Registered so the OpenAPI document carries the schemas that E2's oneOf and E3's body point at.
OPENAPI_EXTRA_MODELS = (
    SingleMessageOut,
    LegacyMessageOut,
    SendMessageIn,
    BlockedSendBody,
    ErrorBody,
)
