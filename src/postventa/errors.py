"""Every error Postventa can answer, declared once.

Each :class:`Code` maps to an HTTP status, a Mercado Libre ``error`` code, a message template and
the envelope it is rendered in. Actions raise ``PostventaError(Code.X, field=value)``; one exception
handler in :mod:`postventa.api.errors` renders it. Tests compare against this table, never against
a retyped string. Section numbers (§) point into ``shared/reference/ml-messages-api.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


@dataclass(frozen=True)
class ErrorSpec:
    status: int
    error: str | None
    template: str
    # "standard": {"message","error","status","cause":[]} (§1.3)
    # "status_code": {"status_code","code","message"} (send into a blocked conversation, §6.3)
    # "action_guide": {"cause"?,"error","message","status_code"} (§1.3, §11.6)
    envelope: str = "standard"
    # False for strings Postventa chose itself (the reference gives none for the case).
    documented: bool = True
    # The ``cause`` string of the "action_guide" envelope (§11.6: blocked_by_excepted_case).
    cause: str | None = None


class Code(Enum):
    # --- auth (§14.3) ---
    ACCESS_TOKEN_REQUIRED = ErrorSpec(400, "bad_request", "Access token is required")
    APPLICATION_ID_REQUIRED = ErrorSpec(400, "bad_request", "Application id is required")
    INVALID_TOKEN = ErrorSpec(401, "not_found", "invalid_token")
    # --- E1 (§3.4) ---
    RESOURCE_FORBIDDEN = ErrorSpec(
        403, "forbidden", "User access token invalid for resource {resource_id}"
    )
    LIMIT_NOT_POSITIVE = ErrorSpec(400, "bad_request", "The limit param must be greater than 0")
    INVALID_LIMIT = ErrorSpec(400, "bad_request", "Invalid limit param")
    INVALID_OFFSET = ErrorSpec(400, "bad_request", "Invalid offset param")
    # --- E2 (§5) ---
    MESSAGE_ACCESS_DENIED = ErrorSpec(
        403, "forbidden", "Access denied for user {user_id} to message with id {message_id}"
    )
    MESSAGE_ID_NOT_EXISTS = ErrorSpec(
        400, "bad_request", "The specified message id does not exists"
    )
    MESSAGE_NOT_RETRIEVED = ErrorSpec(
        404, "not_found", "The message with id: {message_id} could not be retrieved from storage"
    )
    # --- E3 (§6.3), in the validation order of §20 ---
    JSON_BODY_REQUIRED = ErrorSpec(400, "bad_request", "A JSON body is required")
    FROM_REQUIRED = ErrorSpec(400, "bad_request", "The field 'from' is required")
    TO_USER_ID_REQUIRED = ErrorSpec(400, "bad_request", "The field 'to.user_id' is required")
    INVALID_TO_USER_ID = ErrorSpec(400, "bad_request", "Invalid 'to' user id")
    TO_EMAIL_NOT_SECURE = ErrorSpec(
        400, "bad_request", "The field 'to.email' must be a secure email"
    )
    SENDER_EQUALS_RECEIVER = ErrorSpec(400, "bad_request", "Sender and received must not be equals")
    SEND_ACCESS_DENIED = ErrorSpec(
        403, "forbidden", "Access denied for user {user_id} to order {resource_id}"
    )
    RECEIVER_NOT_IN_ORDER = ErrorSpec(
        403, "forbidden", "Receiver does not belong to order {resource_id}"
    )
    TEXT_REQUIRED = ErrorSpec(400, "bad_request", "Text is required")
    TEXT_UNSUPPORTED_CHARS = ErrorSpec(
        400, "bad_request", "The text has character/s that is/are not supported."
    )
    TEXT_TOO_LONG = ErrorSpec(
        400, "bad_request", "The message content is too long, max characters allowed are {max}"
    )
    # Sending into a blocked conversation (§6.3, §9.3, §11.1).
    SEND_BLOCKED = ErrorSpec(
        403, "forbidden", "blocked_conversation_send_message_forbidden", envelope="status_code"
    )
    BLOCKED_STARTED_BY_SELLER = ErrorSpec(
        403, "forbidden", "blocked_by_conversation_started_by_seller", envelope="status_code"
    )
    SEND_MEDIATION_IN_PROCESS = ErrorSpec(
        403, "forbidden", "You can not send the message because a mediation is in process"
    )
    SEND_FULFILLMENT_NOT_DELIVERED = ErrorSpec(
        403,
        "forbidden",
        "You can not send the message because the purchase is Mercado Envíos Full and has not "
        "been yet delivered",
    )
    # Ours: §12 says only "one message at a time" to the AI agent, without an error (§19 Q8).
    AGENT_ONE_MESSAGE_AT_A_TIME = ErrorSpec(
        403,
        "forbidden",
        "Only one message at a time can be sent to the messaging agent: wait for its answer",
        documented=False,
    )
    ATTACHMENT_INVALID = ErrorSpec(
        422, "unprocessable_entity", "Attachment key is invalid or not found"
    )
    # --- E11 (§8.3, original English seed page) ---
    MARK_IDS_INVALID = ErrorSpec(400, "bad_request", "Messages id empty or invalid")
    MARK_ID_NOT_EXISTS = ErrorSpec(
        400, "bad_request", "The specified message id: {message_id} does not exists"
    )
    MARK_MULTIPLE_ORDERS = ErrorSpec(
        400, "bad_request", "Not allowed messages from multiple orders"
    )
    # --- action guide E8–E10 (§11.6), every row; envelope {"status_code","error","message"} ---
    AG_TEXT_INVALID = ErrorSpec(
        400, "limit_exceeded", "The text is invalid", envelope="action_guide"
    )
    AG_CAP_EXHAUSTED = ErrorSpec(
        403,
        "bad_request",
        "You are not allowed to execute the option {option_id} again",
        envelope="action_guide",
    )
    # The buyer already wrote: the conversation is open to E3 (§11.1, §9.2).
    AG_USE_MESSAGE_API = ErrorSpec(
        403,
        "forbidden",
        "This package has the conversation blocked, please check blocked messages",
        envelope="action_guide",
        cause="blocked_by_conversation_use_message_api",
    )
    AG_OPTION_INVALID = ErrorSpec(
        404, "not_found", "The option selected is not valid", envelope="action_guide"
    )
    AG_LOCKED = ErrorSpec(
        409, "conflict", "There is another request locking this operation", envelope="action_guide"
    )
    AG_BLOCKED = ErrorSpec(403, "forbidden", "The conversation is blocked", envelope="action_guide")
    AG_PACK_FORBIDDEN = ErrorSpec(
        403,
        "forbidden",
        "You are not allowed to access the information of the pack {pack_id}",
        envelope="action_guide",
    )
    AG_TEMPLATE_INVALID = ErrorSpec(
        400, "bad_request", "The template {template_id} is invalid", envelope="action_guide"
    )
    AG_PROMISE_BEFORE_TODAY = ErrorSpec(
        400,
        "bad_request",
        "The promise of delivery of the shipping contained in the pack is from a date before today",
        envelope="action_guide",
    )
    AG_INTERNAL = ErrorSpec(
        500, "internal_server_error", "Internal server error", envelope="action_guide"
    )
    AG_TOO_MANY_REQUESTS = ErrorSpec(
        429, "too_many_request", "Too many request", envelope="action_guide"
    )
    AG_UNAVAILABLE = ErrorSpec(451, "Unavailable", "Unavailable", envelope="action_guide")
    AG_EXCEPTED_CASE = ErrorSpec(
        400,
        "bad_request",
        "This pack belongs to an excepted case, it is requested to use the messaging resource.",
        envelope="action_guide",
        cause="blocked_by_excepted_case",
    )
    # --- routing and transport ---
    LEGACY_RESOURCE_NOT_FOUND = ErrorSpec(404, "not_found", "Resource not found.")
    ROUTE_NOT_FOUND = ErrorSpec(404, "not_found", "Not Found", documented=False)
    METHOD_NOT_ALLOWED = ErrorSpec(
        405, "method_not_allowed", "Method Not Allowed", documented=False
    )
    BODY_TOO_LARGE = ErrorSpec(
        413,
        "request_entity_too_large",
        "Request body exceeds {max_bytes} bytes",
        documented=False,
    )
    INVALID_PARAM = ErrorSpec(
        400, "bad_request", "Invalid {location} param '{name}'", documented=False
    )
    # --- operator API (/_postventa/, Postventa's own) ---
    OPERATOR_KEY_REQUIRED = ErrorSpec(
        401, "unauthorized", "Operator key is required (X-Postventa-Operator-Key)", documented=False
    )
    OPERATOR_KEY_INVALID = ErrorSpec(401, "unauthorized", "Invalid operator key", documented=False)
    OPERATOR_NOT_FOUND = ErrorSpec(404, "not_found", "{kind} {id} not found", documented=False)
    OPERATOR_ALREADY_EXISTS = ErrorSpec(
        409, "conflict", "{kind} {id} already exists", documented=False
    )
    OPERATOR_INVALID = ErrorSpec(400, "bad_request", "Invalid {field}: {reason}", documented=False)
    OPERATOR_TRANSITION_REFUSED = ErrorSpec(
        409, "conflict", "{kind} {id} cannot change: {reason}", documented=False
    )
    IDEMPOTENCY_KEY_REUSED = ErrorSpec(
        422,
        "unprocessable_entity",
        "Idempotency-Key {key} was already used for a different request",
        documented=False,
    )
    CLOCK_FROZEN_IN_PRODUCTION = ErrorSpec(
        403, "forbidden", "The clock can only be moved in sandbox mode", documented=False
    )
    INTERNAL = ErrorSpec(500, "internal_server_error", "Internal Server Error")
    SERVICE_UNAVAILABLE = ErrorSpec(503, "service_not_available", "Service not available")

    @property
    def spec(self) -> ErrorSpec:
        return self.value


class PostventaError(Exception):
    """A failure the caller caused or must be told about, rendered from the :class:`Code` table."""

    def __init__(self, code: Code, **fields: Any) -> None:
        self.code = code
        self.fields = fields
        super().__init__(self.message)

    @property
    def status(self) -> int:
        return self.code.spec.status

    @property
    def message(self) -> str:
        return self.code.spec.template.format(**self.fields)

    def body(self) -> dict[str, Any]:
        spec = self.code.spec
        if spec.envelope == "status_code":
            return {"status_code": spec.status, "code": spec.error, "message": self.message}
        if spec.envelope == "action_guide":
            # Key order as the reference's sample (§1.3): cause, error, message, status_code.
            body: dict[str, Any] = {} if spec.cause is None else {"cause": spec.cause}
            body.update(error=spec.error, message=self.message, status_code=spec.status)
            return body
        return {"message": self.message, "error": spec.error, "status": spec.status, "cause": []}
