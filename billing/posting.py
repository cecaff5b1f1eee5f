"""Posting reconciliation: match an 835's claim payments to the practice's claims and draft the postings."""

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, Field

from billing.claims import Claim, ClaimLine
from billing.money import ZERO, Money, round_cents
from billing.remittance import Adjustment, ClaimPayment, Remittance, ServiceLinePayment

ExceptionCode = Literal[
    "UNMATCHED_CLAIM",
    "UNMATCHED_LINE",
    "PARTIAL_PAYMENT",
    "REVERSAL_WITHOUT_ORIGINAL",
    "AMOUNT_MISMATCH",
    "MODIFIER_CHANGED",
    "CODE_CHANGED",
    "UNDERPAID_BEYOND_CONTRACT",
    "DUPLICATE_PAYMENT",
]
# A claim payment with one of these is not posted automatically: a person decides where it goes.
BLOCKING = frozenset({"UNMATCHED_CLAIM", "REVERSAL_WITHOUT_ORIGINAL", "DUPLICATE_PAYMENT"})
REVERSAL_STATUS = "22"
# CARCs that are the contract's own reduction (fee schedule, negotiated discount, sequestration): the
# only adjustments proposed as write-offs. Denials (CO-50, CO-97 ...) stay open for the denial workflow.
CONTRACTUAL_CARCS = frozenset({"45", "131", "253"})
DATE_WINDOW_DAYS = 3
FUZZY_THRESHOLD = 0.8
CENT_TOLERANCE = Decimal("0.01")

ExpectedAllowed = Callable[[Claim, ClaimLine], Decimal | None]


class PatientKey(BaseModel):
    """What fuzzy matching may compare a remit's patient name with (the claim's patient)."""

    last_name: str
    first_name: str
    birth_date: dt.date | None = None


class PostingException(BaseModel):
    code: ExceptionCode
    message: str
    claim_payment_index: int = Field(description="0-based, across all transactions of the remittance")
    line_index: int | None = Field(None, description="0-based service line of the claim payment")
    amount: Money | None = None
    claim_id: str | None = None

    @property
    def blocking(self) -> bool:
        return self.code in BLOCKING


class LineMatch(BaseModel):
    remit_line_index: int
    claim_line_number: int | None
    how: Literal["exact", "modifier_dropped", "modifier_changed", "code_changed", "unmatched"]


class ClaimMatch(BaseModel):
    claim_payment_index: int
    claim_id: str | None
    how: Literal["control_number", "fuzzy", "none"]
    score: float = 0.0
    lines: list[LineMatch] = Field(default_factory=list)


class PostingLine(BaseModel):
    """One service line's posting: what was paid, what the patient owes, what is written off or held."""

    remit_line_index: int
    claim_line_number: int | None
    code: str
    modifiers: list[str] = Field(default_factory=list)
    charge: Money = ZERO
    paid: Money = ZERO
    allowed: Money | None = None
    patient_responsibility: Money = Field(ZERO, description="Sum of CAS PR on the line")
    contractual: Money = Field(ZERO, description="The payer's contractual reduction (CO-45/131/253)")
    write_off: Money = Field(
        ZERO, description="Proposed write-off: never past the contract's expected amount"
    )
    held: Money = Field(ZERO, description="Contractual reduction beyond the contract: left open, disputed")
    expected_allowed: Money | None = None
    adjustments: list[Adjustment] = Field(default_factory=list)
    remarks: list[str] = Field(default_factory=list)


class PostingDraft(BaseModel):
    """A matched claim payment as a draft posting (amounts negative on a reversal); a person approves it."""

    claim_payment_index: int
    claim_id: str
    patient_control_number: str
    payer_claim_control_number: str = ""
    status: str
    reversal: bool = False
    reverses_claim_payment_index: int | None = Field(
        None, description="The original payment in this remittance, when a reversal takes it back"
    )
    payer: str = ""
    payment_date: dt.date | None = None
    trace: str = ""
    charge: Money = ZERO
    paid: Money = ZERO
    patient_responsibility: Money = ZERO
    write_off: Money = ZERO
    held: Money = ZERO
    claim_adjustments: list[Adjustment] = Field(default_factory=list)
    lines: list[PostingLine] = Field(default_factory=list)


class PostingResult(BaseModel):
    matches: list[ClaimMatch]
    drafts: list[PostingDraft]
    exceptions: list[PostingException]
    auto_matched: int = Field(description="Claim payments matched and drafted with no blocking exception")
    total_claims: int


# --- normalizing ---------------------------------------------------------------------------------

_NOT_ALNUM = re.compile(r"[^A-Z0-9]")
_NOT_ALPHA = re.compile(r"[^A-Z]")


def _control_key(value: str) -> str:
    """Payers upper-case control numbers and drop punctuation and leading zeros of the numeric part."""
    key = _NOT_ALNUM.sub("", value.upper())
    return re.sub(r"(?<=[A-Z])0+(?=\d)", "", key)


def _letters(value: str) -> str:
    return _NOT_ALPHA.sub("", value.upper())


def _name_matches(remit_name: str, patient: PatientKey) -> bool:
    """NM1*QC is 'FIRST LAST' as read: the last name must appear after the first initial, which must agree."""
    remit, last, first = _letters(remit_name), _letters(patient.last_name), _letters(patient.first_name)
    if not remit or not last or not first:
        return False
    return remit[0] == first[0] and last in remit[1:]


def _modifiers(values: Sequence[str]) -> frozenset[str]:
    return frozenset(m.strip().upper() for m in values if m.strip())


def service_dates(payment: ClaimPayment) -> list[dt.date]:
    """The payment's statement dates and its lines' dates of service."""
    dates = [d for d in (payment.statement_from, payment.statement_to) if d]
    return dates + [line.date_of_service for line in payment.lines if line.date_of_service]


def _day_gap(claim: Claim, dates: Sequence[dt.date]) -> int | None:
    return min((abs((d - claim.date_of_service).days) for d in dates), default=None)


def fuzzy_candidate(claim: Claim, payment: ClaimPayment) -> bool:
    """Whether fuzzy matching would weigh this claim for the payment: the same total charge and a date of
    service within DATE_WINDOW_DAYS of the payment's dates (the patient is compared after)."""
    gap = _day_gap(claim, service_dates(payment))
    return (
        gap is not None
        and gap <= DATE_WINDOW_DAYS
        and round_cents(claim.total_charge) == round_cents(payment.charge)
    )


def _usd(amount: Decimal) -> str:
    value = round_cents(amount)
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


# --- matching claims -----------------------------------------------------------------------------


@dataclass
class _Flat:
    index: int
    payment: ClaimPayment
    payer: str
    payment_date: dt.date | None
    trace: str


@dataclass
class _Reconciler:
    claims: Sequence[Claim]
    patients: Mapping[str, PatientKey]
    expected: ExpectedAllowed | None
    by_id: dict[str, Claim] = field(default_factory=dict)
    exceptions: list[PostingException] = field(default_factory=list)
    # claim id -> the claim payment that paid it in this remittance (cleared when a reversal takes it back)
    paid_here: dict[str, int] = field(default_factory=dict)
    originals_by_payer_number: dict[str, tuple[int, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for claim in self.claims:
            self.by_id.setdefault(claim.id, claim)

    # The other indexes are built on the first payment that needs them: most files match by id alone.

    @cached_property
    def by_key(self) -> dict[str, list[Claim]]:
        index: dict[str, list[Claim]] = {}
        for claim in self.claims:
            index.setdefault(_control_key(claim.id), []).append(claim)
        return index

    @cached_property
    def by_payer_number(self) -> dict[str, list[Claim]]:
        index: dict[str, list[Claim]] = {}
        for claim in self.claims:
            if claim.payer_claim_control_number:
                index.setdefault(claim.payer_claim_control_number, []).append(claim)
        return index

    @cached_property
    def by_charge(self) -> dict[Decimal, list[Claim]]:
        index: dict[Decimal, list[Claim]] = {}
        for claim in self.claims:
            index.setdefault(round_cents(claim.total_charge), []).append(claim)
        return index

    def flag(
        self,
        code: ExceptionCode,
        message: str,
        index: int,
        *,
        line: int | None = None,
        amount: Decimal | None = None,
        claim_id: str | None = None,
    ) -> None:
        self.exceptions.append(
            PostingException(
                code=code,
                message=message,
                claim_payment_index=index,
                line_index=line,
                amount=amount,
                claim_id=claim_id,
            )
        )

    def consistent(self, claim: Claim, payment: ClaimPayment) -> bool:
        """A control-number hit is trusted unless patient, date and charge all disagree with it."""
        patient = self.patients.get(claim.patient_id)
        names = [n for n in (payment.patient_name, payment.corrected_patient_name) if n]
        same_patient = patient is not None and any(_name_matches(n, patient) for n in names)
        gap = _day_gap(claim, service_dates(payment))
        same_date = gap is not None and gap <= DATE_WINDOW_DAYS
        same_charge = round_cents(claim.total_charge) == round_cents(payment.charge)
        return same_patient or same_date or same_charge

    def by_control_number(self, payment: ClaimPayment) -> Claim | None:
        pcn = payment.patient_control_number.strip()
        claim = self.by_id.get(pcn)
        if claim is None:
            found = self.by_key.get(_control_key(pcn), [])
            claim = found[0] if len(found) == 1 else None
        return claim if claim is not None and self.consistent(claim, payment) else None

    def fuzzy(self, flat: _Flat) -> tuple[Claim | None, float, str]:
        """The unique best claim by patient + date of service + total charge, or None and why."""
        payment = flat.payment
        names = [n for n in (payment.patient_name, payment.corrected_patient_name) if n]
        dates = service_dates(payment)
        if not names or not dates:
            return None, 0.0, "the payment carries no patient name or no service date to match on"
        remit_codes = {line.submitted_code or line.code for line in payment.lines}
        scored: list[tuple[float, Claim]] = []
        for claim in self.by_charge.get(round_cents(payment.charge), []):
            patient = self.patients.get(claim.patient_id)
            gap = _day_gap(claim, dates)
            if patient is None or gap is None or gap > DATE_WINDOW_DAYS:
                continue
            if not any(_name_matches(n, patient) for n in names):
                continue
            claim_codes = {line.code for line in claim.lines}
            score = 0.6 + (0.2 if gap == 0 else 0.1) + (0.2 if remit_codes <= claim_codes else 0.0)
            if claim.id in self.paid_here:
                score -= 0.3  # already paid by another payment in this file: a weaker candidate
            scored.append((round(score, 3), claim))
        if not scored:
            return (
                None,
                0.0,
                (
                    "no claim has the same total charge, a patient with the same last name and first "
                    f"initial, and a service date within {DATE_WINDOW_DAYS} days"
                ),
            )
        best = max(score for score, _ in scored)
        top = [claim for score, claim in scored if score == best]
        if best < FUZZY_THRESHOLD:
            return None, best, f"the closest claim ({top[0].id}) scores {best:.2f}, below {FUZZY_THRESHOLD}"
        if len(top) > 1:
            ids = ", ".join(c.id for c in top[:5])
            return None, best, f"{len(top)} claims fit equally well ({ids}); a person must choose"
        return top[0], best, ""

    # --- one claim payment ---

    def reconcile(self, flat: _Flat) -> tuple[ClaimMatch, PostingDraft | None]:
        payment, index = flat.payment, flat.index
        if payment.reversal or payment.status == REVERSAL_STATUS:
            return self.reversal(flat)
        claim, how, score = self.by_control_number(payment), "control_number", 1.0
        if claim is None:
            claim, score, why = self.fuzzy(flat)
            how = "fuzzy"
            if claim is None:
                self.flag(
                    "UNMATCHED_CLAIM",
                    f"Claim payment {payment.patient_control_number or '(no control number)'} for "
                    f"{_usd(payment.charge)} matches no claim by control number, and {why}.",
                    index,
                    amount=payment.paid,
                )
                return ClaimMatch(claim_payment_index=index, claim_id=None, how="none", score=score), None
        if claim.id in self.paid_here:
            self.flag(
                "DUPLICATE_PAYMENT",
                f"Claim {claim.id} is paid twice in this remittance (claim payments "
                f"{self.paid_here[claim.id]} and {index}) with no reversal between them.",
                index,
                amount=payment.paid,
                claim_id=claim.id,
            )
            return ClaimMatch(claim_payment_index=index, claim_id=claim.id, how=how, score=score), None
        self.paid_here[claim.id] = index
        if payment.payer_claim_control_number:
            self.originals_by_payer_number[payment.payer_claim_control_number] = (index, claim.id)
        match, draft = self.post(flat, claim, how, score)
        return match, draft

    def reversal(self, flat: _Flat) -> tuple[ClaimMatch, PostingDraft | None]:
        """CLP02 = 22 takes back an earlier payment, found by the payer's claim control number."""
        payment, index = flat.payment, flat.index
        number = payment.payer_claim_control_number
        original_index: int | None = None
        claim: Claim | None = None
        if number and number in self.originals_by_payer_number:
            original_index, claim_id = self.originals_by_payer_number.pop(number)
            claim = self.by_id[claim_id]
            self.paid_here.pop(claim_id, None)
        elif number and len(self.by_payer_number.get(number, [])) == 1:
            claim = self.by_payer_number[number][0]
        if claim is None:
            self.flag(
                "REVERSAL_WITHOUT_ORIGINAL",
                f"Reversal of claim {payment.patient_control_number or '?'} ({_usd(payment.paid)}) names payer "
                f"claim number {number or '(none)'}, which matches no payment this practice posted.",
                index,
                amount=payment.paid,
            )
            return ClaimMatch(claim_payment_index=index, claim_id=None, how="none"), None
        match, draft = self.post(flat, claim, "control_number", 1.0)
        draft.reversal = True
        draft.reverses_claim_payment_index = original_index
        return match, draft

    # --- lines and amounts ---

    def post(self, flat: _Flat, claim: Claim, how: str, score: float) -> tuple[ClaimMatch, PostingDraft]:
        payment, index = flat.payment, flat.index
        reversal = payment.reversal or payment.status == REVERSAL_STATUS
        line_matches = match_lines(payment.lines, claim.lines)
        lines: list[PostingLine] = []
        by_number = {line.line_number: line for line in claim.lines}
        for match in line_matches:
            remit_line = payment.lines[match.remit_line_index]
            claim_line = by_number.get(match.claim_line_number) if match.claim_line_number else None
            self.explain_line(index, claim.id, match, remit_line, claim_line)
            lines.append(self.post_line(index, claim, match, remit_line, claim_line, reversal))
        if not reversal:
            self.check_claim_amounts(index, claim, payment, line_matches)
        draft = PostingDraft(
            claim_payment_index=index,
            claim_id=claim.id,
            patient_control_number=payment.patient_control_number,
            payer_claim_control_number=payment.payer_claim_control_number,
            status=payment.status,
            payer=flat.payer,
            payment_date=flat.payment_date,
            trace=flat.trace,
            charge=payment.charge,
            paid=payment.paid,
            patient_responsibility=payment.patient_responsibility,
            write_off=sum((line.write_off for line in lines), ZERO),
            held=sum((line.held for line in lines), ZERO),
            claim_adjustments=list(payment.adjustments),
            lines=lines,
        )
        match = ClaimMatch(
            claim_payment_index=index, claim_id=claim.id, how=how, score=score, lines=line_matches
        )
        return match, draft

    def explain_line(
        self,
        index: int,
        claim_id: str,
        match: LineMatch,
        remit_line: ServiceLinePayment,
        claim_line: ClaimLine | None,
    ) -> None:
        i = match.remit_line_index
        billed = f"{remit_line.code}{_mods(remit_line.modifiers)}"
        if claim_line is None:
            self.flag(
                "UNMATCHED_LINE",
                f"Claim {claim_id}: remitted line {billed} ({_usd(remit_line.charge)}) matches no line "
                "of the claim; post it by hand.",
                index,
                line=i,
                amount=remit_line.paid,
                claim_id=claim_id,
            )
            return
        ours = f"{claim_line.code}{_mods(claim_line.modifiers)}"
        if match.how == "modifier_dropped":
            self.flag(
                "MODIFIER_CHANGED",
                f"Claim {claim_id} line {claim_line.line_number}: billed {ours}, the payer remitted {billed} "
                "(modifier dropped); posted to the billed line.",
                index,
                line=i,
                claim_id=claim_id,
            )
        elif match.how == "modifier_changed":
            self.flag(
                "MODIFIER_CHANGED",
                f"Claim {claim_id} line {claim_line.line_number}: billed {ours}, the payer remitted {billed} "
                "(modifier changed); posted to the billed line, check the modifier.",
                index,
                line=i,
                claim_id=claim_id,
            )
        elif match.how == "code_changed":
            self.flag(
                "CODE_CHANGED",
                f"Claim {claim_id} line {claim_line.line_number}: billed {ours}, the payer adjudicated "
                f"{billed}; posted to the billed line, review the recode.",
                index,
                line=i,
                claim_id=claim_id,
            )
        if round_cents(remit_line.charge) != round_cents(claim_line.charge) and remit_line.charge > ZERO:
            self.flag(
                "AMOUNT_MISMATCH",
                f"Claim {claim_id} line {claim_line.line_number}: billed {_usd(claim_line.charge)}, the "
                f"payer shows a charge of {_usd(remit_line.charge)}.",
                index,
                line=i,
                amount=remit_line.charge - claim_line.charge,
                claim_id=claim_id,
            )

    def check_claim_amounts(
        self, index: int, claim: Claim, payment: ClaimPayment, line_matches: list[LineMatch]
    ) -> None:
        if round_cents(payment.charge) != round_cents(claim.total_charge):
            self.flag(
                "AMOUNT_MISMATCH",
                f"Claim {claim.id}: billed {_usd(claim.total_charge)} in total, the payer shows "
                f"{_usd(payment.charge)}.",
                index,
                amount=payment.charge - claim.total_charge,
                claim_id=claim.id,
            )
        if not payment.lines:
            return
        covered = {m.claim_line_number for m in line_matches if m.claim_line_number is not None}
        missing = [line for line in claim.lines if line.line_number not in covered]
        if missing:
            self.flag(
                "PARTIAL_PAYMENT",
                f"Claim {claim.id}: the payer adjudicated {len(covered)} of {len(claim.lines)} lines; "
                f"line(s) {', '.join(str(m.line_number) for m in missing)} "
                f"({_usd(sum((m.charge for m in missing), ZERO))}) stay open awaiting the payer.",
                index,
                amount=sum((m.charge for m in missing), ZERO),
                claim_id=claim.id,
            )

    def post_line(
        self,
        index: int,
        claim: Claim,
        match: LineMatch,
        remit_line: ServiceLinePayment,
        claim_line: ClaimLine | None,
        reversal: bool,
    ) -> PostingLine:
        patient = sum((a.amount for a in remit_line.adjustments if a.group == "PR"), ZERO)
        contractual = sum(
            (a.amount for a in remit_line.adjustments if a.group == "CO" and a.reason in CONTRACTUAL_CARCS),
            ZERO,
        )
        allowed = remit_line.allowed
        if allowed is None and (remit_line.paid or patient):
            allowed = remit_line.paid + patient
        expected = self.expected(claim, claim_line) if self.expected and claim_line is not None else None
        write_off, held = contractual, ZERO
        if expected is not None and not reversal:
            # The contract lets the payer reduce the charge to the expected allowed amount, no further.
            allowed_reduction = max(ZERO, round_cents(remit_line.charge - expected))
            write_off = min(contractual, allowed_reduction)
            held = contractual - write_off
            if held > CENT_TOLERANCE:
                self.flag(
                    "UNDERPAID_BEYOND_CONTRACT",
                    f"Claim {claim.id} line {match.claim_line_number} ({remit_line.code}): the payer reduced "
                    f"the charge by {_usd(contractual)} but the contract allows {_usd(expected)}, so at most "
                    f"{_usd(allowed_reduction)} is a contractual write-off; {_usd(held)} is held open for the "
                    "contracts workflow, not written off.",
                    index,
                    line=match.remit_line_index,
                    amount=held,
                    claim_id=claim.id,
                )
            else:
                write_off, held = contractual, ZERO
        return PostingLine(
            remit_line_index=match.remit_line_index,
            claim_line_number=match.claim_line_number,
            code=remit_line.code,
            modifiers=list(remit_line.modifiers),
            charge=remit_line.charge,
            paid=remit_line.paid,
            allowed=allowed,
            patient_responsibility=patient,
            contractual=contractual,
            write_off=write_off,
            held=held,
            expected_allowed=expected,
            adjustments=list(remit_line.adjustments),
            remarks=list(remit_line.remarks),
        )


def _mods(modifiers: Sequence[str]) -> str:
    return "".join(f"-{m}" for m in modifiers)


# --- matching lines ------------------------------------------------------------------------------

_LineHow = Literal["exact", "modifier_dropped", "modifier_changed", "code_changed"]


def match_lines(
    remit_lines: Sequence[ServiceLinePayment], claim_lines: Sequence[ClaimLine]
) -> list[LineMatch]:
    """Pair each remitted line with a claim line: exact code + modifiers first, then looser passes.

    A later pass never takes a line an earlier pass could use, so a line whose modifier was dropped
    cannot steal the line that was remitted exactly. Ties go to the line with the same charge.
    """
    free = {line.line_number: line for line in claim_lines}
    found: dict[int, LineMatch] = {}

    def accepts(how: _LineHow, remit: ServiceLinePayment, line: ClaimLine) -> bool:
        billed_code = remit.submitted_code or remit.code
        remit_mods, line_mods = _modifiers(remit.modifiers), _modifiers(line.modifiers)
        if how == "code_changed":
            # The payer recoded the line (SVC06 names what we billed) or charge and date single it out.
            return (bool(remit.submitted_code) and remit.submitted_code == line.code) or (
                round_cents(remit.charge) == round_cents(line.charge)
                and remit.code != line.code
                and (remit.date_of_service is None or remit.date_of_service == line.date_of_service)
            )
        if billed_code != line.code:
            return False
        if how == "exact":
            return remit_mods == line_mods
        if how == "modifier_dropped":
            return remit_mods < line_mods
        return True  # modifier_changed: same code, other modifiers

    for how in ("exact", "modifier_dropped", "modifier_changed", "code_changed"):
        for i, remit in enumerate(remit_lines):
            if i in found:
                continue
            candidates = [line for line in free.values() if accepts(how, remit, line)]
            if how == "code_changed" and not remit.submitted_code and len(candidates) != 1:
                continue  # a recode found by charge alone must be unambiguous
            if not candidates:
                continue
            same_charge = [c for c in candidates if round_cents(c.charge) == round_cents(remit.charge)]
            chosen = (same_charge or candidates)[0]
            how_reported: _LineHow = how
            if how == "exact" and remit.submitted_code and remit.submitted_code != remit.code:
                how_reported = "code_changed"
            found[i] = LineMatch(remit_line_index=i, claim_line_number=chosen.line_number, how=how_reported)
            del free[chosen.line_number]
    return [
        found.get(i) or LineMatch(remit_line_index=i, claim_line_number=None, how="unmatched")
        for i in range(len(remit_lines))
    ]


# --- the entry point -----------------------------------------------------------------------------


def reconcile(
    remittance: Remittance,
    claims: Sequence[Claim],
    *,
    patients: Mapping[str, PatientKey] | None = None,
    expected: ExpectedAllowed | None = None,
) -> PostingResult:
    """Match every claim payment of the remittance to a claim, its lines to claim lines, and draft postings.

    Claims match by patient control number (CLP01 = the claim id); when the payer mangled it, by a unique
    best candidate on patient (last name + first initial; `patients` maps claim.patient_id to the key),
    service date within 3 days and equal total charge. Anything uncertain becomes an exception, never a
    guess. `expected(claim, line)` is the contract's expected allowed amount for a claim line (None when
    unknown): contractual reductions past it are held open (UNDERPAID_BEYOND_CONTRACT), never written off.
    Pure: no I/O.
    """
    reconciler = _Reconciler(claims=claims, patients=patients or {}, expected=expected)
    flats: list[_Flat] = []
    for transaction in remittance.transactions:
        for payment in transaction.claims:
            flats.append(
                _Flat(
                    index=len(flats),
                    payment=payment,
                    payer=transaction.payer,
                    payment_date=transaction.payment.date,
                    trace=transaction.payment.trace,
                )
            )
    matches: list[ClaimMatch] = []
    drafts: list[PostingDraft] = []
    for flat in flats:
        match, draft = reconciler.reconcile(flat)
        matches.append(match)
        if draft is not None:
            drafts.append(draft)
    blocked = {e.claim_payment_index for e in reconciler.exceptions if e.blocking}
    auto = sum(1 for d in drafts if d.claim_payment_index not in blocked)
    return PostingResult(
        matches=matches,
        drafts=drafts,
        exceptions=reconciler.exceptions,
        auto_matched=auto,
        total_claims=len(flats),
    )
