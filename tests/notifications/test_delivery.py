"""Notifications end to end: HTTP actions write the outbox, a dispatcher POSTs to a real socket."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from postventa.clock import FakeClock
from postventa.config import DEMO_OPERATOR_KEY
from postventa.notifications import signing
from postventa.notifications.dispatcher import purge
from postventa.services import Services
from postventa.storage.notification_tables import notification_attempts, notifications
from tests.conftest import bearer
from tests.notifications.conftest import MakeDispatcher, MakeReceiver, point_application_at
from tests.notifications.http_receiver import Receiver

OPERATOR = {"X-Postventa-Operator-Key": DEMO_OPERATOR_KEY}
NOW = "2026-11-01T12:00:00.000Z"


async def _send(
    client: httpx.AsyncClient, demo: dict[str, Any], text: str = "Hola", *, to_buyer: bool = True
) -> str:
    seller, buyer = demo["users"]["seller"], demo["users"]["buyer"]
    sender, receiver = (seller, buyer) if to_buyer else (buyer, seller)
    pack = demo["packs"][0]
    sent = await client.post(
        f"/messages/packs/{pack['pack_id']}/sellers/{pack['seller_id']}?tag=post_sale",
        headers=bearer(sender),
        json={"from": {"user_id": sender["id"]}, "to": {"user_id": receiver["id"]}, "text": text},
    )
    assert sent.status_code == 200, sent.text
    message_id: str = sent.json()["id"]
    return message_id


async def _outbox_size(services: Services) -> int:
    async with services.db.read() as conn:
        return int(await conn.scalar(select(func.count()).select_from(notifications)) or 0)


async def test_a_sent_message_notifies_the_recipient_with_the_ml_payload(
    client: httpx.AsyncClient,
    services: Services,
    demo_to: dict[str, Any],
    receiver: Receiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    message_id = await _send(client, demo_to)

    outcomes = await make_dispatcher().run_once()

    assert [o.status for o in outcomes] == ["delivered"]
    (arrival,) = receiver.arrivals
    delivery = arrival.headers["x-postventa-delivery"]
    assert arrival.json == {
        "_id": delivery,
        "id": delivery,
        "resource": message_id,
        "user_id": demo_to["users"]["buyer"]["id"],
        "topic": "messages",
        "actions": ["created"],
        "application_id": demo_to["application_id"],
        "attempts": 1,
        "sent": NOW,
        "received": NOW,
    }
    assert arrival.headers["accept"] == "application/json"
    assert arrival.headers["content-type"] == "application/json"
    assert arrival.headers["x-postventa-attempt"] == "1"


async def test_the_signature_verifies_with_the_secret_the_operator_api_hands_out(
    client: httpx.AsyncClient,
    demo_to: dict[str, Any],
    receiver: Receiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    await _send(client, demo_to)
    await make_dispatcher().run_once()
    (arrival,) = receiver.arrivals
    answer = await client.get(
        f"/_postventa/applications/{demo_to['application_id']}/webhook_secret", headers=OPERATOR
    )
    secret = answer.json()["secret"]
    assert secret == demo_to["notifications"]["webhook_secret"]

    header = arrival.headers["x-postventa-signature"]
    verdict = signing.verify(secret, header, arrival.body)
    assert verdict.valid, verdict
    assert verdict.timestamp == int(FakeClock().now().timestamp())
    assert not signing.verify(secret, header, arrival.body.replace(b"created", b"read")).valid
    assert not signing.verify("0" * 64, header, arrival.body).valid


async def test_delivery_sets_the_message_notified_date(
    client: httpx.AsyncClient,
    demo_to: dict[str, Any],
    clock: FakeClock,
    make_dispatcher: MakeDispatcher,
) -> None:
    message_id = await _send(client, demo_to)
    buyer = bearer(demo_to["users"]["buyer"])
    before = (await client.get(f"/messages/{message_id}", headers=buyer)).json()
    assert before["messages"][0]["message_date"]["notified"] is None

    clock.advance(timedelta(seconds=2))
    await make_dispatcher().run_once()

    after = (await client.get(f"/messages/{message_id}", headers=buyer)).json()
    assert after["messages"][0]["message_date"]["notified"] == "2026-11-01T12:00:02.000Z"


async def test_reading_notifies_the_sender_once_per_message_that_changed(
    client: httpx.AsyncClient,
    demo_to: dict[str, Any],
    receiver: Receiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    first = await _send(client, demo_to, "uno")
    second = await _send(client, demo_to, "dos")
    dispatcher = make_dispatcher()
    await dispatcher.run_once()  # the two `created` notifications to the buyer
    pack = demo_to["packs"][0]
    path = f"/messages/packs/{pack['pack_id']}/sellers/{pack['seller_id']}"
    buyer = bearer(demo_to["users"]["buyer"])

    assert (await client.get(path, headers=buyer)).status_code == 200
    await dispatcher.run_once()
    # Reading again changes nothing, so it notifies nothing.
    assert (await client.get(path, headers=buyer)).status_code == 200
    assert await dispatcher.run_once() == []

    reads = [a.json for a in receiver.arrivals[2:]]
    assert sorted(r["resource"] for r in reads) == sorted([first, second])
    assert {(r["user_id"], tuple(r["actions"])) for r in reads} == {
        (demo_to["users"]["seller"]["id"], ("read",))
    }


async def test_mark_as_read_notifies_only_for_messages_that_changed(
    client: httpx.AsyncClient,
    demo_to: dict[str, Any],
    receiver: Receiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    message_id = await _send(client, demo_to, to_buyer=False)
    dispatcher = make_dispatcher()
    await dispatcher.run_once()
    seller = bearer(demo_to["users"]["seller"])

    marked = await client.put(f"/messages/mark_as_read/{message_id}", headers=seller)
    assert marked.json()["marked"] == 1
    await dispatcher.run_once()
    again = await client.put(f"/messages/mark_as_read/{message_id}", headers=seller)
    assert again.json()["marked"] == 0
    assert await dispatcher.run_once() == []

    assert [
        (a.json["actions"], a.json["resource"], a.json["user_id"]) for a in receiver.arrivals
    ] == [
        (["created"], message_id, demo_to["users"]["seller"]["id"]),
        (["read"], message_id, demo_to["users"]["buyer"]["id"]),
    ]


async def test_a_refused_send_writes_no_notification(
    client: httpx.AsyncClient, services: Services, demo_to: dict[str, Any]
) -> None:
    seller, buyer = demo_to["users"]["seller"], demo_to["users"]["buyer"]
    pack = demo_to["packs"][0]
    refused = await client.post(
        f"/messages/packs/{pack['pack_id']}/sellers/{pack['seller_id']}",
        headers=bearer(seller),
        json={"from": {"user_id": seller["id"]}, "to": {"user_id": buyer["id"]}, "text": "x" * 351},
    )
    assert refused.status_code == 400
    assert await _outbox_size(services) == 0


async def test_a_rejected_message_announces_nothing_to_its_hidden_recipient(
    client: httpx.AsyncClient, services: Services, demo_to: dict[str, Any]
) -> None:
    seller, buyer = demo_to["users"]["seller"], demo_to["users"]["buyer"]
    pack = demo_to["packs"][0]
    sent = await client.post(
        f"/messages/packs/{pack['pack_id']}/sellers/{pack['seller_id']}",
        headers=bearer(seller),
        json={
            "from": {"user_id": seller["id"]},
            "to": {"user_id": buyer["id"]},
            "text": "Llamame al celular 11 5555-1234",
        },
    )
    assert sent.json()["message_moderation"]["status"] == "rejected"
    assert await _outbox_size(services) == 0


async def test_only_applications_with_a_callback_and_the_topic_are_notified(
    client: httpx.AsyncClient, services: Services, demo: dict[str, Any]
) -> None:
    await point_application_at(services, demo["application_id"], None)
    await _send(client, demo)
    assert await _outbox_size(services) == 0


async def _advance_to_next_attempt(services: Services, clock: FakeClock) -> None:
    async with services.db.read() as conn:
        due = await conn.scalar(
            select(func.min(notifications.c.next_attempt_at)).where(
                notifications.c.status == "pending"
            )
        )
    if due is not None:
        clock.advance(due - clock.now())


async def test_a_500_is_retried_with_attempts_counting_up_then_lands_in_missed_feeds(
    client: httpx.AsyncClient,
    services: Services,
    demo: dict[str, Any],
    clock: FakeClock,
    make_receiver: MakeReceiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    failing = await make_receiver(status=500)
    await point_application_at(services, demo["application_id"], failing.url)
    message_id = await _send(client, demo)
    dispatcher = make_dispatcher()

    statuses = []
    for _ in range(8):
        statuses += [o.status for o in await dispatcher.run_once()]
        assert await dispatcher.run_once() == []  # not due again before its backoff
        await _advance_to_next_attempt(services, clock)
    assert statuses == ["pending"] * 7 + ["missed"]
    # Eight attempts within the hour (§13.4).
    assert clock.now() - FakeClock().now() <= timedelta(hours=1)
    assert [a.json["attempts"] for a in failing.arrivals] == list(range(1, 9))
    assert [a.headers["x-postventa-attempt"] for a in failing.arrivals] == [
        str(n) for n in range(1, 9)
    ]
    assert len({a.headers["x-postventa-delivery"] for a in failing.arrivals}) == 1

    feed = await client.get(
        f"/missed_feeds?app_id={demo['application_id']}", headers=bearer(demo["users"]["seller"])
    )
    assert feed.status_code == 200
    (entry,) = feed.json()["messages"]
    last = failing.arrivals[-1]
    assert entry == {
        "_id": last.headers["x-postventa-delivery"],
        "resource": message_id,
        "user_id": demo["users"]["buyer"]["id"],
        "topic": "messages",
        "actions": ["created"],
        "application_id": demo["application_id"],
        "attempts": 8,
        "sent": last.json["sent"],
        "received": NOW,
        "request": {
            "url": failing.url,
            "headers": {
                "accept": "application/json",
                "content-type": "application/json",
                "content-length": len(last.body),
                "x-postventa-delivery": last.headers["x-postventa-delivery"],
                "x-postventa-attempt": "8",
                "x-postventa-signature": last.headers["x-postventa-signature"],
            },
            "data": last.body.decode(),
        },
        "response": {
            "req_time": entry["response"]["req_time"],
            "http_code": 500,
            "body": '{"ok":true}',
            "headers": {"content-type": "application/json", "content-length": "11"},
        },
    }
    assert isinstance(entry["response"]["req_time"], int)


async def test_missed_feeds_forget_entries_after_two_days(
    client: httpx.AsyncClient,
    services: Services,
    demo: dict[str, Any],
    clock: FakeClock,
    make_receiver: MakeReceiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    failing = await make_receiver(status=503)
    await point_application_at(services, demo["application_id"], failing.url)
    await _send(client, demo)
    dispatcher = make_dispatcher(notification_max_attempts=1)
    assert [o.status for o in await dispatcher.run_once()] == ["missed"]
    url = f"/missed_feeds?app_id={demo['application_id']}&topic=messages"
    seller = bearer(demo["users"]["seller"])

    clock.advance(timedelta(days=2) - timedelta(milliseconds=1))
    assert len((await client.get(url, headers=seller)).json()["messages"]) == 1
    clock.advance(timedelta(milliseconds=2))
    assert (await client.get(url, headers=seller)).json() == {"messages": []}


async def test_missed_feeds_filter_by_topic_and_page(
    client: httpx.AsyncClient,
    services: Services,
    demo: dict[str, Any],
    make_receiver: MakeReceiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    failing = await make_receiver(status=500)
    await point_application_at(services, demo["application_id"], failing.url)
    for n in range(3):
        await _send(client, demo, f"m{n}")
    await make_dispatcher(notification_max_attempts=1).run_once()
    seller = bearer(demo["users"]["seller"])
    base = f"/missed_feeds?app_id={demo['application_id']}"

    assert len((await client.get(base, headers=seller)).json()["messages"]) == 3
    assert len((await client.get(f"{base}&limit=2", headers=seller)).json()["messages"]) == 2
    assert len((await client.get(f"{base}&offset=2", headers=seller)).json()["messages"]) == 1
    other_topic = await client.get(f"{base}&topic=orders_v2", headers=seller)
    assert other_topic.json() == {"messages": []}
    alias = await client.get(base.replace("missed_feeds", "myfeeds"), headers=seller)
    assert alias.json() == (await client.get(base, headers=seller)).json()


async def test_missed_feeds_need_an_app_id_and_a_token_of_that_application(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    seller = bearer(demo["users"]["seller"])
    missing = await client.get("/missed_feeds", headers=seller)
    assert (missing.status_code, missing.json()["message"]) == (
        400,
        "Invalid query param 'app_id'",
    )
    other = await client.get("/missed_feeds?app_id=12345", headers=seller)
    assert (other.status_code, other.json()["message"]) == (
        403,
        "User access token invalid for resource 12345",
    )
    assert (await client.get(f"/missed_feeds?app_id={demo['application_id']}")).status_code == 400


async def test_a_slow_receiver_is_a_failed_attempt(
    client: httpx.AsyncClient,
    services: Services,
    demo: dict[str, Any],
    make_receiver: MakeReceiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    slow = await make_receiver(mode="slow", delay=0.5)
    await point_application_at(services, demo["application_id"], slow.url)
    await _send(client, demo)

    (outcome,) = await make_dispatcher(notification_timeout_ms=100).run_once()

    assert outcome.status == "pending"
    assert outcome.response["http_code"] is None
    assert outcome.response["error"] == "no answer within 100 ms"
    assert len(slow.arrivals) == 1


async def test_a_connection_reset_is_a_failed_attempt(
    client: httpx.AsyncClient,
    services: Services,
    demo: dict[str, Any],
    make_receiver: MakeReceiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    resetting = await make_receiver(mode="reset")
    await point_application_at(services, demo["application_id"], resetting.url)
    await _send(client, demo)

    (outcome,) = await make_dispatcher().run_once()

    assert (outcome.status, outcome.response["http_code"]) == ("pending", None)
    assert outcome.response["error"].startswith(("ReadError", "RemoteProtocolError"))
    assert len(resetting.arrivals) == 1


async def test_a_receiver_that_never_answers_does_not_hold_up_the_others(
    client: httpx.AsyncClient,
    services: Services,
    demo: dict[str, Any],
    make_receiver: MakeReceiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    hanging = await make_receiver(mode="hang")
    healthy = await make_receiver()
    await point_application_at(services, demo["application_id"], hanging.url)
    await _send(client, demo)  # queued for the hanging receiver
    second_app = await _second_application(client, demo, healthy.url)
    await _send(client, demo)  # queued for both applications

    outcomes = await make_dispatcher(notification_timeout_ms=600).run_once()

    assert sorted(o.status for o in outcomes) == ["delivered", "pending", "pending"]
    (arrival,) = healthy.arrivals
    assert arrival.json["application_id"] == second_app
    # The healthy receiver got its notification while the other one was still being waited on.
    assert arrival.at < min(a.at for a in hanging.arrivals) + 0.6
    errors = {o.response.get("error") for o in outcomes if o.status == "pending"}
    assert errors == {"no answer within 600 ms"}


async def _second_application(client: httpx.AsyncClient, demo: dict[str, Any], url: str) -> int:
    """Another application, subscribed and authorised by the buyer, calling back ``url``."""
    app_id = 4400000000000001
    created = await client.post(
        "/_postventa/applications",
        headers=OPERATOR,
        json={
            "id": app_id,
            "owner_user_id": demo["users"]["seller"]["id"],
            "name": "Second helpdesk",
            "callback_url": url,
            "topics": ["messages"],
        },
    )
    assert created.status_code == 201, created.text
    token = await client.post(
        "/_postventa/tokens",
        headers=OPERATOR,
        json={"user_id": demo["users"]["buyer"]["id"], "application_id": app_id},
    )
    assert token.status_code == 201, token.text
    return app_id


async def test_the_inspector_lists_attempts_and_redelivery_keeps_the_delivery_id(
    client: httpx.AsyncClient,
    services: Services,
    demo: dict[str, Any],
    make_receiver: MakeReceiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    failing = await make_receiver(status=500)
    await point_application_at(services, demo["application_id"], failing.url)
    message_id = await _send(client, demo)
    dispatcher = make_dispatcher(notification_max_attempts=1)
    await dispatcher.run_once()
    inspect_url = f"/_postventa/notifications?app_id={demo['application_id']}"

    listed = (await client.get(inspect_url, headers=OPERATOR)).json()
    (item,) = listed["notifications"]
    assert (item["status"], item["attempts"], item["resource"]) == ("missed", 1, message_id)
    assert [
        (a["attempt"], a["outcome"], a["response"]["http_code"]) for a in item["attempt_log"]
    ] == [(1, "missed", 500)]

    failing.status = 200
    redelivered = await client.post(
        f"/_postventa/notifications/{item['id']}/redeliver", headers=OPERATOR
    )
    assert redelivered.json() == {"id": item["id"], "status": "pending", "next_attempt_at": NOW}
    assert [o.status for o in await dispatcher.run_once()] == ["delivered"]
    assert [a.headers["x-postventa-delivery"] for a in failing.arrivals] == [item["id"]] * 2
    assert failing.arrivals[-1].json["attempts"] == 2
    delivered = (await client.get(f"{inspect_url}&status=delivered", headers=OPERATOR)).json()
    assert [n["id"] for n in delivered["notifications"]] == [item["id"]]
    unknown = await client.post("/_postventa/notifications/nope/redeliver", headers=OPERATOR)
    assert unknown.status_code == 404


async def test_the_dispatcher_forgets_finished_notifications_after_two_days(
    client: httpx.AsyncClient,
    services: Services,
    demo_to: dict[str, Any],
    clock: FakeClock,
    make_dispatcher: MakeDispatcher,
) -> None:
    await _send(client, demo_to)
    await make_dispatcher().run_once()
    clock.advance(timedelta(days=2))
    await _send(client, demo_to)  # still pending: never purged, whatever its age

    assert await purge(services) == 0  # exactly 2 days old is still kept
    clock.advance(timedelta(milliseconds=1))
    assert await purge(services) == 1

    async with services.db.read() as conn:
        left = (await conn.execute(select(notifications.c.status))).scalars().all()
        attempts = await conn.scalar(select(func.count()).select_from(notification_attempts))
    assert (left, attempts) == (["pending"], 0)
