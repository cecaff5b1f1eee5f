"""The offline engine's intent router: MiniLM similarity to example utterances, checked against the entities.

Each intent's score is its nearest utterance's cosine similarity to the normalized question (entities replaced
by their kinds), lowered when the question lacks the entities the intent needs and raised a little when it
carries them. Below `UNKNOWN_BELOW` the router says it does not understand.
"""

import threading
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, Field

from agents.chat.entities import Entities, extract_entities

INTENTS_FILE = Path(__file__).resolve().parent / "intents.yaml"
UNKNOWN_BELOW = 0.45
MISSING_PENALTY = 0.25
ENTITY_BONUS = 0.08
Embed = Callable[[Sequence[str]], np.ndarray]
# Kinds a follow-up may take from the conversation instead of the question.
CARRIED_KINDS = frozenset({"claim", "encounter", "remittance", "patient"})


class Intent(BaseModel):
    name: str
    tool: str | None
    needs: list[list[str]]
    example: str
    utterances: list[str]


class Route(BaseModel):
    """The router's decision: the intent, its tool and arguments, and how sure it is."""

    intent: str
    tool: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    score: float = 0.0
    runner_up: str | None = None
    missing: list[str] = Field(
        default_factory=list, description="entity kinds the intent needs and did not get"
    )


@cache
def load_intents(path: Path = INTENTS_FILE) -> tuple[Intent, ...]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return tuple(Intent.model_validate(item) for item in data["intents"])


def default_embed(texts: Sequence[str]) -> np.ndarray:
    # Imported here: the model loads on first use (once per process), not when this module is imported.
    from knowledge.vectorstore.embeddings import embed_texts

    return embed_texts(texts)


def _fits(needs: list[list[str]], kinds: set[str]) -> tuple[bool, list[str]]:
    """Whether one alternative is satisfied; else the smallest set of missing kinds."""
    missing_sets = [sorted(set(option) - kinds) for option in needs]
    best = min(missing_sets, key=len)
    return not best, best


class IntentRouter:
    """Routes a question to an intent; utterance vectors are computed once per router."""

    def __init__(self, intents: Sequence[Intent] | None = None, *, embed: Embed = default_embed) -> None:
        self.intents = tuple(intents or load_intents())
        self.embed = embed
        self._matrix: np.ndarray | None = None
        self._owners: list[int] = []
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Embed the utterances now (the first question would otherwise pay for it)."""
        with self._lock:
            if self._matrix is not None:
                return
            texts, owners = [], []
            for index, intent in enumerate(self.intents):
                for utterance in intent.utterances:
                    texts.append(extract_entities(utterance).normalized.lower())
                    owners.append(index)
            self._matrix = np.asarray(self.embed(texts), dtype=np.float32)
            self._owners = owners

    def scores(
        self, entities: Entities, earlier: Entities | None = None
    ) -> list[tuple[float, Intent, list[str]]]:
        """Every intent with its adjusted score and missing kinds, best first."""
        self.warm()
        assert self._matrix is not None
        query = np.asarray(self.embed([entities.normalized.lower()]), dtype=np.float32)[0]
        similarity = self._matrix @ query
        best = np.full(len(self.intents), -1.0, dtype=np.float32)
        np.maximum.at(best, np.asarray(self._owners), similarity)
        present = entities.kinds()
        carried = (earlier.kinds() & CARRIED_KINDS) if earlier is not None else set()
        ranked = []
        for index, intent in enumerate(self.intents):
            score = float(best[index])
            fits, missing = _fits(intent.needs, present | carried)
            if not fits:
                score -= MISSING_PENALTY
            elif any(option and set(option) <= present for option in intent.needs):
                score += ENTITY_BONUS
            ranked.append((score, intent, missing))
        ranked.sort(key=lambda row: -row[0])
        return ranked

    def route(
        self, question: str, earlier: Entities | None = None, payer_names: Sequence[str] = ()
    ) -> tuple[Route, Entities]:
        entities = extract_entities(question, payer_names)
        ranked = self.scores(entities, earlier)
        score, intent, missing = ranked[0]
        runner_up = ranked[1][1].name if len(ranked) > 1 else None
        if score < UNKNOWN_BELOW:
            return Route(intent="unknown", score=score, runner_up=intent.name), entities
        if earlier is not None:
            entities = entities.merged_with(earlier)
        return (
            Route(intent=intent.name, tool=intent.tool, score=score, runner_up=runner_up, missing=missing),
            entities,
        )


def tool_args(intent: str, entities: Entities, question: str) -> dict[str, Any]:
    """The tool's arguments from the entities (patient names must already be resolved to ids)."""
    claim = entities.claim_ids[0] if entities.claim_ids else None
    patient = entities.patient_ids[0] if entities.patient_ids else None
    codes = entities.procedure_codes
    first_code = codes[0].split("-")[0] if codes else None
    day = entities.dates[0] if entities.dates else None
    builders: dict[str, Callable[[], dict[str, Any]]] = {
        "explain_carc": lambda: {"code": (entities.carc_codes or entities.rarc_codes or [""])[0]},
        "explain_denial": lambda: {"claim_id": claim} if claim else {"patient_id": patient},
        "claim_status": lambda: {"claim_id": claim},
        "patient_claims": lambda: {"patient_id": patient},
        "find_patient": lambda: {"name": " ".join(entities.patient_names) or question},
        "patient_coverage": lambda: {"patient_id": patient},
        "encounter_summary": lambda: {"encounter_id": entities.encounter_ids[0]},
        "remittance_summary": lambda: {"remittance_id": entities.remittance_ids[0]},
        "payer_info": lambda: {"payer": entities.payer or entities.payer_kind or question},
        "unbilled_encounters": dict,
        "appeal_status": lambda: {"claim_id": claim},
        "denial_summary": lambda: {"days": entities.days} if entities.days else {},
        "lookup_code": lambda: {"code": first_code or entities.diagnosis_codes[0]},
        "ncci_check": lambda: (
            {"code_a": codes[0].split("-")[0], "code_b": codes[1].split("-")[0]}
            | ({"on": day.isoformat()} if day else {})
        ),
        "mue_check": lambda: {"code": first_code},
        "modifier_info": lambda: {"modifier": entities.modifiers[0]},
        "search_diagnosis": lambda: {"text": question},
        "coverage_rule": lambda: {"code": first_code, "diagnosis_codes": entities.diagnosis_codes},
        "validate_codes": lambda: (
            {"procedure_codes": codes, "diagnosis_codes": entities.diagnosis_codes}
            | ({"payer_kind": entities.payer_kind} if entities.payer_kind else {})
        ),
        "search_policy": lambda: (
            {"question": question} | ({"payer_kind": entities.payer_kind} if entities.payer_kind else {})
        ),
        "medicare_fee": lambda: (
            {"code": first_code}
            | ({"locality": entities.locality} if entities.locality else {})
            | ({"facility": True} if "facility" in question.lower() else {})
        ),
        "contract_price": lambda: {"code": codes[0] if codes else "", "payer": entities.payer or question},
        "ar_summary": dict,
        "followup_worklist": lambda: (
            ({"min_days": entities.days} if entities.days is not None else {})
            | ({"payer": entities.payer} if entities.payer else {})
        ),
        "review_queue": dict,
        "code_encounter": lambda: {"encounter_id": entities.encounter_ids[0]},
        "scrub_claim": lambda: {"claim_id": claim},
        "draft_appeal": lambda: {"claim_id": claim},
        "open_dispute": lambda: {"claim_id": claim},
    }
    build = builders.get(intent)
    return build() if build is not None else {}
