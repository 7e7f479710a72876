"""Operator API for notifications: the delivery inspector, redelivery, webhook secrets."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from sqlalchemy import select
from starlette.responses import Response

from postventa.api.deps import ServicesDep
from postventa.api.responses import OrjsonResponse
from postventa.api.serializers import timestamp
from postventa.errors import Code, PostventaError
from postventa.notifications import feeds, signing
from postventa.operator.deps import OperatorDep
from postventa.storage.tables import applications

router = APIRouter(
    prefix="/_postventa",
    tags=["operator"],
    dependencies=[OperatorDep],
    default_response_class=OrjsonResponse,
)


@router.get("/notifications", summary="Notifications of an application, with every attempt")
async def list_notifications(
    services: ServicesDep,
    app_id: Annotated[int, Query(gt=0, lt=2**63)],
    status: Annotated[Literal["pending", "delivered", "missed"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    found = await feeds.list_deliveries(
        services,
        feeds.InspectorFilter(application_id=app_id, status=status, limit=limit, offset=offset),
    )
    return OrjsonResponse({"application_id": app_id, "notifications": found})


@router.post("/notifications/{notification_id}/redeliver", summary="Send a notification again")
async def redeliver(
    services: ServicesDep,
    notification_id: Annotated[str, Path(min_length=1, max_length=36)],
) -> Response:
    at = await feeds.do_redeliver(services, notification_id=notification_id)
    return OrjsonResponse(
        {"id": notification_id, "status": "pending", "next_attempt_at": timestamp(at)}
    )


@router.get(
    "/applications/{application_id}/webhook_secret",
    summary="The secret an application verifies X-Postventa-Signature with",
)
async def webhook_secret(services: ServicesDep, application_id: int) -> Response:
    async with services.db.read() as conn:
        found = await conn.scalar(
            select(applications.c.id).where(applications.c.id == application_id)
        )
    if found is None:
        raise PostventaError(Code.OPERATOR_NOT_FOUND, kind="Application", id=application_id)
    master = services.settings.effective_webhook_master_secret()
    return OrjsonResponse(
        {
            "application_id": application_id,
            "secret": signing.application_secret(master, application_id),
            "signature_header": signing.SIGNATURE_HEADER,
            "scheme": "t=<unix seconds>,v1=hex(HMAC-SHA256(secret, '<t>.<body>'))",
        }
    )
