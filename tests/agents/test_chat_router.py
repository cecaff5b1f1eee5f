"""The offline chat engine's entity extraction and MiniLM intent router."""

from datetime import date
from decimal import Decimal

import pytest

from agents.chat.entities import extract_entities
from agents.chat.router import load_intents, tool_args
from tests.support.chat import chat_router

PAYERS = [
    "Medicare Part B (Noridian JF)",
    "Summit Mutual Insurance",
    "Evergreen Health Partners PPO",
    "VSP Vision Care",
]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What does CARC 45 mean?", {"carc_codes": ["45"]}),
        ("explain PR-204 and N130", {"carc_codes": ["PR-204"], "rarc_codes": ["N130"]}),
        ("draft an appeal for claim 1042", {"claim_ids": ["clm-001042"]}),
        ("why was CLM-002 denied", {"claim_ids": ["CLM-002"]}),
        ("code visit 45 today", {"encounter_ids": ["enc-000045"]}),
        ("summarize remittance era-00007", {"remittance_ids": ["era-00007"]}),
        ("is 92250 allowed with 92134?", {"procedure_codes": ["92250", "92134"]}),
        ("check 92083-RT with H40.1131", {"procedure_codes": ["92083-RT"], "diagnosis_codes": ["H40.1131"]}),
        ("what does modifier GY mean", {"modifiers": ["GY"]}),
        (
            "Medicare fee for 92014 in 02302-01",
            {"procedure_codes": ["92014"], "locality": "02302-01", "payer_kind": "medicare"},
        ),
        ("claims over 60 days", {"days": 60}),
        (
            "payments on 2025-03-01 over $1,250.50",
            {"dates": [date(2025, 3, 1)], "amounts": [Decimal("1250.50")]},
        ),
        ("why was Mrs. Testwood's claim denied?", {"patient_names": ["Testwood"]}),
        ("what claims does Avery Testwood have", {"patient_names": ["Avery Testwood"]}),
        ("What does Medicare cover?", {"patient_names": [], "payer_kind": "medicare"}),
    ],
)
def test_entities(question: str, expected: dict) -> None:
    found = extract_entities(question).model_dump()
    assert {key: found[key] for key in expected} == expected


def test_payers_are_spotted_by_a_distinctive_word_and_entities_are_normalized_away() -> None:
    found = extract_entities("what should Summit pay for 92014 on claim 12", PAYERS)
    assert found.payer == "Summit Mutual Insurance"
    assert found.normalized == "what should Summit pay for [cpt] on [claim]"


def test_the_offline_engine_knows_at_least_25_intents_each_with_several_utterances() -> None:
    intents = load_intents()
    with_tools = [intent for intent in intents if intent.tool]
    assert len(intents) >= 25 and len(with_tools) >= 25
    assert all(len(intent.utterances) >= 4 for intent in intents)
    assert len({intent.name for intent in intents}) == len(intents)


@pytest.mark.parametrize(
    ("question", "intent", "args"),
    [
        ("What does CARC 45 mean?", "explain_carc", {"code": "45"}),
        ("what should Medicare pay for 92134 in our locality?", "medicare_fee", {"code": "92134"}),
        ("draft an appeal for claim 1042", "draft_appeal", {"claim_id": "clm-001042"}),
        ("which claims over 60 days are worth calling about today?", "followup_worklist", {"min_days": 60}),
        ("is 92250 allowed with 92134?", "ncci_check", {"code_a": "92250", "code_b": "92134"}),
        (
            "what should Summit pay for 92014",
            "contract_price",
            {"code": "92014", "payer": "Summit Mutual Insurance"},
        ),
        ("Please scrub CLM-002 before it goes out", "scrub_claim", {"claim_id": "CLM-002"}),
        ("how many units of 92083 can we bill in a day", "mue_check", {"code": "92083"}),
    ],
)
def test_the_router_sends_staff_questions_to_the_right_tool_with_the_right_arguments(
    question: str, intent: str, args: dict
) -> None:
    route, entities = chat_router().route(question, payer_names=PAYERS)
    assert route.intent == intent
    assert tool_args(route.intent, entities, question) == args


def test_a_named_patient_routes_to_the_denial_explanation() -> None:
    route, entities = chat_router().route("why was Mrs. Testwood's claim denied?")
    assert route.intent == "explain_denial" and entities.patient_names == ["Testwood"]


@pytest.mark.parametrize(
    "question", ["what's the weather in Portland tomorrow", "sing me a song about penguins"]
)
def test_the_router_says_when_it_does_not_understand(question: str) -> None:
    route, _ = chat_router().route(question)
    assert route.intent == "unknown" and route.tool is None


def test_a_follow_up_takes_the_claim_from_the_conversation_and_asks_when_there_is_none() -> None:
    router = chat_router()
    _, earlier = router.route("why was claim 57 denied?")
    route, entities = router.route("draft an appeal for it", earlier)
    assert route.intent == "draft_appeal" and route.missing == []
    assert tool_args(route.intent, entities, "") == {"claim_id": "clm-000057"}
    alone, _ = router.route("draft an appeal for it")
    assert alone.intent == "draft_appeal" and alone.missing == ["claim"]
