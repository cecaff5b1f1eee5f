"""Contract pages for the UI: a contract's approved terms, the variance leak, the dispute worklist, and intake."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from agents.contracts.fee_schedule_import import (
    FeeScheduleImportError,
    fee_schedule_text,
    read_fee_schedule_csv,
)
from agents.contracts.loaders import ContractSourceError, load_contract_bytes
from agents.contracts.schemas import IntakeRequest
from agents.variance.aggregate import LeakRow, leak_by
from agents.variance.schemas import UNDERPAID_KINDS
from api.problems import ProblemError
from api.security.deps import Principal, ensure_practice_access, require
from api.security.permissions import Permission
from api.storage.contracts import ContractStorage
from billing.contract_yaml import ContractYamlError, load_contract_yaml
from billing.money import ZERO, Money
from tools.crystalpm import CrystalPMError

router = APIRouter(tags=["contracts"])
Viewer = Annotated[Principal, Depends(require(Permission.CONTRACTS_VIEW))]
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


def _storage(request: Request) -> ContractStorage:
    return ContractStorage(request.app.state.sessions)


class ContractPage(BaseModel):
    contract_id: str
    practice_id: str
    payer_id: str
    plan_name: str
    effective: date
    termination: date | None
    terms: dict[str, Any]
    evidence: dict[str, str]
    sources: list[dict[str, Any]]
    approved_by: str
    approved_at: str


@router.get("/contracts/{contract_id}")
def contract_page(contract_id: str, principal: Viewer, request: Request) -> ContractPage:
    """The contract's approved terms, the sentences they were read from, their sources and dates."""
    approved = _storage(request).approved_contract(contract_id)
    if approved is None:
        raise ProblemError(404, "No approved terms for this contract; upload it at POST /contracts/intake.")
    contract = approved.contract
    ensure_practice_access(principal, contract.practice_id)
    return ContractPage(
        contract_id=contract.id,
        practice_id=contract.practice_id,
        payer_id=contract.payer_id,
        plan_name=contract.plan_name,
        effective=contract.effective,
        termination=contract.termination,
        terms=contract.model_dump(mode="json", exclude={"evidence", "terms_text"}),
        evidence=contract.evidence,
        sources=[source.model_dump(mode="json") for source in approved.sources],
        approved_by=approved.approved_by,
        approved_at=approved.approved_at.isoformat(),
    )


class VarianceSummary(BaseModel):
    practice_id: str
    lines: int
    underpaid: Money
    overpaid: Money
    by_payer_month: list[LeakRow]
    by_code: list[LeakRow]


@router.get("/variance/summary")
def variance_summary(
    principal: Viewer, request: Request, practice_id: Annotated[str, Query(min_length=1)]
) -> VarianceSummary:
    """The leak: underpaid and overpaid dollars by payer and month of service, and by code."""
    ensure_practice_access(principal, practice_id)
    lines = _storage(request).variance_lines(practice_id)
    return VarianceSummary(
        practice_id=practice_id,
        lines=len(lines),
        underpaid=sum((line.amount for line in lines if line.kind in UNDERPAID_KINDS), ZERO),
        overpaid=sum((line.amount for line in lines if line.kind == "overpaid"), ZERO),
        by_payer_month=leak_by(lines, keys=("payer_id", "month")),
        by_code=leak_by(lines, keys=("code",)),
    )


class Worklist(BaseModel):
    practice_id: str
    disputes: list[dict[str, Any]]
    refunds: list[dict[str, Any]]


@router.get("/disputes")
def dispute_worklist(
    principal: Viewer, request: Request, practice_id: Annotated[str, Query(min_length=1)]
) -> Worklist:
    """Disputes (and refunds owed) of the practice, soonest deadline first, with their status and task."""
    ensure_practice_access(principal, practice_id)
    storage = _storage(request)
    return Worklist(
        practice_id=practice_id,
        disputes=storage.work_items(practice_id),
        refunds=storage.work_items(practice_id, refunds=True),
    )


class IntakeAccepted(BaseModel):
    thread_id: str
    state: str
    review: dict[str, Any] | None


def _source(filename: str, content: bytes) -> tuple[str, str]:
    """(kind, text) of an upload: contract YAML, a fee-schedule CSV/XLSX, or prose (text or PDF)."""
    name = filename.lower()
    try:
        if name.endswith((".yaml", ".yml")):
            return "yaml", content.decode("utf-8")
        if name.endswith((".csv", ".xlsx", ".xlsm")):
            # A workbook's fee-schedule sheet is kept as CSV text: the intake reads one format.
            text = fee_schedule_text(content, filename)
            read_fee_schedule_csv(text)  # refuses a file with no code and amount columns, with a reason
            return "fee_schedule_csv", text
        return "text", load_contract_bytes(content, filename)
    except (ContractSourceError, FeeScheduleImportError, UnicodeDecodeError) as exc:
        raise ProblemError(422, f"{filename}: {exc}") from None


def _check_yaml_ids(text: str, contract_id: str, practice_id: str) -> None:
    try:
        contract = load_contract_yaml(text)
    except ContractYamlError as exc:
        raise ProblemError(422, f"contract YAML: {exc}") from None
    if (contract.id, contract.practice_id) != (contract_id, practice_id):
        raise ProblemError(
            422,
            f"the YAML is contract {contract.id} of {contract.practice_id}; the form names {contract_id}"
            f" of {practice_id}",
        )


@router.post("/contracts/intake", status_code=202)
async def contract_intake(
    principal: Annotated[Principal, Depends(require(Permission.CONTRACTS_INTAKE))],
    request: Request,
    file: Annotated[
        UploadFile, File(description="Contract prose (.txt/.pdf), YAML, or a fee-schedule CSV/XLSX")
    ],
    contract_id: Annotated[str, Form(min_length=1)],
    practice_id: Annotated[str, Form(min_length=1)],
    payer_id: Annotated[str, Form(min_length=1)],
    plan_name: Annotated[str, Form()] = "",
    effective: Annotated[date | None, Form()] = None,
) -> IntakeAccepted:
    """Read the upload's terms and hold them for an Admin's or Biller's review before they are used."""
    ensure_practice_access(principal, practice_id)
    runtime = getattr(request.app.state, "contract_intake", None)
    if runtime is None:
        raise ProblemError(503, "Contract intake is not running in this service.")
    content = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise ProblemError(413, "The file is larger than 5 MB; upload the contract's terms only.")
    filename = file.filename or "upload.txt"
    kind, text = await run_in_threadpool(_source, filename, content)
    if kind == "yaml":
        _check_yaml_ids(text, contract_id, practice_id)
    intake = IntakeRequest(
        contract_id=contract_id,
        practice_id=practice_id,
        payer_id=payer_id,
        plan_name=plan_name,
        effective=effective,
        kind=kind,
        filename=filename,
        content=text,
    )
    try:
        status = await run_in_threadpool(runtime.start_intake, intake)
    except CrystalPMError as exc:
        raise ProblemError(
            503, f"Crystal PM could not be reached to read the contract ({exc}); upload again shortly."
        ) from None
    return IntakeAccepted(thread_id=status.thread_id, state=status.state, review=status.review)
