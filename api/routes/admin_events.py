"""Crystal PM events for admins: the ones parked as failed (with their error), and re-triggering one."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict

from api.deps import SessionDep, WorkerDep
from api.problems import ProblemError
from api.security.deps import Principal, ensure_practice_access, require, visible_practice_ids
from api.security.permissions import Permission
from api.storage.events import get_event, list_events, retrigger_event
from api.storage.models import EventStatus

router = APIRouter(prefix="/admin/events", tags=["admin"])

EventAdmin = Annotated[Principal, Depends(require(Permission.EVENTS_RETRIGGER))]


class EventSummary(BaseModel):
    """An event's processing state; the payload holds ids only, so it is shown as is."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    type: str
    practice_id: str
    status: EventStatus
    attempts: int
    last_error: str | None
    received_at: datetime
    updated_at: datetime


@router.get("")
def list_admin_events(
    principal: EventAdmin,
    db: SessionDep,
    status: EventStatus | None = None,
    practice_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[EventSummary]:
    """Events of your practices, newest first; `status=failed` lists the ones parked after their retries."""
    events = list_events(db, visible_practice_ids(principal, practice_id), status, limit)
    return [EventSummary.model_validate(event) for event in events]


@router.post("/{event_id}/retrigger", status_code=202, responses={409: {"description": "not failed/skipped"}})
def retrigger(event_id: str, principal: EventAdmin, db: SessionDep, worker: WorkerDep) -> EventSummary:
    """Queue a failed or skipped event again with fresh attempts; audited."""
    event = get_event(db, event_id)
    if event is None:
        raise ProblemError(404, "Nothing with this id among the practices you belong to.")
    ensure_practice_access(principal, event.practice_id)
    if not retrigger_event(db, event_id):
        raise ProblemError(
            409, f"Event {event_id} is {event.status.value}; only failed or skipped events are re-triggered."
        )
    # Imported here: the audit module pulls in the graph ports, which the app does not need at import time.
    from api.storage.audit import append_audit
    from graphs.ports import AuditEntry

    append_audit(
        db,
        AuditEntry(
            actor=principal.actor,
            action="admin.event.retrigger",
            practice_id=event.practice_id,
            detail={"event_id": event_id, "event_type": event.type},
        ),
    )
    worker.notify()
    db.expire_all()
    return EventSummary.model_validate(get_event(db, event_id))
