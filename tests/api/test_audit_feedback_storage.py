"""The audit log (append-only, hash-chained) and coding feedback tables, on SQLite and PostgreSQL."""

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, inspect, update
from sqlalchemy.orm import Session, sessionmaker

from api.storage.audit import GENESIS, AuditLog, audit_entries, record_hash
from api.storage.db import create_db_engine, create_session_factory
from api.storage.feedback import FeedbackLog
from api.storage.migrate import migrate_engine
from api.storage.models import AuditRecord
from graphs.ports import AuditEntry, CodingFeedback


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = create_db_engine(database_url)
    migrate_engine(engine)
    yield create_session_factory(engine)
    engine.dispose()


def entry(number: int, thread_id: str = "encounter:ENC-1") -> AuditEntry:
    return AuditEntry(
        actor="system:charge_coding",
        action="charge_coding.suggest",
        practice_id="PRA-1",
        patient_id="PAT-001",
        thread_id=thread_id,
        inputs_hash=f"{number:064x}",
        engine="offline@1",
        detail={"number": number, "confidence": 0.875, "codes": ["92012", "H40.1131"]},
    )


def test_the_tables_exist_after_migration(sessions: sessionmaker[Session]) -> None:
    tables = set(inspect(sessions.kw["bind"]).get_table_names())
    assert {"audit_log", "feedback", "events"} <= tables


def test_records_chain_from_genesis_and_verify(sessions: sessionmaker[Session]) -> None:
    log = AuditLog(sessions)
    for number in range(3):
        log.record(entry(number))
    with sessions() as session:
        records = audit_entries(session, thread_id="encounter:ENC-1")
    assert records[0].prev_hash == GENESIS
    assert [r.prev_hash for r in records[1:]] == [r.hash for r in records[:-1]]
    assert all(r.hash == record_hash(r) for r in records)
    assert records[1].detail == {"number": 1, "confidence": 0.875, "codes": ["92012", "H40.1131"]}
    assert log.verify().ok and log.verify().records == 3


@pytest.mark.parametrize("tamper", ["edit", "delete"])
def test_an_edited_or_removed_record_breaks_the_chain(sessions: sessionmaker[Session], tamper: str) -> None:
    log = AuditLog(sessions)
    for number in range(4):
        log.record(entry(number))
    with sessions() as session:
        second = audit_entries(session)[1]
        if tamper == "edit":
            session.execute(
                update(AuditRecord).where(AuditRecord.id == second.id).values(detail={"number": 99})
            )
        else:
            session.execute(delete(AuditRecord).where(AuditRecord.id == second.id))
        session.commit()
    check = log.verify()
    assert not check.ok
    assert check.first_bad_id == (second.id if tamper == "edit" else second.id + 1)


def test_concurrent_writers_keep_one_unbroken_chain(sessions: sessionmaker[Session]) -> None:
    # Two AuditLog instances: no shared lock, as with two processes; the unique prev_hash serializes them.
    logs = [AuditLog(sessions), AuditLog(sessions)]
    threads = [
        threading.Thread(target=lambda log=log, t=t: [log.record(entry(n, f"t{t}")) for n in range(10)])
        for t, log in enumerate(logs)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    check = logs[0].verify()
    assert check.ok and check.records == 20


def test_feedback_is_stored_once_per_run(sessions: sessionmaker[Session]) -> None:
    feedback = FeedbackLog(sessions)
    decision = CodingFeedback(
        id="encounter:ENC-1:run1",
        thread_id="encounter:ENC-1",
        encounter_id="ENC-1",
        practice_id="PRA-1",
        suggestion={"lines": [{"code": "92012"}], "diagnoses": [{"code": "H40.1131"}]},
        final={"diagnosis_codes": ["H40.1132"], "lines": [{"code": "92014"}]},
        diff={"diagnoses_added": ["H40.1132"], "unchanged": False},
        decision="edit",
        reviewer="USR-2",
        reason="moderate stage",
        decided_at=datetime(2025, 6, 9, 15, 30, tzinfo=UTC),
    )
    feedback.save(decision)
    feedback.save(decision.model_copy(update={"reason": "a re-run of learn"}))
    (stored,) = feedback.for_thread("encounter:ENC-1")
    assert stored == decision
