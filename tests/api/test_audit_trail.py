"""The audit trail: `audit verify` names an edited, deleted or reordered record; `audit export`; GET /audit."""

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from api.audit_trail import verify_trail
from api.storage.audit import append_audit
from api.storage.db import create_db_engine, create_session_factory
from api.storage.migrate import migrate_engine
from billing.practice import Role
from billing.settings import Settings
from graphs.ports import AuditEntry
from tests.support.security import add_user, bearer, secured_client

REPO = Path(__file__).resolve().parents[2]
RECORDS = 6
COLUMNS = (
    "at, actor, action, practice_id, patient_id, claim_id, thread_id, inputs_hash, prompt_hash, engine, "
    "detail, prev_hash, hash"
)


def write_trail(data_dir: Path) -> Path:
    """A database with RECORDS chained records (day d at 2025-03-0d); returns the SQLite file."""
    database = data_dir / "fovea.db"
    engine = create_db_engine(f"sqlite:///{database}")
    migrate_engine(engine)
    with create_session_factory(engine)() as session:
        for number in range(1, RECORDS + 1):
            append_audit(
                session,
                AuditEntry(
                    actor=f"engine:offline@{number}",
                    action="charge_coding.suggest",
                    practice_id="PRA-1" if number % 2 else "PRA-2",
                    patient_id=f"PAT-00{number}",
                    thread_id=f"encounter:ENC-00{number}",
                    inputs_hash=f"{number:064x}",
                    detail={"step": number},
                ),
                at=datetime(2025, 3, number, 9, 0, tzinfo=UTC),
            )
    engine.dispose()
    return database


def tamper(database: Path, how: str) -> None:
    with closing(sqlite3.connect(database)) as connection:
        if how == "edited":
            connection.execute("UPDATE audit_log SET actor = 'user:mallory' WHERE id = 3")
        elif how == "deleted":
            connection.execute("DELETE FROM audit_log WHERE id = 4")
        else:
            # Swap the contents of records 2 and 3 (hashes moved with them, so each still hashes right).
            rows = {
                row[0]: row[1:]
                for row in connection.execute(f"SELECT id, {COLUMNS} FROM audit_log WHERE id IN (2, 3)")
            }
            # prev_hash and hash are unique: park record 2 out of the way first.
            connection.execute("UPDATE audit_log SET prev_hash = 'x', hash = 'y' WHERE id = 2")
            assignments = ", ".join(f"{column.strip()} = ?" for column in COLUMNS.split(","))
            connection.execute(f"UPDATE audit_log SET {assignments} WHERE id = 3", rows[2])
            connection.execute(f"UPDATE audit_log SET {assignments} WHERE id = 2", rows[3])
        connection.commit()


def fovea_audit(data_dir: Path, *args: str) -> subprocess.Popen[str]:
    """`fovea audit ...` as a child process on data_dir (the command group the CLI mounts as `audit`)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("FOVEA_")}
    env |= {"FOVEA_DATA_DIR": str(data_dir), "FOVEA_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-c", "from api.commands.audit import app; app()", *args]
    return subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_verify_names_the_edited_deleted_and_reordered_records(tmp_path: Path) -> None:
    cases = {"edited": "record 3", "deleted": "record 4", "reordered": "record 2"}
    running = {}
    for how in cases:
        data_dir = tmp_path / how
        tamper(write_trail(data_dir), how)
        # The checks run side by side: each child pays the import of the stack once.
        running[how] = fovea_audit(data_dir, "verify")
    for how, named in cases.items():
        out, err = running[how].communicate(timeout=60)
        assert running[how].returncode == 1, (how, out, err)
        assert f"FAILED: {how} {named}" in err, err


def test_verify_in_process_passes_an_intact_chain_and_explains_each_break(tmp_path: Path) -> None:
    for how, expected in {"intact": None, "edited": 3, "deleted": 4, "reordered": 2}.items():
        database = write_trail(tmp_path / how)
        if expected is not None:
            tamper(database, how)
        engine = create_db_engine(f"sqlite:///{database}")
        with create_session_factory(engine)() as session:
            check = verify_trail(session)
        engine.dispose()
        if expected is None:
            assert check.ok and check.records == RECORDS and check.problem is None
            continue
        assert not check.ok and check.problem is not None
        assert (check.problem.kind, check.problem.record_id) == (how, expected)


def test_export_since_a_date_as_csv_and_jsonl(tmp_path: Path) -> None:
    write_trail(tmp_path)
    output = tmp_path / "audit.csv"
    as_csv = fovea_audit(
        tmp_path, "export", "--since", "2025-03-04", "--format", "csv", "--output", str(output)
    )
    as_jsonl = fovea_audit(tmp_path, "export", "--since", "2025-03-04", "--format", "jsonl")
    jsonl_out, jsonl_err = as_jsonl.communicate(timeout=60)
    _csv_out, csv_err = as_csv.communicate(timeout=60)
    assert as_jsonl.returncode == 0 and as_csv.returncode == 0, (jsonl_err, csv_err)
    records = [json.loads(line) for line in jsonl_out.splitlines()]
    assert [record["id"] for record in records] == [4, 5, 6]
    assert records[0]["detail"] == {"step": 4} and len(records[0]["hash"]) == 64
    rows = list(csv.DictReader(io.StringIO(output.read_text())))
    assert [row["id"] for row in rows] == ["4", "5", "6"]
    assert rows[1]["prev_hash"] == records[0]["hash"] and json.loads(rows[2]["detail"]) == {"step": 6}


@pytest.mark.parametrize("role", [Role.ADMIN, Role.CODER])
def test_get_audit_is_for_admins_and_scoped_to_their_practices(settings: Settings, role: Role) -> None:
    write_trail(settings.data_dir)
    with secured_client(settings) as client:
        user = add_user(client, f"{role.value.lower()}-1", [role], ["PRA-1"])
        answer = client.get("/audit", params={"since": "2025-03-02"}, headers=bearer(user.api_key))
        if role is Role.CODER:
            assert answer.status_code == 403
            return
        assert answer.status_code == 200
        records = [record for record in answer.json() if record["action"] == "charge_coding.suggest"]
        assert [record["id"] for record in records] == [3, 5]
        assert {record["practice_id"] for record in answer.json()} == {"PRA-1"}
        foreign = client.get("/audit", params={"practice_id": "PRA-2"}, headers=bearer(user.api_key))
        assert foreign.status_code == 404
