"""The `files` adapter of the Crystal PM port: reads 835s and CSV exports from a folder, writes work items.

For a practice with no API: the clearinghouse's 835 files and Crystal PM's CSV report exports land in
the inbox (see docs/files-adapter.md for the columns), and every write the copilot makes after approval
(draft charges, claim edits, tasks) becomes a JSON work item in the outbox, which `fovea worklist export`
turns into CSV and PDF work lists for staff to key in. What files cannot hold raises NotSupported.
"""

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal, NoReturn, TypeVar

from pydantic import BaseModel, Field

from billing.charges import Charge
from billing.claims import Claim, ClaimStatus
from billing.contracts import Contract, FeeScheduleEntry
from billing.encounters import ClinicalNote, Encounter
from billing.practice import Coverage, Patient, Payer, Practice, Provider, User
from billing.settings import Settings
from billing.tasks import Task
from billing.x12_835 import X12Error
from tools.crystalpm.errors import CrystalPMError, NotFound, Rejected
from tools.crystalpm.exports import ArAgingRow, ExportContents, ExportError, PatientRow, read_export
from tools.crystalpm.models import (
    Appeal,
    Appointment,
    ClaimEdit,
    Health,
    LineOutcome,
    RemittanceFileInfo,
    WebhookDelivery,
    WebhookSubscription,
)
from tools.remittance.files import decode_x12, parse_835_bytes

REMITTANCE_SUFFIXES = frozenset({".835", ".era", ".edi", ".x12"})
EXPORT_SUFFIXES = frozenset({".csv"})
IMPORTED_DIR = "imported"
FAILED_DIR = "failed"
DEFAULT_PRACTICE_ID = "practice"
WorkKind = Literal["draft_charge", "claim_edit", "task"]
M = TypeVar("M", bound=BaseModel)


class NotSupported(CrystalPMError):
    """The files adapter cannot serve this operation: nothing a practice exports holds it."""


class WorkItem(BaseModel):
    """A write Crystal PM could not take by API, waiting in the outbox for staff to key it in."""

    kind: WorkKind
    idempotency_key: str
    created_at: datetime
    practice_id: str
    claim_id: str | None = None
    patient_id: str | None = None
    item: dict[str, Any] = Field(description="The charge, claim edit or task as JSON")


def content_sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def remittance_file_id(sha256: str) -> str:
    """The same bytes give the same id whatever the file is called: a renamed copy is the same remittance."""
    return f"file-{sha256[:16]}"


def is_remittance_file(path: Path) -> bool:
    return path.suffix.lower() in REMITTANCE_SUFFIXES


def is_export_file(path: Path) -> bool:
    return path.suffix.lower() in EXPORT_SUFFIXES


@dataclass
class _Remit:
    info: RemittanceFileInfo
    mtime: float


@dataclass
class _Export:
    contents: ExportContents
    mtime: float


class FilesCrystalPM:
    """The CrystalPM port over a folder: reads from `inbox_dir` (and its `imported/`), writes to `outbox_dir`."""

    def __init__(self, inbox_dir: Path, outbox_dir: Path, *, practice_id: str = DEFAULT_PRACTICE_ID) -> None:
        self.inbox_dir = Path(inbox_dir)
        self.outbox_dir = Path(outbox_dir)
        self.practice_id = practice_id
        self._remits: dict[Path, _Remit] = {}
        self._exports: dict[Path, _Export] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> "FilesCrystalPM":
        if settings.files_inbox_dir is None:
            raise CrystalPMError(
                "the 'files' Crystal PM adapter needs a folder: set FOVEA_FILES_INBOX_DIR to the folder where "
                "the clearinghouse's 835 files and Crystal PM's CSV exports are dropped"
            )
        outbox = settings.files_outbox_dir or settings.data_dir / "outbox"
        return cls(Path(settings.files_inbox_dir), Path(outbox), practice_id=settings.files_practice_id)

    def close(self) -> None:
        self._remits.clear()
        self._exports.clear()

    def __enter__(self) -> "FilesCrystalPM":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- scanning -------------------------------------------------------------------------------

    def _files(self) -> list[Path]:
        folders = [self.inbox_dir, self.inbox_dir / IMPORTED_DIR]
        return sorted(p for folder in folders if folder.is_dir() for p in folder.iterdir() if p.is_file())

    def _remittances(self) -> list[RemittanceFileInfo]:
        seen: dict[str, RemittanceFileInfo] = {}
        for path in self._files():
            if not is_remittance_file(path):
                continue
            mtime = path.stat().st_mtime
            cached = self._remits.get(path)
            if cached is None or cached.mtime != mtime:
                try:
                    cached = _Remit(self._read_remittance(path), mtime)
                except (OSError, X12Error):
                    continue  # the inbox importer reports unreadable files; the adapter skips them
                self._remits[path] = cached
            seen.setdefault(cached.info.id, cached.info)
        return sorted(seen.values(), key=lambda r: (r.received_on, r.filename))

    def _read_remittance(self, path: Path) -> RemittanceFileInfo:
        raw = path.read_bytes()
        remittance = parse_835_bytes(raw).remittance
        transaction = remittance.transactions[0]
        received = transaction.payment.date or datetime.fromtimestamp(path.stat().st_mtime, UTC).date()
        return RemittanceFileInfo(
            id=remittance_file_id(content_sha256(raw)),
            practice_id=self.practice_id,
            payer_id=transaction.payer_id or transaction.payer,
            received_on=received,
            filename=path.name,
            claim_ids=[c.patient_control_number for t in remittance.transactions for c in t.claims],
            x12=None,
        )

    def _contents(self) -> list[ExportContents]:
        found = []
        for path in self._files():
            if not is_export_file(path):
                continue
            mtime = path.stat().st_mtime
            cached = self._exports.get(path)
            if cached is None or cached.mtime != mtime:
                try:
                    text = path.read_bytes().decode("utf-8-sig", errors="replace")
                    cached = _Export(read_export(text, practice_id=self.practice_id), mtime)
                except (OSError, ExportError):
                    continue
                self._exports[path] = cached
            found.append(cached.contents)
        return found

    def _claims(self) -> dict[str, Claim]:
        # A later export of the same claim replaces the earlier one (exports are sorted by name).
        return {claim.id: claim for contents in self._contents() for claim in contents.claims}

    def _patient_rows(self) -> dict[str, PatientRow]:
        return {row.patient_id: row for contents in self._contents() for row in contents.patients}

    # --- reads files can serve ------------------------------------------------------------------

    def health(self) -> Health:
        if not self.inbox_dir.is_dir():
            raise CrystalPMError(f"the inbox folder {self.inbox_dir} does not exist")
        return Health(status="ok")

    def iter_remittances(
        self, practice_id: str | None = None, *, since: date | None = None
    ) -> Iterator[RemittanceFileInfo]:
        for info in self._remittances():
            if practice_id not in (None, info.practice_id) or (since and info.received_on < since):
                continue
            yield info

    def get_remittance(self, remittance_id: str) -> RemittanceFileInfo:
        for path in self._files():
            if (
                is_remittance_file(path)
                and remittance_file_id(content_sha256(path.read_bytes())) == remittance_id
            ):
                info = self._remits.get(path)
                base = info.info if info else self._read_remittance(path)
                return base.model_copy(update={"x12": decode_x12(path.read_bytes())})
        raise NotFound(f"no 835 file with id {remittance_id} in {self.inbox_dir}")

    def iter_claims(
        self,
        practice_id: str | None = None,
        *,
        status: ClaimStatus | None = None,
        since: date | None = None,
        patient_id: str | None = None,
    ) -> Iterator[Claim]:
        for claim in self._claims().values():
            if practice_id not in (None, claim.practice_id) or status not in (None, claim.status):
                continue
            if (since and claim.date_of_service < since) or patient_id not in (None, claim.patient_id):
                continue
            yield claim

    def get_claim(self, claim_id: str) -> Claim:
        claim = self._claims().get(claim_id)
        if claim is None:
            raise NotFound(f"claim {claim_id} is in no claims export in {self.inbox_dir}")
        return claim

    def iter_charges(
        self,
        *,
        encounter_id: str | None = None,
        practice_id: str | None = None,
        patient_id: str | None = None,
    ) -> Iterator[Charge]:
        for contents in self._contents():
            for charge in contents.charges:
                if encounter_id not in (None, charge.encounter_id) or practice_id not in (
                    None,
                    charge.practice_id,
                ):
                    continue
                if patient_id not in (None, charge.patient_id):
                    continue
                yield charge

    def get_charge(self, charge_id: str) -> Charge:
        for charge in self.iter_charges():
            if charge.id == charge_id:
                return charge
        raise NotFound(f"charge {charge_id} is in no charges export in {self.inbox_dir}")

    def iter_ar_aging(self, practice_id: str | None = None) -> Iterator[ArAgingRow]:
        """Open balances from the A/R aging exports (files only: the REST API computes aging itself)."""
        for contents in self._contents():
            yield from (row for row in contents.ar_aging if practice_id in (None, row.practice_id))

    def iter_patients(self, practice_id: str | None = None) -> Iterator[Patient]:
        for row in self._patient_rows().values():
            if practice_id in (None, row.practice_id or self.practice_id):
                yield row.as_patient(self.practice_id)

    def get_patient(self, patient_id: str) -> Patient:
        row = self._patient_rows().get(patient_id)
        if row is None:
            raise NotFound(f"patient {patient_id} is in no patients or claims export in {self.inbox_dir}")
        return row.as_patient(self.practice_id)

    def list_practices(self) -> list[Practice]:
        return [self.get_practice(self.practice_id)]

    def get_practice(self, practice_id: str) -> Practice:
        if practice_id != self.practice_id:
            raise NotFound(f"the files adapter serves one practice, {self.practice_id}")
        return Practice(id=self.practice_id, name=self.practice_id, npi="")

    # --- writes: work items in the outbox -------------------------------------------------------

    def _write_work(
        self, kind: WorkKind, key: str, item: M, *, claim_id: str | None, patient_id: str | None
    ) -> M:
        if not key.strip():
            raise Rejected("an idempotency key is required for every write", status=400)
        folder = self.outbox_dir / "pending"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{kind}-{_safe(key)}.json"
        if path.exists():
            stored = WorkItem.model_validate_json(path.read_text(encoding="utf-8"))
            return type(item).model_validate(stored.item)
        work = WorkItem(
            kind=kind,
            idempotency_key=key,
            created_at=datetime.now(UTC),
            practice_id=getattr(item, "practice_id", self.practice_id),
            claim_id=claim_id,
            patient_id=patient_id,
            item=item.model_dump(mode="json"),
        )
        temporary = path.with_suffix(".tmp")
        temporary.write_text(work.model_dump_json(indent=2), encoding="utf-8")
        temporary.replace(path)  # atomic: a reader never sees half a work item
        return item

    def post_draft_charge(self, charge: Charge, idempotency_key: str) -> Charge:
        if not charge.id:
            charge = charge.model_copy(update={"id": f"draft-{_digest(idempotency_key)}"})
        return self._write_work(
            "draft_charge", idempotency_key, charge, claim_id=None, patient_id=charge.patient_id
        )

    def update_claim(self, claim_id: str, edit: ClaimEdit, idempotency_key: str) -> Claim:
        claim = self.get_claim(claim_id)
        changes = {k: v for k, v in edit.model_dump(exclude={"note"}).items() if v is not None}
        updated = claim.model_validate({**claim.model_dump(), **changes})
        self._write_work(
            "claim_edit",
            idempotency_key,
            edit,
            claim_id=claim_id,
            patient_id=claim.patient_id,
        )
        return updated

    def create_task(self, task: Task, idempotency_key: str) -> Task:
        if not task.id:
            task = task.model_copy(update={"id": f"task-{_digest(idempotency_key)}"})
        return self._write_work(
            "task", idempotency_key, task, claim_id=task.claim_id, patient_id=task.patient_id
        )

    def iter_tasks(self, practice_id: str | None = None, *, status: str | None = None) -> Iterator[Task]:
        for work in pending_work(self.outbox_dir, kinds=("task",)):
            task = Task.model_validate(work.item)
            if practice_id in (None, task.practice_id) and status in (None, task.status):
                yield task

    # --- what files cannot hold -----------------------------------------------------------------

    def _unsupported(self, what: str) -> NoReturn:
        raise NotSupported(
            f"the files adapter cannot {what}: no Crystal PM export holds it. Use the REST adapter "
            "(FOVEA_CRYSTALPM_ADAPTER=rest) or enter it in Crystal PM by hand."
        )

    def list_providers(self, practice_id: str | None = None) -> list[Provider]:
        self._unsupported("list providers")

    def list_payers(self) -> list[Payer]:
        self._unsupported("list payers")

    def get_payer(self, payer_id: str) -> Payer:
        self._unsupported("read a payer")

    def iter_users(self, practice_id: str | None = None) -> Iterator[User]:
        self._unsupported("list users")

    def get_fee_schedule(self, practice_id: str) -> list[FeeScheduleEntry]:
        self._unsupported("read the fee schedule")

    def get_coverage(self, patient_id: str) -> list[Coverage]:
        self._unsupported("read a patient's coverage")

    def get_visit_history(self, patient_id: str) -> list[Encounter]:
        self._unsupported("read visit history")

    def iter_encounters(
        self,
        practice_id: str | None = None,
        *,
        since: date | None = None,
        until: date | None = None,
        unbilled: bool | None = None,
    ) -> Iterator[Encounter]:
        self._unsupported("list encounters")

    def get_encounter(self, encounter_id: str) -> Encounter:
        self._unsupported("read an encounter")

    def get_note(self, encounter_id: str) -> ClinicalNote:
        self._unsupported("read an exam note")

    def iter_appointments(self, practice_id: str | None = None) -> Iterator[Appointment]:
        self._unsupported("list appointments")

    def get_claim_outcome(self, claim_id: str) -> list[LineOutcome]:
        self._unsupported("read a claim's line outcomes (post the 835 instead)")

    def iter_contracts(
        self, practice_id: str | None = None, *, payer_id: str | None = None
    ) -> Iterator[Contract]:
        self._unsupported("list contracts (load them with `fovea contract` instead)")

    def get_contract(self, contract_id: str) -> Contract:
        self._unsupported("read a contract")

    def iter_appeals(
        self, practice_id: str | None = None, *, claim_id: str | None = None
    ) -> Iterator[Appeal]:
        self._unsupported("list appeals")

    def list_webhook_subscriptions(self) -> list[WebhookSubscription]:
        self._unsupported("manage webhooks (the inbox watcher replaces them)")

    def ensure_webhook_subscription(self, url: str, events: Iterable[str]) -> WebhookSubscription:
        self._unsupported("manage webhooks (the inbox watcher replaces them)")

    def list_webhook_deliveries(self, event_id: str) -> list[WebhookDelivery]:
        self._unsupported("list webhook deliveries")


def pending_work(outbox_dir: Path, *, kinds: Iterable[WorkKind] | None = None) -> list[WorkItem]:
    """The work items waiting in the outbox, oldest first."""
    folder = Path(outbox_dir) / "pending"
    if not folder.is_dir():
        return []
    wanted = set(kinds) if kinds is not None else None
    items = [WorkItem.model_validate_json(p.read_text(encoding="utf-8")) for p in folder.glob("*.json")]
    return sorted(
        (w for w in items if wanted is None or w.kind in wanted),
        key=lambda w: (w.created_at, w.idempotency_key),
    )


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


def _safe(key: str) -> str:
    """A file name for an idempotency key: readable when it is simple, hashed when it is not."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", key)[:80]
    return cleaned if cleaned == key else f"{cleaned}-{_digest(key)}"
