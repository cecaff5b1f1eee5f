"""What every chat tool is handed: the caller, the Crystal PM client, the knowledge, the workflow starters."""

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pydantic import BaseModel, Field

from billing.practice import Patient
from billing.settings import Settings
from tools.crystalpm import CrystalPM

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

    from knowledge.base import KnowledgeBase

T = TypeVar("T")
# The permission every read tool needs (the API's `chat.use`); action tools name the API's own permissions.
CHAT_USE = "chat.use"


class ChatCaller(BaseModel):
    """Who asks: the API's Principal seen by tools (roles and practices), without importing api/."""

    user_id: str
    username: str = ""
    roles: frozenset[str] = frozenset()
    practice_ids: frozenset[str] | None = Field(
        None, description="the practices the caller may see; None for the local operator (all of them)"
    )
    local: bool = Field(False, description="the command line's read-only operator: no workflow may start")

    @property
    def actor(self) -> str:
        return f"user:{self.user_id}" if not self.local else "cli:local"

    def sees(self, practice_id: str) -> bool:
        return self.practice_ids is None or practice_id in self.practice_ids


class ChatAuditEvent(BaseModel):
    """One chat action as the audit trail records it (ids and hashes only: never the question or PHI)."""

    actor: str
    action: str = Field(description="chat.action | chat.refused | chat.tool")
    practice_id: str = ""
    patient_id: str = ""
    claim_id: str = ""
    thread_id: str = ""
    tool: str
    args_hash: str = ""
    detail: dict[str, Any] = Field(default_factory=dict)


class ActionOutcome(BaseModel):
    """What starting a workflow from chat led to: its thread, where it stopped, and the review item."""

    workflow: str
    thread_id: str
    state: str = Field(description="pending_review | done | not_started | unavailable")
    review_item_id: str | None = None
    practice_id: str = ""
    detail: str = ""


class WorkflowStarter(Protocol):
    """Starts the existing workflows up to their own review interrupt (implemented in api/chat_runtime)."""

    def available(self, workflow: str) -> bool: ...

    def start(
        self, workflow: str, subject_id: str, *, practice_id: str, requested_by: str
    ) -> ActionOutcome: ...


class ReviewQueueView(Protocol):
    """Pending review items of some practices, for 'what is waiting for me?'."""

    def pending(self, practice_ids: list[str] | None, limit: int = 20) -> list[dict[str, Any]]: ...


@dataclass
class ToolContext:
    """Everything the chat tools need for one caller; `can` is the API permission table's answer."""

    caller: ChatCaller
    settings: Settings
    can: Callable[[str], bool]
    crystalpm: Callable[[], CrystalPM] | None = None
    starter: WorkflowStarter | None = None
    queue: ReviewQueueView | None = None
    audit: Callable[[ChatAuditEvent], None] = lambda event: None
    today: Callable[[], date] = date.today
    chroma: Callable[[], "ClientAPI | None"] = lambda: None
    _kb: "KnowledgeBase | None" = field(default=None, repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def knowledge(self) -> "KnowledgeBase":
        """NCCI and PFS tables, loaded once per data directory."""
        from knowledge.base import load_knowledge

        if self._kb is None:
            self._kb = load_knowledge(self.settings)
        return self._kb

    def client(self) -> CrystalPM:
        if self.crystalpm is None:
            raise LookupError("Crystal PM is not connected in this session")
        return self.crystalpm()

    def cached(self, key: str, load: Callable[[], T]) -> T:
        """A value loaded once for this context (payers, patient lists): one conversation turn at most."""
        with self._lock:
            if key not in self._cache:
                self._cache[key] = load()
            return self._cache[key]

    def patients(self, practice_id: str | None = None) -> list[Patient]:
        """The practice's patients (all the caller may see when None)."""
        return self.cached(
            f"patients:{practice_id or '*'}",
            lambda: [p for p in self.client().iter_patients(practice_id) if self.caller.sees(p.practice_id)],
        )
