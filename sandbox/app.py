"""The Crystal PM sandbox: a FastAPI app serving a synthetic practice as docs/crystalpm-api.md says.

What it is: a local stand-in for the REST API and webhooks Fovea assumes Crystal PM offers, backed by
SQLite (SQLAlchemy) and loaded from a `sandbox.dataset.SyntheticDataset`.

- `fovea sandbox seed --patients N --seed S` generates a practice and loads it (`sandbox.store.load_dataset`);
  `fovea sandbox serve` runs this app on `settings.sandbox_host:sandbox_port` (loopback by default).
- `/api/v1/...` needs `Authorization: Bearer <settings.crystalpm_token>`; `/_sandbox/...` needs
  `settings.sandbox_admin_token`; `/health` and `/ready` are open.
- Writes (POST/PATCH) need `Idempotency-Key`: a replay answers the first result with 200 and
  `Idempotent-Replay: true`; the same key with another body is 409.
- Lists answer `{"items", "next_cursor", "total"}` in id order (`?limit=1..500&cursor=`).
- Every error is RFC 9457 problem details (`application/problem+json`).
- Webhooks: `POST /_sandbox/events` records an event; a background worker POSTs it, signed with
  HMAC-SHA256 (`settings.webhook_secret`), to each matching subscription, retrying a non-2xx answer
  after 1, 2, 4 ... s (scaled by `webhook_retry_base_seconds`) up to 6 attempts.
- `POST /_sandbox/faults {"status", "count", "retry_after"}` makes the next N `/api/v1` calls fail.
- `GET /_sandbox/gold/{encounter_id}` is the generator's intended coding, for evaluation only.

Tests run it on a free loopback port with `tests.support.sandbox.running_sandbox`.
"""

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from sqlalchemy import Engine

from billing.settings import Settings
from sandbox.auth import require_api_token
from sandbox.db import create_sandbox_engine, create_schema
from sandbox.faults import API_PREFIX, FaultState, install_fault_middleware
from sandbox.problems import install_problem_handlers
from sandbox.routes import admin, billing, clinical, health, practice, webhooks
from sandbox.webhooks import DeliveryWorker


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    webhook_retry_base_seconds: float = 1.0,
    webhook_max_attempts: int = 6,
) -> FastAPI:
    """Build the sandbox app on `engine` (default: settings.resolved_sandbox_database_url).

    The lifespan creates the schema and runs the webhook delivery worker; an engine the app made
    itself is disposed on shutdown, one passed in is left to its owner.
    """
    owns_engine = engine is None
    db = engine if engine is not None else create_sandbox_engine(settings.resolved_sandbox_database_url)
    worker = DeliveryWorker(
        db,
        settings.webhook_secret.get_secret_value(),
        retry_base_seconds=webhook_retry_base_seconds,
        max_attempts=webhook_max_attempts,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        create_schema(db)
        await worker.start()
        try:
            yield
        finally:
            await worker.stop()
            if owns_engine:
                db.dispose()

    app = FastAPI(
        title="Crystal PM sandbox",
        description="A local stand-in for the Crystal PM REST contract Fovea assumes (not affiliated).",
        version="1",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = db
    app.state.write_lock = threading.Lock()
    app.state.delivery_worker = worker
    app.state.faults = FaultState()

    install_problem_handlers(app)
    install_fault_middleware(app, app.state.faults)
    api = [Depends(require_api_token)]
    for router in (practice.router, clinical.router, billing.router, webhooks.router):
        app.include_router(router, prefix=API_PREFIX, dependencies=api)
    app.include_router(admin.router)
    app.include_router(health.router)
    return app
