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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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
    return append_audits(session, [entry], None if at is None else [at])[0]


def append_audits(
    session: Session, entries: Sequence[AuditEntry], at: Sequence[datetime] | None = None
) -> list[AuditRecord]:
    """Append several records, each chained to the one before, in one transaction; retried as a whole.

    `at` gives each entry's time (when the step happened, not when the batch was written); now by default.
    """
    if at is not None and len(at) != len(entries):
        raise ValueError("append_audits needs one time per entry")
    # Stored exactly as they will read back, so the hashes recompute on any backend.
    details = [json.loads(canonical_json(entry.detail)) for entry in entries]
    times = list(at) if at is not None else [utc_now()] * len(entries)
    for _attempt in range(APPEND_ATTEMPTS):
        prev_hash = _chain_head(session)
        records = []
        for entry, detail, when in zip(entries, details, times, strict=True):
            record = AuditRecord(
                **entry.model_dump(exclude={"detail"}), detail=detail, at=when, prev_hash=prev_hash
            )
            record.hash = prev_hash = record_hash(record)
            records.append(record)
        # Added in chain order: the unit of work inserts them in that order, so ids follow the chain.
        session.add_all(records)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            continue
        return records
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

    def record_many(self, entries: Sequence[AuditEntry], at: Sequence[datetime] | None = None) -> None:
        """Append the entries in order, chained, in one transaction (all of them or none)."""
        if not entries:
            return
        with self._lock, self.sessions() as session:
            append_audits(session, entries, at)

    def verify(self) -> ChainCheck:
        with self.sessions() as session:
            return verify_chain(session)


class AuditBatch:
    """An audit sink that writes through, or inside `holding()` keeps records to append them in one go.

    A held record keeps the time it was recorded at. `holding()` flushes when it ends, also on an error, so a
    recorded step is never dropped; nested, only the outermost flushes. Not shared between threads.
    """

    def __init__(self, log: AuditLog) -> None:
        self.log = log
        self._held: list[tuple[AuditEntry, datetime]] | None = None

    def record(self, entry: AuditEntry) -> None:
        if self._held is None:
            self.log.record(entry)
        else:
            self._held.append((entry, utc_now()))

    def flush(self) -> None:
        """Append what is held now, in one transaction (kept held if that fails)."""
        if self._held:
            self.log.record_many([entry for entry, _at in self._held], [at for _entry, at in self._held])
            self._held.clear()

    @contextmanager
    def holding(self) -> Iterator[None]:
        """Hold records until the block ends; only around steps whose sole side effect is the audit log."""
        if self._held is not None:
            yield
            return
        self._held = []
        try:
            yield
        finally:
            try:
                self.flush()
            finally:
                self._held = None

    @contextmanager
    def writing_through(self) -> Iterator[None]:
        """Write each record at once inside the block (steps with side effects), holding again after it."""
        was_holding = self._held is not None
        self.flush()
        self._held = None
        try:
            yield
        finally:
            self._held = [] if was_holding else None
