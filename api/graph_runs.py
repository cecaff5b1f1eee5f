"""What every workflow runtime asks of its checkpointed graph: a thread's run state, and applying a decision."""

from collections.abc import Callable
from typing import Any, Literal, Protocol, TypeVar

from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command

RunState = Literal["not_started", "pending_review", "interrupted", "done"]


class ReviewNotPending(Exception):
    """The thread has no review waiting: never started, already decided, or finished."""


class HasRunState(Protocol):
    state: RunState


Status = TypeVar("Status", bound=HasRunState)


def thread_config(thread_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id}}


def run_state(
    graph: CompiledStateGraph, thread_id: str
) -> tuple[RunState, list[Any], dict[str, Any], list[str]]:
    """(state, pending interrupt values, state values, next nodes) of the thread's latest checkpoint."""
    snapshot = graph.get_state(thread_config(thread_id))
    values = snapshot.values or {}
    pending = [item.value for task in snapshot.tasks for item in task.interrupts]
    if not values and not snapshot.next:
        state: RunState = "not_started"
    elif pending:
        state = "pending_review"
    elif snapshot.next:
        state = "interrupted"
    else:
        state = "done"
    return state, pending, values, list(snapshot.next)


def apply_decision(
    graph: CompiledStateGraph, thread_id: str, resume_with: dict[str, Any], status: Callable[[], Status]
) -> Status:
    """Resume a pending review with the decision; after a crash, finish what an earlier decision started.

    Interrupted (stopped after the decision was taken in): continue from the checkpoint, the write
    re-using the run's idempotency key. Pending review: resume it. Anything but done afterwards is an error.
    """
    current = status()
    if current.state == "interrupted":
        graph.invoke(None, thread_config(thread_id))
        current = status()
    if current.state == "pending_review":
        graph.invoke(Command(resume=resume_with), thread_config(thread_id))
        current = status()
    if current.state != "done":
        raise ReviewNotPending(f"{thread_id} cannot take a decision (it is {current.state})")
    return current
