"""``GET /messages/unread`` (E6) and ``GET /messages/unread/{resource}`` (E7). Never marks read."""

from __future__ import annotations

import re

from postventa.model import Caller, UnreadEntry
from postventa.rules.unread import roles_for
from postventa.services import Services
from postventa.storage import conversations, unread

_RESOURCE_RE = re.compile(r"^/?packs/(\d{1,19})/sellers?/(\d{1,19})/?$")


async def list_unread(services: Services, *, caller: Caller, role: str | None) -> list[UnreadEntry]:
    roles = roles_for(role, default=services.settings.unread_default_role)
    async with services.db.hot_read() as conn:
        return await unread.list_unread(
            conn, user_id=caller.user_id, roles=roles, cap=services.settings.unread_cap
        )


async def unread_of_resource(
    services: Services, *, caller: Caller, resource: str
) -> list[UnreadEntry]:
    """The caller's unread count in one conversation, or nothing if it is not the caller's.

    A conversation of the caller is listed even at count 0, so a client can tell "read" from
    "not mine"; anything else (unknown, someone else's, not a conversation path) is ``[]`` (§8.2).
    """
    match = _RESOURCE_RE.match(resource)
    if match is None:
        return []
    pack_id, seller_id = int(match[1]), int(match[2])
    if pack_id >= 2**63 or seller_id >= 2**63:
        return []
    async with services.db.hot_read() as conn:
        conversation = await conversations.get_conversation(
            conn, seller_id=seller_id, pack_id=pack_id
        )
    role = None if conversation is None else conversation.role_of(caller.user_id)
    if conversation is None or role is None:
        return []
    return [UnreadEntry(conversation.resource, conversation.unread_for(role))]
