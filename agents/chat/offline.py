"""The offline chat engine: route a question to an intent, resolve names to ids, and say what to call."""

from collections.abc import Callable, Sequence

from pydantic import BaseModel

from agents.chat.entities import Entities
from agents.chat.router import IntentRouter, Route, load_intents, tool_args

ENGINE_NAME = "offline"
PatientResolver = Callable[[str], list[str]]
# Intents whose answer is about one patient; a name that matches several patients asks which one instead.
PATIENT_INTENTS = frozenset({"explain_denial", "patient_claims", "patient_coverage", "find_patient"})


class Plan(BaseModel):
    """What the engine decided for one question: the route (intent, tool, arguments) and its entities."""

    route: Route
    entities: Entities


class OfflineChatEngine:
    """Intent routing over the shared tools; `patients` resolves a spoken name to patient ids."""

    name = ENGINE_NAME

    def __init__(
        self,
        router: IntentRouter,
        *,
        patients: PatientResolver = lambda name: [],
        payer_names: Callable[[], Sequence[str]] = tuple,
    ) -> None:
        self.router = router
        self.patients = patients
        self.payer_names = payer_names

    def plan(self, question: str, earlier: Entities | None = None) -> Plan:
        route, entities = self.router.route(question, earlier, self.payer_names())
        if route.intent in PATIENT_INTENTS and entities.patient_names and not entities.patient_ids:
            found = self.patients(" ".join(entities.patient_names))
            entities = entities.model_copy(update={"patient_ids": found[:1] if len(found) == 1 else []})
            if len(found) != 1 and not (route.intent == "explain_denial" and entities.claim_ids):
                # None or several: the patient look-up answers (no such patient, or which one).
                route = route.model_copy(update={"intent": "find_patient", "tool": "find_patient"})
        if route.tool is not None and not route.missing:
            route = route.model_copy(update={"args": tool_args(route.intent, entities, question)})
        return Plan(route=route, entities=entities)

    def example(self, intent: str) -> str:
        return next((item.example for item in load_intents() if item.name == intent), "")
