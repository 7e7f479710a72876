"""``postventa receive``: a webhook receiver that prints what arrives and checks its signature.

It answers every POST with 200 at once (ACK first, as §13.4 recommends) and prints one line per
notification: delivery id, attempt, topic/actions, resource, user, and whether the
``X-Postventa-Signature`` verified. The secret is the application's own (``--secret``), or, when
the receiver shares the server's settings (the sandbox on one machine), derived from the master
secret and the payload's ``application_id`` exactly as the server does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from postventa.notifications import signing

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def describe(
    body: bytes, headers: dict[str, str], *, secret: str | None, master_secret: str | None
) -> str:
    """One printable line for a received notification."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return f"not JSON ({len(body)} bytes)"
    if not isinstance(payload, dict):
        return f"unexpected JSON: {body[:200]!r}"
    key = secret
    if key is None and master_secret is not None and "application_id" in payload:
        key = signing.application_secret(master_secret, int(payload["application_id"]))
    if key is None:
        verdict = "signature not checked (no secret)"
    else:
        result = signing.verify(key, headers.get(signing.SIGNATURE_HEADER.lower()), body)
        verdict = "signature ok" if result.valid else f"SIGNATURE INVALID ({result.reason})"
    return (
        f"delivery={headers.get(signing.DELIVERY_HEADER.lower(), '-')} "
        f"attempt={headers.get(signing.ATTEMPT_HEADER.lower(), '-')} "
        f"topic={payload.get('topic')} actions={payload.get('actions')} "
        f"resource={payload.get('resource')} user_id={payload.get('user_id')} "
        f"application_id={payload.get('application_id')} sent={payload.get('sent')} | {verdict}"
    )


def receiver_app(
    out: Callable[[str], None],
    *,
    secret: str | None,
    master_secret: str | None,
    status: int = 200,
) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """A bare ASGI app (no framework needed) that ACKs with ``status`` and reports via ``out``."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        chunks: list[bytes] = []
        more = True
        while more:
            event = await receive()
            chunks.append(event.get("body", b""))
            more = event.get("more_body", False)
        body = b"".join(chunks)
        if scope["method"] == "POST":
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
            }
            out(describe(body, headers, secret=secret, master_secret=master_secret))
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"ok":true}'})

    return app
