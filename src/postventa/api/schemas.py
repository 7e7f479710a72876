"""Response shapes for the OpenAPI document.

Handlers build their JSON in ``serializers`` and return it directly (no per-request model
validation on the hot path); these models only describe it, and ``tests/api/test_openapi.py``
checks real responses against them so the document stays accurate.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(_Strict):
    message: str
    error: str | None
    status: int
    cause: list[str]


class BlockedSendBody(_Strict):
    """The non-standard body of a send into a blocked conversation (§6.3)."""

    status_code: int
    code: str
    message: str


class UserRef(_Strict):
    user_id: int


class MessageDate(_Strict):
    received: str | None
    available: str | None
    notified: str | None
    created: str | None
    read: str | None


class MessageModeration(_Strict):
    status: str
    reason: str | None
    source: str
    moderation_date: str | None


class MessageResource(_Strict):
    id: str
    name: str


class MessageOut(_Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = Field(pattern=r"^[0-9a-f]{32}$")
    site_id: str
    client_id: int | None
    from_: UserRef = Field(alias="from")
    to: UserRef
    status: str
    subject: str | None
    text: str
    message_date: MessageDate
    message_moderation: MessageModeration
    message_attachments: list[dict[str, object]] | None
    message_resources: list[MessageResource]
    conversation_first_message: bool


class Paging(_Strict):
    limit: int
    offset: int
    total: int


class ConversationStatus(_Strict):
    path: str
    status: str
    substatus: str | None
    status_date: str | None
    status_update_allowed: bool
    claim_id: int | None
    claim_ids: list[int] | None
    shipping_id: int | None


class ConversationOut(_Strict):
    paging: Paging
    conversation_status: ConversationStatus
    messages: list[MessageOut]
    seller_max_message_length: int
    buyer_max_message_length: int


class SingleMessageOut(_Strict):
    paging: None
    conversation_status: None
    messages: list[MessageOut]


class LegacyText(_Strict):
    plain: str


class LegacyModeration(_Strict):
    status: str
    date_moderated: str | None
    source: str
    reason: str | None = None


class LegacyMessageOut(_Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    message_id: str
    date_received: str | None
    date: str | None
    date_available: str | None
    date_notified: str | None
    date_read: str | None
    from_: UserRef = Field(alias="from")
    to: UserRef
    subject: str | None
    text: LegacyText
    attachments: list[dict[str, object]]
    attachments_validations: dict[str, list[str]]
    site_id: str
    resource: str
    resource_id: str
    status: str
    moderation: LegacyModeration


class SentMessageOut(_Strict):
    id: str
    to: UserRef
    status: str
    text: str
    message_date: MessageDate
    message_moderation: MessageModeration


class UnreadResult(_Strict):
    resource: str
    count: int


class UnreadOut(_Strict):
    user_id: int
    results: list[UnreadResult]


class MarkedMessage(_Strict):
    id: str
    read: str | None


class MarkAsReadOut(_Strict):
    marked: int
    results: list[MarkedMessage]


class UserIdIn(BaseModel):
    user_id: int | str


class SendMessageIn(BaseModel):
    """The body of E3 (§6.1). Documented here; parsed by ``rules.send`` for the exact errors."""

    model_config = ConfigDict(populate_by_name=True)

    from_: UserIdIn = Field(alias="from")
    to: UserIdIn
    text: str
    attachments: list[str] | None = None


def error_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    return {status: {"model": ErrorBody} for status in statuses}
