"""The real thing: ``postventa`` as a command, and ``postventa serve`` answering over a socket."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

POSTVENTA = str(Path(sys.executable).with_name("postventa"))


def _env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTVENTA_")}
    env["POSTVENTA_DATABASE_URL"] = database_url
    return env


def _cli(database_url: str, *args: str) -> str:
    done = subprocess.run(
        [POSTVENTA, *args],
        env=_env(database_url),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def demo_json(database_url: str) -> dict[str, Any]:
    described: dict[str, Any] = json.loads(_cli(database_url, "demo", "--json"))
    return described


@contextmanager
def running_server(
    database_url: str, log_path: Path, *, workers: int = 2
) -> Iterator[tuple[str, dict[str, Any]]]:
    """``postventa demo`` then ``postventa serve`` on a free port; yields (base URL, demo)."""
    described: dict[str, Any] = json.loads(_cli(database_url, "demo", "--json"))
    port = _free_port()
    log = log_path.open("wb")
    process = subprocess.Popen(
        [POSTVENTA, "serve", "--port", str(port), "--workers", str(workers)],
        env=_env(database_url),
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                if httpx.get(f"{base}/openapi.json", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "postventa serve did not start within 30 s"
            time.sleep(0.1)
        yield base, described
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def server(database_url: str, demo_json: dict[str, Any], tmp_path: Path) -> Iterator[str]:
    with running_server(database_url, tmp_path / "serve.log") as (base, _):
        yield base


@pytest.mark.slow
def test_demo_json_has_the_public_contract(database_url: str, demo_json: dict[str, Any]) -> None:
    assert demo_json["site_id"] == "MLA"
    assert set(demo_json["users"]) >= {"seller", "buyer", "buyer2", "stranger"}
    for user in demo_json["users"].values():
        assert set(user) >= {"id", "nickname", "access_token"}
        assert user["access_token"].startswith("APP_USR-")
        assert user["access_token"].endswith(f"-{user['id']}")
    assert len(demo_json["packs"]) >= 5
    keys = {"pack_id", "seller_id", "buyer_id", "order_ids", "message_ids", "unread"}
    for pack in demo_json["packs"]:
        assert set(pack) >= keys
        assert set(pack["unread"]) == {"seller", "buyer"}
        assert all(len(i) == 32 and int(i, 16) >= 0 for i in pack["message_ids"])
    assert max(len(p["message_ids"]) for p in demo_json["packs"]) >= 25
    assert len({(p["unread"]["seller"], p["unread"]["buyer"]) for p in demo_json["packs"]}) >= 4
    # Idempotent and deterministic: loading again changes nothing and prints the same contract.
    assert json.loads(_cli(database_url, "demo", "--json")) == demo_json
    assert "database is at the latest revision" in _cli(database_url, "migrate")


@pytest.mark.slow
def test_served_over_a_socket_by_two_workers(server: str, demo_json: dict[str, Any]) -> None:
    seller, buyer = demo_json["users"]["seller"], demo_json["users"]["buyer"]
    pack = demo_json["packs"][0]
    path = f"/messages/packs/{pack['pack_id']}/sellers/{pack['seller_id']}"
    with httpx.Client(base_url=server, timeout=10) as http:
        as_seller = {"Authorization": f"Bearer {seller['access_token']}"}
        unread = http.get("/messages/unread?role=seller&tag=post_sale", headers=as_seller)
        assert unread.status_code == 200
        assert {"resource": f"/packs/{pack['pack_id']}/sellers/{seller['id']}", "count": 3} in (
            unread.json()["results"]
        )
        sent = http.post(
            f"{path}?tag=post_sale",
            headers=as_seller,
            json={
                "from": {"user_id": str(seller["id"])},
                "to": {"user_id": str(buyer["id"])},
                "text": "¡Hola! Confirmamos la visita del técnico.",
            },
        )
        assert sent.status_code == 200, sent.text
        # Committed before the response: every worker sees it at once.
        as_buyer = {"Authorization": f"Bearer {buyer['access_token']}"}
        for _ in range(6):
            count = http.get(f"/messages/unread{path[9:]}", headers=as_buyer).json()
            assert count["results"][0]["count"] == 1
        page = http.get(f"{path}?tag=post_sale&limit=1&offset=29", headers=as_buyer)
        assert page.json()["messages"][0]["id"] == sent.json()["id"]
        # Reading that page marked the buyer's messages read; the legacy query token works too.
        buyer_unread = http.get(
            "/messages/unread", params={"role": "buyer", "access_token": buyer["access_token"]}
        )
        assert buyer_unread.status_code == 200
        assert pack["resource"] not in {r["resource"] for r in buyer_unread.json()["results"]}
        missing = http.get("/messages/unread")
        assert (missing.status_code, missing.json()["message"]) == (400, "Access token is required")
