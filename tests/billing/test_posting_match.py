"""Posting reconciliation: claims by control number or a unique fuzzy candidate, lines by code + modifiers."""

from datetime import timedelta
from decimal import Decimal

from billing.posting import reconcile
from tests.billing.posting_support import DOS, PATIENTS, claim, paid_line, payment, remittance

EXAM = ("92014", [], "165.00")
OCT_RIGHT = ("92134", ["RT"], "60.00")
FIELDS_BOTH = ("92083", ["50"], "88.00")


def test_control_number_match_posts_every_line_exactly() -> None:
    claims = [claim("clm-1", "pat-1", [EXAM, OCT_RIGHT]), claim("clm-2", "pat-2", [EXAM])]
    remit = remittance(
        payment(
            "clm-1",
            [
                paid_line("92014", "165.00", "100.00", patient="25.00"),
                paid_line("92134", "60.00", "30.00", modifiers=["RT"]),
            ],
        )
    )
    result = reconcile(remit, claims, patients=PATIENTS)
    assert (result.auto_matched, result.total_claims) == (1, 1)
    match = result.matches[0]
    assert (match.claim_id, match.how) == ("clm-1", "control_number")
    assert [(line.claim_line_number, line.how) for line in match.lines] == [(1, "exact"), (2, "exact")]
    assert result.exceptions == []
    draft = result.drafts[0]
    assert draft.paid == Decimal("130.00")
    assert [line.patient_responsibility for line in draft.lines] == [Decimal("25.00"), Decimal("0")]
    # No contract given: the payer's contractual reduction is proposed as the write-off, nothing held.
    assert [line.write_off for line in draft.lines] == [Decimal("40.00"), Decimal("30.00")]
    assert draft.held == Decimal("0")


def test_a_reformatted_control_number_still_matches_by_number() -> None:
    claims = [claim("clm-000123", "pat-1", [EXAM])]
    result = reconcile(remittance(payment("CLM000123", [paid_line("92014", "165.00", "100.00")])), claims)
    assert (result.matches[0].claim_id, result.matches[0].how) == ("clm-000123", "control_number")


def test_lines_tolerate_a_dropped_or_changed_modifier_and_report_it() -> None:
    claims = [claim("clm-1", "pat-1", [EXAM, OCT_RIGHT, FIELDS_BOTH])]
    remit = remittance(
        payment(
            "clm-1",
            [
                paid_line("92083", "88.00", "50.00", modifiers=["LT"]),  # 50 changed to LT
                paid_line("92134", "60.00", "30.00"),  # RT dropped
                paid_line("92014", "165.00", "100.00"),
            ],
        )
    )
    result = reconcile(remit, claims, patients=PATIENTS)
    lines = {line.remit_line_index: (line.claim_line_number, line.how) for line in result.matches[0].lines}
    assert lines == {0: (3, "modifier_changed"), 1: (2, "modifier_dropped"), 2: (1, "exact")}
    reported = sorted((e.code, e.line_index) for e in result.exceptions)
    assert reported == [("MODIFIER_CHANGED", 0), ("MODIFIER_CHANGED", 1)]
    assert all("92083-50" in e.message or "92134-RT" in e.message for e in result.exceptions)
    assert result.auto_matched == 1  # a modifier note is a review item, not a reason to leave the payment


def test_a_dropped_modifier_never_takes_the_line_remitted_exactly() -> None:
    """Two 92134 lines (RT, LT): the exact LT line keeps LT even though the bare line comes first."""
    claims = [claim("clm-1", "pat-1", [("92134", ["RT"], "60.00"), ("92134", ["LT"], "60.00")])]
    remit = remittance(
        payment(
            "clm-1",
            [paid_line("92134", "60.00", "30.00"), paid_line("92134", "60.00", "30.00", modifiers=["LT"])],
        )
    )
    lines = reconcile(remit, claims).matches[0].lines
    assert [(line.claim_line_number, line.how) for line in lines] == [(1, "modifier_dropped"), (2, "exact")]


def test_a_recoded_line_is_matched_through_svc06_and_reported() -> None:
    claims = [claim("clm-1", "pat-1", [EXAM])]
    remit = remittance(payment("clm-1", [paid_line("92012", "165.00", "80.00", submitted_code="92014")]))
    result = reconcile(remit, claims)
    assert [(m.claim_line_number, m.how) for m in result.matches[0].lines] == [(1, "code_changed")]
    assert [e.code for e in result.exceptions] == ["CODE_CHANGED"]


def test_a_line_the_claim_never_had_is_an_exception() -> None:
    claims = [claim("clm-1", "pat-1", [EXAM])]
    remit = remittance(
        payment("clm-1", [paid_line("92014", "165.00", "100.00"), paid_line("V2020", "95.00", "40.00")])
    )
    result = reconcile(remit, claims)
    assert [(m.claim_line_number, m.how) for m in result.matches[0].lines] == [
        (1, "exact"),
        (None, "unmatched"),
    ]
    codes = {e.code for e in result.exceptions}
    assert "UNMATCHED_LINE" in codes and "AMOUNT_MISMATCH" in codes


def test_fuzzy_match_needs_a_unique_candidate_on_patient_date_and_charge() -> None:
    claims = [
        claim("clm-1", "pat-1", [EXAM, OCT_RIGHT]),
        claim("clm-2", "pat-2", [EXAM, OCT_RIGHT]),  # same charge, other patient
        claim("clm-3", "pat-1", [EXAM]),  # same patient and date, other charge
    ]
    remit = remittance(
        payment(
            "PAYER-99812",
            [paid_line("92014", "165.00", "100.00"), paid_line("92134", "60.00", "30.00", modifiers=["RT"])],
        )
    )
    result = reconcile(remit, claims, patients=PATIENTS)
    match = result.matches[0]
    assert (match.claim_id, match.how) == ("clm-1", "fuzzy")
    assert match.score >= 0.8
    assert result.auto_matched == 1


def test_fuzzy_match_never_guesses_between_equal_candidates() -> None:
    """A resubmitted duplicate: two identical claims for the same visit; the mangled payment is a review item."""
    claims = [claim("clm-1", "pat-1", [EXAM]), claim("clm-9", "pat-1", [EXAM])]
    result = reconcile(
        remittance(payment("9981", [paid_line("92014", "165.00", "100.00")])), claims, patients=PATIENTS
    )
    assert (result.matches[0].claim_id, result.matches[0].how) == (None, "none")
    assert result.drafts == [] and result.auto_matched == 0
    [exception] = result.exceptions
    assert exception.code == "UNMATCHED_CLAIM"
    assert "clm-1" in exception.message and "clm-9" in exception.message


def test_fuzzy_match_refuses_another_first_initial_or_a_date_past_three_days() -> None:
    claims = [claim("clm-1", "pat-3", [EXAM]), claim("clm-2", "pat-1", [EXAM], dos=DOS - timedelta(days=4))]
    remit = remittance(
        payment("X1", [paid_line("92014", "165.00", "100.00")], name="BLAKE TESTWOOD"),  # clm-1 is ARDEN
        payment(
            "X2", [paid_line("92014", "165.00", "100.00")], name="AVERY TESTWOOD", charge=Decimal("170.00")
        ),
    )
    result = reconcile(remit, claims, patients=PATIENTS)
    assert [m.claim_id for m in result.matches] == [None, None]
    assert [e.code for e in result.exceptions] == ["UNMATCHED_CLAIM", "UNMATCHED_CLAIM"]
    # Within three days, the same payment does match.
    near = [claim("clm-2", "pat-1", [EXAM], dos=DOS - timedelta(days=3))]
    only = remittance(payment("X3", [paid_line("92014", "165.00", "100.00")], name="AVERY TESTWOOD"))
    assert reconcile(only, near, patients=PATIENTS).matches[0].claim_id == "clm-2"


def test_a_control_number_hit_that_disagrees_on_everything_is_not_trusted() -> None:
    claims = [claim("clm-1", "pat-2", [("92012", [], "110.00")], dos=DOS - timedelta(days=40))]
    result = reconcile(
        remittance(payment("clm-1", [paid_line("92014", "165.00", "100.00")])), claims, patients=PATIENTS
    )
    assert result.matches[0].claim_id is None
    assert [e.code for e in result.exceptions] == ["UNMATCHED_CLAIM"]


def test_the_same_claim_paid_twice_in_one_file_is_a_duplicate_payment() -> None:
    claims = [claim("clm-1", "pat-1", [EXAM])]
    line = paid_line("92014", "165.00", "100.00")
    result = reconcile(remittance(payment("clm-1", [line]), payment("clm-1", [line])), claims)
    assert [e.code for e in result.exceptions] == ["DUPLICATE_PAYMENT"]
    assert len(result.drafts) == 1 and result.auto_matched == 1 and result.total_claims == 2
