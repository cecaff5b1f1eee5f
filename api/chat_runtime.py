"""Composition of the copilot chat: the caller's tools, the engine, the graph, workflow starters and the audit.

`ChatRuntime.ask(...)` answers one question on the caller's thread `chat:<user id>:<conversation>` and reports
steps (route, tool calls, tokens, the answer) to `on_event` as they happen, which is what POST /chat streams.
Action tools start the existing workflows through `ChatWorkflowStarter`: the runtime of each workflow runs it
up to its own review interrupt and reports it to the review queue; nothing here writes to Crystal PM.
"""

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, closing, contextmanager
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.base import BaseCheckpointSaver
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agents.chat.offline import OfflineChatEngine
from agents.chat.router import IntentRouter
from agents.chat.schemas import ChatAnswer
from api.security.permissions import Permission
from api.storage.audit import AuditLog
from api.storage.checkpoints import make_checkpointer
from api.storage.models import ReviewItemRecord, ReviewStatus
from api.storage.reviews import ReviewFilter, list_review_items
from billing.events import EventType, WebhookEvent
from billing.settings import Settings
from graphs.copilot_chat import build_copilot_chat_graph, thread_id_for
from graphs.ports import AuditEntry
from tools.chat import ActionOutcome, ChatAuditEvent, ChatCaller, ToolContext, build_chat_tools
from tools.chat.lookups import match_patients
from tools.crystalpm import CrystalPM, CrystalPMError, make_crystalpm

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from langchain_core.language_models import BaseChatModel

    from api.reviews import ReviewService, WorkflowRegistry
    from api.security.deps import Principal

log = logging.getLogger("fovea.chat")
OnEvent = Callable[[str, dict[str, Any]], None]
CheckpointerFactory = Callable[[], AbstractContextManager[BaseCheckpointSaver]]
PAYERS_TTL_SECONDS = 300.0
PAYERS_RETRY_SECONDS = 30.0
TOKEN_WORDS = 4  # words per streamed piece of an offline answer


class ChatTurn(BaseModel):
    """One question and its answer as history returns it."""

    role: str
    content: str
    answer: ChatAnswer | None = None


def caller_of(principal: "Principal") -> ChatCaller:
    return ChatCaller(
        user_id=principal.user_id,
        username=principal.username,
        roles=frozenset(role.value for role in principal.roles),
        practice_ids=frozenset(principal.practice_ids),
    )


def permission_check(principal: "Principal") -> Callable[[str], bool]:
    """The API permission table's answer for this principal, by permission name (unknown names: no)."""

    def can(name: str) -> bool:
        try:
            return principal.can(Permission(name))
        except ValueError:
            return False

    return can


def read_only(name: str) -> bool:
    """The command line's local operator: read tools only."""
    return name == Permission.CHAT_USE.value


class ChatWorkflowStarter:
    """Starts charge_coding, claim_scrub and remittance (appeal drafts) runs through their own runtimes."""

    def __init__(
        self,
        workflows: "WorkflowRegistry",
        sessions: sessionmaker[Session],
        crystalpm: Callable[[], CrystalPM],
    ) -> None:
        self.workflows = workflows
        self.sessions = sessions
        self.crystalpm = crystalpm
        self._starters: dict[str, Callable[[Any, str, str], Any]] = {
            "charge_coding": self._code,
            "claim_scrub": self._scrub,
            "remittance": self._appeal,
            "contract_variance": self._dispute,
        }

    def available(self, workflow: str) -> bool:
        return workflow in self._starters and self.workflows.get(workflow) is not None

    def start(self, workflow: str, subject_id: str, *, practice_id: str, requested_by: str) -> ActionOutcome:
        runtime = self.workflows.get(workflow)
        if runtime is None or workflow not in self._starters:
            return ActionOutcome(
                workflow=workflow, thread_id="", state="unavailable", detail="not available yet"
            )
        log.info("chat starts a workflow", extra={"workflow": workflow, "actor": requested_by})
        outcome = self._starters[workflow](runtime, subject_id, practice_id)
        if outcome.state == "pending_review" and outcome.thread_id:
            outcome.review_item_id = self._review_item(workflow, outcome.thread_id)
        return outcome

    @staticmethod
    def _event(event_type: EventType, practice_id: str, **data: str) -> WebhookEvent:
        return WebhookEvent(
            id=f"chat-{uuid.uuid4().hex[:16]}",
            type=event_type,
            practice_id=practice_id,
            occurred_at=datetime.now(UTC),
            data=data,
        )

    def _code(self, runtime: Any, encounter_id: str, practice_id: str) -> ActionOutcome:
        status = runtime.start_charge_coding(
            self._event(EventType.NOTE_FINALIZED, practice_id, encounter_id=encounter_id)
        )
        return ActionOutcome(workflow="charge_coding", thread_id=status.thread_id, state=status.state)

    def _scrub(self, runtime: Any, claim_id: str, practice_id: str) -> ActionOutcome:
        status = runtime.scrub(claim_id)
        return ActionOutcome(
            workflow="claim_scrub", thread_id=status.thread_id, state=status.state, detail=status.outcome
        )

    def _remittance_of(self, claim_id: str, practice_id: str) -> str | None:
        """The latest remittance that carries the claim (appeals and disputes start from it)."""
        carrying = [r for r in self.crystalpm().iter_remittances(practice_id) if claim_id in r.claim_ids]
        return max(carrying, key=lambda r: r.received_on).id if carrying else None

    def _appeal(self, runtime: Any, claim_id: str, practice_id: str) -> ActionOutcome:
        remittance_id = self._remittance_of(claim_id, practice_id)
        if remittance_id is None:
            return ActionOutcome(
                workflow="remittance",
                thread_id="",
                state="not_started",
                detail="no remittance carries this claim yet",
            )
        status = runtime.start_remittance(
            self._event(EventType.REMITTANCE_RECEIVED, practice_id, remittance_id=remittance_id)
        )
        review = status.review or {}
        appeal = next((a for a in review.get("appeals", []) if a.get("claim_id") == claim_id), None)
        detail = (
            f"appeal draft {appeal['appeal_id']}"
            if appeal
            else "triage proposed another action than an appeal"
        )
        return ActionOutcome(
            workflow="remittance", thread_id=status.thread_id, state=status.state, detail=detail
        )

    def _dispute(self, runtime: Any, claim_id: str, practice_id: str) -> ActionOutcome:
        remittance_id = self._remittance_of(claim_id, practice_id)
        if remittance_id is None:
            return ActionOutcome(
                workflow="contract_variance",
                thread_id="",
                state="not_started",
                detail="no remittance carries this claim yet",
            )
        status = runtime.start_variance(remittance_id)
        review = status.review or {}
        found = any(item.get("claim_id") == claim_id for item in review.get("disputes", []))
        detail = "" if found else "the contract check found no underpayment on this claim"
        return ActionOutcome(
            workflow="contract_variance", thread_id=status.thread_id, state=status.state, detail=detail
        )

    def _review_item(self, workflow: str, thread_id: str) -> str | None:
        with self.sessions() as session:
            return session.scalars(
                select(ReviewItemRecord.id)
                .where(ReviewItemRecord.workflow == workflow, ReviewItemRecord.thread_id == thread_id)
                .order_by(ReviewItemRecord.created_at.desc())
                .limit(1)
            ).first()


def standard_workflows(
    settings: Settings, sessions: sessionmaker[Session], reviews: "ReviewService"
) -> "WorkflowRegistry":
    """The workflows chat can start, as create_app wires them, for a process without the service (CLI, eval)."""
    from api.coding_runtime import ChargeCodingRuntime
    from api.contracts_runtime import ContractVarianceRuntime
    from api.remittance_runtime import RemittanceRuntime
    from api.reviews import WorkflowRegistry
    from api.scrub_runtime import ClaimScrubRuntime

    registry = WorkflowRegistry()
    for runtime in (
        ChargeCodingRuntime(settings, sessions, sink=reviews),
        ClaimScrubRuntime(settings, sessions, sink=reviews),
        RemittanceRuntime(settings, sessions, sink=reviews),
        ContractVarianceRuntime(settings, sessions, sink=reviews),
    ):
        registry.register(runtime)
    reviews.workflows = registry
    return registry


class QueueView:
    """Pending review items for 'what is waiting for me?' (ids, titles, workflows: no payload)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def pending(self, practice_ids: list[str] | None, limit: int = 20) -> list[dict[str, Any]]:
        if practice_ids is None:
            return []
        with self.sessions() as session:
            records = list_review_items(
                session,
                ReviewFilter(practice_ids=practice_ids, status=ReviewStatus.PENDING.value, limit=limit),
            )
            return [
                {
                    "id": r.id,
                    "title": r.title,
                    "workflow": r.workflow,
                    "claim_id": r.claim_id,
                    "amount": r.amount,
                }
                for r in records
            ]


class ChatRuntime:
    """Answers chat questions for signed-in staff (API) or the local operator (CLI)."""

    def __init__(
        self,
        settings: Settings,
        *,
        sessions: sessionmaker[Session] | None = None,
        workflows: "WorkflowRegistry | None" = None,
        crystalpm: Callable[[], CrystalPM] | None = None,
        chat_model: "BaseChatModel | None" = None,
        checkpointer: CheckpointerFactory | None = None,
        router: IntentRouter | None = None,
        today: Callable[[], date] = date.today,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.workflows = workflows
        self.engine_name = settings.engine
        self.today = today
        self._crystalpm = crystalpm or (lambda: make_crystalpm(settings))
        # Routing only wants payer names: one quick try, so a Crystal PM outage never slows a code question.
        quick = settings.model_copy(update={"crystalpm_max_retries": 0, "crystalpm_timeout_seconds": 2.0})
        self._quick_crystalpm = crystalpm or (lambda: make_crystalpm(quick))
        self._chat_model = chat_model
        self._checkpointer = checkpointer or (lambda: make_checkpointer(settings))
        self.router = router or IntentRouter()
        self.audit_log = AuditLog(sessions) if sessions is not None else None
        self._chroma: ClientAPI | None = None
        self._payers: tuple[float, list[str]] = (0.0, [])
        self._lock = threading.Lock()

    # wiring

    def warm(self) -> None:
        """Load MiniLM and embed the intents' utterances, so the first question is answered fast."""
        if self.engine_name == "offline":
            self.router.warm()

    def _chroma_client(self) -> "ClientAPI | None":
        with self._lock:
            if self._chroma is None:
                from knowledge.vectorstore import open_chroma

                self._chroma = open_chroma(self.settings)
            return self._chroma

    def _audit(self, event: ChatAuditEvent) -> None:
        if self.audit_log is None:
            return
        self.audit_log.record(
            AuditEntry(
                actor=event.actor,
                action=event.action,
                practice_id=event.practice_id,
                patient_id=event.patient_id,
                claim_id=event.claim_id,
                thread_id=event.thread_id,
                inputs_hash=event.args_hash,
                engine=f"chat:{self.engine_name}",
                detail={"tool": event.tool, **event.detail},
            )
        )

    def _payer_names(self) -> list[str]:
        """Payer names for spotting payers in questions, cached for a few minutes across questions."""
        fetched_at, names = self._payers
        if time.monotonic() - fetched_at < PAYERS_TTL_SECONDS:
            return names
        try:
            with closing(self._quick_crystalpm()) as client:
                names = [payer.name for payer in client.list_payers()]
            self._payers = (time.monotonic(), names)
        except (CrystalPMError, LookupError):
            # Crystal PM is away: route without payer names, and ask again a little later.
            self._payers = (time.monotonic() - PAYERS_TTL_SECONDS + PAYERS_RETRY_SECONDS, [])
        return self._payers[1]

    @contextmanager
    def _context(self, caller: ChatCaller, can: Callable[[str], bool]) -> Iterator[ToolContext]:
        with ExitStack() as stack:
            opened: list[CrystalPM] = []

            def client() -> CrystalPM:
                if not opened:
                    opened.append(self._crystalpm())
                    stack.callback(opened[0].close)
                return opened[0]

            starter = None
            if self.workflows is not None and self.sessions is not None:
                starter = ChatWorkflowStarter(self.workflows, self.sessions, client)
            yield ToolContext(
                caller=caller,
                settings=self.settings,
                can=can,
                crystalpm=client,
                starter=starter,
                queue=QueueView(self.sessions) if self.sessions is not None else None,
                audit=self._audit,
                today=self.today,
                chroma=self._chroma_client,
            )

    def _engine(self, ctx: ToolContext) -> Any:
        if self.engine_name == "llm":
            from agents.chat.llm import LLMChatEngine

            if self._chat_model is None:
                from agents.models import make_chat_model

                self._chat_model = make_chat_model(self.settings)
            return LLMChatEngine(self._chat_model)

        def patients(name: str) -> list[str]:
            try:
                return [patient.id for patient in match_patients(ctx, name)]
            except (CrystalPMError, LookupError):
                return []

        return OfflineChatEngine(self.router, patients=patients, payer_names=self._payer_names)

    # asking

    def ask(
        self,
        caller: ChatCaller,
        can: Callable[[str], bool],
        question: str,
        *,
        conversation: str = "default",
        on_event: OnEvent = lambda event, data: None,
    ) -> ChatAnswer:
        """Answer on the caller's thread; steps go to on_event as they happen ('step'), then the answer ('token')."""
        thread_id = thread_id_for(caller.user_id, conversation)
        config = {"configurable": {"thread_id": thread_id}, "recursion_limit": 25}
        with self._context(caller, can) as ctx, self._checkpointer() as checkpointer:
            graph = build_copilot_chat_graph(
                engine=self._engine(ctx), tools=build_chat_tools(ctx), checkpointer=checkpointer
            )
            answer: dict[str, Any] | None = None
            # Steps are reported as each node finishes. The model is called without streaming (every
            # OpenAI-compatible server answers that way, recorded ones included), so the answer's tokens follow
            # once it is known.
            for chunk in graph.stream({"messages": [HumanMessage(question)]}, config, stream_mode="updates"):
                for node, update in chunk.items():
                    answer = self._report(node, update or {}, on_event) or answer
        if answer is None:
            raise RuntimeError("the chat graph ended without an answer")
        reply = ChatAnswer.model_validate(answer)
        words = reply.answer.split(" ")
        for start in range(0, len(words), TOKEN_WORDS):
            piece = " ".join(words[start : start + TOKEN_WORDS])
            on_event("token", {"text": piece + (" " if start + TOKEN_WORDS < len(words) else "")})
        self._audit(
            ChatAuditEvent(
                actor=caller.actor,
                action="chat.turn",
                thread_id=thread_id,
                tool=",".join(call.name for call in reply.tool_calls),
                detail={
                    "intent": reply.intent,
                    "engine": reply.engine,
                    "tools": [c.name for c in reply.tool_calls],
                },
            )
        )
        return reply

    @staticmethod
    def _report(node: str, update: dict[str, Any], on_event: OnEvent) -> dict[str, Any] | None:
        """Tell on_event what a graph node just did; the answer node's update carries the answer."""
        if node == "route" and update.get("route"):
            route = update["route"]
            on_event("step", {"node": "route", "intent": route["intent"], "score": round(route["score"], 3)})
        if node in ("route", "agent"):
            for message in update.get("messages", []):
                for call in getattr(message, "tool_calls", None) or []:
                    on_event("step", {"node": "tool_call", "tool": call["name"], "args": call["args"]})
        elif node == "tools":
            for message in update.get("messages", []):
                artifact = getattr(message, "artifact", None) or {}
                on_event(
                    "step",
                    {"node": "tool_result", "tool": message.name, "status": artifact.get("status", "error")},
                )
        return update.get("answer")

    def history(self, caller: ChatCaller, conversation: str = "default") -> list[ChatTurn]:
        """The thread's questions and answers, oldest first (tool traffic left out)."""
        config = {"configurable": {"thread_id": thread_id_for(caller.user_id, conversation)}}
        with self._checkpointer() as checkpointer:
            graph = build_copilot_chat_graph(
                engine=OfflineChatEngine(self.router), tools=[], checkpointer=checkpointer
            )
            state = graph.get_state(config).values or {}
        turns: list[ChatTurn] = []
        for message in state.get("messages", []):
            if isinstance(message, HumanMessage):
                turns.append(ChatTurn(role="user", content=str(message.content)))
            elif isinstance(message, AIMessage) and not message.tool_calls and message.content:
                turns.append(ChatTurn(role="assistant", content=str(message.content)))
        if turns and turns[-1].role == "assistant" and state.get("answer"):
            turns[-1].answer = ChatAnswer.model_validate(state["answer"])
        return turns
