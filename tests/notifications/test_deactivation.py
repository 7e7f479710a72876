"""The optional §13.4 fall-back: an application that opted in loses its topics after failures."""

from __future__ import annotations

from typing import Any

import httpx

from postventa.config import DEMO_OPERATOR_KEY
from postventa.services import Services
from tests.conftest import bearer
from tests.notifications.conftest import MakeDispatcher, MakeReceiver, point_application_at

OPERATOR = {"X-Postventa-Operator-Key": DEMO_OPERATOR_KEY}


async def _send(client: httpx.AsyncClient, demo: dict[str, Any]) -> None:
    seller, buyer = demo["users"]["seller"], demo["users"]["buyer"]
    pack = demo["packs"][0]
    sent = await client.post(
        f"/messages/packs/{pack['pack_id']}/sellers/{pack['seller_id']}",
        headers=bearer(seller),
        json={"from": {"user_id": seller["id"]}, "to": {"user_id": buyer["id"]}, "text": "Hola"},
    )
    assert sent.status_code == 200


async def _queued(client: httpx.AsyncClient, app_id: int) -> int:
    listed = await client.get(f"/_postventa/notifications?app_id={app_id}", headers=OPERATOR)
    return len(listed.json()["notifications"])


async def test_topics_are_deactivated_after_the_chosen_number_of_failures_in_a_row(
    client: httpx.AsyncClient,
    services: Services,
    demo: dict[str, Any],
    make_receiver: MakeReceiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    app_id = demo["application_id"]
    slow = await make_receiver(mode="slow", delay=0.5)
    await point_application_at(services, app_id, slow.url)
    policy = await client.put(
        f"/_postventa/applications/{app_id}/webhook", headers=OPERATOR, json={"deactivate_after": 2}
    )
    assert policy.json() == {
        "application_id": app_id,
        "deactivate_after": 2,
        "consecutive_failures": 0,
        "active": True,
        "deactivated_at": None,
    }
    await _send(client, demo)
    await _send(client, demo)

    await make_dispatcher(notification_timeout_ms=100).run_once()

    state = (
        await client.get(f"/_postventa/applications/{app_id}/webhook", headers=OPERATOR)
    ).json()
    assert (state["consecutive_failures"], state["active"]) == (2, False)
    assert state["deactivated_at"] == "2026-11-01T12:00:00.000Z"
    # Nothing of the deactivated period is kept.
    await _send(client, demo)
    assert await _queued(client, app_id) == 2

    resubscribed = await client.post(
        f"/_postventa/applications/{app_id}/webhook/resubscribe", headers=OPERATOR
    )
    assert (resubscribed.json()["active"], resubscribed.json()["consecutive_failures"]) == (True, 0)
    await _send(client, demo)
    assert await _queued(client, app_id) == 3


async def test_a_delivery_resets_the_count_and_applications_that_did_not_opt_in_stay_active(
    client: httpx.AsyncClient,
    services: Services,
    demo: dict[str, Any],
    make_receiver: MakeReceiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    app_id = demo["application_id"]
    receiver = await make_receiver(status=500)
    await point_application_at(services, app_id, receiver.url)
    state_url = f"/_postventa/applications/{app_id}/webhook"
    await client.put(state_url, headers=OPERATOR, json={"deactivate_after": 2})
    dispatcher = make_dispatcher()

    await _send(client, demo)
    await dispatcher.run_once()
    receiver.status = 200
    await _send(client, demo)
    await dispatcher.run_once()

    state = (await client.get(state_url, headers=OPERATOR)).json()
    assert (state["consecutive_failures"], state["active"]) == (0, True)

    receiver.status = 500
    await client.put(state_url, headers=OPERATOR, json={"deactivate_after": None})
    for _ in range(3):
        await _send(client, demo)
    await dispatcher.run_once()
    state = (await client.get(state_url, headers=OPERATOR)).json()
    assert (state["consecutive_failures"], state["active"]) == (3, True)


async def test_the_fall_back_of_an_unknown_application_is_404(client: httpx.AsyncClient) -> None:
    missing = await client.get("/_postventa/applications/999/webhook", headers=OPERATOR)
    assert (missing.status_code, missing.json()["message"]) == (404, "Application 999 not found")
