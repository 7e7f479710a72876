"""Reading a conversation (E1), which marks it read unless ``mark_as_read=false``.

This is an action, not a query: the read side effect and the page are one transaction, so the
page shows the read times it just wrote. It marks the caller's *incoming* unread messages of the
whole conversation, not only the returned page (docs/compatibility.md, "E1 read semantics").
Under ``blocked_by_conversation_expired`` and ``…_by_fraud`` the messages are withheld (§3.1),
but reading still clears the caller's unread count so it does not linger in E6.
"""

from __future__ import annotations

from postventa.actions.mark_as_read import mark_read_and_notify
from postventa.actions.state import resolve_state
from postventa.errors import Code, PostventaError
from postventa.model import Caller, ConversationPage, Page
from postventa.services import Services
from postventa.storage import conversations, messages
from postventa.storage.sql import Reader


async def do_read_conversation(
    services: Services,
    *,
    caller: Caller,
    pack_id: int,
    seller_id: int,
    page: Page,
    mark_as_read: bool,
) -> ConversationPage:
    if mark_as_read:
        async with services.db.hot_write() as conn:
            return await _read(services, conn, caller, pack_id, seller_id, page, mark=True)
    async with services.db.hot_read() as reader:
        return await _read(services, reader, caller, pack_id, seller_id, page, mark=False)


async def _read(
    services: Services,
    conn: Reader,
    caller: Caller,
    pack_id: int,
    seller_id: int,
    page: Page,
    *,
    mark: bool,
) -> ConversationPage:
    """One transaction's work: with ``mark`` inside ``db.hot_write()`` (the conversation locked
    until the marks commit), without it on ``db.hot_read()`` (autocommit)."""
    conversation = await conversations.get_conversation(
        conn, seller_id=seller_id, pack_id=pack_id, for_update=mark
    )
    role = None if conversation is None else conversation.role_of(caller.user_id)
    if conversation is None or role is None:
        # Unknown and someone else's answer alike (§3.4, §14.3).
        raise PostventaError(Code.RESOURCE_FORBIDDEN, resource_id=pack_id)
    resolved = await resolve_state(conn, conversation, now=services.clock.now())
    marked: list[str] = []
    if mark and conversation.unread_for(role):
        marked = await mark_read_and_notify(
            conn, conversation, reader_id=caller.user_id, at=services.clock.now()
        )
    rows = []
    if not resolved.hides_messages:
        rows = await messages.page_of_conversation(
            conn,
            seller_id=seller_id,
            pack_id=pack_id,
            limit=page.limit,
            offset=page.offset,
            newest_first=services.settings.message_order == "desc",
            viewer_id=caller.user_id,
            total=conversation.visible_count_for(role),
        )
    return ConversationPage(
        conversation=conversation,
        messages=rows,
        total=0 if resolved.hides_messages else conversation.visible_count_for(role),
        page=page,
        state=resolved,
        marked_read=len(marked),
    )
