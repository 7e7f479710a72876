"""``postventa receive``: the README's receiver prints what arrives and checks the signature."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from postventa.notifications import signing
from postventa.notifications.receiver import describe
from postventa.services import Services
from tests.conftest import bearer
from tests.notifications.conftest import MakeDispatcher, point_application_at

POSTVENTA = str(Path(sys.executable).with_name("postventa"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _start_receive(*args: str) -> tuple[asyncio.subprocess.Process, str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTVENTA_")}
    process = await asyncio.create_subprocess_exec(
        POSTVENTA,
        "receive",
        "--port",
        str(port),
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    async with asyncio.timeout(15):
        banner = await process.stderr.readline()
    assert b"listening on" in banner
    return process, f"http://127.0.0.1:{port}/notifications"


@pytest.fixture
async def stop_afterwards() -> AsyncIterator[list[asyncio.subprocess.Process]]:
    started: list[asyncio.subprocess.Process] = []
    yield started
    for process in started:
        process.terminate()
        await process.wait()


async def _deliver_one(
    client: httpx.AsyncClient,
    services: Services,
    demo: dict[str, Any],
    url: str,
    make_dispatcher: MakeDispatcher,
) -> str:
    await point_application_at(services, demo["application_id"], url)
    seller, buyer = demo["users"]["seller"], demo["users"]["buyer"]
    pack = demo["packs"][0]
    sent = await client.post(
        f"/messages/packs/{pack['pack_id']}/sellers/{pack['seller_id']}",
        headers=bearer(seller),
        json={"from": {"user_id": seller["id"]}, "to": {"user_id": buyer["id"]}, "text": "Hola"},
    )
    outcomes = await make_dispatcher(notification_timeout_ms=5000).run_once()
    assert [o.status for o in outcomes] == ["delivered"], outcomes
    message_id: str = sent.json()["id"]
    return message_id


@pytest.mark.slow
async def test_receive_prints_each_notification_and_verifies_its_signature(
    client: httpx.AsyncClient,
    services: Services,
    demo: dict[str, Any],
    make_dispatcher: MakeDispatcher,
    stop_afterwards: list[asyncio.subprocess.Process],
) -> None:
    process, url = await _start_receive()
    stop_afterwards.append(process)

    message_id = await _deliver_one(client, services, demo, url, make_dispatcher)

    assert process.stdout is not None
    async with asyncio.timeout(5):
        line = (await process.stdout.readline()).decode()
    assert f"resource={message_id}" in line
    assert "actions=['created'] " in line
    assert "attempt=1 " in line
    assert line.rstrip().endswith("| signature ok")


def test_receive_flags_a_signature_made_with_another_secret() -> None:
    body = b'{"resource":"abc","application_id":7,"topic":"messages","actions":["read"]}'
    real = signing.application_secret("master", 7)
    headers = {"x-postventa-signature": signing.signature_header(real, 1_000, body)}

    assert describe(body, headers, secret=None, master_secret="master").endswith("| signature ok")
    wrong = describe(body, headers, secret="another", master_secret=None)
    assert wrong.endswith("| SIGNATURE INVALID (signature mismatch)")
    unsigned = describe(body, {}, secret=real, master_secret=None)
    assert unsigned.endswith("| SIGNATURE INVALID (missing signature header)")
