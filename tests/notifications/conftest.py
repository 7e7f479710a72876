"""Fixtures for notification tests: a real receiver socket and a dispatcher on the test clock."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import update

from postventa.notifications.dispatcher import Dispatcher
from postventa.services import Services
from postventa.storage.tables import applications
from tests.notifications.http_receiver import Receiver

MakeReceiver = Callable[..., Awaitable[Receiver]]
MakeDispatcher = Callable[..., Dispatcher]


@pytest.fixture
async def make_receiver() -> AsyncIterator[MakeReceiver]:
    started: list[Receiver] = []

    async def make(**behaviour: Any) -> Receiver:
        receiver = await Receiver(**behaviour).start()
        started.append(receiver)
        return receiver

    yield make
    for receiver in started:
        await receiver.stop()


@pytest.fixture
async def receiver(make_receiver: MakeReceiver) -> Receiver:
    return await make_receiver()


@pytest.fixture
async def make_dispatcher(services: Services) -> AsyncIterator[MakeDispatcher]:
    """``make_dispatcher(notification_timeout_ms=200)``: a Dispatcher with setting overrides.

    The timeout defaults to 5 s here so that a busy test machine never turns a test's healthy
    receiver into a timeout; tests about timeouts set their own.
    """
    made: list[Dispatcher] = []

    def make(services: Services = services, **overrides: Any) -> Dispatcher:
        settings = services.settings.model_copy(
            update={"notification_timeout_ms": 5000, **overrides}
        )
        dispatcher = Dispatcher(dataclasses.replace(services, settings=settings))
        made.append(dispatcher)
        return dispatcher

    yield make
    for dispatcher in made:
        await dispatcher.aclose()


async def point_application_at(services: Services, application_id: int, url: str | None) -> None:
    async with services.db.write() as conn:
        await conn.execute(
            update(applications).where(applications.c.id == application_id).values(callback_url=url)
        )


@pytest.fixture
async def demo_to(services: Services, demo: dict[str, Any], receiver: Receiver) -> dict[str, Any]:
    """The demo data with the demo application's callback pointing at ``receiver``."""
    await point_application_at(services, demo["application_id"], receiver.url)
    return demo
