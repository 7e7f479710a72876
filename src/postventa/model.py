"""Plain data the rules and actions pass around: no SQL, no HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    seller = "seller"
    buyer = "buyer"


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling, as established from the access token."""

    user_id: int
    application_id: int | None


@dataclass(frozen=True, slots=True)
class Conversation:
    seller_id: int
    pack_id: int
    buyer_id: int
    site_id: str
    status: str
    substatus: str | None
    status_date: datetime
    claim_ids: list[int] | None
    shipping_id: int | None
    seller_unread: int
    buyer_unread: int
    message_count: int
    last_message_at: datetime | None
    created_at: datetime
    facts: dict[str, Any] | None = None
    seller_hidden: int = 0
    buyer_hidden: int = 0
    last_buyer_message_at: datetime | None = None
    last_seller_message_at: datetime | None = None
    opened_by: str | None = None
    buyer_deactivated: bool = False
    seller_deactivated: bool = False
    buyer_restricted: bool = False
    seller_restricted: bool = False

    @property
    def resource(self) -> str:
        """The conversation's resource path, as ``/messages/unread`` and ``path`` spell it."""
        return f"/packs/{self.pack_id}/sellers/{self.seller_id}"

    def role_of(self, user_id: int) -> Role | None:
        if user_id == self.seller_id:
            return Role.seller
        if user_id == self.buyer_id:
            return Role.buyer
        return None

    def counterpart_of(self, user_id: int) -> int:
        return self.buyer_id if user_id == self.seller_id else self.seller_id

    def unread_for(self, role: Role) -> int:
        return self.seller_unread if role is Role.seller else self.buyer_unread

    def visible_count_for(self, role: Role) -> int:
        """Messages this participant may see: all but the other side's rejected ones."""
        hidden = self.seller_hidden if role is Role.seller else self.buyer_hidden
        return self.message_count - hidden


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    seller_id: int
    pack_id: int
    from_user_id: int
    to_user_id: int
    client_id: int | None
    site_id: str
    subject: str | None
    text: str
    status: str
    moderation_status: str
    moderation_reason: str | None
    moderation_source: str
    moderation_date: datetime | None
    created_at: datetime
    available_at: datetime | None
    notified_at: datetime | None
    read_at: datetime | None
    attachments: list[dict[str, Any]] | None
    first_message: bool
    agent_id: int | None = None

    def visible_to(self, user_id: int) -> bool:
        """A rejected message is shown to its sender only (§3.1, §10)."""
        return self.moderation_status != "rejected" or self.from_user_id == user_id


@dataclass(frozen=True, slots=True)
class UnreadEntry:
    resource: str
    count: int


@dataclass(frozen=True, slots=True)
class Page:
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class ConversationPage:
    """What reading a conversation returns (E1); ``state`` is a rules.blocking.ResolvedState."""

    conversation: Conversation
    messages: list[Message]
    total: int
    page: Page
    state: Any
    marked_read: int = 0


@dataclass(frozen=True, slots=True)
class MarkReadResult:
    marked: int
    messages: list[Message] = field(default_factory=list)
