"""``GET /missed_feeds`` (§13.5) and its GS-era alias ``/myfeeds``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.responses import Response

from postventa.api.deps import CallerDep, ServicesDep
from postventa.api.responses import OrjsonResponse
from postventa.api.schemas import error_responses
from postventa.errors import Code, PostventaError
from postventa.notifications import feeds
from postventa.rules.paging import parse_page

router = APIRouter(tags=["notifications"], default_response_class=OrjsonResponse)


class MissedFeedEntry(BaseModel):
    id: str = Field(alias="_id")
    resource: str
    user_id: int
    topic: str
    actions: list[str]
    application_id: int
    attempts: int
    sent: str | None
    received: str
    request: dict[str, Any] | None
    response: dict[str, Any] | None


class MissedFeedsOut(BaseModel):
    messages: list[MissedFeedEntry]


def _app_id(raw: str | None) -> int:
    if raw is not None and raw.isascii() and raw.isdigit() and len(raw) <= 19:
        value = int(raw)
        if 0 < value < 2**63:
            return value
    raise PostventaError(Code.INVALID_PARAM, location="query", name="app_id")


async def _missed_feeds(
    services: ServicesDep,
    caller: CallerDep,
    app_id: Annotated[str | None, Query(description="The application whose feed to read.")] = None,
    topic: Annotated[str | None, Query(description="Only this topic, e.g. `messages`.")] = None,
    offset: Annotated[str | None, Query(description="Entries to skip, default 0.")] = None,
    limit: Annotated[str | None, Query(description="Page size, default 10 (max 100).")] = None,
) -> Response:
    application_id = _app_id(app_id)
    # Only a token issued to that application may read its feed.
    if caller.application_id != application_id:
        raise PostventaError(Code.RESOURCE_FORBIDDEN, resource_id=application_id)
    page = parse_page(limit, offset, default_limit=10, max_limit=services.settings.page_max_limit)
    entries = await feeds.list_missed(
        services, application_id=application_id, topic=topic, page=page
    )
    return OrjsonResponse({"messages": entries})


_DOC: dict[str, Any] = {
    "response_model": None,
    "responses": {200: {"model": MissedFeedsOut}, **error_responses(400, 401, 403)},
}
router.add_api_route(
    "/missed_feeds",
    _missed_feeds,
    methods=["GET"],
    summary="Notifications that never got a 200 in their retry window, last 2 days (§13.5)",
    **_DOC,
)
router.add_api_route(
    "/myfeeds",
    _missed_feeds,
    methods=["GET"],
    summary="Alias of /missed_feeds (the Global Selling name, §13.5)",
    operation_id="myfeeds",
    **_DOC,
)
