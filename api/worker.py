"""The in-process worker pool: asyncio tasks that claim stored events and run their handlers.

Before a handler runs, the feature gate (api.features) may skip the event (the feature is switched off)
or send it to the type's shadow handler. Crystal PM being unavailable or rate-limiting, and network
errors, are transient: the event is retried with backoff and parked as failed after max_attempts. Any
other error parks it as failed at once (retrying would fail the same way); an admin re-triggers it.
"""

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from api.storage.events import (
    ClaimedEvent,
    claim_next_event,
    finish_event,
    requeue_stale_events,
    retry_event_later,
)
from api.storage.models import EventStatus
from billing.events import EventType, WebhookEvent
from tools.crystalpm.errors import RateLimited, Unavailable

if TYPE_CHECKING:
    from api.features import FeatureGate

EventHandler = Callable[[WebhookEvent], Awaitable[None] | None]
ErrorObserver = Callable[[Exception], None]
# a database that is busy ("database is locked" under concurrent SQLite writers) is as transient as a 503
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (Unavailable, RateLimited, OSError, OperationalError)
log = logging.getLogger("fovea.worker")
R = TypeVar("R")


class HandlerRegistry:
    """Which handler runs for each event type; later issues register their graph starters here."""

    def __init__(self) -> None:
        self._handlers: dict[str, EventHandler] = {}
        self._shadow_handlers: dict[str, EventHandler] = {}

    def register(self, event_type: EventType | str, handler: EventHandler) -> None:
        self._handlers[str(event_type)] = handler

    def get(self, event_type: str) -> EventHandler | None:
        return self._handlers.get(event_type)

    def register_shadow(self, event_type: EventType | str, handler: EventHandler) -> None:
        """The handler for the share of events a feature runs in shadow mode (no review items)."""
        self._shadow_handlers[str(event_type)] = handler

    def get_shadow(self, event_type: str) -> EventHandler | None:
        return self._shadow_handlers.get(event_type)


def acknowledge(event: WebhookEvent) -> None:
    """Placeholder handler: the event needs no work yet, so the worker records it as done."""


def default_registry() -> HandlerRegistry:
    registry = HandlerRegistry()
    for event_type in EventType:
        registry.register(event_type, acknowledge)
    return registry


def describe_error(exc: BaseException, limit: int = 500) -> str:
    return f"{type(exc).__name__}: {exc}"[:limit]


class WorkerPool:
    """N asyncio tasks that claim 'received' events, wake on notify(), and poll as a fallback.

    Database calls run in threads so the event loop keeps answering webhooks; sync handlers
    (graph runs) run in threads too, async handlers on the loop.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        registry: HandlerRegistry,
        *,
        concurrency: int = 2,
        max_attempts: int = 5,
        backoff_seconds: float = 1.0,
        max_backoff_seconds: float = 300.0,
        poll_seconds: float = 2.0,
        stale_after: timedelta = timedelta(minutes=10),
        gate: "FeatureGate | None" = None,
        on_error: ErrorObserver | None = None,
    ) -> None:
        self.sessions = sessions
        self.registry = registry
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.poll_seconds = poll_seconds
        self.stale_after = stale_after
        self.gate = gate
        self.on_error = on_error
        self._wake = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def running(self) -> bool:
        return any(not task.done() for task in self._tasks)

    async def start(self) -> None:
        requeued = await asyncio.to_thread(self._with_session, requeue_stale_events, self.stale_after)
        if requeued:
            log.warning("requeued stale events", extra={"count": requeued})
        self._stopping = False
        self._loop = asyncio.get_running_loop()
        self._tasks = [
            asyncio.create_task(self._work(index), name=f"fovea-worker-{index}")
            for index in range(self.concurrency)
        ]

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Let busy workers finish their event (up to grace_seconds), then cancel what is left."""
        self._stopping = True
        self._wake.set()
        if self._tasks:
            _finished, unfinished = await asyncio.wait(self._tasks, timeout=grace_seconds)
            for task in unfinished:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self._loop = None

    def notify(self) -> None:
        """Wake idle workers: a new event was stored. Safe to call from any thread."""
        if self._loop is None:
            return
        try:
            on_loop = asyncio.get_running_loop() is self._loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            self._wake.set()
        else:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def process_next(self) -> bool:
        """Claim and handle one event; False when none is available."""
        claimed = await asyncio.to_thread(self._with_session, claim_next_event)
        if claimed is None:
            return False
        await self._handle(claimed)
        return True

    async def _work(self, index: int) -> None:
        while not self._stopping:
            # Clear before claiming, so a notify() that lands while we look is not lost.
            self._wake.clear()
            try:
                if await self.process_next():
                    continue
            except Exception as exc:  # the database may be briefly unavailable: log and keep polling
                log.error("worker loop error", extra={"worker": index, "error_type": type(exc).__name__})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)

    async def _handle(self, claimed: ClaimedEvent) -> None:
        fields = {"event_id": claimed.id, "event_type": claimed.type, "attempts": claimed.attempts}
        try:
            handler, skip_reason = await self._choose_handler(claimed)
        except Exception as exc:
            await self._record_failure(claimed, exc, fields)
            return
        if handler is None:
            await asyncio.to_thread(
                self._with_session, finish_event, claimed.id, EventStatus.SKIPPED, skip_reason
            )
            log.warning("event skipped", extra={**fields, "status": "skipped", "reason": skip_reason})
            return
        try:
            event = WebhookEvent.model_validate(claimed.payload)
            if inspect.iscoroutinefunction(handler):
                await handler(event)
            else:
                await asyncio.to_thread(handler, event)
        except Exception as exc:
            await self._record_failure(claimed, exc, fields)
            return
        await asyncio.to_thread(self._with_session, finish_event, claimed.id, EventStatus.DONE)
        log.info("event done", extra={**fields, "status": "done"})

    async def _choose_handler(self, claimed: ClaimedEvent) -> tuple[EventHandler | None, str]:
        """The handler to run, or None and the reason the event is skipped."""
        admission = await asyncio.to_thread(self.gate.admit, claimed.type, claimed.id) if self.gate else None
        if admission is not None and admission.mode == "skip":
            return None, admission.reason
        if admission is not None and admission.mode == "shadow":
            shadow = self.registry.get_shadow(claimed.type)
            return shadow, "" if shadow else "shadow mode, but no shadow handler for this event type"
        handler = self.registry.get(claimed.type)
        return handler, "" if handler else "no handler for this event type"

    async def _record_failure(self, claimed: ClaimedEvent, exc: Exception, fields: dict[str, object]) -> None:
        error = describe_error(exc)
        fields = {**fields, "error_type": type(exc).__name__}
        if self.on_error is not None:
            self.on_error(exc)
        if claimed.attempts >= self.max_attempts or not isinstance(exc, TRANSIENT_ERRORS):
            await asyncio.to_thread(self._with_session, finish_event, claimed.id, EventStatus.FAILED, error)
            log.error("event failed", extra={**fields, "status": "failed"})
            return
        delay = min(self.max_backoff_seconds, self.backoff_seconds * 2 ** (claimed.attempts - 1))
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            delay = min(self.max_backoff_seconds, max(delay, exc.retry_after))
        retry_after = timedelta(seconds=delay)
        await asyncio.to_thread(self._with_session, retry_event_later, claimed.id, retry_after, error)
        log.warning("event retry scheduled", extra={**fields, "delay_seconds": delay})
        # Wake a worker when the backoff ends instead of waiting for the next poll.
        asyncio.get_running_loop().call_later(delay, self._wake.set)

    def _with_session(self, query: Callable[..., R], *args: object) -> R:
        with self.sessions() as session:
            return query(session, *args)
