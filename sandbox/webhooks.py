"""Outgoing webhooks: HMAC-SHA256 signing, emitting events, the async delivery worker with backoff."""

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import Engine, Row, and_, func, insert, select, update

from billing.events import EventType, WebhookEvent
from sandbox.db import webhook_deliveries, webhook_events, webhook_subscriptions

log = logging.getLogger(__name__)

EVENT_ID_HEADER = "X-CrystalPM-Event-Id"
TIMESTAMP_HEADER = "X-CrystalPM-Timestamp"
SIGNATURE_HEADER = "X-CrystalPM-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`sha256=` + hex HMAC-SHA256 over `"{timestamp}.{raw body}"`, as the contract defines."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def emit_event(
    engine: Engine, type: EventType, practice_id: str, data: dict[str, Any]
) -> tuple[WebhookEvent, int]:
    """Record an event and a pending delivery per active subscription to its type; (event, deliveries)."""
    event = WebhookEvent(
        id=f"evt_{uuid.uuid4().hex}",
        type=type,
        practice_id=practice_id,
        occurred_at=datetime.now(UTC),
        data=data,
    )
    now = time.time()
    with engine.begin() as conn:
        conn.execute(
            insert(webhook_events).values(
                id=event.id,
                type=str(type),
                practice_id=practice_id,
                payload=event.model_dump_json(),
                created_at=now,
            )
        )
        subscriptions = conn.execute(
            select(
                webhook_subscriptions.c.id, webhook_subscriptions.c.url, webhook_subscriptions.c.events
            ).where(webhook_subscriptions.c.active == 1)
        ).all()
        deliveries = [
            {
                "event_id": event.id,
                "subscription_id": subscription.id,
                "url": subscription.url,
                "attempts": 0,
                "status": "pending",
                "next_attempt_at": now,
            }
            for subscription in subscriptions
            if str(type) in json.loads(subscription.events)
        ]
        if deliveries:
            conn.execute(insert(webhook_deliveries), deliveries)
    return event, len(deliveries)


class DeliveryWorker:
    """Delivers pending deliveries; a non-2xx answer is retried after base, 2·base, 4·base ... seconds."""

    def __init__(
        self,
        engine: Engine,
        secret: str,
        *,
        retry_base_seconds: float = 1.0,
        max_attempts: int = 6,
        timeout_seconds: float = 5.0,
    ) -> None:
        self._engine = engine
        self._secret = secret
        self._retry_base = retry_base_seconds
        self._max_attempts = max_attempts
        self._timeout = timeout_seconds
        self._wake = asyncio.Event()
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._client = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)
        self._runner = asyncio.create_task(self._run(), name="webhook-delivery-worker")

    async def stop(self) -> None:
        tasks = [t for t in (self._runner, *self._in_flight.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._client is not None:
            await self._client.aclose()

    def wake(self) -> None:
        """Look for due deliveries now; safe to call from any thread."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    async def _run(self) -> None:
        while True:
            try:
                due, next_at = await asyncio.to_thread(self._due, time.time())
            except Exception:
                log.exception("webhook worker could not read deliveries")
                due, next_at = [], None
            for delivery in due:
                if delivery.id not in self._in_flight:
                    task = asyncio.create_task(self._deliver(delivery))
                    self._in_flight[delivery.id] = task
                    task.add_done_callback(lambda _t, key=delivery.id: self._in_flight.pop(key, None))
            wait = 1.0 if next_at is None else min(max(next_at - time.time(), 0.01), 1.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
            self._wake.clear()

    def _due(self, now: float) -> tuple[list[Row[Any]], float | None]:
        pending = webhook_deliveries.c.status == "pending"
        with self._engine.connect() as conn:
            due = conn.execute(
                select(
                    webhook_deliveries.c.id,
                    webhook_deliveries.c.url,
                    webhook_deliveries.c.attempts,
                    webhook_events.c.id.label("event_id"),
                    webhook_events.c.payload,
                )
                .join(webhook_events, webhook_events.c.id == webhook_deliveries.c.event_id)
                .where(and_(pending, webhook_deliveries.c.next_attempt_at <= now))
                .order_by(webhook_deliveries.c.next_attempt_at)
                .limit(50)
            ).all()
            next_at = conn.scalar(
                select(func.min(webhook_deliveries.c.next_attempt_at)).where(
                    pending, webhook_deliveries.c.next_attempt_at > now
                )
            )
        return list(due), next_at

    def _claim(self, delivery: Row[Any]) -> bool:
        """Lease a due delivery so a stale read (or a second worker) cannot send it twice."""
        now = time.time()
        with self._engine.begin() as conn:
            claimed = conn.execute(
                update(webhook_deliveries)
                .where(
                    webhook_deliveries.c.id == delivery.id,
                    webhook_deliveries.c.status == "pending",
                    webhook_deliveries.c.attempts == delivery.attempts,
                    webhook_deliveries.c.next_attempt_at <= now,
                )
                .values(next_attempt_at=now + self._timeout + 5)
            )
        return claimed.rowcount == 1

    async def _deliver(self, delivery: Row[Any]) -> None:
        assert self._client is not None
        if not await asyncio.to_thread(self._claim, delivery):
            return
        body = delivery.payload.encode()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            EVENT_ID_HEADER: delivery.event_id,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
        }
        status_code: int | None = None
        error: str | None = None
        try:
            response = await self._client.post(delivery.url, content=body, headers=headers)
            status_code = response.status_code
            if not 200 <= status_code < 300:
                error = f"receiver answered HTTP {status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        await asyncio.to_thread(self._record, delivery.id, delivery.attempts + 1, status_code, error)
        # A retry may now be due sooner than the runner's current wait.
        self._wake.set()

    def _record(self, delivery_id: int, attempts: int, status_code: int | None, error: str | None) -> None:
        if error is None:
            status, next_at = "delivered", time.time()
        elif attempts >= self._max_attempts:
            status, next_at = "failed", time.time()
        else:
            status, next_at = "pending", time.time() + self._retry_base * 2 ** (attempts - 1)
        with self._engine.begin() as conn:
            conn.execute(
                update(webhook_deliveries)
                .where(webhook_deliveries.c.id == delivery_id)
                .values(
                    attempts=attempts,
                    status=status,
                    last_status_code=status_code,
                    last_error=error,
                    next_attempt_at=next_at,
                )
            )
        if error is not None:
            log.info("webhook delivery %s attempt %s: %s (%s)", delivery_id, attempts, error, status)
