"""Webhook signatures: what Postventa adds on top of Mercado Libre's unsigned notifications.

Every delivery carries three headers (the ML payload itself is unchanged):

* ``X-Postventa-Delivery``: the notification id, the same on every retry, for deduplication;
* ``X-Postventa-Attempt``: 1, 2, … (equal to the payload's ``attempts``);
* ``X-Postventa-Signature: t=<unix seconds>,v1=<hex>`` where ``hex`` is
  HMAC-SHA256(application secret, ``"{t}.{body}"``) over the exact body bytes.

The application secret is never stored: it is ``HMAC-SHA256(master, "postventa-webhook:{app id}")``
with the server's master secret (``POSTVENTA_WEBHOOK_MASTER_SECRET``; a well-known default in
sandbox mode, required in production). The operator API hands it to the integrator
(``GET /_postventa/applications/{id}/webhook_secret``). Rotating the master secret rotates every
application's secret at once; a stolen database reveals none of them.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

DELIVERY_HEADER = "X-Postventa-Delivery"
ATTEMPT_HEADER = "X-Postventa-Attempt"
SIGNATURE_HEADER = "X-Postventa-Signature"


def application_secret(master_secret: str, application_id: int) -> str:
    """The per-application signing secret (64 hex characters)."""
    message = f"postventa-webhook:{application_id}".encode()
    return hmac.new(master_secret.encode(), message, hashlib.sha256).hexdigest()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


@dataclass(frozen=True)
class Verdict:
    valid: bool
    reason: str
    timestamp: int | None = None


def verify(
    secret: str, header: str | None, body: bytes, *, now: float | None = None, tolerance: int = 0
) -> Verdict:
    """Check an ``X-Postventa-Signature`` header against ``body``.

    With ``tolerance`` > 0 and ``now`` given, a timestamp further than that many seconds from
    ``now`` is refused (replay protection). Sandbox clocks may be moved, so it is opt-in.
    """
    if not header:
        return Verdict(False, "missing signature header")
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return Verdict(False, "malformed signature header")
    if not hmac.compare_digest(given, signature(secret, timestamp, body)):
        return Verdict(False, "signature mismatch", timestamp)
    if tolerance > 0 and now is not None and abs(now - timestamp) > tolerance:
        return Verdict(False, "timestamp outside tolerance", timestamp)
    return Verdict(True, "ok", timestamp)
