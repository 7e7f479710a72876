"""``GET /messages/{message_id}`` (E2). Never marks read."""

from __future__ import annotations

from postventa.errors import Code, PostventaError
from postventa.ids import is_message_id
from postventa.model import Caller, Message
from postventa.services import Services
from postventa.storage import messages


async def get_message(services: Services, *, caller: Caller, message_id: str) -> Message:
    """One message the caller sent or received.

    Malformed and unknown ids answer 400 alike; an existing message of other users answers 403,
    as the reference documents (§5).
    """
    if not is_message_id(message_id):
        raise PostventaError(Code.MESSAGE_ID_NOT_EXISTS)
    async with services.db.hot_read() as conn:
        message = await messages.get_message(conn, message_id)
    if message is None or not message.visible_to(caller.user_id):
        raise PostventaError(Code.MESSAGE_ID_NOT_EXISTS)
    if caller.user_id not in (message.from_user_id, message.to_user_id):
        raise PostventaError(
            Code.MESSAGE_ACCESS_DENIED, user_id=caller.user_id, message_id=message_id
        )
    return message
