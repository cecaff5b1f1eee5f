"""The LLM coding engine: a chat model with function-calling structured output, checked like any engine."""

import logging
import re
from pathlib import Path

from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.output_parsers.openai_tools import PydanticToolsParser
from langchain_core.runnables import Runnable
from pydantic import ValidationError

from agents.coding.llm_schema import ChargeCoding, CodedDiagnosis, CodedLine
from agents.coding.schemas import (
    CodeSuggester,
    CodeSuggestion,
    CodingRequest,
    Evidence,
    SuggestedDiagnosis,
    SuggestedLine,
)
from agents.coding.validate import validate_suggestion
from agents.prompts import PROMPT_DIR, combined_hash, load_prompt
from billing.findings import Finding, Severity
from knowledge.base import KnowledgeBase

log = logging.getLogger("fovea.coding.llm")

# A code whose quotes are not in the note keeps this share of the model's confidence.
UNSUPPORTED_CONFIDENCE_FACTOR = 0.5
MAX_POLICY_PASSAGES = 4
MAX_POLICY_CHARS = 700
PARSE_ATTEMPTS = 2


class NoCodingAnswer(ValueError):
    """The model answered without calling the coding tool, or with no codes at all."""


def locate_quote(quote: str, note: str) -> Evidence | None:
    """Where the quote sits in the note: exactly, else ignoring case and whitespace runs; None if absent."""
    cleaned = quote.strip().strip("\"'“”‘’").strip().removesuffix("...").removesuffix("…").strip()
    if not cleaned:
        return None
    start = note.find(cleaned)
    if start >= 0:
        return Evidence(text=cleaned, start=start, end=start + len(cleaned))
    pattern = r"\s+".join(re.escape(word) for word in cleaned.split())
    match = re.search(pattern, note, flags=re.IGNORECASE)
    if match is None:
        return None
    return Evidence(text=match.group(0), start=match.start(), end=match.end())


def _timeout_like(error: BaseException) -> bool:
    names = {cls.__name__ for cls in type(error).__mro__}
    return bool(names & {"TimeoutError", "APITimeoutError", "TimeoutException", "ReadTimeout"})


def describe_failure(error: BaseException, timeout_seconds: float | None) -> str:
    """Why the model gave no usable answer, in words a biller understands and without any note text."""
    if _timeout_like(error):
        limit = f" after {timeout_seconds:g} s" if timeout_seconds else ""
        return f"the language model timed out{limit}"
    if isinstance(error, NoCodingAnswer):
        return str(error)
    if isinstance(error, OutputParserException | ValidationError):
        return "the language model's answer could not be read as a charge"
    return f"the language model could not be reached or failed ({type(error).__name__})"


class LLMCoder:
    """Codes a note with a chat model, given the offline candidates, similar visits and payer policies.

    The model's answer is grounded (evidence quotes mapped to note offsets) and validated with the same
    deterministic checks as the offline engine; any failure falls back to the offline suggestion.
    """

    name = "llm"

    def __init__(
        self,
        chat_model: BaseChatModel,
        *,
        offline: CodeSuggester,
        kb: KnowledgeBase,
        prompt_dir: Path = PROMPT_DIR,
    ) -> None:
        self.offline = offline
        self.kb = kb
        self.system_prompt = load_prompt("coding_system", prompt_dir)
        self.user_prompt = load_prompt("coding_user", prompt_dir)
        self.prompt_hash = combined_hash(self.system_prompt, self.user_prompt)
        model_name = getattr(chat_model, "model_name", None) or type(chat_model).__name__
        self.version = f"{model_name}/prompt-{self.prompt_hash[:12]}"
        self.timeout_seconds: float | None = getattr(chat_model, "request_timeout", None)
        self._coder: Runnable = (
            # Function calling (a forced tool call) is what OpenAI-compatible servers such as llama.cpp
            # support reliably; json_schema response formats are not.
            chat_model.bind_tools([ChargeCoding], tool_choice=ChargeCoding.__name__)
            | PydanticToolsParser(tools=[ChargeCoding], first_tool_only=True)
        ).with_retry(
            retry_if_exception_type=(OutputParserException, ValidationError),
            wait_exponential_jitter=False,  # a malformed answer is asked again at once
            stop_after_attempt=PARSE_ATTEMPTS,
        )

    def suggest(self, request: CodingRequest) -> CodeSuggestion:
        candidates = self.offline.suggest(request)
        try:
            coding = self._ask(request, candidates)
        except Exception as error:  # any failure of the model must leave the practice with the offline answer
            reason = describe_failure(error, self.timeout_seconds)
            log.warning("llm coder fell back to offline", extra={"error_type": type(error).__name__})
            return self._fallback(candidates, reason)
        suggestion = self._grounded(coding, request.note)
        return validate_suggestion(suggestion, request, self.kb)

    def messages(
        self, request: CodingRequest, candidates: CodeSuggestion
    ) -> list[SystemMessage | HumanMessage]:
        """The chat messages: the system prompt, and this visit formatted into the user prompt."""
        return [SystemMessage(self.system_prompt.text), HumanMessage(self._user_text(request, candidates))]

    def _ask(self, request: CodingRequest, candidates: CodeSuggestion) -> ChargeCoding:
        coding = self._coder.invoke(self.messages(request, candidates))
        if coding is None:
            raise NoCodingAnswer("the language model answered without a charge")
        if not coding.lines and not coding.diagnoses:
            raise NoCodingAnswer("the language model suggested no codes")
        return coding

    def _fallback(self, candidates: CodeSuggestion, reason: str) -> CodeSuggestion:
        finding = Finding(
            code="LLM_FALLBACK",
            severity=Severity.WARNING,
            message=f"The LLM engine gave no usable answer: {reason}. This is the offline suggestion.",
            fix="Review the codes as usual; check the LLM server (FOVEA_LLM_BASE_URL) if this recurs.",
            source="agents.coding.llm",
        )
        return candidates.model_copy(update={"findings": [*candidates.findings, finding]})

    def _grounded(self, coding: ChargeCoding, note: str) -> CodeSuggestion:
        """The answer as a suggestion: quotes become note offsets; unsupported codes lose confidence."""
        findings: list[Finding] = []

        def evidence_for(item: CodedDiagnosis | CodedLine) -> tuple[list[Evidence], float]:
            located = [span for quote in item.evidence if (span := locate_quote(quote, note))]
            if located:
                return located, item.confidence
            findings.append(
                Finding(
                    code="LLM_EVIDENCE_NOT_FOUND",
                    severity=Severity.WARNING,
                    message=f"{item.code}: the language model quoted no text that is in the note, "
                    "so its confidence was lowered.",
                    fix=f"Check the note supports {item.code} before approving.",
                    source="agents.coding.llm",
                )
            )
            return [], item.confidence * UNSUPPORTED_CONFIDENCE_FACTOR

        diagnoses = []
        for diagnosis in coding.diagnoses:
            evidence, confidence = evidence_for(diagnosis)
            diagnoses.append(
                SuggestedDiagnosis(
                    code=diagnosis.code.strip().upper(),
                    description=diagnosis.description,
                    confidence=confidence,
                    evidence=evidence,
                )
            )
        lines = []
        for line in coding.lines:
            evidence, confidence = evidence_for(line)
            lines.append(
                SuggestedLine(
                    code=line.code.strip().upper(),
                    modifiers=[modifier.strip().lstrip("-").upper() for modifier in line.modifiers][:4],
                    units=line.units,
                    diagnosis_codes=[code.strip().upper() for code in line.diagnosis_codes],
                    confidence=confidence,
                    evidence=evidence,
                    rationale=line.rationale,
                )
            )
        confidences = [item.confidence for item in (*diagnoses, *lines)]
        return CodeSuggestion(
            lines=lines,
            diagnoses=diagnoses,
            findings=findings,
            confidence=min(confidences) if confidences else 0.0,
            engine=self.name,
            engine_version=self.version,
            rationale=[coding.rationale] if coding.rationale else [],
        )

    def _user_text(self, request: CodingRequest, candidates: CodeSuggestion) -> str:
        if request.established is None:
            status = "not given: decide from the prior visits (established if seen within 3 years)"
        else:
            status = "established" if request.established else "new (no professional service in 3 years)"
        return self.user_prompt.format(
            date_of_service=request.date_of_service.isoformat() if request.date_of_service else "not given",
            patient_age=request.patient_age if request.patient_age is not None else "unknown",
            patient_sex=request.patient_sex or "unknown",
            payer_name=request.payer_name or "unnamed payer",
            payer_kind=request.payer_kind,
            patient_status=status,
            fee_schedule=", ".join(sorted(request.fee_schedule_codes))
            if request.fee_schedule_codes
            else "not given",
            history="\n".join(
                f"- {visit.date}: {', '.join(visit.codes) or 'no codes'}" for visit in request.history
            )
            or "(none)",
            candidates=_format_candidates(candidates),
            similar_encounters="\n".join(
                # Codes only: other patients' note text never goes to the model.
                f"- {encounter.similarity:.2f}: {', '.join(encounter.diagnosis_codes) or '-'} | "
                + (", ".join(_billed(line) for line in encounter.lines) or "-")
                for encounter in request.similar_encounters
            )
            or "(none)",
            policies="\n".join(
                f"- [{passage.title}{' / ' + passage.section if passage.section else ''}] "
                + " ".join(passage.text.split())[:MAX_POLICY_CHARS]
                for passage in request.payer_policies[:MAX_POLICY_PASSAGES]
            )
            or "(none)",
            note=request.note,
        )


def _billed(line: SuggestedLine) -> str:
    return "-".join([line.code, *line.modifiers]) + (f" x{line.units}" if line.units != 1 else "")


def _quotes(evidence: list[Evidence]) -> str:
    return "; ".join(f'"{span.text}"' for span in evidence[:3]) or "no evidence"


def _format_candidates(candidates: CodeSuggestion) -> str:
    rows = [
        f"- {' '.join(filter(None, [diagnosis.code, diagnosis.description]))} ({diagnosis.confidence:.2f}): "
        f"{_quotes(diagnosis.evidence)}"
        for diagnosis in candidates.diagnoses
    ]
    rows += [
        f"- {_billed(line)} -> {', '.join(line.diagnosis_codes) or '-'} ({line.confidence:.2f}): "
        f"{_quotes(line.evidence)}"
        for line in candidates.lines
    ]
    rows += [f"- finding {finding.code}: {finding.message}" for finding in candidates.findings]
    return "\n".join(rows) or "(none)"
