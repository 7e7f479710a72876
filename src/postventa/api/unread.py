"""E6 and E7: unread counts. Neither marks anything read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from postventa.api import serializers
from postventa.api.deps import CallerDep, ServicesDep
from postventa.api.responses import OrjsonResponse
from postventa.api.schemas import UnreadOut, error_responses
from postventa.queries import unread as unread_queries

router = APIRouter(tags=["unread"], default_response_class=OrjsonResponse)

TagParam = Annotated[str | None, Query(description="`post_sale`; accepted and ignored.")]


@router.get(
    "/messages/unread",
    response_model=None,
    responses={200: {"model": UnreadOut}, **error_responses(400, 401)},
    summary="Conversations with unread messages (E6)",
)
async def list_unread(
    services: ServicesDep,
    caller: CallerDep,
    role: Annotated[
        str | None,
        Query(description="`seller` or `buyer`; missing or invalid follows the server setting."),
    ] = None,
    tag: TagParam = None,
) -> Response:
    entries = await unread_queries.list_unread(services, caller=caller, role=role)
    return OrjsonResponse(serializers.unread_json(caller.user_id, entries))


@router.get(
    "/messages/unread/{resource:path}",
    response_model=None,
    responses={200: {"model": UnreadOut}, **error_responses(400, 401)},
    summary="Unread count of one conversation (E7)",
)
async def unread_of_resource(
    services: ServicesDep,
    caller: CallerDep,
    resource: Annotated[str, Path(description="e.g. `packs/{pack_id}/sellers/{seller_id}`")],
    tag: TagParam = None,
) -> Response:
    entries = await unread_queries.unread_of_resource(services, caller=caller, resource=resource)
    return OrjsonResponse(serializers.unread_json(caller.user_id, entries))
