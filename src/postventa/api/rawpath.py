"""ASGI middleware that normalises what clients send before routing.

* Some clients percent-encode the whole path, query included
  (``/messages%2Funread%3Frole%3Dseller``). The raw path is decoded once, an embedded query string
  is merged with the real one, and routing proceeds as usual.
* A trailing slash routes to the same resource (no redirect: clients that POST would lose the body).
* Request bodies are capped: a declared ``Content-Length`` over the cap is refused before reading,
  a chunked body is refused as soon as it passes the cap.
"""

from __future__ import annotations

from urllib.parse import unquote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from postventa.api.errors import BodyTooLarge, error_response
from postventa.errors import Code, PostventaError


def normalise(raw_path: bytes, query_string: bytes) -> tuple[str, bytes]:
    """The routable path and the merged query string for one request."""
    path_bytes, _, embedded_real_query = raw_path.partition(b"?")
    decoded = unquote(path_bytes.decode("latin-1"), encoding="utf-8", errors="replace")
    path, _, embedded = decoded.partition("?")
    queries = [q for q in (embedded.encode("utf-8"), embedded_real_query, query_string) if q]
    merged = b"&".join(dict.fromkeys(queries))
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    return path or "/", merged


class RawPathMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
        path, query = normalise(raw_path, scope.get("query_string", b""))
        scope = dict(scope, path=path, raw_path=path.encode("utf-8"), query_string=query)

        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            response = error_response(
                PostventaError(Code.BODY_TOO_LARGE, max_bytes=self.max_body_bytes)
            )
            await response(scope, receive, send)
            return
        await self.app(scope, self._capped(receive), send)

    def _capped(self, receive: Receive) -> Receive:
        received = 0
        limit = self.max_body_bytes

        async def capped_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        return capped_receive


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
