"""The served OpenAPI document lists every route and describes real responses accurately."""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import BaseModel

from postventa.api import schemas
from tests.conftest import bearer

ROUTES = {
    ("get", "/messages/unread"),
    ("get", "/messages/unread/{resource}"),
    ("get", "/messages/packs/{pack_id}/sellers/{seller_id}"),
    ("post", "/messages/packs/{pack_id}/sellers/{seller_id}"),
    ("put", "/messages/mark_as_read/{message_ids}"),
    ("get", "/messages/{message_id}"),
    ("get", "/messages/action_guide/packs/{pack_id}"),
    ("get", "/messages/action_guide/packs/{pack_id}/caps_available"),
    ("post", "/messages/action_guide/packs/{pack_id}/option"),
    ("get", "/missed_feeds"),
    ("get", "/myfeeds"),
}


async def test_document_lists_every_route(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    served = {(m, p) for p, item in document["paths"].items() for m in item}
    assert {(m, p) for m, p in served if not p.startswith("/_postventa/")} == ROUTES
    operator = [item for p, item in document["paths"].items() if p.startswith("/_postventa/")]
    assert all(op["tags"] == ["operator"] for item in operator for op in item.values())
    refs = _refs(document)
    assert refs
    assert refs <= set(document["components"]["schemas"])
    security = document["components"]["securitySchemes"]
    assert {s["type"] for s in security.values()} == {"http", "apiKey"}


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if "$ref" in node else set()
        return found.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


def _conforms(model: type[BaseModel], response: httpx.Response) -> None:
    model.model_validate(response.json())


async def test_real_responses_match_their_schemas(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    seller, buyer = demo["users"]["seller"], demo["users"]["buyer"]
    pack = demo["packs"][0]
    path = f"/messages/packs/{pack['pack_id']}/sellers/{pack['seller_id']}"
    message_id = pack["message_ids"][0]
    _conforms(schemas.UnreadOut, await client.get("/messages/unread", headers=bearer(seller)))
    _conforms(
        schemas.UnreadOut, await client.get(f"/messages/unread{path[9:]}", headers=bearer(seller))
    )
    _conforms(schemas.ConversationOut, await client.get(path, headers=bearer(seller)))
    _conforms(
        schemas.SingleMessageOut,
        await client.get(f"/messages/{message_id}", headers=bearer(seller)),
    )
    _conforms(
        schemas.LegacyMessageOut,
        await client.get(
            f"/messages/{message_id}", headers={**bearer(seller), "x-format-new": "false"}
        ),
    )
    sent = await client.post(
        path,
        headers=bearer(buyer),
        json={"from": {"user_id": buyer["id"]}, "to": {"user_id": seller["id"]}, "text": "Hola"},
    )
    _conforms(schemas.SentMessageOut, sent)
    _conforms(
        schemas.MarkAsReadOut,
        await client.put(f"/messages/mark_as_read/{sent.json()['id']}", headers=bearer(seller)),
    )
    _conforms(schemas.ErrorBody, await client.get(path, headers=bearer(demo["users"]["stranger"])))
