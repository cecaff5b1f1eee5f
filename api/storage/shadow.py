"""The shadow_results table: a shadow run's suggestion and, once staff have coded it, how the two compare."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from api.storage.models import ShadowResultRecord, utc_now


class ShadowResult(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    feature: str
    practice_id: str
    encounter_id: str
    event_id: str
    thread_id: str
    suggestion: dict[str, Any]
    confidence: float | None
    created_at: datetime
    manual: dict[str, Any] | None
    comparison: dict[str, Any] | None
    compared_at: datetime | None


def record_shadow(
    session: Session,
    *,
    feature: str,
    practice_id: str,
    encounter_id: str,
    event_id: str,
    thread_id: str,
    suggestion: dict[str, Any],
    confidence: float | None,
) -> bool:
    """Store a shadow suggestion once per feature and encounter; True when stored now."""
    dialect = session.get_bind().dialect.name
    insert = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}.get(dialect)
    if insert is None:
        raise NotImplementedError(f"shadow results need SQLite or PostgreSQL, not {dialect}")
    statement = (
        insert(ShadowResultRecord)
        .values(
            feature=feature,
            practice_id=practice_id,
            encounter_id=encounter_id,
            event_id=event_id,
            thread_id=thread_id,
            suggestion=suggestion,
            confidence=confidence,
            created_at=utc_now(),
        )
        .on_conflict_do_nothing(index_elements=["feature", "encounter_id"])
        .returning(ShadowResultRecord.id)
    )
    stored = session.execute(statement).first() is not None
    session.commit()
    return stored


def waiting_comparisons(session: Session, feature: str, limit: int = 50) -> list[ShadowResult]:
    """Shadow suggestions still waiting for staff's own coding, oldest first."""
    rows = session.scalars(
        select(ShadowResultRecord)
        .where(ShadowResultRecord.feature == feature, ShadowResultRecord.compared_at.is_(None))
        .order_by(ShadowResultRecord.id)
        .limit(limit)
    )
    return [ShadowResult.model_validate(row) for row in rows]


def save_comparison(
    session: Session, result_id: int, manual: dict[str, Any], comparison: dict[str, Any]
) -> None:
    session.execute(
        update(ShadowResultRecord)
        .where(ShadowResultRecord.id == result_id)
        .values(manual=manual, comparison=comparison, compared_at=utc_now())
        .execution_options(synchronize_session=False)
    )
    session.commit()


def shadow_results(session: Session, practice_ids: list[str]) -> list[ShadowResult]:
    rows = session.scalars(
        select(ShadowResultRecord)
        .where(ShadowResultRecord.practice_id.in_(practice_ids))
        .order_by(ShadowResultRecord.id)
    )
    return [ShadowResult.model_validate(row) for row in rows]
