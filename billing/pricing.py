"""Expected payment of a claim under a contract, every step explained in words."""

import calendar
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Protocol

from pydantic import BaseModel, Field

from billing.claim_input import ClaimInput, ClaimInputLine, HistoryVisit
from billing.contracts import VISION_CODES, VISION_SERVICES, CarveOut, Contract, code_matches
from billing.money import ZERO, Money, round_cents

HUNDRED = Decimal(100)
# CMS place-of-service codes paid at the facility rate (hospital, ASC, SNF, ...); the office (11) is not.
FACILITY_PLACES = frozenset(
    {"19", "21", "22", "23", "24", "26", "31", "34", "41", "42", "51", "52", "53", "56", "61"}
)
COMPONENT_MODIFIERS = ("26", "TC")


class PfsIndicatorView(Protocol):
    @property
    def pctc(self) -> str: ...
    @property
    def mult_proc(self) -> str: ...
    @property
    def bilat_surg(self) -> str: ...


class MedicareFeeSource(Protocol):
    """Medicare PFS amounts by locality and date (knowledge.rules.fees.PfsTables is one)."""

    def allowed(
        self, code: str, modifier: str = "", *, locality: str, facility: bool = False, on: date | None = None
    ) -> Decimal | None: ...

    def indicators(self, code: str, on: date | None = None) -> PfsIndicatorView | None: ...


class PricingError(ValueError):
    """The claim cannot be priced under this contract (not in force, no locality, no PFS ...)."""


class ExpectedLine(BaseModel):
    line: int = Field(description="1-based position on the claim")
    code: str
    modifiers: list[str] = Field(default_factory=list)
    units: int = 1
    charge: Money | None = None
    expected_allowed: Money = ZERO
    expected_paid: Money = ZERO
    patient_responsibility: Money = ZERO
    priced: bool = Field(True, description="False when the contract sets no price for the line")
    denied: bool = Field(False, description="The contract says this line will not be paid")
    steps: list[str] = Field(default_factory=list)


class ExpectedPayment(BaseModel):
    contract_id: str
    date_of_service: date
    lines: list[ExpectedLine]
    total_expected_allowed: Money
    total_expected_paid: Money
    total_patient_responsibility: Money
    steps: list[str] = Field(default_factory=list, description="Claim-level notes")


@dataclass
class _Line:
    """A line while it is priced; amounts are Decimals already rounded to the cent."""

    index: int
    source: ClaimInputLine
    steps: list[str] = field(default_factory=list)
    allowed: Decimal = ZERO
    technical: Decimal | None = None
    priced: bool = False
    denied: bool = False
    exempt: bool = False
    vision: str | None = None
    patient_extra: Decimal = ZERO

    @property
    def code(self) -> str:
        return self.source.code.strip().upper()

    @property
    def charge(self) -> Decimal | None:
        return None if self.source.charge is None else round_cents(self.source.charge)

    @property
    def label(self) -> str:
        return "-".join([self.code, *self.source.modifiers])

    @property
    def active(self) -> bool:
        return self.priced and not self.denied


def _pct(value: Decimal | float) -> str:
    return f"{Decimal(str(value)).normalize():f}%"


def _ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def _months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


class _Pricer:
    def __init__(
        self,
        claim: ClaimInput,
        contract: Contract,
        history: list[HistoryVisit],
        medicare: MedicareFeeSource | None,
        locality: str | None,
        place_of_service: str | None,
    ) -> None:
        if claim.date_of_service is None:
            raise PricingError("the claim needs a date of service to be priced")
        self.claim = claim
        self.dos: date = claim.date_of_service
        self.contract = contract
        self.history = history
        self.medicare = medicare
        self.locality = locality or contract.medicare.locality
        self.pfs_on = date(contract.medicare.year, 12, 31) if contract.medicare.year else self.dos
        if contract.medicare.facility is not None:
            self.facility = contract.medicare.facility
        else:
            self.facility = (place_of_service or "11").strip() in FACILITY_PLACES
        self.material_left: dict[str, Decimal] = {
            category: round_cents(allowance.amount)
            for category, allowance in contract.vision.items()
            if category not in VISION_SERVICES
        }

    # -- Medicare ------------------------------------------------------------------------------------

    def _pfs(self) -> MedicareFeeSource:
        if self.medicare is None:
            raise PricingError(
                "percent-of-Medicare pricing needs the Medicare PFS import (set FOVEA_PFS_DIR)"
            )
        if not self.locality:
            raise PricingError(
                "percent-of-Medicare pricing needs a Medicare locality: set medicare.locality in the contract"
                " or give the claim a locality (e.g. '10112-00')"
            )
        return self.medicare

    def _indicator(self, code: str, name: str) -> str | None:
        if self.medicare is None:
            return None
        found = self.medicare.indicators(code, on=self.pfs_on)
        return getattr(found, name) if found is not None else None

    def _medicare_amount(self, code: str, modifier: str) -> Decimal | None:
        return self._pfs().allowed(
            code, modifier, locality=self.locality, facility=self.facility, on=self.pfs_on
        )

    def _pfs_words(self) -> str:
        when = f"{self.contract.medicare.year}" if self.contract.medicare.year else f"in force on {self.dos}"
        setting = "facility" if self.facility else "non-facility"
        return f"Medicare PFS {when}, locality {self.locality}, {setting}"

    def _percent_of_medicare(self, line: _Line, percent: Decimal) -> Decimal | None:
        """Per-unit contract amount; fills line.technical (per line) for MPPR."""
        modifiers = " ".join(line.source.modifiers)
        medicare = self._medicare_amount(line.code, modifiers)
        if medicare is None:
            line.steps.append(f"{self._pfs_words()}: no payable amount for {line.label} (status or release)")
            return None
        amount = round_cents(medicare * percent / HUNDRED)
        line.steps.append(f"{self._pfs_words()}: {line.label} {medicare} x {_pct(percent)} = {amount}")
        component = next((m for m in line.source.modifiers if m in COMPONENT_MODIFIERS), "")
        if component == "TC":
            line.technical = amount * line.source.units
        elif not component and self._indicator(line.code, "pctc") == "1":
            medicare_tc = self._medicare_amount(line.code, "TC")
            if medicare_tc is not None:
                line.technical = round_cents(medicare_tc * percent / HUNDRED) * line.source.units
                line.steps.append(
                    f"technical component: Medicare {line.code}-TC {medicare_tc} x {_pct(percent)}"
                    f" = {round_cents(medicare_tc * percent / HUNDRED)}"
                )
        return amount

    # -- base price ------------------------------------------------------------------------------------

    def _carve_out(self, line: _Line, carve: CarveOut) -> Decimal | None:
        line.exempt = carve.exempt_from_reductions
        note = " (exempt from reductions)" if carve.exempt_from_reductions else ""
        if carve.basis == "fee_schedule":
            if carve.amount is None:
                raise PricingError(
                    f"carve-out for {', '.join(carve.codes)}: a fee_schedule carve-out needs amount"
                )
            line.steps.append(
                f"carve-out{note}: {line.label} at the flat fee {round_cents(carve.amount)} per unit"
            )
            return carve.amount * line.source.units
        if carve.percent is None:
            raise PricingError(
                f"carve-out for {', '.join(carve.codes)}: a {carve.basis} carve-out needs percent"
            )
        line.steps.append(f"carve-out{note}: {line.label} at {_pct(carve.percent)} of {carve.basis[11:]}")
        if carve.basis == "percent_of_medicare":
            per_unit = self._percent_of_medicare(line, carve.percent)
            return None if per_unit is None else self._units(line, per_unit)
        return self._percent_of_charges(line, carve.percent)

    def _percent_of_charges(self, line: _Line, percent: Decimal) -> Decimal | None:
        if line.charge is None:
            line.steps.append(f"{line.label} is priced as a percent of charges but the line has no charge")
            return None
        amount = round_cents(line.charge * percent / HUNDRED)
        line.steps.append(f"billed charge {line.charge} x {_pct(percent)} = {amount}")
        return amount

    def _units(self, line: _Line, per_unit: Decimal) -> Decimal:
        if line.source.units == 1:
            return per_unit
        total = per_unit * line.source.units
        line.steps.append(f"{per_unit} x {line.source.units} units = {total}")
        return total

    def _fee_schedule(self, line: _Line) -> Decimal | None:
        entry = self.contract.fee(line.code, line.source.modifiers)
        component = next((m for m in line.source.modifiers if m in COMPONENT_MODIFIERS), "")
        if entry is None or (component and entry.modifier.upper() != component):
            return None
        label = f"{entry.code}-{entry.modifier}" if entry.modifier else entry.code
        line.steps.append(f"fee schedule: {label} = {round_cents(entry.amount)}")
        if component == "TC":
            line.technical = entry.amount * line.source.units
        elif not component:
            tc_entry = self.contract.fee(line.code, ["TC"])
            if tc_entry is not None and tc_entry.modifier.upper() == "TC":
                line.technical = tc_entry.amount * line.source.units
        return self._units(line, entry.amount)

    def _base(self, line: _Line) -> Decimal | None:
        contract = self.contract
        carve = next((c for c in contract.carve_outs if code_matches(line.code, c.codes)), None)
        if carve is not None:
            return self._carve_out(line, carve)
        scheduled = self._fee_schedule(line)
        if scheduled is not None:
            return scheduled
        amount: Decimal | None = None
        if contract.basis == "percent_of_medicare" and contract.percent is not None:
            per_unit = self._percent_of_medicare(line, Decimal(str(contract.percent)))
            amount = None if per_unit is None else self._units(line, per_unit)
        elif contract.basis == "percent_of_charges" and contract.percent is not None:
            amount = self._percent_of_charges(line, Decimal(str(contract.percent)))
        if amount is None and contract.unlisted_percent_of_charges is not None:
            line.steps.append("not on the fee schedule: priced as an unlisted service")
            amount = self._percent_of_charges(line, contract.unlisted_percent_of_charges)
        return amount

    # -- per line ------------------------------------------------------------------------------------

    def _vision_used_on(self, category: str, months: int) -> date | None:
        allowance = self.contract.vision[category]
        since = _months_before(self.dos, months)
        for visit in self.history:
            if since < visit.date < self.dos and any(
                code_matches(code, allowance.codes or VISION_CODES[category]) for code in visit.codes
            ):
                return visit.date
        return None

    def _vision(self, line: _Line, category: str) -> Decimal | None:
        allowance = self.contract.vision[category]
        line.vision = category
        line.exempt = True
        words = category.replace("_", " ")
        if allowance.frequency_months:
            used = self._vision_used_on(category, allowance.frequency_months)
            if used is not None:
                line.steps.append(
                    f"{words} benefit already used on {used} (once every {allowance.frequency_months} months):"
                    " not covered, the patient owes the charge"
                )
                line.patient_extra = line.charge or ZERO
                line.denied = True
                return ZERO
        if category in VISION_SERVICES:
            line.steps.append(f"vision plan {words} fee: {round_cents(allowance.amount)}")
            return self._units(line, allowance.amount)
        left = self.material_left[category]
        if line.charge is None:
            line.steps.append(f"vision {words} allowance: {left} left (no charge on the line)")
            self.material_left[category] = ZERO
            return left
        allowed = min(line.charge, left)
        self.material_left[category] = left - allowed
        line.steps.append(
            f"vision {words} allowance {round_cents(allowance.amount)} ({left} left this visit): plan covers {allowed}"
            f" of the {line.charge} charge"
        )
        overage = line.charge - allowed
        if overage > ZERO:
            discount = round_cents(overage * allowance.overage_discount_pct / HUNDRED)
            line.patient_extra = overage - discount
            extra = (
                f" less the {_pct(allowance.overage_discount_pct)} discount {discount}" if discount else ""
            )
            line.steps.append(f"overage {overage}{extra}: the patient owes {line.patient_extra}")
        return allowed

    def _check_denials(self, line: _Line) -> bool:
        contract, claim = self.contract, self.claim
        if code_matches(line.code, contract.exclusions):
            line.priced = True
            line.denied = True
            charge = line.charge or ZERO
            owed = charge if contract.excluded_patient_liable else ZERO
            line.patient_extra = owed
            line.steps.append(
                f"{line.code} is excluded by the contract (not a covered service): allowed 0.00"
                + (f"; the patient owes the {charge} charge" if owed else "")
            )
            return True
        if (
            claim.submitted_on is not None
            and (claim.submitted_on - self.dos).days > contract.timely_filing_days
        ):
            line.priced = True
            line.denied = True
            line.steps.append(
                f"filed {(claim.submitted_on - self.dos).days} days after the date of service, past the"
                f" contract's {contract.timely_filing_days}-day timely filing limit: expect a denial (CARC 29),"
                " not billable to the patient"
            )
            return True
        if code_matches(line.code, contract.prior_auth_codes):
            if not claim.prior_auth_known:
                line.steps.append(f"{line.code} needs prior authorization: priced assuming it was obtained")
            elif claim.prior_auth is None or claim.prior_auth.status != "approved":
                line.priced = True
                line.denied = True
                status = claim.prior_auth.status if claim.prior_auth else "none on file"
                line.steps.append(
                    f"{line.code} needs prior authorization and it is {status}: expect a denial (CARC 197),"
                    " not billable to the patient"
                )
                return True
        return False

    def _bilateral(self, line: _Line) -> None:
        if "50" not in line.source.modifiers or line.vision:
            return
        rule = self.contract.bilateral
        indicator = "1" if code_matches(line.code, rule.codes) else None
        if indicator is None and rule.pfs_indicator:
            indicator = self._indicator(line.code, "bilat_surg")
        percent = {"1": rule.percent, "3": Decimal(200), "2": HUNDRED}.get(indicator or "", HUNDRED)
        if indicator == "2":
            line.steps.append(
                f"modifier 50: the {line.code} price already covers both eyes (bilateral indicator 2)"
            )
            return
        if percent == HUNDRED:
            why = f"bilateral indicator {indicator}" if indicator else "no bilateral rule for the code"
            line.steps.append(f"modifier 50 does not change the price of {line.code} ({why})")
            return
        before = line.allowed
        line.allowed = round_cents(before * percent / HUNDRED)
        if line.technical is not None:
            line.technical = round_cents(line.technical * percent / HUNDRED)
        line.steps.append(f"bilateral (modifier 50): {before} x {_pct(percent)} = {line.allowed}")

    # -- across lines ------------------------------------------------------------------------------------

    def _multiple_procedures(self, lines: list[_Line]) -> None:
        rule = self.contract.multiple_procedure
        if rule is None:
            return
        slots: list[tuple[Decimal, int, int]] = []  # (per-unit amount, position, line)
        for number, line in enumerate(lines):
            if not line.active or line.exempt or line.allowed <= ZERO:
                continue
            eligible = code_matches(line.code, rule.codes) or (
                rule.pfs_indicator and self._indicator(line.code, "mult_proc") in {"2", "3"}
            )
            if not eligible:
                continue
            per_unit = round_cents(line.allowed / line.source.units)
            slots.extend((per_unit, len(slots), number) for _ in range(line.source.units))
        if len(slots) < 2:
            return
        ranked = sorted(slots, key=lambda slot: (-slot[0], slot[1]))
        reductions: dict[int, list[str]] = {}
        for rank, (per_unit, _position, number) in enumerate(ranked):
            percent = rule.schedule[min(rank, len(rule.schedule) - 1)]
            cut = round_cents(per_unit * (HUNDRED - percent) / HUNDRED)
            line = lines[number]
            line.allowed -= cut
            reductions.setdefault(number, []).append(
                f"ranked {_ordinal(rank + 1)} of {len(ranked)} procedures, paid at {_pct(percent)}"
                + (f" (-{cut})" if cut else "")
            )
        for number, notes in reductions.items():
            lines[number].steps.append(f"multiple procedures: {'; '.join(notes)} = {lines[number].allowed}")

    def _mppr(self, lines: list[_Line]) -> None:
        contract = self.contract
        if not contract.mppr_diagnostic:
            return
        candidates = [
            line
            for line in lines
            if line.active
            and not line.exempt
            and "26" not in line.source.modifiers
            and (
                code_matches(line.code, contract.mppr_codes) or self._indicator(line.code, "mult_proc") == "7"
            )
        ]
        if len(candidates) < 2:
            return
        tests: list[_Line] = []
        for line in candidates:
            if line.technical is None or line.technical <= ZERO:
                line.steps.append("MPPR not applied: no technical-component price known for this test")
            else:
                tests.append(line)
        if len(tests) < 2:
            return
        tests.sort(key=lambda line: line.technical or ZERO, reverse=True)
        tests[0].steps.append(
            f"MPPR: highest technical component of the day ({tests[0].technical}) paid in full"
        )
        for line in tests[1:]:
            technical = line.technical or ZERO
            cut = round_cents(technical * (HUNDRED - contract.mppr_tc_pct) / HUNDRED)
            line.allowed -= cut
            line.steps.append(
                f"MPPR: technical component {technical} paid at {_pct(contract.mppr_tc_pct)}, professional"
                f" component in full: -{cut} = {line.allowed}"
            )

    def _lesser_of_billed(self, line: _Line) -> None:
        charge = line.charge
        if (
            not self.contract.lesser_of_billed
            or charge is None
            or line.vision not in (None, *VISION_SERVICES)
        ):
            return
        if charge < line.allowed:
            line.steps.append(f"lesser of billed: the {charge} charge is below the contract's {line.allowed}")
            line.allowed = charge

    def _per_visit_cap(self, lines: list[_Line]) -> None:
        cap = self.contract.per_visit_cap
        if cap is None:
            return
        used = ZERO
        for line in lines:
            if not line.active or line.exempt or (cap.codes and not code_matches(line.code, cap.codes)):
                continue
            room = max(cap.amount - used, ZERO)
            if line.allowed > room:
                line.steps.append(
                    f"per-visit cap {round_cents(cap.amount)}: {used} already allowed this visit, {line.allowed} cut to {room}"
                )
                line.allowed = room
            used += line.allowed

    def price(self, deductible_remaining: Decimal | None) -> ExpectedPayment:
        contract = self.contract
        notes: list[str] = []
        if not contract.in_force(self.dos):
            until = contract.termination.isoformat() if contract.termination else "open-ended"
            raise PricingError(
                f"contract {contract.id} is not in force on {self.dos} (effective {contract.effective}, until {until})"
            )
        lines = [
            _Line(index=number, source=source) for number, source in enumerate(self.claim.lines, start=1)
        ]
        for line in lines:
            if self._check_denials(line):
                continue
            category = contract.vision_category(line.code)
            base = self._vision(line, category) if category else self._base(line)
            if base is None:
                line.steps.append(f"not priced: the contract sets no amount for {line.label}")
                continue
            line.priced = True
            line.allowed = round_cents(base)
            self._bilateral(line)
        self._multiple_procedures(lines)
        self._mppr(lines)
        for line in lines:
            if line.active:
                self._lesser_of_billed(line)
        self._per_visit_cap(lines)

        cost_share = contract.cost_share
        remaining = round_cents(
            cost_share.deductible if deductible_remaining is None else deductible_remaining
        )
        if deductible_remaining is None and remaining > ZERO:
            notes.append(f"deductible remaining not given: assumed the full {remaining} deductible is unmet")
        copay_left = {copay.kind: round_cents(copay.amount) for copay in cost_share.copays}
        expected: list[ExpectedLine] = []
        for line in lines:
            paid = patient = ZERO
            if line.active and line.allowed > ZERO:
                paid, patient, remaining = self._cost_share(line, remaining, copay_left)
            if line.active or line.denied:
                line.steps.append(
                    f"expected allowed {line.allowed if line.active else ZERO}, paid {paid},"
                    f" patient {patient + line.patient_extra}"
                )
            expected.append(
                ExpectedLine(
                    line=line.index,
                    code=line.code,
                    modifiers=list(line.source.modifiers),
                    units=line.source.units,
                    charge=line.charge,
                    expected_allowed=line.allowed if line.active else ZERO,
                    expected_paid=paid,
                    patient_responsibility=patient + line.patient_extra,
                    priced=line.priced,
                    denied=line.denied,
                    steps=line.steps,
                )
            )
        return ExpectedPayment(
            contract_id=contract.id,
            date_of_service=self.dos,
            lines=expected,
            total_expected_allowed=sum((line.expected_allowed for line in expected), ZERO),
            total_expected_paid=sum((line.expected_paid for line in expected), ZERO),
            total_patient_responsibility=sum((line.patient_responsibility for line in expected), ZERO),
            steps=notes,
        )

    def _cost_share(
        self, line: _Line, remaining: Decimal, copay_left: dict[str, Decimal]
    ) -> tuple[Decimal, Decimal, Decimal]:
        """Deductible, then coinsurance on the rest, then each matching copay once per visit."""
        cost_share = self.contract.cost_share
        owed = line.allowed
        waived = next(
            (
                c
                for c in cost_share.copays
                if c.waives_deductible_and_coinsurance and code_matches(line.code, c.covered_codes)
            ),
            None,
        )
        if waived is not None:
            line.steps.append(f"{waived.kind.replace('_', ' ')} copay line: no deductible or coinsurance")
        deductible = ZERO if waived else min(owed, remaining)
        if deductible > ZERO:
            line.steps.append(f"deductible: {deductible} applied ({remaining} remaining before this line)")
        remaining -= deductible
        owed -= deductible
        coinsurance = ZERO if waived else round_cents(owed * cost_share.coinsurance_pct / HUNDRED)
        if coinsurance > ZERO:
            line.steps.append(f"coinsurance: {owed} x {_pct(cost_share.coinsurance_pct)} = {coinsurance}")
        owed -= coinsurance
        copays = ZERO
        for copay in cost_share.copays:
            left = copay_left[copay.kind]
            if left <= ZERO or not code_matches(line.code, copay.covered_codes):
                continue
            taken = min(left, owed)
            copay_left[copay.kind] = left - taken
            owed -= taken
            copays += taken
            partial = (
                f" (of {round_cents(copay.amount)}; the rest falls on the next {copay.kind} line)"
                if taken < left
                else ""
            )
            line.steps.append(f"{copay.kind.replace('_', ' ')} copay: {taken}{partial}")
        return owed, deductible + coinsurance + copays, remaining


def expected_payment(
    claim: ClaimInput,
    contract: Contract,
    history: list[HistoryVisit] | None = None,
    *,
    medicare: MedicareFeeSource | None = None,
    locality: str | None = None,
    place_of_service: str | None = None,
    deductible_remaining: Decimal | None = None,
) -> ExpectedPayment:
    """Price every line of claim under contract: base, reductions, cost share, each step in words.

    history defaults to the claim's own; locality overrides the contract's; place_of_service picks the
    facility or non-facility PFS rate unless the contract fixes it; deductible_remaining defaults to the
    contract's whole deductible (assumed unmet).
    """
    pricer = _Pricer(
        claim,
        contract,
        claim.history if history is None else history,
        medicare,
        locality,
        place_of_service,
    )
    return pricer.price(deductible_remaining)
