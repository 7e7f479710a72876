"""Marking read: E11 (``PUT /messages/mark_as_read/{ids}``, §8.3) and the rule E1 shares."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from postventa.errors import Code, PostventaError
from postventa.ids import is_message_id
from postventa.model import Caller, Conversation, MarkReadResult
from postventa.notifications import outbox
from postventa.services import Services
from postventa.storage import conversations, messages, unread
from postventa.storage.sql import Reader


async def mark_read_and_notify(
    conn: Reader,
    conversation: Conversation,
    *,
    reader_id: int,
    at: datetime,
    message_ids: Sequence[str] | None = None,
) -> list[str]:
    """Mark the reader's unread messages read (all, or only ``message_ids``) and queue the
    sender's ``read`` notification (§13.2) for exactly those that changed, in the caller's
    transaction. E1 (reading with mark) and E11 both mark through here."""
    role = conversation.role_of(reader_id)
    assert role is not None
    changed = await unread.mark_read(
        conn, conversation, reader_id=reader_id, reader_role=role, at=at, message_ids=message_ids
    )
    await outbox.notify(
        conn,
        seller_id=conversation.seller_id,
        user_id=conversation.counterpart_of(reader_id),
        action="read",
        resources=changed,
        at=at,
    )
    return changed


def parse_ids(raw: str, *, max_ids: int) -> list[str]:
    """Comma-separated message ids, each 32 lowercase hex; duplicates collapse."""
    ids = [part.strip() for part in raw.split(",")]
    if not ids or len(ids) > max_ids or not all(is_message_id(i) for i in ids):
        raise PostventaError(Code.MARK_IDS_INVALID)
    return list(dict.fromkeys(ids))


async def do_mark_messages_read(
    services: Services, *, caller: Caller, raw_ids: str
) -> MarkReadResult:
    """Mark the caller's incoming messages among ``raw_ids`` read.

    Another user's message answers like an unknown one, so ids of others cannot be probed.
    Messages the caller sent are accepted and left as they are (their read time is the
    receiver's to set).
    """
    ids = parse_ids(raw_ids, max_ids=services.settings.max_ids_per_mark_as_read)
    async with services.db.hot_write() as conn:
        found = {m.id: m for m in await messages.get_messages(conn, ids)}
        for message_id in ids:
            message = found.get(message_id)
            if (
                message is None
                or caller.user_id not in (message.from_user_id, message.to_user_id)
                or not message.visible_to(caller.user_id)
            ):
                raise PostventaError(Code.MARK_ID_NOT_EXISTS, message_id=message_id)
        keys = {(m.seller_id, m.pack_id) for m in found.values()}
        if len(keys) > 1:
            raise PostventaError(Code.MARK_MULTIPLE_ORDERS)
        ((seller_id, pack_id),) = keys
        conversation = await conversations.get_conversation(
            conn, seller_id=seller_id, pack_id=pack_id, for_update=True
        )
        assert conversation is not None  # the messages' foreign key guarantees it
        changed = await mark_read_and_notify(
            conn, conversation, reader_id=caller.user_id, at=services.clock.now(), message_ids=ids
        )
        updated = await messages.get_messages(conn, ids)
    order = {message_id: i for i, message_id in enumerate(ids)}
    return MarkReadResult(marked=len(changed), messages=sorted(updated, key=lambda m: order[m.id]))
