"""The simulated payer: prices and edits each claim line, applies cost share, and seeds contract variances."""

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from billing.claims import Claim, ClaimLine, ClaimStatus, ClaimStatusEvent
from billing.contracts import Contract
from billing.money import ZERO, round_cents
from billing.practice import Coverage, PlanKind
from sandbox.dataset import LineOutcome
from sandbox.generator.claims import at
from sandbox.generator.contracts import contract_allowed
from sandbox.generator.fee_tables import MEDICARE_ALLOWED_2024, MPPR_TECHNICAL, PRIOR_YEAR_FACTOR
from sandbox.generator.payer_rules import (
    EM_CODES,
    EXAM_CODES,
    ClaimContext,
    Denial,
    PatientRecord,
    bundling_denials,
    claim_denial,
    line_denial,
)

NOISE_DENIALS = (
    Denial("noise", "CO", "16", ("MA130", "N290")),
    Denial("noise", "CO", "22", ("N479",)),
    Denial("noise", "CO", "50", ("N115",)),
)
NOISE_RATE = 0.012
UNDERPAY_RATE = 0.04
OVERPAY_RATE = 0.01
PROCESSING_DAYS = {PlanKind.MEDICARE: (14, 18), PlanKind.VISION: (5, 12)}


@dataclass(frozen=True)
class Adjustment:
    """One CAS group/reason/amount triple on a remittance line."""

    group: str
    reason: str
    amount: Decimal


@dataclass
class Variance:
    line_number: int
    kind: str
    cause: str
    expected_allowed: Decimal
    actual_allowed: Decimal
    expected_paid: Decimal
    actual_paid: Decimal


@dataclass
class LineResult:
    line: ClaimLine
    outcome: LineOutcome
    adjustments: list[Adjustment]


@dataclass
class AdjudicatedClaim:
    claim: Claim
    paid_on: date
    lines: list[LineResult]
    variances: list[Variance] = field(default_factory=list)

    @property
    def paid(self) -> Decimal:
        return sum((r.outcome.paid or ZERO for r in self.lines), ZERO)

    @property
    def patient_responsibility(self) -> Decimal:
        return sum((a.amount for r in self.lines for a in r.adjustments if a.group == "PR"), ZERO)

    @property
    def status_code(self) -> str:
        """CLP02: 4 when every line was denied, else 1 (processed as primary)."""
        return "4" if all(r.outcome.status == "denied" for r in self.lines) else "1"


class Payer:
    """Adjudicates claims in submission order, remembering what it has paid and each deductible's progress."""

    def __init__(
        self,
        rng: random.Random,
        through: date,
        contracts: dict[tuple[str, str], Contract],
        coverages: dict[str, Coverage],
        specialties: dict[str, str],
        records: dict[str, PatientRecord],
    ) -> None:
        self.rng = rng
        self.through = through
        self.contracts = contracts
        self.coverages = coverages
        self.specialties = specialties
        self.records = records
        self.deductible_met: dict[tuple[str, int], Decimal] = {}

    def paid_on(self, claim: Claim) -> date | None:
        kind = self.coverages[claim.coverage_id].plan_kind
        low, high = PROCESSING_DAYS.get(kind, (10, 24))
        day = (claim.submitted_on or claim.date_of_service) + timedelta(days=self.rng.randint(low, high))
        day += timedelta(days=(3 - day.weekday()) % 7)  # remittances go out on Thursdays
        return day if day <= self.through else None

    def adjudicate(self, claim: Claim, paid_on: date) -> AdjudicatedClaim:
        coverage = self.coverages[claim.coverage_id]
        contract = self.contracts[(claim.practice_id, claim.payer_id)]
        record = self.records.setdefault(claim.patient_id, PatientRecord())
        ctx = ClaimContext(
            claim, contract, coverage, coverage.plan_kind, self.specialties[claim.provider_id], record
        )
        denials: dict[int, Denial] = {}
        if whole := claim_denial(ctx):
            denials = {line.line_number: whole for line in claim.lines}
        else:
            for line in claim.lines:
                if found := line_denial(ctx, line):
                    denials[line.line_number] = found
            open_lines = [line for line in claim.lines if line.line_number not in denials]
            denials.update(bundling_denials(ctx, open_lines))
            open_lines = [line for line in open_lines if line.line_number not in denials]
            if open_lines and self.rng.random() < NOISE_RATE:
                denials[self.rng.choice(open_lines).line_number] = self.rng.choice(NOISE_DENIALS)
        result = AdjudicatedClaim(claim=claim, paid_on=paid_on, lines=[])
        priced = self._price(ctx, [line for line in claim.lines if line.line_number not in denials], denials)
        copay_left = coverage.copay
        for line in claim.lines:
            if line.line_number in denials:
                result.lines.append(self._denied(claim, line, denials[line.line_number]))
                continue
            allowed, reduction, rule = priced[line.line_number]
            line_result, copay_left = self._pay(ctx, result, line, allowed, reduction, rule, copay_left)
            result.lines.append(line_result)
        self._remember(record, claim, result)
        self._close(claim, result)
        return result

    def _price(
        self, ctx: ClaimContext, lines: list[ClaimLine], denials: dict[int, Denial]
    ) -> dict[int, tuple[Decimal, Decimal, str]]:
        """Contract allowed per line, less multiple-procedure cuts (MPPR on tests, 50% on extra puncta)."""
        priced: dict[int, tuple[Decimal, Decimal, str]] = {}
        for line in lines:
            allowed = contract_allowed(ctx.contract, line.code, line.units)
            if allowed is None:
                denials[line.line_number] = Denial("non_covered_service", "CO", "96", ("N130",))
                continue
            priced[line.line_number] = (min(allowed, line.charge), ZERO, "contract")
        tests = [line for line in lines if line.line_number in priced and line.code in MPPR_TECHNICAL]
        if ctx.contract.mppr_diagnostic and len(tests) > 1:
            tests.sort(key=lambda line: (-MPPR_TECHNICAL[line.code], line.line_number))
            for line in tests[1:]:
                allowed, _, _ = priced[line.line_number]
                share = MPPR_TECHNICAL[line.code] / MEDICARE_ALLOWED_2024[line.code]
                priced[line.line_number] = (allowed, round_cents(allowed * share * Decimal("0.20")), "mppr")
        puncta = [line for line in lines if line.line_number in priced and line.code == "68761"]
        for line in puncta[1:]:
            allowed, _, _ = priced[line.line_number]
            priced[line.line_number] = (allowed, round_cents(allowed / 2), "multiple_procedure")
        return priced

    def _denied(self, claim: Claim, line: ClaimLine, denial: Denial) -> LineResult:
        outcome = LineOutcome(
            claim_id=claim.id,
            line_number=line.line_number,
            status="denied",
            group=denial.group,
            carc=denial.carc,
            rarcs=list(denial.rarcs),
            allowed=ZERO,
            paid=ZERO,
            rule=denial.rule,
        )
        return LineResult(
            line, outcome, [Adjustment(group=denial.group, reason=denial.carc, amount=line.charge)]
        )

    def _pay(
        self,
        ctx: ClaimContext,
        result: AdjudicatedClaim,
        line: ClaimLine,
        allowed: Decimal,
        reduction: Decimal,
        rule: str,
        copay_left: Decimal,
    ) -> tuple[LineResult, Decimal]:
        expected = allowed - reduction
        actual, shown_reduction, cause = self._variance(ctx, line, allowed, reduction)
        visit_line = line.code in EXAM_CODES or line.code in EM_CODES
        copay = min(copay_left, actual) if visit_line else ZERO
        copay_left -= copay
        year = (ctx.coverage.id, ctx.claim.date_of_service.year)
        met = self.deductible_met.get(year, ZERO)
        deductible = min(max(ctx.coverage.deductible - met, ZERO), actual - copay)
        self.deductible_met[year] = met + deductible
        coinsurance = round_cents((actual - copay - deductible) * ctx.coverage.coinsurance_pct / 100)
        expected_share = copay + deductible + coinsurance
        extra = ZERO
        if cause == "cost_share_misapplied":
            extra = min(round_cents(actual * Decimal("0.20")), actual - expected_share)
            cause = cause if extra > ZERO else ""
        coinsurance += extra
        paid = actual - copay - deductible - coinsurance
        adjustments = [
            Adjustment(group="CO", reason="45", amount=line.charge - actual - shown_reduction),
            Adjustment(group="CO", reason="59", amount=shown_reduction),
            Adjustment(group="PR", reason="1", amount=deductible),
            Adjustment(group="PR", reason="2", amount=coinsurance),
            Adjustment(group="PR", reason="3", amount=copay),
        ]
        adjustments = [a for a in adjustments if a.amount != ZERO]
        reduced = shown_reduction > ZERO
        outcome = LineOutcome(
            claim_id=ctx.claim.id,
            line_number=line.line_number,
            status="reduced" if reduced else "paid",
            group="CO",
            carc="59" if reduced else "45",
            allowed=actual,
            paid=paid,
            rule=rule if reduced or cause == "" else "contract",
        )
        if cause:
            result.variances.append(
                Variance(
                    line_number=line.line_number,
                    kind="overpaid" if cause == "overpaid" else "underpaid",
                    cause=cause,
                    expected_allowed=expected,
                    actual_allowed=actual,
                    expected_paid=expected - expected_share,
                    actual_paid=paid,
                )
            )
        return LineResult(line, outcome, adjustments), copay_left

    def _variance(
        self, ctx: ClaimContext, line: ClaimLine, allowed: Decimal, reduction: Decimal
    ) -> tuple[Decimal, Decimal, str]:
        """(allowed shown on the remittance, reduction shown, seeded cause or '')."""
        expected = allowed - reduction
        roll = self.rng.random()
        if expected <= ZERO or roll >= UNDERPAY_RATE + OVERPAY_RATE:
            return expected, reduction, ""
        if roll >= UNDERPAY_RATE:
            return (
                min(line.charge - reduction, round_cents(expected * Decimal("1.12"))),
                reduction,
                "overpaid",
            )
        causes = ["flat_cut", "cost_share_misapplied"]
        if ctx.contract.basis == "percent_of_medicare":
            causes.append("wrong_fee_schedule_year")
        if reduction == ZERO:
            causes.append("reduction_misapplied")
        cause = self.rng.choice(causes)
        if cause == "wrong_fee_schedule_year":
            return round_cents(expected * PRIOR_YEAR_FACTOR), reduction, cause
        if cause == "flat_cut":
            return round_cents(expected * Decimal("0.90")), reduction, cause
        if cause == "reduction_misapplied":
            cut = round_cents(allowed / 2)
            return allowed - cut, cut, cause
        return expected, reduction, cause

    def _remember(self, record: PatientRecord, claim: Claim, result: AdjudicatedClaim) -> None:
        for line_result in result.lines:
            line = line_result.line
            record.processed.setdefault((line.code, claim.date_of_service, tuple(line.modifiers)), claim.id)
            if line_result.outcome.status != "denied":
                record.paid.setdefault((claim.payer_id, line.code), []).append(claim.date_of_service)

    def _close(self, claim: Claim, result: AdjudicatedClaim) -> None:
        provider_denials = [
            r for r in result.lines if r.outcome.status == "denied" and r.outcome.group != "PR"
        ]
        if result.status_code == "4":
            status = ClaimStatus.DENIED
        elif provider_denials:
            status = ClaimStatus.PARTIALLY_PAID
        else:
            status = ClaimStatus.PAID
        claim.status = status
        claim.payer_claim_control_number = (
            f"{claim.payer_id[4:7].upper()}{result.paid_on:%y%j}{claim.id[-6:]}"
        )
        claim.history.append(ClaimStatusEvent(status=status, at=at(result.paid_on, 8), note="835 received"))
