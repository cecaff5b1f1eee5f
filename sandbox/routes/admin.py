"""Sandbox-only endpoints under /_sandbox (admin token): events, faults, the gold coding, stats."""

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from billing.events import EventType, WebhookEvent
from sandbox.auth import require_admin_token
from sandbox.db import idempotency_keys, resources, webhook_deliveries, webhook_events
from sandbox.deps import ConnDep
from sandbox.faults import FaultPlan
from sandbox.problems import ProblemError
from sandbox.queries import get_payload, json_response, require_payload
from sandbox.store import dataset_info
from sandbox.webhooks import emit_event

router = APIRouter(prefix="/_sandbox", dependencies=[Depends(require_admin_token)])


class EventIn(BaseModel):
    type: EventType
    practice_id: str
    data: dict[str, Any] = Field(default_factory=dict, description="Resource ids only, never PHI")


class EmittedEvent(BaseModel):
    event: WebhookEvent
    deliveries: int = Field(description="Deliveries queued, one per active subscription to the type")


@router.post("/events", status_code=202)
def post_event(request: Request, conn: ConnDep, body: EventIn) -> EmittedEvent:
    """Emit an event now; deliveries go out from the background worker."""
    if get_payload(conn, "practice", body.practice_id) is None:
        raise ProblemError(
            422, f"practice_id {body.practice_id!r} is not a sandbox practice.", kind="unknown-reference"
        )
    event, deliveries = emit_event(request.app.state.engine, body.type, body.practice_id, body.data)
    request.app.state.delivery_worker.wake()
    return EmittedEvent(event=event, deliveries=deliveries)


@router.post("/faults")
def set_faults(request: Request, plan: FaultPlan) -> FaultPlan:
    """Make the next `count` /api/v1 calls answer `status` with Retry-After; count 0 clears."""
    return request.app.state.faults.set(plan)


@router.get("/faults")
def get_faults(request: Request) -> FaultPlan:
    return request.app.state.faults.current()


@router.get("/gold/{encounter_id}")
def get_gold(conn: ConnDep, encounter_id: str) -> Response:
    """The generator's intended coding for an encounter (for evaluation only)."""
    return json_response(require_payload(conn, "gold", encounter_id))


@router.get("/stats")
def get_stats(request: Request, conn: ConnDep) -> dict[str, Any]:
    """Row counts per resource kind, the dataset's seed, webhook delivery states and the pending faults."""
    kinds = conn.execute(select(resources.c.kind, func.count()).group_by(resources.c.kind)).all()
    deliveries = conn.execute(
        select(webhook_deliveries.c.status, func.count()).group_by(webhook_deliveries.c.status)
    ).all()
    return {
        "dataset": dataset_info(conn),
        "resources": {kind: count for kind, count in kinds if kind != "remittance_x12"},
        "webhooks": {
            "events": conn.scalar(select(func.count()).select_from(webhook_events)),
            "deliveries": {status: count for status, count in deliveries},
        },
        "idempotency_keys": conn.scalar(select(func.count()).select_from(idempotency_keys)),
        "faults": request.app.state.faults.current().model_dump(),
    }
