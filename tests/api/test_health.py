"""``GET /_postventa/ping``: the benchmark's ceiling, answered without token or database."""

from __future__ import annotations

import httpx


async def test_ping_answers_ok_without_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/_postventa/ping")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == b'{"status":"ok"}'


async def test_ping_refuses_other_methods(client: httpx.AsyncClient) -> None:
    response = await client.post("/_postventa/ping")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"


async def test_ping_is_not_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    assert "/_postventa/ping" not in document["paths"]
