"""The audit log: append-only records of who or what did each step, SHA-256 hash-chained (tamper-evident).

Each record's `hash` is SHA-256 over the previous record's hash followed by the record's canonical JSON
(every column except `id` and `hash`; keys sorted, no spaces, UTF-8, `at` in ISO 8601 UTC). The first
record's `prev_hash` is GENESIS. `prev_hash` is unique, so two writers that read the same chain head
cannot both append after it: the loser retries on the new head. Nothing here updates or deletes a row;
`verify_chain` recomputes every hash and names the first record that does not match.
"""

import hashlib
import json
import threading
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from api.storage.models import AuditRecord, utc_now
from graphs.ports import AuditEntry

GENESIS = "0" * 64
APPEND_ATTEMPTS = 20


class ChainCheck(BaseModel):
    ok: bool
    records: int
    first_bad_id: int | None = None


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _hashed_fields(record: AuditRecord) -> dict[str, Any]:
    return {
        "at": record.at.astimezone(UTC).isoformat(),
        "actor": record.actor,
        "action": record.action,
        "practice_id": record.practice_id,
        "patient_id": record.patient_id,
        "claim_id": record.claim_id,
        "thread_id": record.thread_id,
        "inputs_hash": record.inputs_hash,
        "prompt_hash": record.prompt_hash,
        "engine": record.engine,
        "detail": record.detail,
        "prev_hash": record.prev_hash,
    }


def record_hash(record: AuditRecord) -> str:
    """The chain hash of a record: SHA-256(prev_hash + canonical JSON of its fields)."""
    payload = record.prev_hash + canonical_json(_hashed_fields(record))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _chain_head(session: Session) -> str:
    last = session.scalars(select(AuditRecord.hash).order_by(AuditRecord.id.desc()).limit(1)).first()
    return last or GENESIS


def append_audit(session: Session, entry: AuditEntry, at: datetime | None = None) -> AuditRecord:
    """Append one record after the chain head and commit; retried when another writer got there first."""
    # Stored exactly as it will read back, so the hash recomputes on any backend.
    detail = json.loads(canonical_json(entry.detail))
    for _attempt in range(APPEND_ATTEMPTS):
        record = AuditRecord(**entry.model_dump(exclude={"detail"}), detail=detail, at=at or utc_now())
        record.prev_hash = _chain_head(session)
        record.hash = record_hash(record)
        session.add(record)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            continue
        return record
    raise RuntimeError(f"could not append to the audit log after {APPEND_ATTEMPTS} attempts")


def verify_chain(session: Session) -> ChainCheck:
    """Recompute every hash in order; not ok at the first record edited, removed or inserted out of chain."""
    expected_prev = GENESIS
    count = 0
    for record in session.scalars(select(AuditRecord).order_by(AuditRecord.id)):
        count += 1
        if record.prev_hash != expected_prev or record.hash != record_hash(record):
            return ChainCheck(ok=False, records=count, first_bad_id=record.id)
        expected_prev = record.hash
    return ChainCheck(ok=True, records=count)


def audit_entries(session: Session, *, thread_id: str | None = None) -> list[AuditRecord]:
    query = select(AuditRecord).order_by(AuditRecord.id)
    if thread_id is not None:
        query = query.where(AuditRecord.thread_id == thread_id)
    return list(session.scalars(query))


class AuditLog:
    """The graphs' audit sink (graphs.ports.AuditSink) on the audit_log table."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        # Appends in one process queue here instead of colliding on the chain head and retrying.
        self._lock = threading.Lock()

    def record(self, entry: AuditEntry) -> None:
        with self._lock, self.sessions() as session:
            append_audit(session, entry)

    def verify(self) -> ChainCheck:
        with self.sessions() as session:
            return verify_chain(session)
