"""The audit trail's reader side: verify the hash chain naming what broke it, list and export records.

`verify_trail` walks the records in id order and names the first problem: a record **edited** (its fields no
longer match its hash, or it was re-hashed so the next record no longer chains to it), records **deleted**
(a gap in the ids where the chain breaks), or a record **reordered** (it chains after another record than
the one before it). Id gaps alone are not a problem: a rolled-back insert may skip an id.
"""

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.storage.models import AuditRecord

EXPORT_FIELDS = (
    "id",
    "at",
    "actor",
    "action",
    "practice_id",
    "patient_id",
    "claim_id",
    "thread_id",
    "inputs_hash",
    "prompt_hash",
    "engine",
    "detail",
    "prev_hash",
    "hash",
)


class TrailProblem(BaseModel):
    record_id: int
    kind: Literal["edited", "deleted", "reordered"]
    message: str


class TrailCheck(BaseModel):
    ok: bool
    records: int
    problem: TrailProblem | None = None


class AuditRecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    action: str
    practice_id: str
    patient_id: str
    claim_id: str
    thread_id: str
    inputs_hash: str
    prompt_hash: str
    engine: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str


def _broken_link(
    record: AuditRecord, previous: AuditRecord | None, by_hash: dict[str, AuditRecord]
) -> TrailProblem:
    """Why `record` does not chain to the record before it."""
    previous_id = previous.id if previous is not None else 0
    owner = by_hash.get(record.prev_hash)
    if owner is not None and owner.id != previous_id:
        return TrailProblem(
            record_id=record.id,
            kind="reordered",
            message=f"record {record.id} is out of order: it was written after record {owner.id}, "
            f"not after {previous_id or 'the start of the log'}",
        )
    if owner is None and record.id > previous_id + 1:
        missing = list(range(previous_id + 1, record.id))
        named = ", ".join(str(number) for number in missing[:10]) + (" ..." if len(missing) > 10 else "")
        return TrailProblem(
            record_id=missing[0],
            kind="deleted",
            message=f"record(s) {named} were deleted: record {record.id} chains to a record that is gone",
        )
    if previous is not None:
        return TrailProblem(
            record_id=previous.id,
            kind="edited",
            message=f"record {previous.id} was edited and re-hashed: record {record.id} no longer chains to it",
        )
    return TrailProblem(
        record_id=record.id, kind="edited", message=f"record {record.id} does not start the chain at genesis"
    )


def verify_trail(session: Session) -> TrailCheck:
    """Recompute the chain; the first edited, deleted or reordered record, if any, with why."""
    # Imported here: the audit module pulls in the graph ports, which the app does not need at import time.
    from api.storage.audit import GENESIS, record_hash

    records = list(session.scalars(select(AuditRecord).order_by(AuditRecord.id)))
    by_hash = {record.hash: record for record in records}
    previous: AuditRecord | None = None
    for record in records:
        if record_hash(record) != record.hash:
            problem = TrailProblem(
                record_id=record.id,
                kind="edited",
                message=f"record {record.id} was edited: its fields no longer match its hash",
            )
            return TrailCheck(ok=False, records=len(records), problem=problem)
        expected = previous.hash if previous is not None else GENESIS
        if record.prev_hash != expected:
            return TrailCheck(ok=False, records=len(records), problem=_broken_link(record, previous, by_hash))
        previous = record
    return TrailCheck(ok=True, records=len(records))


def audit_records(
    session: Session,
    *,
    since: datetime | None = None,
    practice_ids: list[str] | None = None,
    limit: int | None = None,
) -> list[AuditRecord]:
    """Records in chain order, from `since`, of the practices (all when None)."""
    query = select(AuditRecord).order_by(AuditRecord.id)
    if since is not None:
        # A date without a zone is read as UTC, the zone the log keeps.
        query = query.where(AuditRecord.at >= (since if since.tzinfo else since.replace(tzinfo=UTC)))
    if practice_ids is not None:
        query = query.where(AuditRecord.practice_id.in_(practice_ids))
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def export_lines(records: list[AuditRecord], fmt: Literal["csv", "jsonl"]) -> Iterator[str]:
    """The records as CSV (header first; detail as JSON text) or JSON Lines."""
    if fmt == "jsonl":
        for record in records:
            yield AuditRecordOut.model_validate(record).model_dump_json() + "\n"
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_FIELDS)
    for record in records:
        row = AuditRecordOut.model_validate(record).model_dump(mode="json")
        row["detail"] = json.dumps(row["detail"], sort_keys=True, separators=(",", ":"))
        writer.writerow([row[field] for field in EXPORT_FIELDS])
    yield buffer.getvalue()
