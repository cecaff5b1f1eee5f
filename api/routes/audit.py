"""`GET /audit`: the audit records of the caller's practices, for admins (chain order, from a date)."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.audit_trail import AuditRecordOut, audit_records
from api.deps import SessionDep
from api.security.deps import Principal, require, visible_practice_ids
from api.security.permissions import Permission

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("")
def list_audit(
    principal: Annotated[Principal, Depends(require(Permission.AUDIT_EXPORT))],
    db: SessionDep,
    since: datetime | None = None,
    practice_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[AuditRecordOut]:
    """Who or what did each step, for your practices: actor, action, patient and claim ids, hashes."""
    records = audit_records(
        db, since=since, practice_ids=visible_practice_ids(principal, practice_id), limit=limit
    )
    return [AuditRecordOut.model_validate(record) for record in records]
