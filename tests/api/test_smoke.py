"""The demo seller can see its unread conversations: the whole stack answers."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import bearer


async def test_seller_sees_unread_conversations(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    seller = demo["users"]["seller"]
    response = await client.get(
        "/messages/unread?role=seller&tag=post_sale", headers=bearer(seller)
    )
    assert response.status_code == 200
    body = response.json()
    assert body["user_id"] == seller["id"]
    expected = {
        f"/packs/{p['pack_id']}/sellers/{p['seller_id']}": p["unread"]["seller"]
        for p in demo["packs"]
        if p["unread"]["seller"]
    }
    assert {r["resource"]: r["count"] for r in body["results"]} == expected
