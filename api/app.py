"""The copilot service's app factory: storage, migrations, the worker pool, routers, problem details.

It also wires the review queue: the ReviewService is every workflow's ReviewSink, the WorkflowRegistry
holds the runtimes that resume threads, the FeatureGate is consulted by the worker, and on start-up
decisions a crash left unapplied are resumed.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

from fastapi import Depends, FastAPI
from starlette.concurrency import run_in_threadpool

from api.features import FeatureGate, ShadowComparer
from api.logging import RequestLogMiddleware, configure_logging
from api.problems import install_problem_handlers
from api.reviews import ReviewService, WorkflowRegistry
from api.routes import (
    admin_events,
    admin_features,
    admin_users,
    audit,
    auth,
    health,
    metrics,
    practices,
    reviews,
    webhooks,
)
from api.routes import chat as chat_routes
from api.routes import contracts as contract_routes
from api.routes import denials as denial_routes
from api.routes import scrub as scrub_routes
from api.routes.metrics import ServiceMetrics
from api.security.deps import require_signature
from api.security.permissions import Permission
from api.security.registry import assert_routes_declared
from api.storage.db import create_db_engine, create_session_factory
from api.storage.features import Feature
from api.storage.migrate import migrate_engine
from api.web.routes import install_web
from api.worker import HandlerRegistry, WorkerPool, default_registry
from api.workflows import WorkflowRuntime
from billing.events import EventType
from billing.settings import Settings
from tools.crystalpm import NotSupported

if TYPE_CHECKING:
    from api.contracts_runtime import ContractVarianceRuntime

log = logging.getLogger("fovea.app")
# Decisions whose workflow failed to resume (Crystal PM down) are retried this often, and only once they
# are this old, so recovery never races a reviewer's own request.
RECOVERY_INTERVAL_SECONDS = 30.0
RECOVERY_MIN_AGE = timedelta(seconds=60)


async def _recover_decisions(reviews: ReviewService) -> None:
    """Resume every unapplied decision at start-up (the previous process died), then retry stragglers."""
    await asyncio.to_thread(reviews.recover)
    while True:
        await asyncio.sleep(RECOVERY_INTERVAL_SECONDS)
        try:
            await asyncio.to_thread(reviews.recover, RECOVERY_MIN_AGE)
        except Exception as exc:  # the database may be briefly unavailable: try again next round
            log.error("decision recovery failed", extra={"error_type": type(exc).__name__})


def variance_after_posting(variance: "ContractVarianceRuntime", gate: FeatureGate) -> Callable[[str], None]:
    """The remittance workflow's on_posted: start contract variance for the remittance unless contracts is off."""

    def start(remittance_id: str) -> None:
        if not gate.flags(Feature.CONTRACTS).enabled:
            log.info("contract variance skipped: feature disabled", extra={"remittance_id": remittance_id})
            return
        try:
            variance.start_variance(remittance_id)
        except (
            NotSupported
        ):  # the files adapter keeps no contracts; other errors fail the event, to be retried
            log.info(
                "contract variance skipped: no contracts in Crystal PM",
                extra={"remittance_id": remittance_id},
            )

    return start


def create_app(
    settings: Settings,
    *,
    start_worker: bool = True,
    handlers: HandlerRegistry | None = None,
    workflows: list[WorkflowRuntime] | None = None,
) -> FastAPI:
    """The FastAPI app; its lifespan migrates the database and runs the worker pool.

    `handlers` replaces the event handlers (tests pass placeholders so the graph stack is not loaded);
    `workflows` adds runtimes the review queue resumes (tests pass fakes).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings)
        engine = create_db_engine(settings.resolved_database_url)
        await run_in_threadpool(migrate_engine, engine)
        sessions = create_session_factory(engine)
        gate = FeatureGate(sessions)
        runtimes = WorkflowRegistry(workflows)
        review_service = ReviewService(sessions, runtimes, gate)
        service_metrics = ServiceMetrics(sessions)
        # Contract intake and variance are started by requests and by the remittance workflow, not by
        # events, so they are wired whatever the event handlers are.
        from api.contracts_runtime import ContractIntakeRuntime, ContractVarianceRuntime

        app.state.contract_intake = ContractIntakeRuntime(settings, sessions, sink=review_service)
        app.state.contract_variance = ContractVarianceRuntime(settings, sessions, sink=review_service)
        for runtime in (app.state.contract_intake, app.state.contract_variance):
            if runtimes.get(runtime.workflow) is None:
                runtimes.register(runtime)
        registry = handlers
        if registry is None:
            registry = default_registry()
            # Imported here: the graph stack (LangGraph, Chroma, engines) is not needed to import the app.
            from api.coding_runtime import ChargeCodingRuntime

            app.state.charge_coding = ChargeCodingRuntime(
                settings, sessions, sink=review_service, shadow=ShadowComparer(sessions)
            )
            runtimes.register(app.state.charge_coding)
            registry.register(EventType.NOTE_FINALIZED, app.state.charge_coding.start_charge_coding)
            registry.register_shadow(EventType.NOTE_FINALIZED, app.state.charge_coding.shadow_charge_coding)
            from api.scrub_runtime import ClaimScrubRuntime

            app.state.claim_scrub = ClaimScrubRuntime(settings, sessions, sink=review_service)
            runtimes.register(app.state.claim_scrub)
            registry.register(EventType.CLAIM_READY, app.state.claim_scrub.start_claim_scrub)
            from api.remittance_runtime import RemittanceRuntime

            app.state.remittance = RemittanceRuntime(
                settings,
                sessions,
                sink=review_service,
                medicare=app.state.contract_variance.medicare_source,
                on_posted=variance_after_posting(app.state.contract_variance, gate),
            )
            runtimes.register(app.state.remittance)
            registry.register(EventType.REMITTANCE_RECEIVED, app.state.remittance.start_remittance)
        worker = WorkerPool(
            sessions,
            registry,
            concurrency=settings.worker_concurrency,
            # This process is the only worker on its database: events a killed predecessor left in
            # 'processing' are taken up at once and continue from their checkpoints.
            stale_after=timedelta(0),
            gate=gate,
            on_error=service_metrics.observe_error,
        )
        app.state.settings = settings
        app.state.engine = engine
        app.state.sessions = sessions
        app.state.worker = worker
        app.state.features = gate
        app.state.workflows = runtimes
        app.state.reviews = review_service
        app.state.metrics = service_metrics
        recovery: asyncio.Task[None] | None = None
        if start_worker:
            await worker.start()
            recovery = asyncio.create_task(_recover_decisions(review_service), name="fovea-recovery")
        try:
            yield
        finally:
            if recovery is not None:
                recovery.cancel()
                await asyncio.gather(recovery, return_exceptions=True)
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
    app.include_router(reviews.router)
    app.include_router(admin_features.router)
    app.include_router(admin_events.router)
    app.include_router(audit.router)
    app.include_router(metrics.router)
    app.include_router(scrub_routes.router)
    app.include_router(denial_routes.router)
    app.include_router(chat_routes.router)
    app.include_router(contract_routes.router)
    # The web UI (/ui pages, static files, / -> /ui/); after the problem handlers, whose JSON it keeps for the API.
    install_web(app)
    # Default deny: an app with a route that declares no permission is not built.
    assert_routes_declared(app)
    return app
