"""POST /chat (Server-Sent Events) and GET /chat/history, and chat refusing exactly whom the API refuses."""

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.chat_runtime import ChatRuntime
from api.routes.reviews import DECISION_PERMISSIONS
from api.security.deps import Require
from api.security.permissions import roles_for
from api.worker import default_registry
from billing.practice import Role
from billing.settings import Settings
from tests.support.chat import chat_router, isolated_settings
from tests.support.sandbox import running_sandbox, serving
from tests.support.sandbox_data import small_dataset
from tests.support.security import TestUser, add_user, bearer
from tools.chat import ACTIONS

FIRST_BYTE_SECONDS = 0.3
# One question per action tool, and the API route that does the same thing (None: the review decision).
ACTION_QUESTIONS = {
    "code_encounter": "code encounter ENC-006",
    "scrub_claim": "scrub claim CLM-003",
    "draft_appeal": "draft an appeal for claim CLM-002",
    "open_dispute": "open a dispute for claim CLM-001",
}
STAFF = (Role.BILLER, Role.CODER, Role.ADMIN)


@dataclass
class World:
    client: TestClient
    settings: Settings
    users: dict[Role, TestUser]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings = isolated_settings(tmp_path_factory.mktemp("chat-api"))
    with running_sandbox(settings, small_dataset()) as sandbox:
        settings = settings.model_copy(update={"crystalpm_base_url": sandbox.base_url})
        # Placeholder handlers: no workflow runtimes, so allowed actions answer "not available yet".
        app = create_app(settings, start_worker=False, handlers=default_registry())
        with TestClient(app) as client:
            app.state.chat = ChatRuntime(
                settings, sessions=app.state.sessions, workflows=app.state.workflows, router=chat_router()
            )
            users = {
                role: add_user(client, f"{role.value.lower()}-chat", [role], ["PRA-1"]) for role in STAFF
            }
            yield World(client, settings, users)


def events_of(body: str) -> list[tuple[str, dict]]:
    events = []
    for block in body.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def ask(world: World, role: Role, question: str, **extra: object) -> httpx.Response:
    return world.client.post(
        "/chat", json={"question": question, **extra}, headers=bearer(world.users[role].api_key)
    )


def test_post_chat_streams_start_steps_tokens_then_the_answer(world: World) -> None:
    response = ask(world, Role.BILLER, "What does CARC 45 mean?", conversation="sse")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = events_of(response.text)
    names = [name for name, _ in events]
    assert names[0] == "start" and names[-2:] == ["answer", "done"]
    assert names.index("step") < names.index("token") < names.index("answer")
    steps = [data for name, data in events if name == "step"]
    assert steps[0] == {"node": "route", "intent": "explain_carc", "score": steps[0]["score"]}
    assert {"node": "tool_call", "tool": "explain_code", "args": {"code": "45"}} in steps
    answer = dict(events)["answer"]
    assert "".join(data["text"] for name, data in events if name == "token") == answer["answer"]
    assert answer["intent"] == "explain_carc" and answer["sources"][0]["id"] == "45"


def test_history_is_kept_per_user_and_conversation(world: World) -> None:
    ask(world, Role.BILLER, "why was claim CLM-002 denied?", conversation="hist")
    mine = world.client.get(
        "/chat/history", params={"conversation": "hist"}, headers=bearer(world.users[Role.BILLER].api_key)
    )
    assert [turn["role"] for turn in mine.json()] == ["user", "assistant"]
    assert mine.json()[0]["content"] == "why was claim CLM-002 denied?"
    assert mine.json()[1]["answer"]["tool_calls"][0]["args"] == {"claim_id": "CLM-002"}
    theirs = world.client.get(
        "/chat/history", params={"conversation": "hist"}, headers=bearer(world.users[Role.CODER].api_key)
    )
    assert theirs.json() == []


def test_json_answer_when_not_streaming(world: World) -> None:
    response = ask(world, Role.CODER, "is 92250 allowed with 92134?", stream=False)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    assert response.json()["tool_calls"] == [
        {"name": "ncci_check", "args": {"code_a": "92250", "code_b": "92134"}, "status": "ok"}
    ]


def test_chat_needs_a_caller_and_a_sane_question(world: World) -> None:
    assert world.client.post("/chat", json={"question": "hello"}).status_code == 401
    assert world.client.get("/chat/history").status_code == 401
    assert ask(world, Role.BILLER, "").status_code == 422
    assert ask(world, Role.BILLER, "hi", conversation="../other").status_code == 422


@pytest.mark.parametrize("role", STAFF)
@pytest.mark.parametrize("tool", sorted(ACTIONS))
def test_every_action_tool_refuses_the_roles_the_api_refuses(world: World, tool: str, role: Role) -> None:
    workflow, permission_name = ACTIONS[tool]
    permission = DECISION_PERMISSIONS.get(workflow)
    if tool == "scrub_claim":
        # The scrub runs through its own API route: ask that route who it refuses.
        api = world.client.post("/scrub/claims/CLM-003/run", headers=bearer(world.users[role].api_key))
        api_refuses, api_detail = api.status_code == 403, api.json().get("detail")
    else:
        api_refuses = role not in roles_for(permission)
        api_detail = Require(permission).refusal().problem.detail
    assert permission is not None and permission.value == permission_name
    answer = ask(world, role, ACTION_QUESTIONS[tool], stream=False).json()
    assert answer["tool_calls"][0]["name"] == tool
    refused = answer["tool_calls"][0]["status"] == "refused"
    assert refused == api_refuses
    if refused:
        assert answer["answer"] == api_detail


def test_first_streamed_byte_is_fast_over_http(world: World) -> None:
    # A second app on the same database, served for real on loopback: the biller's key works there too.
    app = create_app(world.settings, start_worker=False, handlers=default_registry())
    key = world.users[Role.BILLER].api_key
    with serving(app) as url:
        app.state.chat = ChatRuntime(world.settings, sessions=app.state.sessions, router=chat_router())
        waits = []
        with httpx.Client(base_url=url, headers=bearer(key), timeout=30) as http:
            for _ in range(3):
                started = time.perf_counter()
                with http.stream("POST", "/chat", json={"question": "What does CARC 45 mean?"}) as response:
                    chunks = response.iter_bytes()
                    first = next(chunks)
                    waits.append(time.perf_counter() - started)
                    rest = first + b"".join(chunks)
                assert first.startswith(b"event: start") and b"event: answer" in rest
    assert max(waits) < FIRST_BYTE_SECONDS, waits


def test_the_review_queue_page_has_the_chat_panel_and_its_script(world: World) -> None:
    page = world.client.get("/ui/", headers=bearer(world.users[Role.BILLER].api_key))
    assert page.status_code == 200
    assert 'id="chat-panel"' in page.text and 'data-chat-url="/chat"' in page.text
    assert "chat.js" in page.text and "chat.css" in page.text
    script = world.client.get("/ui/static/chat.js")
    assert script.status_code == 200 and "getReader()" in script.text and "/ui/reviews/" in script.text
