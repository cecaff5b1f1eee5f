"""The LLM coding engine: structured output grounded in the note, validated, and falling back to offline."""

import hashlib
import logging
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatResult
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from agents.coding.engines import make_code_suggester
from agents.coding.llm import LLMCoder, locate_quote
from agents.coding.offline import OfflineCoder
from agents.coding.schemas import CodeSuggestion, CodingRequest
from agents.models import make_chat_model
from agents.prompts import load_prompt
from billing.settings import Settings
from knowledge.base import KnowledgeBase, load_knowledge
from tests.support.openai_server import recorded_openai_server, text_reply, tool_call_reply

NOTE = """CC: glaucoma follow-up, no new complaints. Using latanoprost nightly in both eyes.
Exam: IOP 17 OD and 18 OS by applanation. C/D 0.6 OD, 0.65 OS.
Testing: OCT RNFL performed today OU; interpretation: mild inferior thinning OU, stable from last year.
Assessment: primary open-angle glaucoma, bilateral, mild stage, stable on drops.
Plan: continue latanoprost OU, return in 6 months with a visual field."""

CODING = {
    "diagnoses": [
        {
            "code": "H40.1131",
            "description": "Primary open-angle glaucoma, bilateral, mild stage",
            "evidence": ["primary open-angle glaucoma, bilateral, mild stage"],
            "confidence": 0.94,
        }
    ],
    "lines": [
        {
            "code": "92012",
            "modifiers": [],
            "units": 1,
            "diagnosis_codes": ["H40.1131"],
            "evidence": ["glaucoma follow-up"],
            "confidence": 0.9,
            "rationale": "Established patient, intermediate eye exam for a chronic condition.",
        },
        {
            "code": "92133",
            "diagnosis_codes": ["H40.1131"],
            # Case and spacing differ from the note: still found.
            "evidence": ["oct  rnfl performed today OU"],
            "confidence": 0.92,
        },
    ],
    "rationale": "Glaucoma follow-up with OCT of the optic nerve.",
}


class ScriptedChatModel(FakeMessagesListChatModel):
    """Answers the scripted messages in turn (raising any exception in the script); keeps what it got."""

    script: list[Any] = []
    received: list[list[BaseMessage]] = []
    bound_tools: list[Any] = []

    def bind_tools(self, tools: Any, **kwargs: Any) -> "ScriptedChatModel":
        self.bound_tools.extend(tools)
        return self

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        self.received.append(messages)
        item = self.script.pop(0)
        if isinstance(item, BaseException):
            raise item
        self.responses = [item]
        self.i = 0
        return super()._generate(messages, *args, **kwargs)


def tool_message(arguments: dict[str, Any]) -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": "ChargeCoding", "args": arguments, "id": "call_1"}])


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return load_knowledge(Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("kb") / "var"))


@pytest.fixture(scope="module")
def offline(kb: KnowledgeBase) -> OfflineCoder:
    return OfflineCoder(kb)


@pytest.fixture
def request_() -> CodingRequest:
    return CodingRequest(
        note=NOTE,
        patient_age=71,
        patient_sex="F",
        payer_name="Synthetic Medicare",
        payer_kind="medicare",
        established=True,
        date_of_service=date(2025, 6, 9),
    )


def coder(script: list[Any], offline: OfflineCoder, kb: KnowledgeBase) -> tuple[LLMCoder, ScriptedChatModel]:
    model = ScriptedChatModel(responses=[], script=list(script), received=[], bound_tools=[])
    return LLMCoder(model, offline=offline, kb=kb), model


def assert_grounded(suggestion: CodeSuggestion, note: str) -> None:
    for item in [*suggestion.diagnoses, *suggestion.lines]:
        for span in item.evidence:
            assert note[span.start : span.end] == span.text


def test_structured_output_is_parsed_and_grounded_in_the_note(
    offline: OfflineCoder, kb: KnowledgeBase, request_: CodingRequest
) -> None:
    llm, model = coder([tool_message(CODING)], offline, kb)
    suggestion = llm.suggest(request_)

    assert suggestion.engine == "llm"
    assert suggestion.engine_version.endswith(llm.prompt_hash[:12])
    assert [d.code for d in suggestion.diagnoses] == ["H40.1131"]
    assert [line.code for line in suggestion.lines] == ["92012", "92133"]
    assert_grounded(suggestion, NOTE)
    oct_line = suggestion.lines[1]
    assert oct_line.evidence[0].text == "OCT RNFL performed today OU"
    assert oct_line.confidence == pytest.approx(0.92)
    assert suggestion.confidence == pytest.approx(min(0.94, 0.9, 0.92))
    assert not any(f.code == "LLM_FALLBACK" for f in suggestion.findings)
    # The model saw the note and the offline candidates, and was bound to the coding tool.
    prompt = model.received[0][-1].content
    assert NOTE in prompt
    assert "Offline engine candidates" in prompt
    assert [tool.__name__ for tool in model.bound_tools] == ["ChargeCoding"]


def test_a_quote_not_in_the_note_loses_its_evidence_and_confidence(
    offline: OfflineCoder, kb: KnowledgeBase, request_: CodingRequest
) -> None:
    invented = {
        **CODING,
        "lines": [{**CODING["lines"][0], "evidence": ["patient reports severe eye pain"], "confidence": 0.9}],
    }
    suggestion = coder([tool_message(invented)], offline, kb)[0].suggest(request_)
    (line,) = suggestion.lines
    assert line.evidence == []
    assert line.confidence == pytest.approx(0.45)
    assert any(f.code == "LLM_EVIDENCE_NOT_FOUND" and "92012" in f.message for f in suggestion.findings)


def test_a_code_the_validator_rejects_is_dropped_with_a_finding(
    offline: OfflineCoder, kb: KnowledgeBase, request_: CodingRequest
) -> None:
    bogus = {
        **CODING,
        "diagnoses": [
            *CODING["diagnoses"],
            {"code": "H40.9999", "evidence": ["primary open-angle glaucoma"], "confidence": 0.8},
        ],
    }
    suggestion = coder([tool_message(bogus)], offline, kb)[0].suggest(request_)
    assert "H40.9999" not in [d.code for d in suggestion.diagnoses]
    assert all("H40.9999" not in line.diagnosis_codes for line in suggestion.lines)
    assert any("H40.9999" in f.message for f in suggestion.findings)
    assert "H40.1131" in [d.code for d in suggestion.diagnoses]


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (TimeoutError("read timed out"), "timed out"),
        (ConnectionError("connection refused"), "could not be reached"),
    ],
)
def test_a_failing_model_falls_back_to_the_offline_suggestion(
    offline: OfflineCoder, kb: KnowledgeBase, request_: CodingRequest, failure: Exception, reason: str
) -> None:
    suggestion = coder([failure], offline, kb)[0].suggest(request_)
    expected = offline.suggest(request_)
    assert suggestion.engine == expected.engine == "offline"
    assert [line.code for line in suggestion.lines] == [line.code for line in expected.lines]
    (fallback,) = [f for f in suggestion.findings if f.code == "LLM_FALLBACK"]
    assert reason in fallback.message


def test_unparseable_output_is_retried_then_falls_back(
    offline: OfflineCoder, kb: KnowledgeBase, request_: CodingRequest
) -> None:
    broken = tool_message({"lines": [{"code": "92012"}]})  # no confidence: not a valid ChargeCoding
    llm, model = coder([broken, tool_message(CODING)], offline, kb)
    assert [line.code for line in llm.suggest(request_).lines] == ["92012", "92133"]
    assert len(model.received) == 2

    llm, _ = coder([broken, broken], offline, kb)
    fallback = [f for f in llm.suggest(request_).findings if f.code == "LLM_FALLBACK"]
    assert fallback and "could not be read" in fallback[0].message


def test_quotes_are_located_exactly_or_ignoring_case_and_spacing() -> None:
    assert locate_quote("IOP 17 OD", NOTE).start == NOTE.index("IOP 17 OD")
    span = locate_quote('"Primary  open-angle GLAUCOMA"', NOTE)
    assert span is not None and NOTE[span.start : span.end] == "primary open-angle glaucoma"
    assert locate_quote("no such words here", NOTE) is None
    assert locate_quote("  ", NOTE) is None


def test_the_real_openai_http_path_against_a_recorded_server(
    settings: Settings, offline: OfflineCoder, kb: KnowledgeBase, request_: CodingRequest
) -> None:
    with recorded_openai_server([tool_call_reply("ChargeCoding", CODING)]) as server:
        live = settings.model_copy(
            update={"llm_base_url": server.base_url, "llm_model": "recorded-model", "engine": "llm"}
        )
        suggester = make_code_suggester(live, kb=kb)
        assert isinstance(suggester, LLMCoder)
        suggestion = suggester.suggest(request_)

    (body,) = server.requests
    assert body["model"] == "recorded-model"
    assert body["max_tokens"] == 2048  # in the body itself, as llama.cpp needs
    (tool,) = body["tools"]
    assert tool["function"]["name"] == "ChargeCoding"
    assert {"diagnoses", "lines"} <= set(tool["function"]["parameters"]["properties"])
    assert body["tool_choice"]["function"]["name"] == "ChargeCoding"
    assert any(NOTE in (message.get("content") or "") for message in body["messages"])
    assert suggestion.engine == "llm"
    assert [line.code for line in suggestion.lines] == ["92012", "92133"]
    assert_grounded(suggestion, NOTE)


def test_a_slow_server_times_out_into_the_offline_suggestion(
    settings: Settings, offline: OfflineCoder, kb: KnowledgeBase, request_: CodingRequest
) -> None:
    with recorded_openai_server([tool_call_reply("ChargeCoding", CODING, delay=1.5)]) as server:
        live = settings.model_copy(update={"llm_base_url": server.base_url, "llm_timeout_seconds": 0.3})
        llm = LLMCoder(make_chat_model(live, max_retries=0), offline=offline, kb=kb)
        suggestion = llm.suggest(request_)
    (fallback,) = [f for f in suggestion.findings if f.code == "LLM_FALLBACK"]
    assert "timed out after 0.3 s" in fallback.message
    assert suggestion.engine == "offline"


def test_a_text_answer_without_the_tool_falls_back(
    settings: Settings, offline: OfflineCoder, kb: KnowledgeBase, request_: CodingRequest
) -> None:
    with recorded_openai_server([text_reply("92012 and H40.1131"), text_reply("still prose")]) as server:
        live = settings.model_copy(update={"llm_base_url": server.base_url})
        suggestion = LLMCoder(make_chat_model(live, max_retries=0), offline=offline, kb=kb).suggest(request_)
    assert any(f.code == "LLM_FALLBACK" for f in suggestion.findings)


def test_engine_choice_follows_settings(
    settings: Settings, kb: KnowledgeBase, caplog: pytest.LogCaptureFixture
) -> None:
    assert make_code_suggester(settings, kb=kb).name == "offline"
    with caplog.at_level(logging.WARNING, logger="fovea.coding"):
        fallback = make_code_suggester(settings.model_copy(update={"engine": "llm"}), kb=kb)
    assert fallback.name == "offline"
    assert "FOVEA_LLM_BASE_URL" in caplog.text
    model = ScriptedChatModel(responses=[], script=[], received=[], bound_tools=[])
    assert (
        make_code_suggester(settings.model_copy(update={"engine": "llm"}), kb=kb, chat_model=model).name
        == "llm"
    )


def test_prompts_are_files_with_a_stable_hash(tmp_path: Path) -> None:
    system = load_prompt("coding_system")
    assert "evidence" in system.text
    assert system.sha256 == hashlib.sha256(system.text.encode()).hexdigest()
    (tmp_path / "coding_system.md").write_text("Code it.", encoding="utf-8")
    assert load_prompt("coding_system", tmp_path).sha256 != system.sha256


class LiveLLM(BaseSettings):
    """A real OpenAI-compatible server, opt-in: FOVEA_TEST_LLM_BASE_URL (and _MODEL, _API_KEY)."""

    model_config = SettingsConfigDict(env_prefix="FOVEA_TEST_LLM_", extra="ignore")

    base_url: str = ""
    model: str = "local-model"
    api_key: str = ""


@pytest.fixture
def live_llm() -> Iterator[LiveLLM]:
    live = LiveLLM(_env_file=None)
    if not live.base_url:
        pytest.skip(
            "set FOVEA_TEST_LLM_BASE_URL to try the LLM engine against a real OpenAI-compatible server"
        )
    yield live


def test_a_real_server_codes_the_note(
    live_llm: LiveLLM, settings: Settings, offline: OfflineCoder, kb: KnowledgeBase, request_: CodingRequest
) -> None:
    live = settings.model_copy(
        update={
            "llm_base_url": live_llm.base_url,
            "llm_model": live_llm.model,
            "llm_api_key": SecretStr(live_llm.api_key),
            "llm_timeout_seconds": 120,
        }
    )
    suggestion = LLMCoder(make_chat_model(live), offline=offline, kb=kb).suggest(request_)
    assert not any(f.code == "LLM_FALLBACK" for f in suggestion.findings), suggestion.findings
    assert suggestion.engine == "llm"
    assert suggestion.lines or suggestion.diagnoses
    assert_grounded(suggestion, NOTE)
