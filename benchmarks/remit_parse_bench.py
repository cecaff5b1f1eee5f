"""Benchmark: parsing and posting a synthetic 5,000-claim 835, ours beside pyx12's own parse.

Run: .venv/bin/python benchmarks/remit_parse_bench.py [--claims 5000]
Writes a balanced eye-care 835 in a temporary folder, then times pyx12's x12n_document validation
walk, pyx12's bare tokenizer (X12Reader), tools.remittance.files.read_835 on the same file, and
billing.posting.reconcile of the parsed remittance against the practice's 5,000 claims (1% of the
control numbers replaced, so fuzzy matching runs too) with the contract's expected amounts.
"""

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import pyx12.params
import pyx12.x12file
import pyx12.x12n_document

from billing.claims import Claim, ClaimLine
from billing.posting import PatientKey, reconcile
from tools.remittance.files import read_835

T = TypeVar("T")

# (code, modifiers, charge, allowed) for the lines an optometry practice bills most.
LINES = (
    ("92014", (), Decimal("145.00"), Decimal("118.40")),
    ("92134", ("RT",), Decimal("62.00"), Decimal("38.27")),
    ("92083", (), Decimal("88.00"), Decimal("61.50")),
    ("92015", (), Decimal("45.00"), Decimal("0")),
    ("V2020", ("RB",), Decimal("95.00"), Decimal("60.00")),
)


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def claim_segments(number: int) -> tuple[list[str], Decimal]:
    """One claim of two or three lines: paid, contractual CO-45, coinsurance PR-2, or denied CO-96 + N130."""
    picked = [LINES[(number + k) % len(LINES)] for k in range(2 + number % 2)]
    line_segments: list[str] = []
    charge = paid = patient = Decimal("0")
    for index, (code, modifiers, line_charge, allowed) in enumerate(picked, start=1):
        procedure = ":".join(["HC", code, *modifiers])
        if allowed == 0:
            line_paid, adjustments, remark = Decimal("0"), [f"CAS*CO*96*{_money(line_charge)}"], "N130"
        else:
            coinsurance = (allowed * Decimal("0.2")).quantize(Decimal("0.01"))
            line_paid = allowed - coinsurance
            adjustments = [f"CAS*CO*45*{_money(line_charge - allowed)}", f"CAS*PR*2*{_money(coinsurance)}"]
            remark = ""
            patient += coinsurance
        line_segments += [
            f"SVC*{procedure}*{_money(line_charge)}*{_money(line_paid)}**1",
            "DTM*472*20260105",
            *adjustments,
            f"REF*6R*{number:06d}{index}",
        ]
        if allowed:
            line_segments.append(f"AMT*B6*{_money(allowed)}")
        if remark:
            line_segments.append(f"LQ*HE*{remark}")
        charge += line_charge
        paid += line_paid
    status = "1" if paid else "4"
    head = [
        f"CLP*PCN{number:07d}*{status}*{_money(charge)}*{_money(paid)}*{_money(patient)}*12*"
        f"26005{number:09d}*11*1",
        f"NM1*QC*1*PATIENT*SYNTHETIC****MI*M{number:08d}",
        "DTM*232*20260105",
        "DTM*233*20260105",
    ]
    return head + line_segments, paid


def write_835(path: Path, claims: int) -> None:
    body: list[str] = []
    total = Decimal("0")
    for number in range(claims):
        segments, paid = claim_segments(number)
        body += segments
        total += paid
    plb = Decimal("-12.50")
    header = [
        f"BPR*I*{_money(total - plb)}*C*ACH*CCP*01*071000013*DA*4400123987*1234567890**01*123000220*DA*"
        "7712345*20260110",
        "TRN*1*EFT20260110*1234567890",
        "DTM*405*20260110",
        "N1*PR*SYNTHETIC VISION PLAN",
        "N3*PO BOX 4400",
        "N4*PORTLAND*OR*97208",
        "PER*BL*PROVIDER SERVICES*TE*8005550142",
        "N1*PE*SYNTHETIC EYE CLINIC*XX*1234567893",
        "REF*TJ*931234567",
        "LX*1",
    ]
    transaction = ["ST*835*0001", *header, *body, f"PLB*1234567893*20261231*WO:REFUND*{_money(plb)}"]
    transaction.append(f"SE*{len(transaction) + 1}*0001")
    segments = [
        "ISA*00*          *00*          *ZZ*SYNTHPAYER     *ZZ*SYNTHCLINIC    *260110*0600*^*00501*000000001*0*P*:",
        "GS*HP*SYNTHPAYER*SYNTHCLINIC*20260110*0600*1*X*005010X221A1",
        *transaction,
        "GE*1*1",
        "IEA*1*000000001",
    ]
    path.write_text("~\n".join(segments) + "~\n", encoding="ascii")


def practice_claims(claims: int) -> list[Claim]:
    """The claims the practice sent, as the 835 above pays them (CLP01 = claim id)."""
    return [
        Claim(
            id=f"PCN{number:07d}",
            practice_id="synthetic",
            patient_id="patient",
            encounter_id=f"enc-{number}",
            provider_id="provider",
            payer_id="synthetic-vision",
            coverage_id="coverage",
            date_of_service=date(2026, 1, 5),
            lines=[
                ClaimLine(line_number=index, code=code, modifiers=list(modifiers), charge=charge)
                for index, (code, modifiers, charge, _allowed) in enumerate(
                    (LINES[(number + k) % len(LINES)] for k in range(2 + number % 2)), start=1
                )
            ],
        )
        for number in range(claims)
    ]


def contract_allowed(_claim: Claim, line: ClaimLine) -> Decimal | None:
    return next((allowed for code, _m, _c, allowed in LINES if code == line.code), None)


def timed(label: str, action: Callable[[], T]) -> T:
    """Wall and CPU time: on a shared machine the CPU time is the fair comparison."""
    started, cpu = time.perf_counter(), time.process_time()
    result = action()
    print(
        f"{label}: {time.perf_counter() - started:.2f} s wall, {time.process_time() - cpu:.2f} s CPU "
        f"(load average {os.getloadavg()[0]:.1f})"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--claims", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "synthetic.835"
        write_835(path, args.claims)
        print(f"{args.claims} claims, {path.stat().st_size / 1e6:.1f} MB")
        timed("pyx12 tokenizer only (X12Reader)", lambda: sum(1 for _ in pyx12.x12file.X12Reader(str(path))))
        timed(
            "pyx12 x12n_document (walk + validation)",
            lambda: pyx12.x12n_document.x12n_document(pyx12.params.params(), str(path), None, None),
        )
        started = time.perf_counter()
        result = timed("fovea read_835 (pyx12 walk + models + balancing)", lambda: read_835(path))
    claims = sum(len(t.claims) for t in result.remittance.transactions)
    codes = sorted({finding.code for finding in result.findings})
    print(f"claims read: {claims}; finding codes: {codes or 'none'}")
    practice = practice_claims(args.claims)
    for payment in result.remittance.transactions[0].claims[::100]:
        payment.patient_control_number = f"X{payment.patient_control_number[-5:]}"
    posting = timed(
        "fovea reconcile (match + draft postings)",
        lambda: reconcile(
            result.remittance,
            practice,
            patients={"patient": PatientKey(last_name="Patient", first_name="Synthetic")},
            expected=contract_allowed,
        ),
    )
    print(f"parse + post: {time.perf_counter() - started:.2f} s wall")
    exceptions = sorted({e.code for e in posting.exceptions})
    print(
        f"auto-matched {posting.auto_matched} of {posting.total_claims}; drafts {len(posting.drafts)}; "
        f"exception codes: {exceptions or 'none'}"
    )


if __name__ == "__main__":
    main()
