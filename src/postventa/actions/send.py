"""Sending a message into a conversation (E3)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from postventa.actions.state import load_facts, record_state, resolve
from postventa.errors import Code, PostventaError
from postventa.ids import new_message_id
from postventa.model import Caller, Conversation, Message, Role
from postventa.notifications import outbox
from postventa.operator.users import agent_id_for
from postventa.rules import blocking
from postventa.rules import send as send_rules
from postventa.rules import text as text_rules
from postventa.rules.blocking import BlockingFacts, ConversationState
from postventa.rules.moderation import ModerationVerdict, moderate
from postventa.services import Services
from postventa.storage import conversations, messages, unread
from postventa.storage.sql import Reader


async def do_send_message(
    services: Services, *, caller: Caller, pack_id: int, seller_id: int, body: bytes
) -> Message:
    """Validate in the order of §20, then insert the message and count it unread for the receiver.

    Insert, counter change and the conversation's recomputed state share one transaction,
    committed before this returns.
    """
    if caller.application_id is None:
        raise PostventaError(Code.APPLICATION_ID_REQUIRED)
    request = send_rules.parse_send_request(body)
    settings = services.settings
    async with services.db.hot_write() as conn:
        conversation = await conversations.get_conversation(
            conn, seller_id=seller_id, pack_id=pack_id, for_update=True
        )
        # Read the clock only once the conversation is locked, so concurrent sends into one
        # conversation get increasing times and last_message_at is always the newest.
        now = services.clock.now()
        facts = await load_facts(conn, conversation) if conversation is not None else None
        agent_id = (
            agent_id_for(conversation.site_id)
            if conversation is not None and facts is not None and facts.conversation.agent_thread
            else None
        )
        send_rules.check_parties(
            request,
            caller_id=caller.user_id,
            pack_id=pack_id,
            conversation=conversation,
            agent_id=agent_id,
        )
        assert conversation is not None  # check_parties refuses a missing conversation
        assert facts is not None
        sender_role = conversation.role_of(caller.user_id)
        assert sender_role is not None
        resolved = resolve(conversation, facts, now=now)
        blocking.check_send(resolved.state, facts, sender=sender_role)
        if agent_id is not None and sender_role is Role.seller:
            send_rules.check_one_at_a_time(
                last_seller_at=conversation.last_seller_message_at,
                last_buyer_at=conversation.last_buyer_message_at,
            )
        text = text_rules.check_text(
            request.text,
            max_length=text_rules.max_length_for(
                sender_role,
                seller_max=settings.seller_max_message_length,
                buyer_max=settings.buyer_max_message_length,
            ),
        )
        send_rules.check_attachments(request.attachments)
        verdict = moderate(text, site_id=conversation.site_id, sender_role=sender_role, now=now)
        message = await record_new_message(
            conn,
            conversation=conversation,
            facts=facts,
            before=resolved.state,
            sender=sender_role,
            text=text,
            verdict=verdict,
            client_id=caller.application_id,
            opened_by=sender_role.value,
            agent_id=agent_id,
            now=now,
        )
    return message


async def record_new_message(
    conn: Reader,
    *,
    conversation: Conversation,
    facts: BlockingFacts,
    before: ConversationState,
    sender: Role,
    text: str,
    verdict: ModerationVerdict,
    client_id: int | None,
    opened_by: str,
    now: datetime,
    agent_id: int | None = None,
) -> Message:
    """Everything a new message changes, inside the caller's transaction (E3 and E10 alike).

    Insert the row; count it unread for the receiver (or hidden, when moderation rejected it);
    re-record the conversation's state; queue the receiver's ``created`` notification, unless the
    message is hidden from them.
    """
    receiver = Role.buyer if sender is Role.seller else Role.seller
    message = Message(
        id=new_message_id(now),
        seller_id=conversation.seller_id,
        pack_id=conversation.pack_id,
        from_user_id=conversation.seller_id if sender is Role.seller else conversation.buyer_id,
        to_user_id=conversation.buyer_id if sender is Role.seller else conversation.seller_id,
        client_id=client_id,
        site_id=conversation.site_id,
        subject=None,
        text=text,
        status=verdict.status,
        moderation_status=verdict.moderation_status,
        moderation_reason=verdict.reason,
        moderation_source=verdict.source,
        moderation_date=verdict.moderation_date,
        created_at=now,
        available_at=None if verdict.rejected else now,
        notified_at=None,
        read_at=None,
        attachments=None,
        first_message=conversation.message_count == 0,
        agent_id=agent_id,
    )
    await messages.insert_message(conn, message)
    await unread.count_new_message(
        conn,
        conversation,
        receiver=receiver,
        at=now,
        opened_by=opened_by,
        hidden=verdict.rejected,
    )
    written = replace(
        facts,
        last_message_at=now,
        last_buyer_message_at=now if sender is Role.buyer else facts.last_buyer_message_at,
        opened_by=facts.opened_by or opened_by,
    )
    await record_state(conn, conversation, written, now=now, before=before)
    if not verdict.rejected:
        # The receiver's applications hear about it (§13.2), committed with the message.
        await outbox.notify(
            conn,
            seller_id=message.seller_id,
            user_id=message.to_user_id,
            action="created",
            resources=[message.id],
            at=now,
        )
    return message
