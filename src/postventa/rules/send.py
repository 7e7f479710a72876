"""Who may send what to whom (E3), in the validation order of §20.

``parse_send_request`` checks everything that needs only the body; ``check_parties`` checks the
sender and receiver against the conversation. Text and attachments are checked last.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from postventa.errors import Code, PostventaError
from postventa.model import Conversation


@dataclass(frozen=True, slots=True)
class SendRequest:
    from_user_id: int
    to_user_id: int
    text: object
    attachments: object


def parse_user_id(value: object) -> int | None:
    """A user id sent as a JSON number or a numeric string (the docs show both, §1.2)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value < 2**63 else None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        parsed = int(value)
        return parsed if parsed < 2**63 else None
    return None


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object; anything else (empty, not JSON, bad UTF-8) is refused."""
    try:
        body = orjson.loads(raw) if raw.strip() else None
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict):
        raise PostventaError(Code.JSON_BODY_REQUIRED)
    return body


def parse_send_request(raw: bytes) -> SendRequest:
    body = parse_json_object(raw)
    sender = body.get("from")
    from_user_id = parse_user_id(sender.get("user_id")) if isinstance(sender, dict) else None
    if not from_user_id:
        raise PostventaError(Code.FROM_REQUIRED)
    receiver = body.get("to")
    if not isinstance(receiver, dict) or receiver.get("user_id") is None:
        raise PostventaError(Code.TO_USER_ID_REQUIRED)
    to_user_id = parse_user_id(receiver["user_id"])
    if to_user_id is None:
        raise PostventaError(Code.INVALID_TO_USER_ID)
    if to_user_id == 0:
        # Legacy: user id 0 meant "write to the order's secure e-mail", which no longer exists.
        raise PostventaError(Code.TO_EMAIL_NOT_SECURE)
    if from_user_id == to_user_id:
        raise PostventaError(Code.SENDER_EQUALS_RECEIVER)
    return SendRequest(
        from_user_id=from_user_id,
        to_user_id=to_user_id,
        text=body.get("text"),
        attachments=body.get("attachments"),
    )


def check_parties(
    request: SendRequest,
    *,
    caller_id: int,
    pack_id: int,
    conversation: Conversation | None,
    agent_id: int | None = None,
) -> None:
    """The sender must be the caller and a party of the conversation; the receiver the other one.

    An unknown conversation answers exactly like someone else's, so nobody learns which packs
    exist. On agent-mediated threads (§12) the seller writes to the site's agent, not the buyer.
    """
    if (
        conversation is None
        or request.from_user_id != caller_id
        or conversation.role_of(caller_id) is None
    ):
        raise PostventaError(
            Code.SEND_ACCESS_DENIED, user_id=request.from_user_id, resource_id=pack_id
        )
    expected = conversation.counterpart_of(caller_id)
    if agent_id is not None and caller_id == conversation.seller_id:
        expected = agent_id
    if request.to_user_id != expected:
        raise PostventaError(Code.RECEIVER_NOT_IN_ORDER, resource_id=pack_id)


def check_one_at_a_time(*, last_seller_at: object, last_buyer_at: object) -> None:
    """Agent threads take one seller message at a time: wait for the agent's answer (§12)."""
    if last_seller_at is not None and (last_buyer_at is None or last_seller_at >= last_buyer_at):  # type: ignore[operator]
        raise PostventaError(Code.AGENT_ONE_MESSAGE_AT_A_TIME)


def check_attachments(attachments: object) -> None:
    """No upload endpoint exists yet, so no attachment key can be found (422, §6.3)."""
    if attachments is None or attachments == []:
        return
    raise PostventaError(Code.ATTACHMENT_INVALID)
