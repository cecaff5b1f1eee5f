"""Batched audit appends: several chained records in one transaction verify like single ones, tampering
inside a batch is named, concurrent batch writers keep one chain, and AuditBatch never drops a held record."""

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from api.storage.audit import AuditBatch, AuditLog, audit_entries, verify_chain
from api.storage.db import create_db_engine, create_session_factory
from api.storage.migrate import migrate_engine
from graphs.ports import AuditEntry


def entry(step: int, thread: str = "claim:CLM-1") -> AuditEntry:
    return AuditEntry(
        actor="system:claim_scrub",
        action=f"claim_scrub.step{step}",
        practice_id="PRA-1",
        claim_id=thread.removeprefix("claim:"),
        thread_id=thread,
        inputs_hash=f"{step:064x}",
        detail={"step": step, "findings": ["warning:X"], "score": 0.25},
    )


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "fovea.db"


@pytest.fixture
def sessions(database: Path) -> Iterator[sessionmaker[Session]]:
    engine = create_db_engine(f"sqlite:///{database}")
    migrate_engine(engine)
    yield create_session_factory(engine)
    engine.dispose()


def actions(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return [record.action for record in audit_entries(session)]


def test_a_batch_is_chained_in_order_and_verifies_between_single_appends(
    sessions: sessionmaker[Session],
) -> None:
    log = AuditLog(sessions)
    log.record(entry(0))
    times = [datetime(2025, 3, day, 9, 0, tzinfo=UTC) for day in (1, 2, 3)]
    log.record_many([entry(1), entry(2), entry(3)], times)
    log.record(entry(4))
    log.record_many([])
    with sessions() as session:
        records = audit_entries(session)
        check = verify_chain(session)
    assert check.ok and check.records == 5
    assert [r.action for r in records] == [f"claim_scrub.step{n}" for n in range(5)]
    assert [r.at for r in records[1:4]] == times
    assert all(after.prev_hash == before.hash for before, after in pairwise(records))


@pytest.mark.parametrize("how", ["edited", "deleted"])
def test_tampering_inside_a_batch_is_named(sessions: sessionmaker[Session], database: Path, how: str) -> None:
    log = AuditLog(sessions)
    log.record_many([entry(n) for n in range(1, 6)])
    with sessions() as session:
        ids = [record.id for record in audit_entries(session)]
    target = ids[2]
    with closing(sqlite3.connect(database)) as connection:
        if how == "edited":
            connection.execute("UPDATE audit_log SET detail = '{\"step\":99}' WHERE id = ?", (target,))
        else:
            connection.execute("DELETE FROM audit_log WHERE id = ?", (target,))
        connection.commit()
    with sessions() as session:
        check = verify_chain(session)
    assert not check.ok
    # An edited record fails itself; after a deletion the next record no longer follows its predecessor.
    assert check.first_bad_id == (target if how == "edited" else ids[3])


def test_concurrent_batch_writers_keep_one_chain(sessions: sessionmaker[Session]) -> None:
    # Two logs (two locks), as two processes would be: they race for the chain head and retry.
    logs = [AuditLog(sessions), AuditLog(sessions)]

    def write(number: int) -> None:
        for batch in range(8):
            logs[number].record_many([entry(step, f"claim:W{number}-{batch}") for step in range(3)])

    writers = [threading.Thread(target=write, args=(number,)) for number in range(2)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    with sessions() as session:
        check = verify_chain(session)
        records = audit_entries(session)
    assert check.ok and check.records == 2 * 8 * 3
    # Each batch lands in one piece: its three records are consecutive in the chain.
    threads = [record.thread_id for record in records]
    assert all(len(set(threads[start : start + 3])) == 1 for start in range(0, len(threads), 3))


def test_held_records_are_written_once_when_the_block_ends(sessions: sessionmaker[Session]) -> None:
    batch = AuditBatch(AuditLog(sessions))
    with batch.holding():
        batch.record(entry(1))
        with batch.holding():  # nested: only the outermost block flushes
            batch.record(entry(2))
        assert actions(sessions) == []
        batch.flush()
        assert actions(sessions) == ["claim_scrub.step1", "claim_scrub.step2"]
        batch.record(entry(3))
        with batch.writing_through():
            batch.record(entry(4))
            assert actions(sessions)[-2:] == ["claim_scrub.step3", "claim_scrub.step4"]
        batch.record(entry(5))
        assert len(actions(sessions)) == 4
    batch.record(entry(6))  # outside any block: written at once
    assert actions(sessions) == [f"claim_scrub.step{n}" for n in range(1, 7)]
    with sessions() as session:
        assert verify_chain(session).ok


def test_held_records_survive_an_error_in_the_block(sessions: sessionmaker[Session]) -> None:
    batch = AuditBatch(AuditLog(sessions))
    with pytest.raises(RuntimeError), batch.holding():
        batch.record(entry(1))
        batch.record(entry(2))
        raise RuntimeError("the step after these broke")
    assert actions(sessions) == ["claim_scrub.step1", "claim_scrub.step2"]
