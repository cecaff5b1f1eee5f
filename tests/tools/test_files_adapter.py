"""The `files` Crystal PM adapter: 835s and CSV exports from a folder, writes as outbox work items."""

import inspect
import shutil
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from billing.posting import PatientKey, reconcile
from billing.settings import Settings
from billing.tasks import Task
from billing.x12_835 import parse_835
from tests.support.sandbox_data import SYNTHETIC_835
from tools.crystalpm import CrystalPM, CrystalPMError, FilesCrystalPM, NotFound, NotSupported, make_crystalpm
from tools.crystalpm.files import pending_work, remittance_file_id
from tools.crystalpm.models import ClaimEdit

CLAIMS_CSV = """Claim ID,Patient ID,Patient Last Name,Patient First Name,Date of Service,Payer ID,Line Number,Code,Modifiers,Units,Charge,Diagnosis Codes
CLM-001,PAT-001,Testwood,Avery,2025-02-20,pay-1,1,92014,,1,165.00,H40.1131
CLM-001,PAT-001,Testwood,Avery,2025-02-20,pay-1,2,92134,RT,1,$60.00,H40.1131
CLM-002,PAT-002,Samplefield,Blake,02/21/2025,pay-1,1,92014,,1,165.00,E11.9
"""
AGING_CSV = """claim_id,patient_id,payer_id,date_of_service,billed,balance
CLM-009,PAT-001,pay-1,{dos},225.00,60.00
"""


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    (folder / "imported").mkdir(parents=True)
    (folder / "lakeside_20250301.835").write_text(SYNTHETIC_835, encoding="ascii")
    (folder / "imported" / "claims.csv").write_text(CLAIMS_CSV, encoding="utf-8")
    dos = (date.today() - timedelta(days=45)).isoformat()
    (folder / "aging.csv").write_text(AGING_CSV.format(dos=dos), encoding="utf-8")
    (folder / "notes.txt").write_text("not an export", encoding="utf-8")
    return folder


@pytest.fixture
def client(inbox: Path, tmp_path: Path) -> FilesCrystalPM:
    return FilesCrystalPM(inbox, tmp_path / "outbox", practice_id="PRA-1")


def test_remittances_come_from_835_files_with_an_id_from_their_content(
    client: FilesCrystalPM, inbox: Path
) -> None:
    [info] = list(client.iter_remittances())
    assert info.claim_ids == ["CLM-001", "CLM-002"]
    assert info.received_on == date(2025, 3, 1)
    assert info.practice_id == "PRA-1" and info.x12 is None
    # A renamed copy is the same remittance, listed once.
    shutil.copy(inbox / "lakeside_20250301.835", inbox / "imported" / "copy.edi")
    assert [r.id for r in client.iter_remittances()] == [info.id]
    fetched = client.get_remittance(info.id)
    assert fetched.x12 is not None and parse_835(fetched.x12).remittance.transactions
    assert list(client.iter_remittances(since=date(2025, 3, 2))) == []
    with pytest.raises(NotFound):
        client.get_remittance(remittance_file_id("0" * 64))


def test_claims_patients_and_aging_come_from_csv_exports(client: FilesCrystalPM) -> None:
    claim = client.get_claim("CLM-001")
    assert [(line.line_number, line.code, line.modifiers, line.charge) for line in claim.lines] == [
        (1, "92014", [], Decimal("165.00")),
        (2, "92134", ["RT"], Decimal("60.00")),
    ]
    assert claim.total_charge == Decimal("225.00") and claim.practice_id == "PRA-1"
    assert {c.id for c in client.iter_claims(patient_id="PAT-002")} == {"CLM-002"}
    assert client.get_claim("CLM-002").date_of_service == date(2025, 2, 21)
    patient = client.get_patient("PAT-001")
    assert (patient.last_name, patient.first_name) == ("Testwood", "Avery")
    [aging] = list(client.iter_ar_aging())
    assert (aging.balance, aging.days_outstanding, aging.bucket) == (Decimal("60.00"), 45, "31-60")
    with pytest.raises(NotFound):
        client.get_claim("CLM-404")


def test_posting_runs_on_what_the_files_adapter_reads(client: FilesCrystalPM) -> None:
    [info] = list(client.iter_remittances())
    remittance = parse_835(client.get_remittance(info.id).x12 or "").remittance
    claims = list(client.iter_claims())
    patients = {
        p.id: PatientKey(last_name=p.last_name, first_name=p.first_name) for p in client.iter_patients()
    }
    result = reconcile(remittance, claims, patients=patients)
    assert [m.claim_id for m in result.matches] == ["CLM-001", "CLM-002"]
    assert result.auto_matched == 2


def test_what_files_cannot_hold_raises_not_supported(client: FilesCrystalPM) -> None:
    for call in (
        lambda: client.get_note("ENC-1"),
        lambda: list(client.iter_encounters()),
        lambda: client.get_fee_schedule("PRA-1"),
        lambda: client.ensure_webhook_subscription("http://x", ["note.finalized"]),
    ):
        with pytest.raises(NotSupported, match="files adapter cannot"):
            call()
    assert issubclass(NotSupported, CrystalPMError)


def test_writes_become_outbox_work_items_once_per_idempotency_key(client: FilesCrystalPM) -> None:
    task = Task(practice_id="PRA-1", kind="appeal", title="Appeal CLM-002 (CO-50)", claim_id="CLM-002")
    first = client.create_task(task, "appeal:CLM-002")
    again = client.create_task(task.model_copy(update={"title": "changed"}), "appeal:CLM-002")
    assert first.id and again.id == first.id and again.title == task.title
    edited = client.update_claim(
        "CLM-001", ClaimEdit(diagnosis_codes=["H40.1132"], note="laterality"), "fix:1"
    )
    assert edited.diagnosis_codes == ["H40.1132"] and len(edited.lines) == 2
    work = pending_work(client.outbox_dir)
    assert sorted(w.kind for w in work) == ["claim_edit", "task"]
    assert [t.title for t in client.iter_tasks()] == [task.title]
    with pytest.raises(NotFound):
        client.update_claim("CLM-404", ClaimEdit(note="x"), "fix:2")


def test_the_files_adapter_offers_every_port_operation_with_its_parameters() -> None:
    operations = [name for name in dir(CrystalPM) if not name.startswith("_")]
    for name in operations:
        expected = list(inspect.signature(getattr(CrystalPM, name)).parameters)
        assert list(inspect.signature(getattr(FilesCrystalPM, name)).parameters) == expected, name


def test_the_factory_builds_the_files_adapter_from_settings(settings: Settings, tmp_path: Path) -> None:
    configured = settings.model_copy(
        update={
            "crystalpm_adapter": "files",
            "files_inbox_dir": tmp_path / "in",
            "files_practice_id": "PRA-9",
        }
    )
    client = make_crystalpm(configured)
    assert isinstance(client, FilesCrystalPM)
    assert client.outbox_dir == settings.data_dir / "outbox" and client.practice_id == "PRA-9"
    with pytest.raises(CrystalPMError, match="does not exist"):
        client.health()
