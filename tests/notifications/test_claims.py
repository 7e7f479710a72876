"""Claiming: several dispatchers share the outbox without ever holding the same row at once."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from postventa.clock import FakeClock
from postventa.notifications.dispatcher import Dispatcher
from postventa.services import Services
from postventa.storage.db import Database
from postventa.storage.notification_tables import notifications
from tests.conftest import bearer
from tests.notifications.conftest import MakeDispatcher
from tests.notifications.http_receiver import Receiver


async def _send_many(client: httpx.AsyncClient, demo: dict[str, Any], count: int) -> None:
    seller, buyer = demo["users"]["seller"], demo["users"]["buyer"]
    pack = demo["packs"][0]
    for n in range(count):
        sent = await client.post(
            f"/messages/packs/{pack['pack_id']}/sellers/{pack['seller_id']}",
            headers=bearer(seller),
            json={
                "from": {"user_id": seller["id"]},
                "to": {"user_id": buyer["id"]},
                "text": f"{n}",
            },
        )
        assert sent.status_code == 200


async def _drain(dispatcher: Dispatcher) -> int:
    done = 0
    while outcomes := await dispatcher.run_once():
        done += len(outcomes)
    return done


async def test_two_dispatchers_never_send_the_same_attempt_twice(
    client: httpx.AsyncClient,
    services: Services,
    demo_to: dict[str, Any],
    receiver: Receiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    await _send_many(client, demo_to, 40)
    # Each dispatcher has its own engine and connections, as two processes would.
    other_db = Database(services.settings.database_url, pool_size=2)
    try:
        first = make_dispatcher(dispatcher_batch_size=7)
        second = make_dispatcher(
            dataclasses.replace(services, db=other_db), dispatcher_batch_size=7
        )

        counts = await asyncio.gather(_drain(first), _drain(second))
    finally:
        await other_db.dispose()

    assert sum(counts) == 40
    sends = Counter(
        (a.headers["x-postventa-delivery"], a.headers["x-postventa-attempt"])
        for a in receiver.arrivals
    )
    assert len(sends) == 40
    assert set(sends.values()) == {1}


async def test_claimed_rows_are_invisible_to_others_until_the_lease_runs_out(
    client: httpx.AsyncClient,
    demo_to: dict[str, Any],
    clock: FakeClock,
    receiver: Receiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    await _send_many(client, demo_to, 3)
    crashed = make_dispatcher(notification_lease_seconds=30)
    survivor = make_dispatcher()

    claimed = await crashed.claim(10)  # ... and then the process dies before delivering
    assert len(claimed) == 3
    assert await survivor.claim(10) == []
    clock.advance(timedelta(seconds=29))
    assert await survivor.run_once() == []

    clock.advance(timedelta(seconds=1))
    assert [o.status for o in await survivor.run_once()] == ["delivered"] * 3
    assert sorted(a.headers["x-postventa-delivery"] for a in receiver.arrivals) == sorted(
        c.id for c in claimed
    )


async def test_a_late_result_from_a_dispatcher_that_lost_its_lease_is_not_recorded(
    client: httpx.AsyncClient,
    services: Services,
    demo_to: dict[str, Any],
    clock: FakeClock,
    make_dispatcher: MakeDispatcher,
) -> None:
    await _send_many(client, demo_to, 1)
    slow, fast = make_dispatcher(), make_dispatcher()
    (stale,) = await slow.claim(1)
    clock.advance(timedelta(seconds=31))
    assert [o.status for o in await fast.run_once()] == ["delivered"]

    await slow.deliver(stale)  # the receiver got it twice: at least once, never lost

    async with services.db.read() as conn:
        row = (await conn.execute(select(notifications))).one()
    assert (row.status, row.attempts) == ("delivered", 1)


@pytest.mark.postgres
async def test_on_postgres_a_claim_skips_rows_another_transaction_holds(
    client: httpx.AsyncClient,
    services: Services,
    demo_to: dict[str, Any],
    make_dispatcher: MakeDispatcher,
) -> None:
    if not services.db.is_postgres:
        pytest.skip("SQLite serialises writers instead (BEGIN IMMEDIATE)")
    await _send_many(client, demo_to, 4)
    dispatcher = make_dispatcher()
    async with services.db.engine.connect() as holder, holder.begin():
        held = (
            await holder.execute(
                select(notifications.c.id)
                .order_by(notifications.c.next_attempt_at, notifications.c.id)
                .limit(2)
                .with_for_update()
            )
        ).scalars()
        held_ids = set(held)
        # Does not wait for the holder: takes the two rows nobody holds.
        claimed = await asyncio.wait_for(dispatcher.claim(10), timeout=5)
        assert len(claimed) == 2
        assert held_ids.isdisjoint(c.id for c in claimed)
