"""Expected wire bodies shared by the API tests, written out field by field from §3.3.

Kept apart from ``postventa.api.serializers`` on purpose: the tests state the reference's shape
themselves instead of asking the code under test what it should be.
"""

from __future__ import annotations

from typing import Any

DEMO_APP_ID = 5503910054141466


def clean_message(
    message_id: str,
    *,
    sender: int,
    receiver: int,
    pack_id: int,
    seller_id: int,
    text: str,
    at: str,
    notified: str | None,
    read: str | None = None,
    first: bool = False,
) -> dict[str, Any]:
    """A clean (unmoderated) message of the demo application, as E1 and E2 show it."""
    return {
        "id": message_id,
        "site_id": "MLA",
        "client_id": DEMO_APP_ID,
        "from": {"user_id": sender},
        "to": {"user_id": receiver},
        "status": "available",
        "subject": None,
        "text": text,
        "message_date": {
            "received": at,
            "available": at,
            "notified": notified,
            "created": at,
            "read": read,
        },
        "message_moderation": {
            "status": "clean",
            "reason": None,
            "source": "online",
            "moderation_date": at,
        },
        "message_attachments": None,
        "message_resources": [
            {"id": str(pack_id), "name": "packs"},
            {"id": str(seller_id), "name": "sellers"},
        ],
        "conversation_first_message": first,
    }
