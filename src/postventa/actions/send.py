"""Sending a message into a conversation (E3)."""

from __future__ import annotations

from postventa.errors import Code, PostventaError
from postventa.ids import new_message_id
from postventa.model import Caller, Message, Role
from postventa.notifications import outbox
from postventa.rules import send as send_rules
from postventa.rules import text as text_rules
from postventa.services import Services
from postventa.storage import conversations, messages, unread


async def do_send_message(
    services: Services, *, caller: Caller, pack_id: int, seller_id: int, body: bytes
) -> Message:
    """Validate in the order of §20, then insert the message and count it unread for the receiver.

    Insert and counter change share one transaction, committed before this returns.
    """
    if caller.application_id is None:
        raise PostventaError(Code.APPLICATION_ID_REQUIRED)
    request = send_rules.parse_send_request(body)
    settings = services.settings
    async with services.db.write() as conn:
        conversation = await conversations.get_conversation(
            conn, seller_id=seller_id, pack_id=pack_id, for_update=True
        )
        send_rules.check_parties(
            request, caller_id=caller.user_id, pack_id=pack_id, conversation=conversation
        )
        assert conversation is not None  # check_parties refuses a missing conversation
        sender_role = conversation.role_of(caller.user_id)
        assert sender_role is not None
        text = text_rules.check_text(
            request.text,
            max_length=text_rules.max_length_for(
                sender_role,
                seller_max=settings.seller_max_message_length,
                buyer_max=settings.buyer_max_message_length,
            ),
        )
        send_rules.check_attachments(request.attachments)
        now = services.clock.now()
        message = Message(
            id=new_message_id(now),
            seller_id=conversation.seller_id,
            pack_id=conversation.pack_id,
            from_user_id=caller.user_id,
            to_user_id=request.to_user_id,
            client_id=caller.application_id,
            site_id=conversation.site_id,
            subject=None,
            text=text,
            status="available",
            moderation_status="clean",
            moderation_reason=None,
            moderation_source="online",
            moderation_date=now,
            created_at=now,
            available_at=now,
            notified_at=None,
            read_at=None,
            attachments=None,
            first_message=conversation.message_count == 0,
        )
        await messages.insert_message(conn, message)
        receiver = Role.buyer if sender_role is Role.seller else Role.seller
        await unread.count_new_message(conn, conversation, receiver=receiver, at=now)
        # The recipient's applications hear about it (§13.2), committed with the message.
        await outbox.notify(
            conn,
            seller_id=message.seller_id,
            user_id=message.to_user_id,
            action="created",
            resources=[message.id],
            at=now,
        )
    return message
