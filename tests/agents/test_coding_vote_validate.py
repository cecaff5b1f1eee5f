"""The approved-encounter vote and the validation of a suggestion against the knowledge layer."""

from datetime import date
from pathlib import Path

import pytest

from agents.coding.offline import OfflineCoder
from agents.coding.schemas import (
    AUTO_DRAFT_THRESHOLD,
    CodeSuggestion,
    CodingRequest,
    PriorVisit,
    SimilarEncounter,
    SuggestedDiagnosis,
    SuggestedLine,
)
from agents.coding.validate import validate_suggestion
from billing.settings import Settings
from knowledge.base import KnowledgeBase, load_knowledge

REPO = Path(__file__).resolve().parents[2]

NOTE = """ERM OD f/u. No change in distortion. Not interested in surgery.
VA cc 20/30 OD, 20/20 OS. Amsler: mild waviness OD, unchanged.
OCT mac today: ERM OD, CST 328 (prior 330); OS nl.
A: ERM OD, stable.
P: observe. RTC 1 yr."""


@pytest.fixture
def kb(settings: Settings) -> KnowledgeBase:
    return load_knowledge(settings)


def _request(**overrides) -> CodingRequest:
    fields = {
        "note": NOTE,
        "patient_age": 71,
        "patient_sex": "F",
        "payer_name": "UnitedHealthcare",
        "payer_kind": "commercial",
        "date_of_service": date(2026, 2, 4),
        "history": [PriorVisit(date=date(2025, 2, 3), codes=["92014", "92134"])],
    }
    return CodingRequest(**{**fields, **overrides})


def _approved(similarity: float) -> SimilarEncounter:
    """A staff edit taught: this ERM follow-up is billed 99213 (not our 99212) with the OCT."""
    return SimilarEncounter(
        encounter_id="enc-approved",
        similarity=similarity,
        note_text=NOTE,
        diagnosis_codes=["H35.371"],
        lines=[
            SuggestedLine(code="99213", diagnosis_codes=["H35.371"]),
            SuggestedLine(code="92134", diagnosis_codes=["H35.371"]),
        ],
        payer_kind="commercial",
    )


def test_a_near_identical_approved_note_is_adopted(coder: OfflineCoder) -> None:
    alone = coder.suggest(_request())
    voted = coder.suggest(_request(similar_encounters=[_approved(0.99)]))
    assert {line.code for line in alone.lines} == {"99212", "92134"}
    assert {line.code for line in voted.lines} == {"99213", "92134"}
    assert [d.code for d in voted.diagnoses] == ["H35.371"]
    assert voted.confidence >= AUTO_DRAFT_THRESHOLD
    assert "enc-approved" in voted.rationale[0]
    oct_line = next(line for line in voted.lines if line.code == "92134")
    assert oct_line.evidence and all(NOTE[e.start : e.end] == e.text for e in oct_line.evidence)


def test_weaker_neighbours_only_nudge_confidence(coder: OfflineCoder) -> None:
    alone = coder.suggest(_request())
    nudged = coder.suggest(_request(similar_encounters=[_approved(0.9)]))
    assert [(x.code, x.modifiers) for x in nudged.lines] == [(x.code, x.modifiers) for x in alone.lines]
    em_alone = next(x for x in alone.lines if x.code == "99212")
    em_nudged = next(x for x in nudged.lines if x.code == "99212")
    oct_alone = next(x for x in alone.lines if x.code == "92134")
    oct_nudged = next(x for x in nudged.lines if x.code == "92134")
    assert em_nudged.confidence < em_alone.confidence  # the neighbour billed 99213, not 99212
    assert oct_nudged.confidence >= oct_alone.confidence


def test_adopted_refraction_takes_the_patients_payer_modifier(coder: OfflineCoder) -> None:
    neighbour = _approved(0.99).model_copy(
        update={
            "lines": [
                SuggestedLine(code="92014", diagnosis_codes=["H35.371"]),
                SuggestedLine(code="92015", modifiers=[], diagnosis_codes=["H52.13"]),
            ],
            "diagnosis_codes": ["H35.371", "H52.13"],
        }
    )
    voted = coder.suggest(
        _request(payer_kind="medicare", payer_name="Medicare", similar_encounters=[neighbour])
    )
    assert next(x for x in voted.lines if x.code == "92015").modifiers == ["GY"]


def test_validation_drops_codes_that_cannot_be_billed(kb: KnowledgeBase) -> None:
    suggestion = CodeSuggestion(
        diagnoses=[
            SuggestedDiagnosis(code="H35.371", confidence=0.95),
            SuggestedDiagnosis(code="H40.11", confidence=0.9),
        ],
        lines=[
            SuggestedLine(code="99212", diagnosis_codes=["H35.371", "H40.11"]),
            SuggestedLine(code="92084", diagnosis_codes=["H35.371"]),
        ],
    )
    checked = validate_suggestion(suggestion, _request(), kb)
    assert [d.code for d in checked.diagnoses] == ["H35.371"]
    assert [(x.code, x.diagnosis_codes) for x in checked.lines] == [("99212", ["H35.371"])]
    codes = [f.code for f in checked.findings]
    assert "ICD_NOT_BILLABLE" in codes and "CPT_UNKNOWN" in codes


def test_the_coder_with_knowledge_runs_the_validator(kb: KnowledgeBase) -> None:
    request = _request(fee_schedule_codes={"99212", "99213"})
    suggestion = OfflineCoder(kb).suggest(request)
    assert {"99212", "92134"} == {x.code for x in suggestion.lines}
    assert any(f.code == "NOT_IN_FEE_SCHEDULE" and f.lines == [2] for f in suggestion.findings)
