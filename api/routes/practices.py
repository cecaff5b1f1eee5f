"""`GET /practices/{practice_id}/summary`: counts for one of the caller's practices (404 for any other)."""

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import func, select

from api.deps import SessionDep
from api.security.deps import Principal, ensure_practice_access, require
from api.security.permissions import Permission
from api.storage.models import Event, UserPracticeRecord

router = APIRouter(prefix="/practices", tags=["practices"])


class PracticeSummary(BaseModel):
    practice_id: str
    events_by_status: dict[str, int]
    users: int


@router.get("/{practice_id}/summary")
def practice_summary(
    practice_id: str,
    principal: Annotated[Principal, Depends(require(Permission.METRICS_VIEW))],
    db: SessionDep,
) -> PracticeSummary:
    """Crystal PM events received for the practice, by status, and how many users belong to it."""
    ensure_practice_access(principal, practice_id)
    by_status = db.execute(
        select(Event.status, func.count()).where(Event.practice_id == practice_id).group_by(Event.status)
    ).all()
    users = db.scalar(
        select(func.count())
        .select_from(UserPracticeRecord)
        .where(UserPracticeRecord.practice_id == practice_id)
    )
    return PracticeSummary(
        practice_id=practice_id,
        events_by_status={status.value: count for status, count in by_status},
        users=users or 0,
    )
