"""The copilot service's app factory: storage, migrations, the worker pool, routers, problem details."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from starlette.concurrency import run_in_threadpool

from api.logging import RequestLogMiddleware, configure_logging
from api.problems import install_problem_handlers
from api.routes import admin_users, auth, health, practices, webhooks
from api.security.deps import require_signature
from api.security.permissions import Permission
from api.security.registry import assert_routes_declared
from api.storage.db import create_db_engine, create_session_factory
from api.storage.migrate import migrate_engine
from api.worker import HandlerRegistry, WorkerPool, default_registry
from billing.events import EventType
from billing.settings import Settings


def create_app(
    settings: Settings, *, start_worker: bool = True, handlers: HandlerRegistry | None = None
) -> FastAPI:
    """The FastAPI app; its lifespan migrates the database and runs the worker pool."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings)
        engine = create_db_engine(settings.resolved_database_url)
        await run_in_threadpool(migrate_engine, engine)
        sessions = create_session_factory(engine)
        registry = handlers
        if registry is None:
            registry = default_registry()
            # Imported here: the graph stack (LangGraph, Chroma, engines) is not needed to import the app.
            from api.coding_runtime import ChargeCodingRuntime

            app.state.charge_coding = ChargeCodingRuntime(settings, sessions)
            registry.register(EventType.NOTE_FINALIZED, app.state.charge_coding.start_charge_coding)
        worker = WorkerPool(sessions, registry, concurrency=settings.worker_concurrency)
        app.state.settings = settings
        app.state.engine = engine
        app.state.sessions = sessions
        app.state.worker = worker
        if start_worker:
            await worker.start()
        try:
            yield
        finally:
            await worker.stop()
            engine.dispose()

    app = FastAPI(
        title="Fovea",
        summary="Billing copilot for optometry practices on Crystal PM (not affiliated with Crystal PM).",
        version="0.1.0",
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    app.add_middleware(RequestLogMiddleware)
    app.include_router(health.router)
    # Crystal PM's HMAC signature is the Service principal; the route checks it against the body.
    app.include_router(
        webhooks.router,
        dependencies=[Depends(require_signature(Permission.WEBHOOKS_RECEIVE, webhooks.SIGNATURE_HEADER))],
    )
    app.include_router(auth.router)
    app.include_router(admin_users.router)
    app.include_router(practices.router)
    # Default deny: an app with a route that declares no permission is not built.
    assert_routes_declared(app)
    return app
