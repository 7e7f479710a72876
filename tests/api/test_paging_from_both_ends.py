"""Every page equals the same slice of the whole thread, whichever end the index is read from."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import bearer


async def test_every_offset_and_limit_is_a_slice_of_the_thread(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    pack = demo["packs"][0]
    path = f"/messages/packs/{pack['pack_id']}/sellers/{pack['seller_id']}?mark_as_read=false"
    ids: list[str] = pack["message_ids"]
    assert len(ids) == 29
    headers = bearer(demo["users"]["buyer"])
    for limit in (1, 2, 5, 10, 29, 40):
        for offset in range(0, 32):
            body = (
                await client.get(f"{path}&limit={limit}&offset={offset}", headers=headers)
            ).json()
            got = [m["id"] for m in body["messages"]]
            assert got == ids[offset : offset + limit], (limit, offset)
            assert body["paging"] == {"limit": limit, "offset": offset, "total": 29}
