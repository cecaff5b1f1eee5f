"""Appeal letters: facts grounded in the note, the template letter, the LLM drafter's validation, text and PDF."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatResult

from agents.appeals.facts import clinical_facts, documentation_signals, grounded
from agents.appeals.letter import AppealRequest, OfflineAppealDrafter, PolicyCitation
from agents.appeals.llm import LLMAppealDrafter
from agents.appeals.render import render_pdf, render_text
from agents.denials.schemas import DeniedLine
from agents.denials.triage import triage_line
from agents.models import make_chat_model
from billing.settings import Settings
from sandbox.generator import generate_dataset
from tests.support.openai_server import recorded_openai_server, tool_call_reply

NOTE = (
    "CC: IOP check, glaucoma follow-up.\n"
    "HPI: 68yo F with POAG OU on latanoprost qhs. Reports good adherence.\n"
    "Tonometry: 24/25 mmHg at 10:05.\n"
    "Tests: OCT RNFL today: thinning superior OD, stable OS.\n"
    "Assessment: 1. POAG OU, moderate stage, progressing OD.\n"
    "Plan: add timolol bid OU; repeat OCT RNFL in 4 months; RTC 6 wk for IOP.\n"
)
LCD = PolicyCitation(
    policy_id="medicare-original",
    title="Original Medicare (Part B)",
    section="Imaging",
    excerpt="OCT of the optic nerve (92133) is covered for glaucoma and glaucoma suspects.",
)


class ScriptedChatModel(FakeMessagesListChatModel):
    """Answers the scripted messages in turn (raising any exception in the script)."""

    script: list[Any] = []

    def bind_tools(self, tools: Any, **kwargs: Any) -> "ScriptedChatModel":
        return self

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        item = self.script.pop(0)
        if isinstance(item, BaseException):
            raise item
        self.responses = [item]
        self.i = 0
        return super()._generate(messages, *args, **kwargs)


def draft_call(arguments: dict[str, Any]) -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": "AppealDraft", "args": arguments, "id": "call_1"}])


def appeal_request(
    settings: Settings, note: str = NOTE, policies: list[PolicyCitation] | None = None
) -> AppealRequest:
    line = DeniedLine(
        remittance_id="RMT-9",
        claim_id="CLM-9",
        line_number=2,
        code="92133",
        date_of_service=date(2025, 2, 3),
        charge=Decimal("72.00"),
        denied_amount=Decimal("72.00"),
        group="CO",
        carc="50",
        rarcs=["N115"],
        payer="Synthetic Medicare",
        payer_claim_control_number="PCN9",
    )
    triage = triage_line(line, settings=settings)
    return AppealRequest(
        appeal_id="RMT-9:CLM-9:2",
        triage=triage,
        today=date(2025, 3, 1),
        payer_name="Synthetic Medicare",
        payer_kind="medicare",
        member_id="SYN009A",
        patient_id="PAT-9",
        practice_name="Lakeside Eye Care (synthetic)",
        practice_npi="1999999984",
        claim_codes=["H40.1132", "92012", "92133"],
        note_text=note,
        facts=clinical_facts(note),
        policies=[LCD] if policies is None else policies,
    )


def test_every_fact_of_sandbox_notes_is_a_span_of_its_note() -> None:
    dataset = generate_dataset(5, 60)
    checked = 0
    for note in dataset.notes[:40]:
        facts = clinical_facts(note.text)
        assert all(grounded(fact, note.text) for fact in facts)
        checked += len(facts)
    assert checked > 100


def test_documentation_signals_see_the_service_and_its_diagnosis() -> None:
    facts = clinical_facts(NOTE)
    assert any(fact.kind == "diagnosis" and fact.code.startswith("H40.11") for fact in facts)
    assert documentation_signals(facts, "92133", ["H40.1132"]).service_documented
    assert documentation_signals(facts, "92133", ["H40.1132"]).diagnosis_documented
    assert not documentation_signals(facts, "92250", ["E11.9"]).service_documented
    assert not documentation_signals(facts, "92250", ["E11.9"]).diagnosis_documented


def test_the_template_letter_cites_claim_codes_facts_policy_and_attachments(settings: Settings) -> None:
    request = appeal_request(settings)
    letter = OfflineAppealDrafter().draft(request)

    assert letter.statements and all(
        NOTE[s.evidence.start : s.evidence.end] == s.evidence.text for s in letter.statements
    )
    assert all(f'"{" ".join(s.evidence.text.split())}"' in letter.text for s in letter.statements)
    for expected in (
        "CLM-9",
        "PCN9",
        "SYN009A",
        "2025-02-03",
        "$72.00",
        "CARC 50",
        "Not medically necessary",
        "N115",
    ):
        assert expected in letter.text
    assert "[medicare-original]" in letter.text and letter.policies == [LCD]
    assert "Finalized exam note for the date of service" in letter.attachments
    assert "Excerpt of the payer policy / LCD cited" in letter.attachments
    assert letter.engine == "offline" and letter.prompt_hash


def test_text_and_pdf_rendering(settings: Settings) -> None:
    letter = OfflineAppealDrafter().draft(appeal_request(settings))
    assert render_text(letter).startswith("March 1, 2025")
    pdf = render_pdf(letter.model_copy(update={"text": letter.text + "\n“quoted” — done…"}))
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000


def test_the_llm_drafter_drops_invented_facts_codes_and_citations(settings: Settings) -> None:
    answer = {
        "summary": "The service met the LCD's criteria.",
        "clinical_statements": [
            {"statement": "IOP was 24 and 25 mmHg", "quote": "Tonometry: 24/25 mmHg"},
            {"statement": "RNFL thinning superior right eye", "quote": "thinning  superior OD"},
            {"statement": "Visual field showed a nasal step", "quote": "VF: nasal step OD"},
            {"statement": "Diabetic retinopathy E11.3293 is documented", "quote": "POAG OU"},
        ],
        "policy_ids": ["medicare-original", "L99999"],
        "request": "Please reprocess line 2 for payment.",
    }
    drafter = LLMAppealDrafter(ScriptedChatModel(responses=[], script=[draft_call(answer)]))
    letter = drafter.draft(appeal_request(settings))

    assert [s.text for s in letter.statements] == [
        "IOP was 24 and 25 mmHg",
        "RNFL thinning superior right eye",
    ]
    assert all(NOTE[s.evidence.start : s.evidence.end] == s.evidence.text for s in letter.statements)
    assert "nasal step" not in letter.text and "E11.3293" not in letter.text
    assert any("nasal step" in dropped for dropped in letter.dropped)
    assert any("E11.3293" in dropped for dropped in letter.dropped)
    assert any("L99999" in dropped for dropped in letter.dropped)
    assert [p.policy_id for p in letter.policies] == ["medicare-original"]
    assert letter.engine == "llm" and "Please reprocess line 2 for payment." in letter.text


def test_a_failing_model_leaves_the_template_letter(settings: Settings) -> None:
    drafter = LLMAppealDrafter(ScriptedChatModel(responses=[], script=[TimeoutError("slow")]))
    letter = drafter.draft(appeal_request(settings))
    assert letter.engine == "offline" and letter.statements
    assert any("LLM engine not used" in dropped for dropped in letter.dropped)


def test_the_llm_drafter_over_a_recorded_openai_server(settings: Settings) -> None:
    answer = {
        "summary": "Progression documented.",
        "clinical_statements": [
            {"statement": "OCT showed superior thinning OD", "quote": "thinning superior OD"}
        ],
        "policy_ids": ["medicare-original"],
        "request": "",
    }
    with recorded_openai_server([tool_call_reply("AppealDraft", answer)]) as server:
        live = settings.model_copy(update={"llm_base_url": server.base_url, "llm_model": "recorded-model"})
        letter = LLMAppealDrafter(make_chat_model(live)).draft(appeal_request(settings))

    (body,) = server.requests
    assert body["tool_choice"]["function"]["name"] == "AppealDraft"
    assert any(NOTE in (message.get("content") or "") for message in body["messages"])
    assert [s.text for s in letter.statements] == ["OCT showed superior thinning OD"]
    assert letter.engine == "llm" and not letter.dropped


@pytest.mark.parametrize("policies", [[], [LCD]])
def test_attachments_follow_the_policies_cited(settings: Settings, policies: list[PolicyCitation]) -> None:
    letter = OfflineAppealDrafter().draft(appeal_request(settings, policies=policies))
    assert ("Excerpt of the payer policy / LCD cited" in letter.attachments) is bool(policies)
