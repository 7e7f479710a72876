"""HTTP layer of the operator API: parse, call one ``do_*``, shape the answer."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from starlette.responses import Response

from postventa.api.deps import ServicesDep
from postventa.api.responses import OrjsonResponse
from postventa.api.serializers import timestamp
from postventa.clock import SandboxClock
from postventa.operator import clock as clock_ops
from postventa.operator import orders as order_ops
from postventa.operator import users as user_ops
from postventa.operator.deps import OperatorDep

router = APIRouter(
    prefix="/_postventa",
    tags=["operator"],
    dependencies=[OperatorDep],
    default_response_class=OrjsonResponse,
)

UserId = Annotated[int, Field(gt=0, lt=2**63)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserIn(_Body):
    id: UserId
    nickname: str = Field(min_length=1, max_length=64)
    site_id: str = Field(min_length=3, max_length=3)


class UserStateIn(_Body):
    deactivated: bool | None = None
    restricted: bool | None = None


class ApplicationIn(_Body):
    id: UserId
    owner_user_id: UserId
    name: str = Field(min_length=1, max_length=100)
    callback_url: str | None = Field(default=None, max_length=2048)
    topics: list[Literal["messages"]] = Field(default=["messages"])


class TokenIn(_Body):
    user_id: UserId
    application_id: UserId
    expires_in: int | None = Field(default=None, ge=60, le=10 * 365 * 86400)


# Far enough for any sandbox scenario (18-month expiry and more), small enough never to overflow.
MAX_CLOCK_SHIFT = timedelta(days=365 * 100)


def _iso_string(value: object) -> object:
    """Durations and instants come as ISO-8601 strings only (no false, no bare numbers)."""
    if not isinstance(value, str):
        raise ValueError("an ISO-8601 string")
    return value


class ClockAdvanceIn(_Body):
    by: Annotated[timedelta, BeforeValidator(_iso_string)] = Field(
        description="An ISO-8601 duration such as P30D, PT48H or -PT1H."
    )

    @field_validator("by")
    @classmethod
    def _bounded(cls, value: timedelta) -> timedelta:
        if abs(value) > MAX_CLOCK_SHIFT:
            raise ValueError("at most 100 years")
        return value


class ClockSetIn(_Body):
    now: Annotated[AwareDatetime, BeforeValidator(_iso_string)] = Field(
        description="An ISO-8601 instant with its offset, e.g. 2027-01-01T00:00:00Z."
    )

    @field_validator("now")
    @classmethod
    def _bounded(cls, value: datetime) -> datetime:
        if not 2000 <= value.year <= 2200:
            raise ValueError("between the years 2000 and 2200")
        return value


def _user_json(user: user_ops.User) -> dict[str, Any]:
    return {
        "id": user.id,
        "nickname": user.nickname,
        "site_id": user.site_id,
        "kind": user.kind,
        "deactivated": user.deactivated,
        "restricted": user.restricted,
    }


@router.post("/users", status_code=201, summary="Create a user")
async def create_user(services: ServicesDep, body: UserIn) -> Response:
    user = await user_ops.do_create_user(
        services, user_id=body.id, nickname=body.nickname, site_id=body.site_id
    )
    return OrjsonResponse(_user_json(user), status_code=201)


@router.post("/agents/{site_id}", status_code=200, summary="The site's AI agent user (§12)")
async def ensure_agent(
    services: ServicesDep, site_id: Annotated[str, Path(min_length=3, max_length=3)]
) -> Response:
    user_ops.check_site(site_id)
    return OrjsonResponse(_user_json(await user_ops.do_ensure_agent(services, site_id=site_id)))


@router.post("/users/{user_id}/state", summary="Deactivate or restrict a user")
async def set_user_state(services: ServicesDep, user_id: UserId, body: UserStateIn) -> Response:
    user = await user_ops.do_set_user_state(
        services, user_id=user_id, deactivated=body.deactivated, restricted=body.restricted
    )
    return OrjsonResponse(_user_json(user))


@router.post("/applications", status_code=201, summary="Create an application")
async def create_application(services: ServicesDep, body: ApplicationIn) -> Response:
    await user_ops.do_create_application(
        services,
        application_id=body.id,
        owner_user_id=body.owner_user_id,
        name=body.name,
        callback_url=body.callback_url,
        topics=list(dict.fromkeys(body.topics)),
    )
    return OrjsonResponse(body.model_dump(), status_code=201)


@router.post("/tokens", status_code=201, summary="Issue an access token")
async def issue_token(services: ServicesDep, body: TokenIn) -> Response:
    issued = await user_ops.do_issue_token(
        services,
        user_id=body.user_id,
        application_id=body.application_id,
        expires_in=body.expires_in,
    )
    return OrjsonResponse(
        {
            "access_token": issued.access_token,
            "token_type": "bearer",
            "expires_in": issued.expires_in,
            "user_id": issued.user_id,
            "application_id": issued.application_id,
            "expires_at": timestamp(issued.expires_at),
        },
        status_code=201,
    )


def _clock_json(services: ServicesDep, now: datetime) -> dict[str, Any]:
    offset = services.clock.offset if isinstance(services.clock, SandboxClock) else timedelta(0)
    return {
        "now": timestamp(now),
        "offset_seconds": offset.total_seconds(),
        "mode": services.settings.mode.value,
    }


@router.get("/clock", summary="Read the clock")
async def read_clock(services: ServicesDep) -> Response:
    return OrjsonResponse(_clock_json(services, services.clock.now()))


@router.post("/clock/advance", summary="Advance the clock (sandbox mode)")
async def advance_clock(services: ServicesDep, body: ClockAdvanceIn) -> Response:
    now = await clock_ops.do_move_clock(services, advance=body.by)
    return OrjsonResponse(_clock_json(services, now))


@router.put("/clock", summary="Set the clock (sandbox mode)")
async def set_clock(services: ServicesDep, body: ClockSetIn) -> Response:
    now = await clock_ops.do_move_clock(services, to=body.now)
    return OrjsonResponse(_clock_json(services, now))


@router.delete("/clock", summary="Back to wall-clock time (sandbox mode)")
async def reset_clock(services: ServicesDep) -> Response:
    now = await clock_ops.do_reset_clock(services)
    return OrjsonResponse(_clock_json(services, now))


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Repeating a call with the same key replays its first answer.",
    ),
]
LogisticType = Literal[
    "fulfillment",
    "cross_docking",
    "drop_off",
    "xd_drop_off",
    "self_service",
    "not_specified",
    "custom",
    "me1",
]
PaymentStatus = Literal["paid", "payment_required", "payment_in_process", "partially_paid"]
ShipmentStatus = Literal[
    "pending", "handling", "ready_to_ship", "shipped", "delivered", "not_delivered"
]


class ItemIn(_Body):
    id: str = Field(pattern=r"^[A-Z]{3}[0-9]{1,19}$", description="e.g. MLA1234567890")
    title: str = Field(min_length=1, max_length=255)
    quantity: int = Field(default=1, ge=1, le=100_000)
    unit_price: Decimal = Field(ge=0, max_digits=14, decimal_places=2)
    currency_id: str = Field(default="ARS", pattern=r"^[A-Z]{3}$")


class OrderIn(_Body):
    id: UserId
    pack_id: UserId | None = None
    seller_id: UserId
    buyer_id: UserId
    site_id: str = Field(default="MLA", min_length=3, max_length=3)
    date_created: AwareDatetime | None = None
    logistic_type: LogisticType = "not_specified"
    payment_status: PaymentStatus = "paid"
    shipment_status: ShipmentStatus = "pending"
    supermarket: bool = False
    proximity: bool = False
    resale: bool = False
    guest: bool = False
    manufacturing_days: int = Field(default=0, ge=0, le=365)
    shipping_id: UserId | None = None
    delivery_promise_at: AwareDatetime | None = None
    items: list[ItemIn] = Field(default_factory=list, max_length=100)


class OrderStateIn(_Body):
    payment_status: PaymentStatus | None = None
    shipment_status: ShipmentStatus | None = None
    cancellation: Literal["normal", "fraud", "hidden"] | None = None
    refund: Literal["partial", "total"] | None = None
    return_to_buyer: bool | None = None
    shipping_id: UserId | None = None
    delivery_promise_at: AwareDatetime | None = None


class ClaimIn(_Body):
    id: UserId
    status: Literal["opened", "closed"]


class ConversationStateIn(_Body):
    claim: ClaimIn | None = None
    product_change: Literal["open", "closed"] | None = None
    mediation: Literal["normal", "fulfillment"] | None = None
    buyer_blocked: bool | None = None
    pending_review: bool | None = None
    ai_assistant: Literal["enabled", "expired", "contact_closed", "seller_initiated_expired"] | (
        None
    ) = None
    agent_thread: bool | None = None
    agent_thread_type: str | None = Field(default=None, pattern=r"^[a-z_]{1,32}$")


class BlockIn(_Body):
    substatus: str = Field(max_length=64)


def _set_fields(body: BaseModel) -> dict[str, Any]:
    """Only what the caller sent: an explicit null clears a fact, a missing key leaves it."""
    return body.model_dump(exclude_unset=True)


@router.post("/orders", status_code=201, summary="Create an order (and its pack's conversation)")
async def create_order(
    services: ServicesDep, body: OrderIn, idempotency_key: IdempotencyKey = None
) -> Response:
    facts = body.model_dump(
        exclude={"id", "pack_id", "seller_id", "buyer_id", "site_id", "date_created", "items"}
    )
    created = await order_ops.do_create_order(
        services,
        order_id=body.id,
        pack_id=body.pack_id,
        seller_id=body.seller_id,
        buyer_id=body.buyer_id,
        site_id=body.site_id,
        facts=facts,
        date_created=body.date_created,
        items=[item.model_dump(mode="json") for item in body.items],
        idempotency_key=idempotency_key,
    )
    return OrjsonResponse(created, status_code=201)


@router.post("/orders/{order_id}/state", summary="Change an order's payment, shipment, ...")
async def change_order(
    services: ServicesDep,
    order_id: UserId,
    body: OrderStateIn,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    changed = await order_ops.do_change_order(
        services, order_id=order_id, changes=_set_fields(body), idempotency_key=idempotency_key
    )
    return OrjsonResponse(changed)


@router.get("/packs/{pack_id}/sellers/{seller_id}", summary="A conversation's facts and state")
async def describe_conversation(
    services: ServicesDep, pack_id: UserId, seller_id: UserId
) -> Response:
    return OrjsonResponse(
        await order_ops.do_describe_conversation(services, seller_id=seller_id, pack_id=pack_id)
    )


@router.post(
    "/packs/{pack_id}/sellers/{seller_id}/state",
    summary="Change claims, mediation, reviews, AI assistant, buyer's block",
)
async def change_conversation(
    services: ServicesDep,
    pack_id: UserId,
    seller_id: UserId,
    body: ConversationStateIn,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    changed = await order_ops.do_change_conversation(
        services,
        seller_id=seller_id,
        pack_id=pack_id,
        changes=_set_fields(body),
        idempotency_key=idempotency_key,
    )
    return OrjsonResponse(changed)


@router.post(
    "/packs/{pack_id}/sellers/{seller_id}/block",
    summary="Block a conversation by substatus name (sets the fact behind it)",
)
async def block_conversation(
    services: ServicesDep, pack_id: UserId, seller_id: UserId, body: BlockIn
) -> Response:
    blocked = await order_ops.do_block_conversation(
        services, seller_id=seller_id, pack_id=pack_id, substatus=body.substatus
    )
    return OrjsonResponse(blocked)
