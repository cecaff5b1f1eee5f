"""The watched inbox: each file imported once by content, a clear result per file, real SQLite ledger."""

import shutil
import threading
from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from api.commands import remit
from api.storage.db import create_db_engine, create_session_factory
from api.storage.imports import SqlImportLedger
from api.storage.migrate import migrate_engine
from api.storage.models import Event
from billing.settings import Settings
from billing.x12_835 import ParseResult
from tests.support.sandbox_data import SYNTHETIC_835
from tools.crystalpm.models import RemittanceFileInfo
from tools.remittance.inbox import FileImport, import_inbox, watch_inbox

CLAIMS_CSV = (
    "claim_id,patient_id,date_of_service,line_number,code,charge\nCLM-001,PAT-001,2025-02-20,1,92014,165.00\n"
)


@pytest.fixture
def ledger(tmp_path: Path):
    engine = create_db_engine(f"sqlite:///{tmp_path / 'fovea.db'}")
    migrate_engine(engine)
    yield SqlImportLedger(create_session_factory(engine))
    engine.dispose()


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


def by_name(results: list[FileImport]) -> dict[str, FileImport]:
    return {r.filename: r for r in results}


def test_each_file_gets_a_result_and_is_sorted_into_a_folder(inbox: Path, ledger: SqlImportLedger) -> None:
    (inbox / "era.835").write_text(SYNTHETIC_835, encoding="ascii")
    (inbox / "claims.csv").write_text(CLAIMS_CSV, encoding="utf-8")
    (inbox / "broken.835").write_text("hello, not X12", encoding="ascii")
    (inbox / "bad.csv").write_text(
        "claim_id,patient_id,date_of_service,line_number,code,charge\nC1,P1,soon,1,92014,1\n"
    )
    (inbox / "download.835.part").write_text(SYNTHETIC_835[:50], encoding="ascii")
    seen: list[RemittanceFileInfo] = []
    results = by_name(
        import_inbox(
            inbox, ledger, practice_id="PRA-1", on_remittance=lambda info, _parsed: seen.append(info)
        )
    )
    assert set(results) == {"era.835", "claims.csv", "broken.835", "bad.csv"}
    era = results["era.835"]
    assert (era.kind, era.status, era.summary["claims"], era.summary["paid"]) == (
        "remittance",
        "imported",
        2,
        "165.00",
    )
    assert era.findings >= 0 and era.moved_to == "imported/era.835"
    assert [info.claim_ids for info in seen] == [["CLM-001", "CLM-002"]] and seen[0].x12
    assert (results["claims.csv"].kind, results["claims.csv"].summary) == ("claims", {"rows": 1, "claims": 1})
    assert results["broken.835"].status == "failed" and "not an X12 file" in results["broken.835"].reason
    assert results["bad.csv"].status == "failed" and "row 2" in results["bad.csv"].reason
    assert (inbox / "failed" / "bad.csv").exists() and (inbox / "download.835.part").exists()


def test_the_same_file_twice_or_a_renamed_copy_imports_once(
    inbox: Path, ledger: SqlImportLedger, tmp_path: Path
) -> None:
    original = tmp_path / "era.835"
    original.write_text(SYNTHETIC_835, encoding="ascii")
    calls: list[str] = []

    def received(info: RemittanceFileInfo, _parsed: ParseResult) -> None:
        calls.append(info.id)

    shutil.copy(original, inbox / "era.835")
    [first] = import_inbox(inbox, ledger, practice_id="PRA-1", on_remittance=received)
    shutil.copy(original, inbox / "era.835")  # dropped again
    [again] = import_inbox(inbox, ledger, practice_id="PRA-1", on_remittance=received)
    shutil.copy(original, inbox / "ERA-copy-2025.835")  # renamed copy
    [renamed] = import_inbox(inbox, ledger, practice_id="PRA-1", on_remittance=received)
    assert first.status == "imported"
    assert (again.status, again.duplicate_of) == ("duplicate", "era.835")
    assert (renamed.status, renamed.duplicate_of) == ("duplicate", "era.835")
    assert renamed.moved_to == "duplicates/ERA-copy-2025.835"
    assert len(calls) == 1


def test_leave_mode_keeps_files_in_place_and_still_imports_once(inbox: Path, ledger: SqlImportLedger) -> None:
    (inbox / "era.835").write_text(SYNTHETIC_835, encoding="ascii")
    first = import_inbox(inbox, ledger, practice_id="PRA-1", after_import="leave")
    second = import_inbox(inbox, ledger, practice_id="PRA-1", after_import="leave")
    assert [r.status for r in first + second] == ["imported", "duplicate"]
    assert (inbox / "era.835").exists() and first[0].moved_to is None


def test_a_file_the_workflow_did_not_take_stays_to_be_retried(inbox: Path, ledger: SqlImportLedger) -> None:
    (inbox / "era.835").write_text(SYNTHETIC_835, encoding="ascii")

    def refuse(_info: RemittanceFileInfo, _parsed: ParseResult) -> None:
        raise ConnectionError("queue down")

    [failed] = import_inbox(inbox, ledger, practice_id="PRA-1", on_remittance=refuse)
    assert (failed.status, failed.retry) == ("failed", True) and "will retry" in failed.reason
    assert (inbox / "era.835").exists() and ledger.find(failed.sha256) is None
    [done] = import_inbox(inbox, ledger, practice_id="PRA-1", on_remittance=lambda *_: None)
    assert done.status == "imported"


def test_watch_scans_until_stopped(inbox: Path, ledger: SqlImportLedger) -> None:
    stop = threading.Event()
    reports: list[list[FileImport]] = []

    def report(results: list[FileImport]) -> None:
        reports.append(results)
        stop.set()

    (inbox / "era.835").write_text(SYNTHETIC_835, encoding="ascii")
    watcher = threading.Thread(
        target=watch_inbox,
        args=(lambda: import_inbox(inbox, ledger, practice_id="PRA-1"),),
        kwargs={"poll_seconds": 0.05, "stop": stop, "report": report},
    )
    watcher.start()
    watcher.join(timeout=30)
    assert not watcher.is_alive()
    assert [[r.status for r in batch] for batch in reports] == [["imported"]]


def test_fovea_remit_import_queues_each_new_835_once(
    inbox: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    configured = settings.model_copy(update={"files_inbox_dir": inbox, "files_practice_id": "PRA-1"})
    monkeypatch.setattr("billing.settings.get_settings", lambda: configured)
    root = typer.Typer()
    root.add_typer(remit.app, name="remit")
    (inbox / "era.835").write_text(SYNTHETIC_835, encoding="ascii")
    done = CliRunner().invoke(root, ["remit", "import"])
    assert done.exit_code == 0, done.output
    assert "imported" in done.output and "era.835" in done.output
    (inbox / "again.835").write_text(SYNTHETIC_835, encoding="ascii")
    done = CliRunner().invoke(root, ["remit", "import", "--dir", str(inbox)])
    assert done.exit_code == 0 and "duplicate" in done.output
    engine = create_db_engine(configured.resolved_database_url)
    try:
        with create_session_factory(engine)() as session:
            events = list(session.scalars(select(Event)))
    finally:
        engine.dispose()
    assert [(e.type, e.practice_id) for e in events] == [("remittance.received", "PRA-1")]
    assert (
        events[0].id.startswith("files:file-") and events[0].payload["data"]["remittance_id"] in events[0].id
    )
