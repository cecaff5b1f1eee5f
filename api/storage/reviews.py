"""Queries on review_items: open (or refresh) an item, filter the queue, claim a decision once, mark it applied."""

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.storage.models import ReviewItemRecord, ReviewStatus, utc_now
from api.workflows import ReviewItemDraft

OPEN_ATTEMPTS = 5


@dataclass(frozen=True)
class ReviewFilter:
    """What the queue is narrowed to; practice_ids is always set (the caller's practices)."""

    practice_ids: list[str]
    status: str | None = ReviewStatus.PENDING.value
    workflow: str | None = None
    min_confidence: float | None = None
    max_confidence: float | None = None
    older_than: datetime | None = None
    payer: str | None = None
    limit: int = 100
    offset: int = 0


def payload_hash(payload: dict[str, Any]) -> str:
    """SHA-256 of the payload's canonical JSON (the same form the audit log hashes)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def new_review_id() -> str:
    return f"rev_{uuid.uuid4().hex[:20]}"


def _pending_for(session: Session, workflow: str, thread_id: str) -> ReviewItemRecord | None:
    return session.scalars(
        select(ReviewItemRecord).where(
            ReviewItemRecord.workflow == workflow,
            ReviewItemRecord.thread_id == thread_id,
            ReviewItemRecord.status == ReviewStatus.PENDING.value,
        )
    ).first()


def _decided_with(session: Session, workflow: str, thread_id: str, digest: str) -> ReviewItemRecord | None:
    return session.scalars(
        select(ReviewItemRecord).where(
            ReviewItemRecord.workflow == workflow,
            ReviewItemRecord.thread_id == thread_id,
            ReviewItemRecord.payload_hash == digest,
            ReviewItemRecord.status == ReviewStatus.DECIDED.value,
        )
    ).first()


def open_review_item(
    session: Session, draft: ReviewItemDraft, now: datetime | None = None
) -> tuple[ReviewItemRecord, bool]:
    """The pending item for the draft's workflow thread, created or refreshed; True when created now.

    An interrupt reported again after it was decided (a re-delivered event while the decision is being
    applied) returns the decided item instead of queueing the same question twice.
    """
    digest = payload_hash(draft.payload)
    fields: dict[str, Any] = {**draft.model_dump(exclude={"workflow", "thread_id"}), "payload_hash": digest}
    for _attempt in range(OPEN_ATTEMPTS):
        pending = _pending_for(session, draft.workflow, draft.thread_id)
        if pending is not None:
            if pending.payload_hash != digest:
                for name, value in fields.items():
                    setattr(pending, name, value)
                # A reviewer who loaded the old payload must not decide on it: bump the lock version.
                pending.version += 1
                session.commit()
            return pending, False
        decided = _decided_with(session, draft.workflow, draft.thread_id, digest)
        if decided is not None:
            return decided, False
        record = ReviewItemRecord(
            id=new_review_id(),
            workflow=draft.workflow,
            thread_id=draft.thread_id,
            status=ReviewStatus.PENDING.value,
            created_at=now or utc_now(),
            version=1,
            reason="",
            **fields,
        )
        session.add(record)
        try:
            session.commit()
        except IntegrityError:
            # Another worker opened the same thread's item first: refresh that one instead.
            session.rollback()
            continue
        return record, True
    raise RuntimeError(f"could not open a review item for {draft.workflow} {draft.thread_id}")


def get_review_item(session: Session, item_id: str) -> ReviewItemRecord | None:
    return session.get(ReviewItemRecord, item_id)


def list_review_items(session: Session, query: ReviewFilter) -> list[ReviewItemRecord]:
    """The queue, oldest first, narrowed by the filter."""
    item = ReviewItemRecord
    conditions: list[ColumnElement[bool]] = [item.practice_id.in_(query.practice_ids)]
    if query.status is not None:
        conditions.append(item.status == query.status)
    if query.workflow is not None:
        conditions.append(item.workflow == query.workflow)
    if query.min_confidence is not None:
        conditions.append(item.confidence >= query.min_confidence)
    if query.max_confidence is not None:
        conditions.append(item.confidence <= query.max_confidence)
    if query.older_than is not None:
        conditions.append(item.created_at <= query.older_than)
    if query.payer is not None:
        conditions.append(item.payer == query.payer)
    statement = (
        select(item)
        .where(*conditions)
        .order_by(item.created_at, item.id)
        .limit(query.limit)
        .offset(query.offset)
    )
    return list(session.scalars(statement))


def claim_decision(session: Session, item_id: str, version: int, values: dict[str, Any]) -> bool:
    """Move a pending item at `version` to decided with `values`; False when someone else got there first.

    One UPDATE ... WHERE status='pending' AND version=v: of concurrent claims exactly one matches a row.
    """
    result = session.execute(
        update(ReviewItemRecord)
        .where(
            ReviewItemRecord.id == item_id,
            ReviewItemRecord.status == ReviewStatus.PENDING.value,
            ReviewItemRecord.version == version,
        )
        .values(status=ReviewStatus.DECIDED.value, version=version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount == 1


def mark_applied(session: Session, item_id: str, result: dict[str, Any]) -> None:
    """The workflow finished resuming with the decision."""
    session.execute(
        update(ReviewItemRecord)
        .where(ReviewItemRecord.id == item_id)
        .values(applied_at=utc_now(), result=result, apply_error=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def mark_apply_failed(session: Session, item_id: str, error: str) -> None:
    """The decision stands but resuming failed; recovery tries again."""
    session.execute(
        update(ReviewItemRecord)
        .where(ReviewItemRecord.id == item_id)
        .values(apply_error=error)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def unapplied_decisions(session: Session, decided_before: datetime | None = None) -> list[ReviewItemRecord]:
    """Decided items whose workflow has not finished applying the decision (a crash or an error)."""
    conditions = [
        ReviewItemRecord.status == ReviewStatus.DECIDED.value,
        ReviewItemRecord.applied_at.is_(None),
    ]
    if decided_before is not None:
        conditions.append(ReviewItemRecord.decided_at <= decided_before)
    return list(
        session.scalars(select(ReviewItemRecord).where(*conditions).order_by(ReviewItemRecord.decided_at))
    )


def decided_items(
    session: Session, practice_ids: list[str], since: datetime | None = None
) -> list[ReviewItemRecord]:
    """Decided items of the practices, for the dashboard."""
    conditions = [
        ReviewItemRecord.status == ReviewStatus.DECIDED.value,
        ReviewItemRecord.practice_id.in_(practice_ids),
    ]
    if since is not None:
        conditions.append(ReviewItemRecord.decided_at >= since)
    return list(
        session.scalars(select(ReviewItemRecord).where(*conditions).order_by(ReviewItemRecord.decided_at))
    )


def older_than(minutes: float, now: datetime | None = None) -> datetime:
    return (now or utc_now()) - timedelta(minutes=minutes)
