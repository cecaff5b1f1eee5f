"""Golden tests over every public 835 sample: claims all read, valid files balance, expected CSVs match."""

import csv
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest

from billing.remittance import ClaimPayment, RemittanceTransaction, ServiceLinePayment
from billing.x12_835 import ParseResult, X12Error
from tests.conftest import SHARED_DATA
from tools.remittance.files import read_835

SAMPLES = SHARED_DATA / "x12" / "835"
SAMPLE_NAMES = sorted(p.name for p in SAMPLES.iterdir() if p.is_file()) if SAMPLES.is_dir() else []


@dataclass(frozen=True)
class Expect:
    claims: int = 0
    balances: bool = True
    codes: frozenset[str] = field(default_factory=frozenset)
    error: str = ""


# What SOURCES.md says each file exercises; `codes` are findings the file must raise.
EXPECTED = {
    "badx12_dental_multiple-claims-single-check.835": Expect(9),
    "badx12_tertiary-payment.835": Expect(1),
    "bcbsnc_st_only_sample.835": Expect(1, codes=frozenset({"X12_NO_ENVELOPE"})),
    "emedny_vision_profee.835": Expect(3, codes=frozenset({"X12_LINE_DATE_OUTSIDE_CLAIM"})),
    "emedny_vision_profee_no_terminator.835": Expect(3, codes=frozenset({"X12_LINE_DATE_OUTSIDE_CLAIM"})),
    "lfh_cob-contractual-adjustment.835": Expect(1, codes=frozenset({"X12_COMPONENT_SEPARATOR"})),
    "lfh_managed-care.835": Expect(2),
    "lfh_managed-care.835.997": Expect(error="no 835 transaction set"),
    "lfh_medicare-part-a.835": Expect(2),
    "lfh_secondary-payment.835": Expect(2, codes=frozenset({"X12_COMPONENT_SEPARATOR"})),
    "lfh_tertiary-payment.835": Expect(1, codes=frozenset({"X12_SVC_MALFORMED"})),
    "oopfactory_deident_nebraska_medicaid_multi_st.835": Expect(
        56, balances=False, codes=frozenset({"X12_MASKED_VALUES"})
    ),
    "oopfactory_example1_reversal_plb.835": Expect(
        10, balances=False, codes=frozenset({"X12_TRUNCATED", "X12_BPR_UNBALANCED", "X12_VALIDATION"})
    ),
    "pyx12_835_mult_loops.835": Expect(1),
    "uhc_legacy_sample.835": Expect(2),
}
CSV_SAMPLES = {
    "edi835parser_emedny_sample.csv": "emedny_vision_profee.835",
    "edi835parser_blue_cross_nc_sample.csv": "bcbsnc_st_only_sample.835",
    "edi835parser_united_healthcare_legacy_sample.csv": "uhc_legacy_sample.835",
}


def raw_segment_ids(text: str) -> list[str]:
    """An independent count for the oracle: segment ids at the start of each segment."""
    return re.findall(r"(?:^|[~\n])[ \t\ufeff]*([A-Z][A-Z0-9]{1,2})\*", text)


def test_every_sample_has_an_expectation(shared_data: Path) -> None:
    assert set(SAMPLE_NAMES) == set(EXPECTED), "a new 835 sample needs a row in EXPECTED"


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_sample(shared_data: Path, name: str) -> None:
    path = shared_data / "x12" / "835" / name
    expect = EXPECTED[name]
    if expect.error:
        with pytest.raises(X12Error, match=expect.error):
            read_835(path)
        return
    result = read_835(path)
    ids = raw_segment_ids(path.read_text(encoding="utf-8-sig"))
    claims = [c for t in result.remittance.transactions for c in t.claims]
    assert len(claims) == expect.claims == ids.count("CLP"), "a claim in the file was not read"
    assert len(result.remittance.transactions) == ids.count("ST")
    assert sum(len(c.lines) for c in claims) == ids.count("SVC")
    assert sum(len(t.provider_adjustments) for t in result.remittance.transactions) >= ids.count("PLB")
    codes = {f.code for f in result.findings}
    assert expect.codes <= codes
    if expect.balances:
        assert not {c for c in codes if c.endswith("_UNBALANCED")}, result.findings
        for transaction in result.remittance.transactions:
            assert_balances(transaction)


def assert_balances(transaction: RemittanceTransaction) -> None:
    paid = sum(c.paid for c in transaction.claims)
    provider = sum(p.amount for p in transaction.provider_adjustments)
    assert transaction.payment.amount == paid - provider
    for claim in transaction.claims:
        adjusted = sum(a.amount for a in claim.adjustments) + sum(
            a.amount for line in claim.lines for a in line.adjustments
        )
        assert claim.charge - claim.paid == adjusted, claim.patient_control_number
        for line in claim.lines:
            assert line.charge - line.paid == sum(a.amount for a in line.adjustments), line.code


def flattened(result: ParseResult) -> list[tuple[RemittanceTransaction, ClaimPayment, ServiceLinePayment]]:
    return [(t, c, line) for t in result.remittance.transactions for c in t.claims for line in c.lines]


def money_or(value: str, default: Decimal | None) -> Decimal | None:
    return Decimal(value) if value else default


@pytest.mark.parametrize("csv_name", sorted(CSV_SAMPLES))
def test_expected_service_lines_match(shared_data: Path, csv_name: str) -> None:
    """Every row edi-835-parser produced matches our line, field by field (blank = absent or zero)."""
    folder = shared_data / "x12" / "835"
    rows = list(csv.DictReader((folder / "expected" / csv_name).open(newline="")))
    lines = flattened(read_835(folder / CSV_SAMPLES[csv_name]))
    position = 0
    for row in rows:
        while position < len(lines) and (
            lines[position][1].patient_control_number != row["marker"]
            or lines[position][2].code != row["code"]
        ):
            position += 1
        assert position < len(lines), f"no line for row {row['']} ({row['marker']} {row['code']})"
        transaction, claim, line = lines[position]
        position += 1
        assert claim.patient_name.casefold() == row["patient"].casefold()
        assert transaction.payer == row["payer"]
        assert str(transaction.payment.date) == row["transaction_date"]
        assert str(line.date_of_service) == row["start_date"]
        assert str(line.date_of_service_end or line.date_of_service) == row["end_date"]
        assert (line.modifiers[0] if line.modifiers else "") == row["modifier"]
        assert line.units == (float(row["allowed_units"]) if row["allowed_units"] else 1)
        assert (line.original_units or line.units) == float(row["billed_units"])
        assert line.charge == money_or(row["charge_amount"], Decimal(0))
        assert line.paid == money_or(row["paid_amount"], Decimal(0))
        assert line.allowed == money_or(row["allowed_amount"], None)
        # edi-835-parser keeps only the first reason of each CAS segment; we keep them all (the line
        # then balances), so its adjustments must appear in ours, in order.
        listed = [
            (row[f"adj_{n}_group"], row[f"adj_{n}_code"], Decimal(row[f"adj_{n}_amount"]))
            for n in range(3)
            if row.get(f"adj_{n}_group")
        ]
        ours = iter((a.group, a.reason, a.amount) for a in line.adjustments)
        assert all(adjustment in ours for adjustment in listed), (listed, line.adjustments)
        assert line.charge - line.paid == sum(a.amount for a in line.adjustments)
        if row.get("ref_0_qual") == "6R":
            assert line.line_control_number == row["ref_0_value"]
        assert line.remarks[:1] == ([row["rem_0_code"]] if row.get("rem_0_code") else [])
