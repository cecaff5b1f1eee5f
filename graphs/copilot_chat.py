"""The copilot_chat graph: a staff question in, an answer with its sources out, through the shared chat tools.

Offline engine: route -> tools -> answer (the router's decision becomes an AIMessage tool call, so both engines
keep the same message history). LLM engine: agent <-> tools until the model answers, then answer. Tools only
read or START a workflow; every write waits behind that workflow's own interrupt in the review queue, so this
graph has no interrupt and writes nothing. Threads are `chat:<user id>:<conversation>`.
"""

import uuid
from collections.abc import Sequence
from typing import Annotated, Any, Literal, Protocol, TypedDict

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt import ToolNode

from agents.chat.answers import answer_text, ask_for, conversational, unique_sources
from agents.chat.entities import Entities
from agents.chat.offline import OfflineChatEngine
from agents.chat.schemas import ChatAnswer, ToolCallRecord
from tools.chat.results import ToolResult

MAX_LLM_STEPS = 6


class ChatState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    entities: dict[str, Any] | None  # the ids the conversation is about, for follow-ups (offline engine)
    route: dict[str, Any] | None
    answer: dict[str, Any] | None
    steps: int


class ToolCallingEngine(Protocol):
    name: str

    def respond(self, messages: Sequence[AnyMessage], tools: Sequence[BaseTool]) -> AIMessage: ...


def thread_id_for(user_id: str, conversation: str = "default") -> str:
    return f"chat:{user_id}:{conversation}"


def current_turn(messages: Sequence[AnyMessage]) -> list[AnyMessage]:
    """The messages since the latest question (that question included)."""
    for index in range(len(messages) - 1, -1, -1):
        if isinstance(messages[index], HumanMessage):
            return list(messages[index:])
    return list(messages)


def turn_results(messages: Sequence[AnyMessage]) -> list[ToolResult]:
    results = []
    for message in current_turn(messages):
        if isinstance(message, ToolMessage):
            if isinstance(message.artifact, dict | ToolResult):
                results.append(ToolResult.model_validate(message.artifact))
            else:  # the tool failed before answering (e.g. arguments it could not take): ToolNode's error text
                results.append(
                    ToolResult(tool=message.name or "", status="error", message=str(message.content))
                )
    return results


def turn_calls(messages: Sequence[AnyMessage], results: list[ToolResult]) -> list[ToolCallRecord]:
    calls = [call for m in current_turn(messages) if isinstance(m, AIMessage) for call in m.tool_calls]
    status = {r.tool: r.status for r in results}
    return [ToolCallRecord(name=c["name"], args=c["args"], status=status.get(c["name"], "")) for c in calls]


def build_copilot_chat_graph(
    *,
    engine: OfflineChatEngine | ToolCallingEngine,
    tools: Sequence[BaseTool],
    checkpointer: BaseCheckpointSaver | None = None,
) -> CompiledStateGraph:
    """The compiled chat graph for one caller's tools; the checkpointer keeps each thread's conversation."""
    tool_node = ToolNode(list(tools))
    graph = StateGraph(ChatState)
    graph.add_node("tools", tool_node)
    if isinstance(engine, OfflineChatEngine):
        _offline_nodes(graph, engine)
    else:
        _llm_nodes(graph, engine, tools)
    return graph.compile(checkpointer=checkpointer, name="copilot_chat")


def _offline_nodes(graph: StateGraph, engine: OfflineChatEngine) -> None:
    def route(state: ChatState) -> dict[str, Any]:
        question = str(current_turn(state["messages"])[0].content)
        earlier = Entities.model_validate(state["entities"]) if state.get("entities") else None
        plan = engine.plan(question, earlier)
        remembered = plan.entities.model_dump(
            mode="json", include={"claim_ids", "encounter_ids", "remittance_ids", "patient_ids"}
        )
        update: dict[str, Any] = {"route": plan.route.model_dump(mode="json"), "entities": remembered}
        if plan.route.tool and not plan.route.missing:
            call = {"name": plan.route.tool, "args": plan.route.args, "id": f"call_{uuid.uuid4().hex[:12]}"}
            update["messages"] = [AIMessage(content="", tool_calls=[call])]
        return update

    def after_route(state: ChatState) -> Literal["tools", "answer"]:
        last = state["messages"][-1]
        return "tools" if isinstance(last, AIMessage) and last.tool_calls else "answer"

    def answer(state: ChatState) -> dict[str, Any]:
        route = state.get("route") or {}
        intent = route.get("intent", "unknown")
        results = turn_results(state["messages"])
        if results:
            text = "\n\n".join(answer_text(result) for result in results)
        elif route.get("missing"):
            text = ask_for(route["missing"], engine.example(intent))
        else:
            text = conversational(intent if intent in ("help", "greeting", "thanks") else "unknown")
        reply = ChatAnswer(
            answer=text,
            intent=intent,
            engine=engine.name,
            tool_calls=turn_calls(state["messages"], results),
            sources=unique_sources([s for r in results if r.ok for s in r.sources]),
        )
        return {"messages": [AIMessage(content=text)], "answer": reply.model_dump(mode="json")}

    graph.add_node("route", route)
    graph.add_node("answer", answer)
    graph.add_edge(START, "route")
    graph.add_conditional_edges("route", after_route)
    graph.add_edge("tools", "answer")
    graph.add_edge("answer", END)


def _llm_nodes(graph: StateGraph, engine: ToolCallingEngine, tools: Sequence[BaseTool]) -> None:
    def agent(state: ChatState) -> dict[str, Any]:
        steps = state.get("steps", 0) if len(current_turn(state["messages"])) > 1 else 0
        reply = engine.respond(state["messages"], tools)
        if steps >= MAX_LLM_STEPS and reply.tool_calls:
            # The model keeps calling tools: stop here and answer with what the tools said so far.
            reply = AIMessage(content="I could not finish that in a few steps; here is what I found so far.")
        return {"messages": [reply], "steps": steps + 1}

    def after_agent(state: ChatState) -> Literal["tools", "answer"]:
        last = state["messages"][-1]
        return "tools" if isinstance(last, AIMessage) and last.tool_calls else "answer"

    def answer(state: ChatState) -> dict[str, Any]:
        results = turn_results(state["messages"])
        final = state["messages"][-1]
        reply = ChatAnswer(
            answer=str(final.content),
            intent=results[0].tool if results else "conversation",
            engine=engine.name,
            tool_calls=turn_calls(state["messages"], results),
            sources=unique_sources([s for r in results if r.ok for s in r.sources]),
        )
        return {"answer": reply.model_dump(mode="json")}

    graph.add_node("agent", agent)
    graph.add_node("answer", answer)
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", after_agent)
    graph.add_edge("tools", "agent")
    graph.add_edge("answer", END)
