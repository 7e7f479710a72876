"""Delivering the outbox: claim due rows, POST them, record what happened.

Design
------
* **Claim.** One short write transaction runs ``UPDATE notifications SET claimed_until = now +
  lease, claim_token = t WHERE id IN (SELECT id … due … ORDER BY next_attempt_at LIMIT n FOR
  UPDATE SKIP LOCKED) RETURNING …``. On PostgreSQL, ``SKIP LOCKED`` lets concurrent dispatchers
  (processes, machines) claim disjoint rows without waiting; on SQLite the same statement runs
  under ``BEGIN IMMEDIATE`` (writers are serialised, the statement is atomic). After the commit the
  lease keeps other dispatchers away: a row is due only when its lease has run out.
* **Deliver.** Each claimed row is its own task on a pooled ``httpx.AsyncClient``. A per-host
  semaphore caps concurrent requests to one callback host, and the claim skips applications whose
  host is saturated, so a slow or dead receiver never holds up the others (no head-of-line
  blocking). Every request is bounded by ``notification_timeout_ms`` (500 ms, §13.4) in all.
* **Record.** Each attempt's outcome (``delivered``; ``pending`` with the next time from
  :func:`next_attempt_at`; or ``missed`` when the attempts are spent), guarded by the claim
  token, plus an attempt row with the request and response. A delivered ``created`` notification
  sets the message's ``notified_at``. One recorder task per dispatcher writes outcomes in batches
  (whatever queued up during the previous commit), so commits do not grow with deliveries.

At-least-once: a row leaves ``pending`` only after an answer was recorded. A dispatcher that
dies mid-delivery leaves its rows claimed until their lease expires; then another dispatcher sends
the same attempt again (receivers deduplicate on ``X-Postventa-Delivery``). Two dispatchers never
hold the same row at once, so the same attempt is never in flight twice at the same time unless
a delivery outlives its lease (the lease, 30 s, is far above the 500 ms timeout).

Time: due times, leases and the retry window follow ``services.clock`` (the sandbox clock), so a
test advances a :class:`~postventa.clock.FakeClock` instead of sleeping. Only the polling pause and
the measured ``req_time`` use the process's own timers.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import (
    and_,
    bindparam,
    case,
    delete,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from postventa.config import Settings
from postventa.notifications import signing
from postventa.notifications.outbox import delivery_body
from postventa.operator.clock import sync_clock
from postventa.services import Services
from postventa.storage.notification_tables import (
    application_webhook_health,
    notification_attempts,
    notifications,
)
from postventa.storage.tables import applications, messages

log = logging.getLogger(__name__)

_BODY_KEEP = 2000  # characters of a receiver's answer kept for missed_feeds / the inspector


@dataclass(frozen=True)
class RetryPolicy:
    """8 attempts over 1 hour by default (§13.4); ``jitter`` is the fraction a delay may shrink."""

    max_attempts: int = 8
    window: timedelta = timedelta(hours=1)
    jitter: float = 0.5

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            max_attempts=settings.notification_max_attempts,
            window=timedelta(seconds=settings.notification_retry_window_seconds),
        )


def next_attempt_at(
    attempt: int, now: datetime, rng: random.Random, policy: RetryPolicy
) -> datetime | None:
    """When to retry after failed attempt number ``attempt`` (1-based); ``None``: give up.

    Exponential backoff whose gaps double and, without jitter, add up to exactly the window:
    gap k = window · 2^(k-1) / (2^(max-1) - 1), i.e. 28 s, 57 s, 1.9 min, 3.8 min, 7.6 min,
    15 min, 30 min for 8 attempts in 1 hour. Jitter shortens each gap by up to ``jitter`` of it
    (so the retries of a burst spread out and the last attempt still falls inside the window).
    """
    if attempt >= policy.max_attempts:
        return None
    slots = 2 ** (policy.max_attempts - 1) - 1
    gap: timedelta = policy.window * (2 ** (attempt - 1) / slots)
    return now + gap * (1 - policy.jitter * rng.random())


@dataclass(frozen=True)
class Claimed:
    id: str
    seller_id: int
    application_id: int
    action: str
    resource: str
    payload: bytes
    attempts: int
    window_attempts: int
    window_start: datetime
    claim_token: str
    callback_url: str | None


@dataclass
class _Result:
    """One attempt's outcome on its way to the database."""

    claimed: Claimed
    attempt: int
    sent: datetime
    now: datetime
    values: dict[str, Any]
    status: str
    request: dict[str, Any]
    response: dict[str, Any]
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


async def _write_results(conn: AsyncConnection, batch: list[_Result]) -> None:
    """One guarded UPDATE per row (its rowcount says whether the lease still held), then the
    attempt rows and the ``notified_at`` dates as two ``executemany`` statements."""
    kept: list[_Result] = []
    for result in batch:
        claimed = result.claimed
        written = await conn.execute(
            update(notifications)
            .where(
                notifications.c.id == claimed.id,
                notifications.c.claim_token == claimed.claim_token,
            )
            .values(result.values)
        )
        if written.rowcount == 1:
            kept.append(result)
        else:
            # The lease ran out and another dispatcher owns the row now: its record wins.
            log.warning("notification %s: lease lost before recording", claimed.id)
    if kept:
        await conn.execute(
            insert(notification_attempts),
            [
                {
                    "notification_id": r.claimed.id,
                    "attempt": r.attempt,
                    "seller_id": r.claimed.seller_id,
                    "at": r.sent,
                    "request": r.request,
                    "response": r.response,
                    "outcome": r.status,
                }
                for r in kept
            ],
        )
    await _track_failures(conn, kept)
    notified = [
        {"m_id": r.claimed.resource, "m_seller": r.claimed.seller_id, "m_at": r.now}
        for r in kept
        if r.status == "delivered" and r.claimed.action == "created"
    ]
    if notified:
        await conn.execute(
            update(messages)
            .where(
                messages.c.id == bindparam("m_id"),
                messages.c.seller_id == bindparam("m_seller"),
                messages.c.notified_at.is_(None),
            )
            .values(notified_at=bindparam("m_at")),
            notified,
        )


async def _track_failures(conn: AsyncConnection, batch: list[_Result]) -> None:
    """Count attempts in a row without a 200 in time, per application; deactivate the topics of
    an application that opted in (``deactivate_after``) when the count reaches it (§13.4)."""
    runs: dict[int, tuple[bool, int]] = {}  # app -> (a delivery in this batch, failures since)
    for result in batch:
        delivered, failures = runs.get(result.claimed.application_id, (False, 0))
        runs[result.claimed.application_id] = (
            (True, 0) if result.status == "delivered" else (delivered, failures + 1)
        )
    health = application_webhook_health.c
    for app_id, (delivered, failures) in runs.items():
        count = failures if delivered else health.consecutive_failures + failures
        now = batch[-1].now
        await conn.execute(
            update(application_webhook_health)
            .where(health.application_id == app_id)
            .values(
                consecutive_failures=count,
                deactivated_at=case(
                    (
                        and_(
                            health.deactivated_at.is_(None),
                            health.deactivate_after.is_not(None),
                            count >= health.deactivate_after,
                        ),
                        now,
                    ),
                    else_=health.deactivated_at,
                ),
            )
        )


@dataclass(frozen=True)
class Outcome:
    status: str  # delivered | pending | missed
    request: dict[str, Any]
    response: dict[str, Any]


class Dispatcher:
    """Claims and delivers due notifications: :meth:`run_once` (tests), :meth:`run` (servers)."""

    def __init__(
        self,
        services: Services,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        settings = services.settings
        self.services = services
        self.policy = RetryPolicy.from_settings(settings)
        self.timeout = settings.notification_timeout_ms / 1000
        self.lease = timedelta(seconds=settings.notification_lease_seconds)
        self.batch_size = settings.dispatcher_batch_size
        self.per_host_limit = settings.dispatcher_per_host_limit
        self.poll_interval = settings.dispatcher_poll_ms / 1000
        self.rng = rng or random.Random()
        self._master_secret = settings.effective_webhook_master_secret()
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(self.timeout),
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=64),
            follow_redirects=False,
            trust_env=False,
        )
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        self._host_busy: dict[str, int] = defaultdict(int)
        self._app_host: dict[int, str] = {}
        self._results: asyncio.Queue[_Result] = asyncio.Queue()
        self._recorder: asyncio.Task[None] | None = None

    async def aclose(self) -> None:
        if self._recorder is not None:
            self._recorder.cancel()
            with suppress(asyncio.CancelledError):
                await self._recorder
        await self._client.aclose()

    # --- claiming ---------------------------------------------------------------------------

    async def claim(self, limit: int) -> list[Claimed]:
        """Reserve up to ``limit`` due rows for this dispatcher (see the module docstring)."""
        now = self.services.clock.now()
        token = secrets.token_hex(16)
        due = (
            select(notifications.c.id)
            .where(
                # A literal, not a bound parameter: PostgreSQL's generic plans for prepared
                # statements (asyncpg) can then still use ix_notifications_due's predicate.
                notifications.c.status == literal_column("'pending'"),
                notifications.c.next_attempt_at <= now,
                or_(notifications.c.claimed_until.is_(None), notifications.c.claimed_until <= now),
            )
            .order_by(notifications.c.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        saturated = [
            app
            for app, host in self._app_host.items()
            if self._host_busy[host] >= self.per_host_limit
        ]
        if saturated:
            due = due.where(notifications.c.application_id.not_in(saturated))
        async with self.services.db.write() as conn:
            rows = (
                await conn.execute(
                    update(notifications)
                    .where(notifications.c.id.in_(due.scalar_subquery()))
                    .values(claimed_until=now + self.lease, claim_token=token)
                    .returning(
                        notifications.c.id,
                        notifications.c.seller_id,
                        notifications.c.application_id,
                        notifications.c.action,
                        notifications.c.resource,
                        notifications.c.payload,
                        notifications.c.attempts,
                        notifications.c.window_attempts,
                        notifications.c.window_start,
                    )
                )
            ).all()
            if not rows:
                return []
            app_ids = {row.application_id for row in rows}
            found = await conn.execute(
                select(applications.c.id, applications.c.callback_url).where(
                    applications.c.id.in_(app_ids)
                )
            )
            urls: dict[int, str | None] = {row.id: row.callback_url for row in found}
        claimed = [
            Claimed(
                id=row.id,
                seller_id=row.seller_id,
                application_id=row.application_id,
                action=row.action,
                resource=row.resource,
                payload=row.payload.encode(),
                attempts=row.attempts,
                window_attempts=row.window_attempts,
                window_start=row.window_start,
                claim_token=token,
                callback_url=urls.get(row.application_id),
            )
            for row in rows
        ]
        claimed.sort(key=lambda c: c.id)
        return claimed

    # --- delivering -------------------------------------------------------------------------

    async def deliver(self, claimed: Claimed) -> Outcome:
        """One attempt: POST, then record the outcome. Never raises for a receiver's failure."""
        attempt = claimed.attempts + 1
        sent = self.services.clock.now()
        body = delivery_body(claimed.payload, attempts=attempt, sent=sent)
        secret = signing.application_secret(self._master_secret, claimed.application_id)
        headers = {
            "accept": "application/json",
            "content-type": "application/json",
            "content-length": str(len(body)),
            signing.DELIVERY_HEADER: claimed.id,
            signing.ATTEMPT_HEADER: str(attempt),
            signing.SIGNATURE_HEADER: signing.signature_header(secret, int(sent.timestamp()), body),
        }
        url = claimed.callback_url or ""
        request = {
            "url": url,
            "headers": {k.lower(): v for k, v in headers.items()} | {"content-length": len(body)},
            "data": body.decode(),
        }
        response = await self._post(claimed.application_id, url, body, headers)
        return await self._record(claimed, attempt, sent, request, response)

    async def _post(
        self, application_id: int, url: str, body: bytes, headers: dict[str, str]
    ) -> dict[str, Any]:
        if not url:
            return _failure(0, "the application has no callback URL")
        host = urlsplit(url).netloc
        self._app_host[application_id] = host
        slots = self._host_slots.setdefault(host, asyncio.Semaphore(self.per_host_limit))
        self._host_busy[host] += 1
        try:
            async with slots:
                started = time.perf_counter()
                try:
                    async with asyncio.timeout(self.timeout):
                        answer = await self._client.post(url, content=body, headers=headers)
                except (TimeoutError, httpx.TimeoutException):
                    return _failure(_ms(started), f"no answer within {_ms_str(self.timeout)}")
                except httpx.HTTPError as exc:
                    return _failure(_ms(started), f"{exc.__class__.__name__}: {exc}".strip(": "))
                return {
                    "req_time": _ms(started),
                    "http_code": answer.status_code,
                    "body": answer.text[:_BODY_KEEP],
                    "headers": dict(answer.headers),
                }
        finally:
            self._host_busy[host] -= 1

    async def _record(
        self,
        claimed: Claimed,
        attempt: int,
        sent: datetime,
        request: dict[str, Any],
        response: dict[str, Any],
    ) -> Outcome:
        now = self.services.clock.now()
        window_attempts = claimed.window_attempts + 1
        values: dict[str, Any] = {
            "attempts": attempt,
            "window_attempts": window_attempts,
            "last_attempt_at": sent,
            "claimed_until": None,
            "claim_token": None,
        }
        if response.get("http_code") == 200:
            status = "delivered"
            values.update(status=status, delivered_at=now)
        else:
            retry_at = next_attempt_at(window_attempts, now, self.rng, self.policy)
            if retry_at is None:
                status = "missed"
                values.update(status=status, missed_at=now)
            else:
                status = "pending"
                values.update(next_attempt_at=retry_at)
        await self._recorded(
            _Result(claimed, attempt, sent, now, values, status, request, response)
        )
        return Outcome(status, request, response)

    async def _recorded(self, result: _Result) -> None:
        """Hand ``result`` to the recorder task and wait until its transaction committed."""
        self._results.put_nowait(result)
        if self._recorder is None or self._recorder.done():
            self._recorder = asyncio.create_task(self._record_batches())
        await result.done

    async def _record_batches(self) -> None:
        """Write results in batches: everything that queued up during the last commit goes into
        the next transaction, so a busy dispatcher commits far less often than it delivers."""
        while True:
            batch = [await self._results.get()]
            while not self._results.empty() and len(batch) < 500:
                batch.append(self._results.get_nowait())
            try:
                async with self.services.db.write() as conn:
                    await _write_results(conn, batch)
            except Exception as exc:
                for result in batch:
                    if not result.done.done():
                        result.done.set_exception(exc)
                continue
            for result in batch:
                if not result.done.done():
                    result.done.set_result(None)

    # --- loops ------------------------------------------------------------------------------

    async def run_once(self) -> list[Outcome]:
        """Claim everything due now (one batch) and deliver it concurrently; for tests and tools."""
        await sync_clock(self.services)
        claimed = await self.claim(self.batch_size)
        return list(await asyncio.gather(*(self.deliver(c) for c in claimed)))

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; in-flight deliveries finish (bounded by the timeout)."""
        in_flight: set[asyncio.Task[Outcome]] = set()
        capacity = max(self.batch_size, self.per_host_limit)
        last_purge = 0.0
        while not stop.is_set():
            claimed: list[Claimed] = []
            free = 0
            try:
                await sync_clock(self.services)
                free = capacity - len(in_flight)
                if free > 0:
                    claimed = await self.claim(free)
                if time.monotonic() - last_purge > 60:
                    last_purge = time.monotonic()
                    await purge(self.services)
            except Exception:
                log.exception("notification dispatcher: claim failed; retrying")
            for item in claimed:
                task = asyncio.create_task(self._deliver_logged(item))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
            if claimed and len(claimed) >= free:
                await asyncio.sleep(0)  # more may be due: claim again at once
                continue
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.poll_interval)
        if in_flight:
            await asyncio.wait(in_flight, timeout=self.timeout + 5)

    async def _deliver_logged(self, claimed: Claimed) -> Outcome:
        try:
            return await self.deliver(claimed)
        except Exception:
            # Recording failed (database gone?): the lease expires and the attempt is retried.
            log.exception("notification %s: delivery could not be recorded", claimed.id)
            raise


async def purge(services: Services) -> int:
    """Forget notifications older than the missed-feed retention (2 days); returns how many."""
    cutoff = services.clock.now() - timedelta(
        seconds=services.settings.missed_feed_retention_seconds
    )
    async with services.db.write() as conn:
        old = select(notifications.c.id).where(
            notifications.c.status != "pending", notifications.c.received_at < cutoff
        )
        await conn.execute(
            delete(notification_attempts).where(notification_attempts.c.notification_id.in_(old))
        )
        result = await conn.execute(
            delete(notifications).where(
                notifications.c.status != "pending", notifications.c.received_at < cutoff
            )
        )
    return result.rowcount


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def _ms_str(seconds: float) -> str:
    return f"{round(seconds * 1000)} ms"


def _failure(req_time: int, error: str) -> dict[str, Any]:
    return {"req_time": req_time, "http_code": None, "body": None, "headers": {}, "error": error}


@asynccontextmanager
async def run_in_background(services: Services, *, enabled: bool) -> AsyncIterator[None]:
    """Run a :class:`Dispatcher` beside the server while the block runs (``postventa serve``).

    Off when ``enabled`` is false or ``POSTVENTA_DISPATCHER_IN_SERVER=false``.
    """
    if not (enabled and services.settings.dispatcher_in_server):
        yield
        return
    dispatcher = Dispatcher(services)
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop), name="postventa-dispatcher")
    try:
        yield
    finally:
        stop.set()
        await task
        await dispatcher.aclose()
