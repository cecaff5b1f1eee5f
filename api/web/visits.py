"""The visit behind a charge_coding review (note, patient, payer, history) and live re-validation of an edit."""

from typing import Any

from pydantic import BaseModel

from agents.coding.schemas import CodingRequest
from agents.coding.validate import DROP_CODES
from api.storage.checkpoints import make_checkpointer
from billing.claim_input import ClaimPatient, ClaimPayer, HistoryVisit
from billing.findings import Finding
from billing.practice import Sex
from billing.settings import Settings
from graphs.charge_coding import Coding, VisitContext, draft_charge
from knowledge.base import KnowledgeBase
from knowledge.validation.engine import validate_charge


class Visit(BaseModel):
    """What the run's load_context step read from Crystal PM; the note text is PHI and is never logged."""

    context: VisitContext
    request: CodingRequest

    @property
    def note(self) -> str:
        return self.request.note


def load_visit(settings: Settings, thread_id: str) -> Visit | None:
    """The visit of a charge_coding thread, from its latest checkpoint; None when the thread has none."""
    with make_checkpointer(settings) as checkpointer:
        saved = checkpointer.get_tuple({"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}})
    values: dict[str, Any] = saved.checkpoint.get("channel_values", {}) if saved is not None else {}
    if "context" not in values or "request" not in values:
        return None
    return Visit(context=values["context"], request=values["request"])


def revalidate(visit: Visit, coding: Coding, kb: KnowledgeBase) -> list[Finding]:
    """Every validator finding on the edited coding as the draft charge it would become, in its visit."""
    context, request = visit.context, visit.request
    sex = (request.patient_sex or "U").strip().upper()[:1]
    return validate_charge(
        draft_charge(context, coding, run_id="live-revalidation"),
        kb,
        date_of_service=context.date_of_service,
        patient=ClaimPatient(age=request.patient_age or 0, sex=sex if sex in Sex.__members__ else "U"),
        payer=ClaimPayer(name=context.payer_name, kind=context.payer_kind),
        established=context.established,
        history=[HistoryVisit(date=prior.date, codes=prior.codes) for prior in request.history],
        fee_schedule_codes=request.fee_schedule_codes,
    )


def unbillable(findings: list[Finding]) -> list[Finding]:
    """Findings that mean a code cannot go on a claim at all (malformed, unknown, not billable)."""
    return [finding for finding in findings if finding.code in DROP_CODES]
