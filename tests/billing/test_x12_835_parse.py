"""X12 835 mapping: each 835 element lands in the right model field; broken input gives findings or X12Error."""

from decimal import Decimal
from pathlib import Path

import pytest

from billing.x12_835 import ParseResult, X12Error, parse_835
from tools.remittance.files import decode_x12, parse_835_bytes


def sample(shared_data: Path, name: str) -> str:
    return (shared_data / "x12" / "835" / name).read_bytes().decode("utf-8-sig")


def codes(result: ParseResult) -> set[str]:
    return {finding.code for finding in result.findings}


def test_header_payment_payer_and_payee(shared_data: Path) -> None:
    transaction = parse_835(sample(shared_data, "uhc_legacy_sample.835")).remittance.transactions[0]
    assert transaction.payer == "UNITED HEALTHCARE INSURANCE COMPANY"
    assert transaction.payer_id == "87726"
    assert (transaction.payee, transaction.payee_npi) == ("KLAUS MEDICAL CENTER", "1922164458")
    assert transaction.payment.model_dump(mode="json") == {
        "handling": "I",
        "method": "ACH",
        "amount": "349.99",
        "date": "2021-02-04",
        "trace": "1234567890",
    }
    assert transaction.interchange_control_number == "444444444"
    assert transaction.transaction_control_number == "000000064"


def test_claim_fields_and_every_cas_triplet(shared_data: Path) -> None:
    claims = parse_835(sample(shared_data, "uhc_legacy_sample.835")).remittance.transactions[0].claims
    first = claims[0]
    assert (first.patient_control_number, first.status, first.payer_claim_control_number) == (
        "001-18573-358",
        "1",
        "ATL2819897200",
    )
    assert (first.charge, first.paid, first.patient_responsibility) == (
        Decimal("341.28"),
        Decimal("88.92"),
        Decimal("105.26"),
    )
    assert str(first.statement_from) == "2020-12-21" and str(first.statement_to) == "2021-01-13"
    # CAS*PR*2*5.13**1*110 holds two reasons in one segment; both are read, then CAS*CO*45.
    last_line = claims[1].lines[-1]
    assert [(a.group, a.reason, a.amount) for a in last_line.adjustments] == [
        ("PR", "2", Decimal("5.13")),
        ("PR", "1", Decimal("110")),
        ("CO", "45", Decimal("184.32")),
    ]
    assert (last_line.units, last_line.allowed, last_line.line_control_number) == (
        178,
        Decimal("144.18"),
        "123456789014",
    )


def test_vision_lines_modifiers_units_remarks_and_corrected_name(shared_data: Path) -> None:
    result = parse_835(sample(shared_data, "emedny_vision_profee.835"))
    first, denied, partial = result.remittance.transactions[0].claims
    assert [(line.code, line.modifiers) for line in first.lines] == [
        ("V2020", ["RB"]),
        ("V2700", ["RB"]),
        ("V2103", ["RB"]),
        ("S0580", []),
    ]
    assert first.lines[3].units == 2
    assert [line.units for line in denied.lines] == [0, 0]
    assert [(a.group, a.reason) for a in denied.lines[0].adjustments] == [("CO", "29")]
    assert [line.remarks for line in partial.lines] == [[], [], ["N206"], ["N206"]]
    assert first.corrected_patient_name == "CORRECTED FIRST CORRECTED LAST"
    # One line is dated 2013 inside a 2010 claim.
    assert str(partial.lines[1].date_of_service) == "2013-09-17"


def test_no_terminator_file_reads_like_the_terminated_one(shared_data: Path) -> None:
    terminated = parse_835(sample(shared_data, "emedny_vision_profee.835"))
    newline_only = parse_835(sample(shared_data, "emedny_vision_profee_no_terminator.835"))
    assert newline_only.remittance.transactions == terminated.remittance.transactions
    assert codes(newline_only) == codes(terminated)


def test_institutional_remarks_and_provider_adjustment(shared_data: Path) -> None:
    transaction = parse_835(sample(shared_data, "lfh_medicare-part-a.835")).remittance.transactions[0]
    assert transaction.payer_id == "999"
    assert [claim.remarks for claim in transaction.claims] == [[], ["MA02"]]
    assert [plb.model_dump(mode="json") for plb in transaction.provider_adjustments] == [
        {
            "provider_id": "6543210903",
            "fiscal_period": "20021231",
            "reason": "CV",
            "reference": "CP",
            "amount": "-1.27",
        }
    ]


def test_reversals_keep_negative_amounts_and_are_flagged(shared_data: Path) -> None:
    result = parse_835(sample(shared_data, "oopfactory_example1_reversal_plb.835"))
    claims = result.remittance.transactions[0].claims
    reversals = [claim for claim in claims if claim.reversal]
    assert [c.status for c in reversals] == ["22", "22", "22"]
    assert (reversals[0].charge, reversals[0].paid) == (Decimal("-42.58"), Decimal("-42.58"))
    assert reversals[0].lines[0].units == -2
    assert [a.group for a in reversals[0].lines[0].adjustments] == ["CR", "CR", "CR", "OA"]
    assert reversals[1].lines[0].remarks == ["MA92"]
    assert [c.status for c in claims if not c.reversal].count("25") == 1
    assert "X12_CLAIM_REVERSAL" in codes(result)
    bpr = next(f for f in result.findings if f.code == "X12_BPR_UNBALANCED")
    assert "$5.75" in bpr.message and "$7.02" in bpr.message and bpr.lines == [4]


def test_procedure_substitution_and_line_controls(shared_data: Path) -> None:
    claim = parse_835(sample(shared_data, "bcbsnc_st_only_sample.835")).remittance.transactions[0].claims[0]
    assert [(line.code, line.submitted_code) for line in claim.lines] == [
        ("59430", "59410"),
        ("59440", "59410"),
        ("59426", ""),
    ]
    assert [line.line_control_number for line in claim.lines] == ["0001", "0002", "0003"]
    assert claim.lines[2].original_units == 742


def test_component_separator_mismatch_is_read_and_reported(shared_data: Path) -> None:
    result = parse_835(sample(shared_data, "lfh_secondary-payment.835"))
    lines = result.remittance.transactions[0].claims[1].lines
    assert [(line.code, line.modifiers) for line in lines] == [("12345", ["26"]), ("66543", ["26"])]
    finding = next(f for f in result.findings if f.code == "X12_COMPONENT_SEPARATOR")
    assert "'>'" in finding.message and finding.lines == [29]


def test_malformed_svc_recovered_like_the_well_formed_file(shared_data: Path) -> None:
    malformed = parse_835(sample(shared_data, "lfh_tertiary-payment.835")).remittance.transactions[0]
    well_formed = parse_835(sample(shared_data, "badx12_tertiary-payment.835")).remittance.transactions[0]
    assert malformed.claims[0].lines[0].code == well_formed.claims[0].lines[0].code == "24599"
    assert malformed.claims[0].lines[0].charge == well_formed.claims[0].lines[0].charge


def test_multiple_interchanges_and_masked_values(shared_data: Path) -> None:
    result = parse_835(sample(shared_data, "oopfactory_deident_nebraska_medicaid_multi_st.835"))
    transactions = result.remittance.transactions
    assert [t.transaction_control_number for t in transactions] == ["8001", "9001", "10001"]
    assert [t.interchange_control_number for t in transactions] == ["000000031", "000000032", "000000033"]
    masked = [f for f in result.findings if f.code == "X12_MASKED_VALUES"]
    assert len(masked) == 3
    assert not {c for c in codes(result) if c.endswith("_UNBALANCED")}


def test_validation_finding_never_quotes_values(shared_data: Path) -> None:
    result = parse_835(sample(shared_data, "lfh_tertiary-payment.835"))
    validation = next(f for f in result.findings if f.code == "X12_VALIDATION")
    assert "SVC01-02" in validation.message and 20 in validation.lines
    assert "ISLAND" not in validation.message and "789123456" not in validation.message


def test_unbalanced_amounts_give_findings_not_errors(shared_data: Path) -> None:
    text = sample(shared_data, "lfh_managed-care.835").replace("BPR*I*945.00", "BPR*I*955.00")
    text = text.replace("SVC*HC:99211*800.00*500.00", "SVC*HC:99211*800.00*510.00")
    result = parse_835(text)
    found = {f.code: f for f in result.findings}
    assert {"X12_BPR_UNBALANCED", "X12_LINE_UNBALANCED"} <= set(found)
    assert "off by $10.00" in found["X12_BPR_UNBALANCED"].message
    assert found["X12_LINE_UNBALANCED"].lines == [16]  # the SVC is the 16th segment
    assert len(result.remittance.transactions[0].claims) == 2


def test_file_cut_mid_claim_keeps_every_claim_before_the_cut(shared_data: Path) -> None:
    text = sample(shared_data, "badx12_dental_multiple-claims-single-check.835")
    cut = text[: text.index("CLP*7722337*1*129") + len("CLP*7722337*1*12")]
    result = parse_835(cut)
    claims = result.remittance.transactions[0].claims
    assert len(claims) == 8  # seven whole claims and the partial eighth
    assert claims[6].lines and claims[7].charge == Decimal("12")
    assert "X12_TRUNCATED" in codes(result)
    assert {f.severity.value for f in result.findings if f.code == "X12_TRUNCATED"} == {"error"}


def test_crlf_indentation_and_bom_do_not_change_the_result(shared_data: Path) -> None:
    text = sample(shared_data, "uhc_legacy_sample.835")
    reformatted = "\ufeff" + text.replace("~", "~\r\n    ")
    assert parse_835(reformatted).remittance.transactions == parse_835(text).remittance.transactions


@pytest.mark.parametrize(
    "payload",
    [b'{"not": "x12"}', b"hello, this is a letter\n", b"", b"ISA*00*short~", b"\x00\x01\x02binary"],
)
def test_non_x12_input_raises_x12_error(payload: bytes) -> None:
    with pytest.raises(X12Error):
        parse_835_bytes(payload)


def test_decoding_accepts_utf16_and_latin1(shared_data: Path) -> None:
    text = sample(shared_data, "lfh_managed-care.835")
    assert decode_x12(text.encode("utf-16")) == text
    assert decode_x12("N1*PR*CAFÉ~".encode("latin-1")) == "N1*PR*CAFÉ~"
