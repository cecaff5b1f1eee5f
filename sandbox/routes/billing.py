"""Billing resources: charges and drafts, claims and claim edits, remittances, contracts, appeals, tasks."""

import json
import uuid
from datetime import UTC, date, datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, insert, update

from billing.charges import Charge, ChargeStatus
from billing.claims import Claim, ClaimLine, ClaimStatus, ClaimStatusEvent
from billing.encounters import Encounter
from billing.practice import Coverage
from billing.tasks import Task
from sandbox.db import resources
from sandbox.deps import ConnDep, equal_to
from sandbox.idempotency import IdempotencyKeyDep, run_idempotent
from sandbox.problems import ProblemError
from sandbox.queries import PageDep, get_payload, json_response, list_json, page_json, require_payload
from sandbox.store import charge_row, claim_row, resource_row

router = APIRouter()
r = resources.c


def _new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12].upper()}"


def _unknown_reference(field: str, value: str) -> ProblemError:
    return ProblemError(
        422, f"{field} {value!r} refers to nothing in this practice's data.", kind="unknown-reference"
    )


@router.get("/charges")
def list_charges(
    conn: ConnDep,
    page: PageDep,
    encounter_id: str | None = None,
    practice_id: str | None = None,
    patient_id: str | None = None,
) -> Response:
    filters = equal_to(
        (r.encounter_id, encounter_id), (r.practice_id, practice_id), (r.patient_id, patient_id)
    )
    return json_response(page_json(conn, "charge", filters, page))


@router.get("/charges/{charge_id}")
def get_charge(conn: ConnDep, charge_id: str) -> Response:
    return json_response(require_payload(conn, "charge", charge_id))


@router.post("/charges/draft", status_code=201)
def create_draft_charge(request: Request, charge: Charge, key: IdempotencyKeyDep) -> Response:
    """Store the charge as a draft of the encounter it names; the server sets id, status and created_at."""

    def write(conn: Connection) -> tuple[int, str]:
        payload = get_payload(conn, "encounter", charge.encounter_id)
        if payload is None:
            raise _unknown_reference("encounter_id", charge.encounter_id)
        encounter = Encounter.model_validate_json(payload)
        if (charge.practice_id, charge.patient_id) != (encounter.practice_id, encounter.patient_id):
            raise ProblemError(
                422,
                f"The charge's practice_id/patient_id do not match encounter {encounter.id}; "
                "send the encounter's own practice and patient.",
                kind="encounter-mismatch",
            )
        draft = charge.model_copy(
            update={
                "id": _new_id("CHG"),
                "status": ChargeStatus.DRAFT,
                "provider_id": charge.provider_id or encounter.provider_id,
                "created_at": datetime.now(UTC),
            }
        )
        row = charge_row(draft)
        conn.execute(insert(resources).values(**row))
        return 201, row["payload"]

    return run_idempotent(request, key, charge, write)


@router.get("/claims")
def list_claims(
    conn: ConnDep,
    page: PageDep,
    practice_id: str | None = None,
    status: ClaimStatus | None = None,
    since: date | None = None,
    patient_id: str | None = None,
) -> Response:
    """Claims by id; `since` keeps dates of service on or after it."""
    filters = equal_to((r.practice_id, practice_id), (r.status, status), (r.patient_id, patient_id))
    if since is not None:
        filters.append(r.on_date >= since.isoformat())
    return json_response(page_json(conn, "claim", filters, page))


@router.get("/claims/{claim_id}")
def get_claim(conn: ConnDep, claim_id: str) -> Response:
    return json_response(require_payload(conn, "claim", claim_id))


@router.get("/claims/{claim_id}/outcome")
def get_claim_outcome(conn: ConnDep, claim_id: str) -> Response:
    """The adjudicated lines; an empty list until the simulated payer has adjudicated the claim."""
    require_payload(conn, "claim", claim_id)
    return json_response(list_json(conn, "outcome", [r.claim_id == claim_id]))


class ClaimEdit(BaseModel):
    """A claim edit: any of lines, diagnosis codes and coverage, with a note saying why."""

    model_config = ConfigDict(extra="forbid")

    lines: list[ClaimLine] | None = None
    diagnosis_codes: list[str] | None = Field(None, max_length=12)
    coverage_id: str | None = None
    note: str = Field(min_length=1, description="Why the claim was edited; kept in the claim's history")


# Once the payer has answered, an edited claim goes out again as a replacement (frequency 7).
_RESUBMITTED = {ClaimStatus.DENIED, ClaimStatus.PAID, ClaimStatus.PARTIALLY_PAID}


def _apply_edit(conn: Connection, claim: Claim, edit: ClaimEdit) -> Claim:
    changes: dict[str, object] = {}
    if edit.lines is not None:
        changes["lines"] = edit.lines
    if edit.diagnosis_codes is not None:
        changes["diagnosis_codes"] = edit.diagnosis_codes
    if edit.coverage_id is not None:
        payload = get_payload(conn, "coverage", edit.coverage_id)
        coverage = Coverage.model_validate_json(payload) if payload else None
        if coverage is None or coverage.patient_id != claim.patient_id:
            raise _unknown_reference("coverage_id", edit.coverage_id)
        changes.update(coverage_id=coverage.id, payer_id=coverage.payer_id)
    edited = claim.model_copy(update=changes)
    for line in edited.lines:
        if any(not 0 < pointer <= len(edited.diagnosis_codes) for pointer in line.diagnosis_pointers):
            raise ProblemError(
                422,
                f"Line {line.line_number} points at a diagnosis the claim does not have "
                f"(it has {len(edited.diagnosis_codes)}).",
                kind="bad-diagnosis-pointer",
            )
    status = claim.status
    if status in (*_RESUBMITTED, ClaimStatus.REJECTED):
        status = ClaimStatus.READY
        if claim.status in _RESUBMITTED:
            edited.frequency_code = "7"
    edited.status = status
    edited.history = [*claim.history, ClaimStatusEvent(status=status, at=datetime.now(UTC), note=edit.note)]
    return edited


@router.patch("/claims/{claim_id}")
def edit_claim(request: Request, claim_id: str, edit: ClaimEdit, key: IdempotencyKeyDep) -> Response:
    """Apply a claim edit; a denied, rejected or paid claim becomes ready to send again."""

    def write(conn: Connection) -> tuple[int, str]:
        claim = Claim.model_validate_json(require_payload(conn, "claim", claim_id))
        if claim.status == ClaimStatus.CLOSED:
            raise ProblemError(409, f"Claim {claim_id} is closed and cannot be edited.", kind="claim-closed")
        row = claim_row(_apply_edit(conn, claim, edit))
        conn.execute(update(resources).where(r.kind == "claim", r.id == claim_id).values(**row))
        return 200, row["payload"]

    return run_idempotent(request, key, edit, write)


@router.get("/remittances")
def list_remittances(
    conn: ConnDep, page: PageDep, practice_id: str | None = None, since: date | None = None
) -> Response:
    """Remittance files without their X12 text; `since` keeps those received on or after it."""
    filters = equal_to((r.practice_id, practice_id))
    if since is not None:
        filters.append(r.on_date >= since.isoformat())
    return json_response(page_json(conn, "remittance", filters, page))


@router.get("/remittances/{remittance_id}")
def get_remittance(conn: ConnDep, remittance_id: str) -> Response:
    summary = json.loads(require_payload(conn, "remittance", remittance_id))
    summary["x12"] = get_payload(conn, "remittance_x12", remittance_id) or ""
    return json_response(json.dumps(summary, separators=(",", ":")))


@router.get("/contracts")
def list_contracts(
    conn: ConnDep, page: PageDep, practice_id: str | None = None, payer_id: str | None = None
) -> Response:
    filters = equal_to((r.practice_id, practice_id), (r.payer_id, payer_id))
    return json_response(page_json(conn, "contract", filters, page))


@router.get("/contracts/{contract_id}")
def get_contract(conn: ConnDep, contract_id: str) -> Response:
    return json_response(require_payload(conn, "contract", contract_id))


@router.get("/appeals")
def list_appeals(
    conn: ConnDep, page: PageDep, practice_id: str | None = None, claim_id: str | None = None
) -> Response:
    filters = equal_to((r.practice_id, practice_id), (r.claim_id, claim_id))
    return json_response(page_json(conn, "appeal", filters, page))


@router.get("/tasks")
def list_tasks(
    conn: ConnDep, page: PageDep, practice_id: str | None = None, status: str | None = None
) -> Response:
    filters = equal_to((r.practice_id, practice_id), (r.status, status))
    return json_response(page_json(conn, "task", filters, page))


@router.post("/tasks", status_code=201)
def create_task(request: Request, task: Task, key: IdempotencyKeyDep) -> Response:
    """Create a work item for staff; the server assigns id and created_at."""

    def write(conn: Connection) -> tuple[int, str]:
        if get_payload(conn, "practice", task.practice_id) is None:
            raise _unknown_reference("practice_id", task.practice_id)
        created = task.model_copy(update={"id": _new_id("TSK"), "created_at": datetime.now(UTC)})
        row = resource_row(
            "task",
            created,
            practice_id=created.practice_id,
            patient_id=created.patient_id,
            claim_id=created.claim_id,
            status=created.status,
        )
        conn.execute(insert(resources).values(**row))
        return 201, row["payload"]

    return run_idempotent(request, key, task, write)
