"""The LLM appeal drafter: a chat model writes the letter's statements; each must quote the note or it is dropped."""

import logging
from pathlib import Path

from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.output_parsers.openai_tools import PydanticToolsParser
from langchain_core.runnables import Runnable
from pydantic import BaseModel, Field, ValidationError

from agents.appeals.letter import (
    AppealLetter,
    AppealRequest,
    LetterStatement,
    OfflineAppealDrafter,
    build_letter,
    codes_in,
    default_request_sentence,
    policy_lines,
    service_label,
)
from agents.coding.llm import describe_failure, locate_quote
from agents.prompts import PROMPT_DIR, combined_hash, load_prompt
from billing.money import money_str

log = logging.getLogger("fovea.appeals.llm")

PARSE_ATTEMPTS = 2


class DraftStatement(BaseModel):
    statement: str = Field(description="one clinical fact, in plain words")
    quote: str = Field(
        description="the exact words of the note that state it, copied character for character"
    )


class AppealDraft(BaseModel):
    """An appeal letter's content; the letter's layout is filled in by the practice's template."""

    summary: str = Field(
        description="one or two sentences, no clinical facts: why the denial should be reversed"
    )
    clinical_statements: list[DraftStatement] = Field(default_factory=list)
    policy_ids: list[str] = Field(
        default_factory=list, description="ids of the listed policies the letter cites"
    )
    request: str = Field("", description="the one-sentence request (reprocess the line for payment)")


class LLMAppealDrafter:
    """Asks the chat model for statements with quotes; keeps only those whose quote is in the note and whose
    codes are on the claim or in the note's facts; cites only retrieved policies. Falls back to the template."""

    name = "llm"

    def __init__(self, chat_model: BaseChatModel, *, prompt_dir: Path = PROMPT_DIR) -> None:
        self.offline = OfflineAppealDrafter(prompt_dir)
        self.prompt_dir = prompt_dir
        self.system_prompt = load_prompt("appeal_system", prompt_dir)
        self.user_prompt = load_prompt("appeal_user", prompt_dir)
        self.prompt_hash = combined_hash(
            self.system_prompt, self.user_prompt, load_prompt("appeal_letter", prompt_dir)
        )
        model_name = getattr(chat_model, "model_name", None) or type(chat_model).__name__
        self.version = f"{model_name}/prompt-{self.prompt_hash[:12]}"
        self.timeout_seconds: float | None = getattr(chat_model, "request_timeout", None)
        self._drafter: Runnable = (
            chat_model.bind_tools([AppealDraft], tool_choice=AppealDraft.__name__)
            | PydanticToolsParser(tools=[AppealDraft], first_tool_only=True)
        ).with_retry(
            retry_if_exception_type=(OutputParserException, ValidationError),
            wait_exponential_jitter=False,
            stop_after_attempt=PARSE_ATTEMPTS,
        )

    def draft(self, request: AppealRequest) -> AppealLetter:
        try:
            answer = self._drafter.invoke(self.messages(request))
            if answer is None:
                raise ValueError("the language model answered without a letter")
        except Exception as error:  # any model failure leaves the reviewer with the template letter
            log.warning(
                "appeal drafter fell back to the template", extra={"error_type": type(error).__name__}
            )
            letter = self.offline.draft(request)
            reason = describe_failure(error, self.timeout_seconds)
            return letter.model_copy(update={"dropped": [*letter.dropped, f"LLM engine not used: {reason}"]})
        return self.grounded(answer, request)

    def grounded(self, answer: AppealDraft, request: AppealRequest) -> AppealLetter:
        """The model's draft as a letter: ungrounded statements and unknown citations removed, and listed."""
        allowed_codes = {code.upper() for code in request.claim_codes} | {
            fact.code.upper() for fact in request.facts if fact.code
        }
        statements: list[LetterStatement] = []
        dropped: list[str] = []
        for item in answer.clinical_statements:
            span = locate_quote(item.quote, request.note_text)
            invented = codes_in(item.statement) - allowed_codes
            if span is None or invented:
                why = (
                    f"codes {', '.join(sorted(invented))} are not on the claim or in the note"
                    if invented
                    else "its quote is not in the note"
                )
                dropped.append(f"{item.statement} ({why})")
                continue
            statements.append(LetterStatement(text=item.statement.strip(), evidence=span))
        known = {policy.policy_id: policy for policy in request.policies}
        cited = [known[pid] for pid in dict.fromkeys(answer.policy_ids) if pid in known]
        dropped += [
            f"citation {pid} (not a retrieved policy)" for pid in answer.policy_ids if pid not in known
        ]
        return build_letter(
            request,
            statements,
            cited,
            request_sentence=answer.request.strip() or default_request_sentence(request),
            summary=answer.summary.strip(),
            engine="llm",
            engine_version=self.version,
            prompt_hash=self.prompt_hash,
            dropped=dropped,
            prompt_dir=self.prompt_dir,
        )

    def messages(self, request: AppealRequest) -> list[SystemMessage | HumanMessage]:
        triage = request.triage
        line = triage.line
        user = self.user_prompt.format(
            claim_id=line.claim_id,
            line_number=line.line_number,
            date_of_service=line.date_of_service.isoformat() if line.date_of_service else "see claim",
            service=service_label(line.code, line.modifiers),
            payer_name=request.payer_name or line.payer,
            payer_kind=request.payer_kind or "unknown",
            amount=money_str(triage.amount),
            denial_codes="; ".join(f"{code.kind} {code.code}: {code.description}" for code in triage.codes),
            root_cause=triage.root_cause,
            facts="\n".join(f'- {fact.statement}: "{fact.evidence.text}"' for fact in request.facts)
            or "(none)",
            policies="\n".join(
                f"- {policy.policy_id}: {text}"
                for policy, text in zip(request.policies, policy_lines(request.policies), strict=True)
            )
            or "(none)",
            note=request.note_text,
        )
        return [SystemMessage(self.system_prompt.text), HumanMessage(user)]
