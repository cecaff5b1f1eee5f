"""The LLM extractor: a chat model names the terms and quotes them; only terms whose quote is in the text stay."""

import logging
import re
from pathlib import Path
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.output_parsers.openai_tools import PydanticToolsParser
from pydantic import BaseModel, Field

from agents.coding.llm import locate_quote
from agents.contracts.extract_offline import CODE, OfflineTermExtractor
from agents.contracts.schemas import ContractExtraction, ExtractedTerm
from agents.contracts.sentences import sentence_around, split_sentences
from agents.prompts import PROMPT_DIR, combined_hash, load_prompt

log = logging.getLogger("fovea.contracts.llm")
LLM_CONFIDENCE = 0.8
PARSE_ATTEMPTS = 2

TermName = Literal[
    "basis",
    "percent",
    "medicare.year",
    "medicare.locality",
    "fee_schedule_reference",
    "unlisted_percent_of_charges",
    "lesser_of_billed",
    "timely_filing_days",
    "appeal_days",
    "multiple_procedure",
    "mppr_diagnostic",
    "prior_auth_codes",
    "cost_share.deductible",
    "cost_share.coinsurance_pct",
    "cost_share.copay",
    "effective",
    "termination",
]


class QuotedTerm(BaseModel):
    term: TermName
    value: str
    quote: str = Field(description="The contract's exact words stating the term")


class ContractTermsAnswer(BaseModel):
    """The payment terms the contract states, each with its quote."""

    terms: list[QuotedTerm] = Field(default_factory=list)


def _numbers(text: str) -> list[float]:
    return [float(found) for found in re.findall(r"\d+(?:\.\d+)?", text.replace(",", ""))]


def _as_int_or_float(value: float) -> int | float:
    return int(value) if value == int(value) else value


def coerce_value(term: str, raw: str) -> Any:
    """The model's text value as the JSON value the offline extractor gives the same term; None if unusable."""
    text = raw.strip()
    numbers = _numbers(text)
    match term:
        case "basis":
            return text if text in ("percent_of_medicare", "percent_of_charges", "fee_schedule") else None
        case "percent" | "unlisted_percent_of_charges" | "cost_share.coinsurance_pct":
            return _as_int_or_float(numbers[0]) if numbers else None
        case "timely_filing_days" | "appeal_days" | "medicare.year":
            return int(numbers[0]) if numbers else None
        case "lesser_of_billed":
            return text.lower() not in ("false", "no", "none")
        case "prior_auth_codes":
            return CODE.findall(text.upper()) or None
        case "multiple_procedure":
            return {"schedule": [int(n) for n in numbers]} if numbers else None
        case "mppr_diagnostic":
            if not numbers:
                return {"applies": False}
            return {"applies": True, "tc_pct": int(numbers[0])}
        case "cost_share.deductible":
            return f"{numbers[0]:.2f}" if numbers else None
        case "cost_share.copay":
            kind = text.split()[0].lower() if text.split() else "office_visit"
            return {"kind": kind, "amount": f"{numbers[-1]:.2f}"} if numbers else None
    return text or None


class LLMTermExtractor:
    """Asks a chat model for the terms; falls back to the offline extractor when it gives no usable answer."""

    name = "llm"

    def __init__(self, chat_model: BaseChatModel, *, prompt_dir: Path = PROMPT_DIR) -> None:
        self.system_prompt = load_prompt("contract_terms_system", prompt_dir)
        self.user_prompt = load_prompt("contract_terms_user", prompt_dir)
        self.prompt_hash = combined_hash(self.system_prompt, self.user_prompt)
        model_name = getattr(chat_model, "model_name", None) or type(chat_model).__name__
        self.version = f"{model_name}/prompt-{self.prompt_hash[:12]}"
        self.offline = OfflineTermExtractor()
        self._reader = (
            chat_model.bind_tools([ContractTermsAnswer], tool_choice=ContractTermsAnswer.__name__)
            | PydanticToolsParser(tools=[ContractTermsAnswer], first_tool_only=True)
        ).with_retry(stop_after_attempt=PARSE_ATTEMPTS, wait_exponential_jitter=False)

    def extract(self, text: str) -> ContractExtraction:
        try:
            answer = self._reader.invoke(
                [SystemMessage(self.system_prompt.text), HumanMessage(self.user_prompt.format(contract=text))]
            )
        except Exception as error:  # a failing model leaves the practice with the offline reading
            log.warning("contract llm fell back to offline", extra={"error_type": type(error).__name__})
            fallback = self.offline.extract(text)
            fallback.notes.append(f"the language model gave no usable answer ({type(error).__name__})")
            return fallback
        if answer is None:
            fallback = self.offline.extract(text)
            fallback.notes.append("the language model answered without the terms tool")
            return fallback
        return self._grounded(answer, text)

    def _grounded(self, answer: ContractTermsAnswer, text: str) -> ContractExtraction:
        """Each term is kept only when its quote is in the text; it then cites the quote's whole sentence."""
        sentences = split_sentences(text)
        terms: list[ExtractedTerm] = []
        notes: list[str] = []
        for quoted in answer.terms:
            span = locate_quote(quoted.quote, text)
            sentence = sentence_around(sentences, span.start) if span else None
            if sentence is None:
                notes.append(f"{quoted.term}: the quote is not in the contract, so the term was dropped")
                continue
            value = coerce_value(quoted.term, quoted.value)
            if value is None:
                notes.append(f"{quoted.term}: the value {quoted.value!r} could not be read")
                continue
            terms.append(
                ExtractedTerm(
                    term=quoted.term,
                    value=value,
                    sentence=sentence.text,
                    start=sentence.start,
                    end=sentence.end,
                    confidence=LLM_CONFIDENCE,
                )
            )
        return ContractExtraction(engine=self.name, engine_version=self.version, terms=terms, notes=notes)
