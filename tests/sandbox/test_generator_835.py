"""The generator's 835 remittances: valid X12 per pyx12, balanced, and carrying the seeded variances."""

import io
import logging
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
import pyx12.params
import pyx12.x12n_document

from sandbox.dataset import RemittanceFile, SyntheticDataset
from sandbox.generator import generate_dataset


@pytest.fixture(scope="module")
def dataset() -> SyntheticDataset:
    return generate_dataset(seed=23, patients=250)


@dataclass
class Line:
    code: str
    charge: Decimal
    paid: Decimal
    adjustments: list[tuple[str, str, Decimal]] = field(default_factory=list)
    allowed: Decimal | None = None
    control: str = ""


@dataclass
class ClaimPay:
    claim_id: str
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    adjustments: list[tuple[str, str, Decimal]] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)


def parse(x12: str) -> tuple[Decimal, list[ClaimPay]]:
    """BPR02 and the claims of an 835, read straight from its segments."""
    total = Decimal(0)
    claims: list[ClaimPay] = []
    for raw in x12.split("~"):
        seg = raw.strip().split("*")
        if seg[0] == "BPR":
            total = Decimal(seg[2])
        elif seg[0] == "CLP":
            claims.append(ClaimPay(seg[1], Decimal(seg[3]), Decimal(seg[4]), Decimal(seg[5])))
        elif seg[0] == "SVC":
            claims[-1].lines.append(Line(seg[1].split(":")[1], Decimal(seg[2]), Decimal(seg[3])))
        elif seg[0] == "CAS":
            target = claims[-1].lines[-1].adjustments if claims[-1].lines else claims[-1].adjustments
            for start in range(2, len(seg), 3):
                target.append((seg[1], seg[start], Decimal(seg[start + 1])))
        elif seg[0] == "AMT" and seg[1] == "B6":
            claims[-1].lines[-1].allowed = Decimal(seg[2])
        elif seg[0] == "REF" and seg[1] == "6R":
            claims[-1].lines[-1].control = seg[2]
    return total, claims


def pyx12_accepts(x12: str) -> bool:
    return pyx12.x12n_document.x12n_document(pyx12.params.params(), io.StringIO(x12), None, None)


def _sample(dataset: SyntheticDataset) -> list[RemittanceFile]:
    """Files of different shapes: zero-pay, a denial, a variance, the largest, one per payer."""
    files = dataset.remittances
    zero = next(f for f in files if parse(f.x12)[0] == 0)
    denial = next(f for f in files if "*4*" in f.x12 and f is not zero)
    variance_ids = {v.remittance_id for v in dataset.seeded_variances}
    varied = next(f for f in files if f.id in variance_ids)
    largest = max(files, key=lambda f: len(f.x12))
    kinds = {f.payer_id: f for f in files}
    return list({f.id: f for f in [zero, denial, varied, largest, *kinds.values()]}.values())


def test_sampled_835_files_validate_with_pyx12(dataset: SyntheticDataset) -> None:
    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    sample = _sample(dataset)
    assert len(sample) >= 6
    for remittance in sample:
        assert pyx12_accepts(remittance.x12), remittance.filename


def test_pyx12_check_rejects_a_broken_835(dataset: SyntheticDataset) -> None:
    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    broken = dataset.remittances[0].x12.replace("PER*BL*", "XXX*BL*")
    assert not pyx12_accepts(broken)


def test_every_835_balances(dataset: SyntheticDataset) -> None:
    for remittance in dataset.remittances:
        total, claims = parse(remittance.x12)
        assert total == sum(c.paid for c in claims), remittance.filename
        assert [c.claim_id for c in claims] == remittance.claim_ids
        for claim in claims:
            line_adjustments = [a for line in claim.lines for a in line.adjustments]
            assert claim.charge - claim.paid == sum(a[2] for a in claim.adjustments + line_adjustments)
            assert claim.patient_responsibility == sum(a[2] for a in line_adjustments if a[0] == "PR")
            assert claim.charge == sum(line.charge for line in claim.lines)
            for line in claim.lines:
                assert line.charge - line.paid == sum(a[2] for a in line.adjustments)
                assert all(a[2] > 0 for a in line.adjustments)


def test_remit_lines_match_the_recorded_outcomes(dataset: SyntheticDataset) -> None:
    outcomes = {(o.claim_id, o.line_number): o for o in dataset.outcomes}
    for remittance in dataset.remittances[:200]:
        for claim in parse(remittance.x12)[1]:
            for number, line in enumerate(claim.lines, start=1):
                outcome = outcomes[(claim.claim_id, number)]
                assert outcome.paid == line.paid
                assert (outcome.allowed or 0) == (line.allowed or 0)
                if outcome.status == "denied":
                    assert (outcome.group, outcome.carc, line.charge) in line.adjustments


def test_seeded_variances_are_present_and_match_the_835(dataset: SyntheticDataset) -> None:
    variances = dataset.seeded_variances
    paid_lines = sum(o.status != "denied" for o in dataset.outcomes)
    underpaid = [v for v in variances if v.kind == "underpaid"]
    overpaid = [v for v in variances if v.kind == "overpaid"]
    assert 0.03 <= len(underpaid) / paid_lines <= 0.055
    assert 0.003 <= len(overpaid) / paid_lines <= 0.02
    assert {v.cause for v in underpaid} == {
        "wrong_fee_schedule_year",
        "reduction_misapplied",
        "cost_share_misapplied",
        "flat_cut",
    }
    files = {f.id: f for f in dataset.remittances}
    for variance in variances:
        claims = {c.claim_id: c for c in parse(files[variance.remittance_id].x12)[1]}
        line = claims[variance.claim_id].lines[variance.line_number - 1]
        assert line.allowed == variance.actual_allowed
        assert line.paid == variance.actual_paid
        if variance.cause == "cost_share_misapplied":
            assert variance.actual_allowed == variance.expected_allowed
            assert variance.actual_paid < (variance.expected_paid or 0)
        elif variance.kind == "underpaid":
            assert variance.actual_allowed < variance.expected_allowed
        else:
            assert variance.actual_allowed > variance.expected_allowed
