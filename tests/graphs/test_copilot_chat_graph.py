"""The copilot_chat graph end to end over the real sandbox: offline routing, the LLM tool loop, roles, interrupts."""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from langchain_core.messages import AIMessage, SystemMessage
from sqlalchemy import select

from api.chat_runtime import ChatRuntime, read_only
from api.coding_runtime import ChargeCodingRuntime
from api.features import FeatureGate
from api.reviews import ReviewService, WorkflowRegistry
from api.security.permissions import permissions_of
from api.storage.db import create_db_engine, create_session_factory
from api.storage.migrate import migrate_engine
from api.storage.models import AuditRecord, ReviewItemRecord
from billing.practice import Role
from billing.settings import Settings
from tests.support.chat import ScriptedChatModel, chat_router, isolated_settings
from tests.support.coding_data import coding_dataset
from tests.support.openai_server import recorded_openai_server, text_reply, tool_call_reply
from tests.support.sandbox import SandboxHandle, running_sandbox
from tools.chat import ChatCaller
from tools.crystalpm import RestCrystalPM


@dataclass
class Practice:
    settings: Settings
    sandbox: SandboxHandle
    sessions: object
    workflows: WorkflowRegistry


@pytest.fixture(scope="module")
def practice(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Practice]:
    settings = isolated_settings(tmp_path_factory.mktemp("chat"))
    with running_sandbox(settings, coding_dataset()) as sandbox:
        settings = settings.model_copy(update={"crystalpm_base_url": sandbox.base_url})
        engine = create_db_engine(settings.resolved_database_url)
        migrate_engine(engine)
        sessions = create_session_factory(engine)
        reviews = ReviewService(sessions, WorkflowRegistry(), FeatureGate(sessions))
        reviews.workflows.register(ChargeCodingRuntime(settings, sessions, sink=reviews))
        yield Practice(settings, sandbox, sessions, reviews.workflows)
        engine.dispose()


def staff(role: Role, practices: tuple[str, ...] = ("PRA-1", "PRA-2")) -> tuple[ChatCaller, object]:
    granted = {p.value for p in permissions_of({role})}
    caller = ChatCaller(
        user_id=f"usr-{role.value.lower()}", roles=frozenset({role.value}), practice_ids=frozenset(practices)
    )
    return caller, granted.__contains__


def runtime(practice: Practice, chat_model: ScriptedChatModel | None = None) -> ChatRuntime:
    settings = practice.settings.model_copy(update={"engine": "llm" if chat_model else "offline"})
    return ChatRuntime(
        settings,
        sessions=practice.sessions,
        workflows=practice.workflows,
        router=chat_router(),
        chat_model=chat_model,
    )


def review_items(practice: Practice, thread_id: str) -> list[ReviewItemRecord]:
    with practice.sessions() as db:
        return list(db.scalars(select(ReviewItemRecord).where(ReviewItemRecord.thread_id == thread_id)))


def audit_actions(practice: Practice, action: str) -> list[AuditRecord]:
    with practice.sessions() as db:
        return list(db.scalars(select(AuditRecord).where(AuditRecord.action == action)))


def charges_of(practice: Practice, encounter_id: str) -> list:
    with RestCrystalPM(practice.sandbox.base_url, practice.sandbox.token) as client:
        return list(client.iter_charges(encounter_id=encounter_id))


def test_offline_engine_explains_a_denial_and_follows_up_on_the_same_claim(practice: Practice) -> None:
    chat = runtime(practice)
    biller, can = staff(Role.BILLER)
    events: list[tuple[str, dict]] = []
    answer = chat.ask(
        biller,
        can,
        "why was claim CLM-002 denied?",
        conversation="denial",
        on_event=lambda e, d: events.append((e, d)),
    )
    assert [(c.name, c.args) for c in answer.tool_calls] == [("explain_denial", {"claim_id": "CLM-002"})]
    assert "CO-50" in answer.answer and "CLM-002" in answer.answer
    assert {(s.kind, s.id) for s in answer.sources} >= {("claim", "CLM-002"), ("carc", "50")}
    assert [e for e, _ in events][:3] == ["step", "step", "step"] and events[-1][0] == "token"
    follow_up = chat.ask(biller, can, "what is the status of it", conversation="denial")
    assert [(c.name, c.args) for c in follow_up.tool_calls] == [("claim_status", {"claim_id": "CLM-002"})]
    history = chat.history(biller, "denial")
    assert [turn.role for turn in history] == ["user", "assistant", "user", "assistant"]
    assert history[-1].answer is not None and history[-1].answer.intent == "claim_status"


def test_a_practice_the_caller_does_not_belong_to_answers_not_found(practice: Practice) -> None:
    biller, can = staff(Role.BILLER, ("PRA-2",))
    answer = runtime(practice).ask(biller, can, "what is the status of claim CLM-001", conversation="scope")
    assert answer.tool_calls[0].status == "not_found"
    assert answer.answer == "No claim with this id among the practices you belong to."


def test_coding_started_from_chat_waits_in_the_review_queue_and_writes_nothing(practice: Practice) -> None:
    coder, can = staff(Role.CODER)
    answer = runtime(practice).ask(coder, can, "code encounter ENC-006", conversation="code")
    assert [(c.name, c.status) for c in answer.tool_calls] == [("code_encounter", "ok")]
    (item,) = review_items(practice, "encounter:ENC-006")
    assert item.status == "pending" and item.id in answer.answer and "review queue" in answer.answer
    assert any(s.kind == "review" and s.href == f"/ui/reviews/{item.id}" for s in answer.sources)
    assert charges_of(practice, "ENC-006") == []
    actions = [r for r in audit_actions(practice, "chat.action") if r.detail.get("review_item_id") == item.id]
    assert actions and actions[0].actor == "user:usr-coder" and actions[0].thread_id == "encounter:ENC-006"


def test_a_biller_cannot_start_charge_coding_through_chat(practice: Practice) -> None:
    biller, can = staff(Role.BILLER)
    answer = runtime(practice).ask(biller, can, "code encounter ENC-008", conversation="refused")
    assert answer.tool_calls[0].status == "refused"
    assert answer.answer == "This needs the `charges.review` permission, which your roles do not grant."
    assert review_items(practice, "encounter:ENC-008") == []
    assert any(
        r.detail.get("permission") == "charges.review" for r in audit_actions(practice, "chat.refused")
    )


def test_the_command_lines_local_operator_reads_but_never_starts_a_workflow(practice: Practice) -> None:
    chat = ChatRuntime(
        practice.settings, sessions=practice.sessions, workflows=practice.workflows, router=chat_router()
    )
    local = ChatCaller(user_id="local", local=True)
    read = chat.ask(local, read_only, "what is the status of claim CLM-001", conversation="local")
    assert read.tool_calls[0].status == "ok" and "CLM-001" in read.answer
    action = chat.ask(local, read_only, "code encounter ENC-008", conversation="local")
    assert action.tool_calls[0].status == "refused" and review_items(practice, "encounter:ENC-008") == []


def test_llm_engine_runs_the_tools_it_calls_with_the_system_prompt(practice: Practice) -> None:
    model = ScriptedChatModel(
        script=[
            AIMessage(
                "", tool_calls=[{"name": "claim_status", "args": {"claim_id": "CLM-001"}, "id": "call_1"}]
            ),
            AIMessage("Claim CLM-001 was paid."),
        ]
    )
    chat = runtime(practice, chat_model=model)
    biller, can = staff(Role.BILLER)
    answer = chat.ask(biller, can, "is CLM-001 paid?", conversation="llm")
    assert answer.engine == "llm" and answer.answer == "Claim CLM-001 was paid."
    assert [(c.name, c.status) for c in answer.tool_calls] == [("claim_status", "ok")]
    assert ("claim", "CLM-001") in {(s.kind, s.id) for s in answer.sources}
    assert isinstance(model.received[0][0], SystemMessage) and "review queue" in model.received[0][0].content
    assert {"claim_status", "draft_appeal", "code_encounter"} <= set(model.bound_tools)
    # The second call saw the tool's answer (the claim's facts), not only the question.
    assert '"status":"paid"' in model.received[1][-1].content


def test_llm_engine_cannot_do_what_the_callers_role_may_not(practice: Practice) -> None:
    model = ScriptedChatModel(
        script=[
            AIMessage(
                "",
                tool_calls=[{"name": "code_encounter", "args": {"encounter_id": "ENC-008"}, "id": "call_1"}],
            ),
            AIMessage("You are not allowed to start coding."),
        ]
    )
    chat = runtime(practice, chat_model=model)
    biller, can = staff(Role.BILLER)
    answer = chat.ask(biller, can, "code ENC-008", conversation="llm-role")
    assert [(c.name, c.status) for c in answer.tool_calls] == [("code_encounter", "refused")]
    assert "charges.review" in model.received[1][-1].content
    assert review_items(practice, "encounter:ENC-008") == []


def test_llm_engine_through_an_openai_compatible_server_reaches_the_coding_interrupt(
    practice: Practice,
) -> None:
    replies = [
        tool_call_reply("code_encounter", {"encounter_id": "ENC-007"}),
        text_reply("I started coding ENC-007; the suggestion waits in the review queue."),
    ]
    with recorded_openai_server(replies) as server:
        settings = practice.settings.model_copy(update={"engine": "llm", "llm_base_url": server.base_url})
        from agents.models import make_chat_model

        chat = ChatRuntime(
            settings,
            sessions=practice.sessions,
            workflows=practice.workflows,
            chat_model=make_chat_model(settings),
        )
        coder, can = staff(Role.CODER)
        answer = chat.ask(coder, can, "please code encounter ENC-007", conversation="openai")
    assert [(c.name, c.status) for c in answer.tool_calls] == [("code_encounter", "ok")]
    assert {tool["function"]["name"] for tool in server.requests[0]["tools"]} >= {
        "code_encounter",
        "explain_denial",
    }
    tool_message = server.requests[1]["messages"][-1]
    assert tool_message["role"] == "tool" and '"state":"pending_review"' in tool_message["content"]
    (item,) = review_items(practice, "encounter:ENC-007")
    assert item.status == "pending"
    assert charges_of(practice, "ENC-007") == []
