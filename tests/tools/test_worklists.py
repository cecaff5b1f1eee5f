"""Work lists: approved items as CSV and PDF for staff, each marked exported in the audit log once."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from api.commands.worklists import EXPORTED_ACTION, Format, Source, export_approved
from api.storage.audit import verify_chain
from api.storage.db import create_db_engine, create_session_factory
from api.storage.migrate import migrate_engine
from api.storage.models import AuditRecord
from billing.charges import Charge, ChargeLine
from billing.posting import reconcile
from billing.settings import Settings
from billing.tasks import Task
from tests.billing.posting_support import claim, paid_line, payment, remittance
from tools.crystalpm.files import FilesCrystalPM, pending_work
from tools.crystalpm.models import ClaimEdit
from tools.worklists import WorkListItem, export_worklists, items_from_outbox, items_from_posting

TODAY = date(2026, 3, 20)
CLAIMS_CSV = (
    "claim_id,patient_id,date_of_service,line_number,code,charge\nCLM-7,PAT-1,2026-03-02,1,92014,165.00\n"
)


def posting_items() -> list[WorkListItem]:
    claims = [claim("clm-1", "pat-1", [("92014", [], "165.00"), ("92134", ["RT"], "60.00")])]
    remit = remittance(
        payment(
            "clm-1",
            [
                paid_line("92014", "165.00", "80.00", patient="20.00"),
                paid_line("92134", "60.00", "30.00", modifiers=["RT"]),
            ],
        )
    )
    [draft] = reconcile(
        remit, claims, expected=lambda _c, line: Decimal("120.00") if line.code == "92014" else None
    ).drafts
    return items_from_posting(
        draft, item_id="rev-1", approved_by="user:biller", approved_at=datetime(2026, 3, 19, tzinfo=UTC)
    )


def test_a_posting_becomes_one_row_per_line_with_what_to_leave_open() -> None:
    exam, oct_line = posting_items()
    assert (exam.item_id, exam.claim_id, exam.amount) == ("rev-1:1", "clm-1", Decimal("80.00"))
    assert "write off 45.00" in exam.detail and "leave open 20.00" in exam.detail
    assert oct_line.title == "Post line 2 92134-RT" and "leave open" not in oct_line.detail


def test_csv_work_lists_hold_every_item_and_report_each_export(tmp_path: Path) -> None:
    appeal = WorkListItem(kind="appeal", item_id="task:a1", claim_id="clm-2", title="Appeal CO-50")
    items = [*posting_items(), appeal]
    exported: list[tuple[str, str]] = []
    files = export_worklists(
        items,
        tmp_path,
        fmt="csv",
        generated_on=TODAY,
        on_exported=lambda item, path: exported.append((item.item_id, path.name)),
    )
    assert [f.name for f in files] == ["postings-2026-03-20.csv", "appeals-2026-03-20.csv"]
    rows = list(csv.DictReader(io.StringIO(files[0].read_text(encoding="utf-8"))))
    assert [(r["item_id"], r["claim_id"], r["amount"]) for r in rows] == [
        ("rev-1:1", "clm-1", "80.00"),
        ("rev-1:2", "clm-1", "30.00"),
    ]
    assert exported == [("rev-1:1", files[0].name), ("rev-1:2", files[0].name), ("task:a1", files[1].name)]


def test_pdf_work_lists_are_pdfs_that_name_the_claims(tmp_path: Path) -> None:
    tasks = [
        WorkListItem(kind="task", item_id=f"t{n}", claim_id=f"CLM-{n:04d}", title="Call payer é")
        for n in range(60)
    ]
    items = [*posting_items(), *tasks]
    files = export_worklists(items, tmp_path, fmt="pdf", generated_on=TODAY, compress=False)
    assert [f.name for f in files] == ["postings-2026-03-20.pdf", "tasks-2026-03-20.pdf"]
    for path in files:
        assert path.read_bytes().startswith(b"%PDF")
    assert b"clm-1" in files[0].read_bytes()
    tasks = files[1].read_bytes()
    assert b"CLM-0000" in tasks and b"CLM-0059" in tasks  # the list runs over pages; nothing is dropped


@pytest.fixture
def sessions(tmp_path: Path):
    engine = create_db_engine(f"sqlite:///{tmp_path / 'fovea.db'}")
    migrate_engine(engine)
    yield create_session_factory(engine)
    engine.dispose()


def test_outbox_items_export_once_and_are_marked_in_the_audit(
    settings: Settings, sessions, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "claims.csv").write_text(CLAIMS_CSV, encoding="utf-8")
    configured = settings.model_copy(
        update={"files_inbox_dir": inbox, "files_outbox_dir": tmp_path / "outbox"}
    )
    client = FilesCrystalPM.from_settings(configured)
    client.create_task(
        Task(practice_id="practice", kind="appeal", title="Appeal CLM-7", claim_id="CLM-7"), "appeal:7"
    )
    client.update_claim(
        "CLM-7", ClaimEdit(diagnosis_codes=["H40.1131"], note="add the glaucoma code"), "fix:7"
    )
    client.post_draft_charge(
        Charge(
            practice_id="practice", encounter_id="ENC-3", patient_id="PAT-1", lines=[ChargeLine(code="92014")]
        ),
        "charge:ENC-3",
    )
    kinds = sorted(item.kind for item in items_from_outbox(pending_work(configured.files_outbox_dir)))
    assert kinds == ["appeal", "charge", "correction"]

    output = tmp_path / "lists"
    files, count = export_approved(
        configured,
        sessions,
        since=TODAY.replace(year=2000),
        fmt=Format.CSV,
        output=output,
        source=Source.OUTBOX,
    )
    assert count == 3 and sorted(f.name.split("-")[0] for f in files) == ["appeals", "charges", "corrections"]
    corrections = next(f for f in files if f.name.startswith("corrections"))
    assert "add the glaucoma code" in corrections.read_text(encoding="utf-8")
    again, count_again = export_approved(
        configured,
        sessions,
        since=TODAY.replace(year=2000),
        fmt=Format.CSV,
        output=output,
        source=Source.OUTBOX,
    )
    assert (again, count_again) == ([], 0)
    # The PDF format is its own export.
    pdfs, pdf_count = export_approved(
        configured,
        sessions,
        since=TODAY.replace(year=2000),
        fmt=Format.PDF,
        output=output,
        source=Source.OUTBOX,
    )
    assert pdf_count == 3 and all(p.suffix == ".pdf" for p in pdfs)
    with sessions() as session:
        records = list(session.scalars(select(AuditRecord).where(AuditRecord.action == EXPORTED_ACTION)))
        assert len(records) == 6 and verify_chain(session).ok
    assert {r.detail["format"] for r in records} == {"csv", "pdf"}
    assert {r.claim_id for r in records} == {"CLM-7", ""}
