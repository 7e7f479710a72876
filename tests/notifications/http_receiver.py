"""A webhook receiver on a real socket whose behaviour a test chooses.

``ok`` answers ``status`` at once; ``slow`` answers after ``delay`` seconds; ``reset`` reads the
request and resets the TCP connection (RST); ``hang`` reads the request and never answers. It
speaks just enough HTTP/1.1 (keep-alive, Content-Length bodies) for httpx.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

Mode = Literal["ok", "slow", "reset", "hang"]


@dataclass
class Arrival:
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() when the request was read

    @property
    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class Receiver:
    mode: Mode = "ok"
    status: int = 200
    delay: float = 0.0
    arrivals: list[Arrival] = field(default_factory=list)
    url: str = ""
    _server: asyncio.Server | None = None
    _handlers: dict[asyncio.Task[None], asyncio.StreamWriter] = field(default_factory=dict)
    _closing: asyncio.Event = field(default_factory=asyncio.Event)
    _new: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> Receiver:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/notifications"
        return self

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        # Ending connections (not cancelling handlers) lets every handler return normally.
        self._closing.set()
        for writer in self._handlers.values():
            writer.transport.abort()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()

    async def wait_for(self, count: int, within: float = 10) -> list[Arrival]:
        """Until at least ``count`` requests have arrived (fails after ``within`` seconds)."""
        async with asyncio.timeout(within):
            while len(self.arrivals) < count:
                self._new.clear()
                await self._new.wait()
        return self.arrivals

    async def next_arrival(self, within: float = 1) -> None:
        """Wait for the next request, at most ``within`` seconds (returns either way)."""
        self._new.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                await self._new.wait()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers[task] = writer
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {
                    name.strip().lower(): value.strip()
                    for name, _, value in (line.partition(":") for line in lines[1:] if line)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.arrivals.append(Arrival(headers, body, time.monotonic()))
                self._new.set()
                if self.mode == "reset":
                    sock = writer.get_extra_info("socket")
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    writer.transport.abort()
                    return
                if self.mode == "hang":
                    await self._closing.wait()
                    return
                if self.mode == "slow":
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._closing.wait(), self.delay)
                answer = b'{"ok":true}'
                writer.write(
                    b"HTTP/1.1 %d X\r\ncontent-type: application/json\r\n"
                    b"content-length: %d\r\n\r\n%s" % (self.status, len(answer), answer)
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            self._handlers.pop(task, None)
            writer.close()
