"""Operator API for notifications: inspector, redelivery, webhook secrets, the §13.4 fall-back."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.responses import Response

from postventa.api.deps import ServicesDep
from postventa.api.responses import OrjsonResponse
from postventa.api.serializers import timestamp
from postventa.errors import Code, PostventaError
from postventa.notifications import feeds, health, signing
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


class WebhookPolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    deactivate_after: int | None = Field(
        default=None,
        ge=1,
        le=10_000,
        description="Deactivate the topics after this many attempts in a row without a 200 in "
        "time (§13.4); null turns the fall-back off.",
    )


def _health_json(state: dict[str, Any]) -> dict[str, Any]:
    return state | {"deactivated_at": timestamp(state["deactivated_at"])}


@router.get("/applications/{application_id}/webhook", summary="Webhook fall-back state (§13.4)")
async def webhook_state(services: ServicesDep, application_id: int) -> Response:
    state = await health.get_health(services, application_id=application_id)
    return OrjsonResponse(_health_json(state))


@router.put(
    "/applications/{application_id}/webhook",
    summary="Opt in to (or out of) deactivation after repeated failures",
)
async def set_webhook_policy(
    services: ServicesDep, application_id: int, body: WebhookPolicyIn
) -> Response:
    state = await health.do_set_policy(
        services, application_id=application_id, deactivate_after=body.deactivate_after
    )
    return OrjsonResponse(_health_json(state))


@router.post(
    "/applications/{application_id}/webhook/resubscribe",
    summary="Re-activate the topics of a deactivated application",
)
async def resubscribe(services: ServicesDep, application_id: int) -> Response:
    state = await health.do_resubscribe(services, application_id=application_id)
    return OrjsonResponse(_health_json(state))
