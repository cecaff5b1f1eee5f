"""Checkpointers on SQLite and PostgreSQL: a graph interrupted with one saver resumes with a new one."""

from pathlib import Path
from typing import TypedDict

import pytest
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, interrupt

from api.storage.checkpoints import libpq_url, make_checkpointer
from billing.settings import Settings


class DraftCharge(TypedDict, total=False):
    encounter_id: str
    codes: list[str]
    decision: str
    written: bool


def suggest(state: DraftCharge) -> DraftCharge:
    return {"codes": ["92014", "H40.1131"]}


def review(state: DraftCharge) -> DraftCharge:
    return {"decision": interrupt({"encounter_id": state["encounter_id"], "codes": state["codes"]})}


def write(state: DraftCharge) -> DraftCharge:
    return {"written": state["decision"] == "approve"}


def build_graph(checkpointer: BaseCheckpointSaver) -> CompiledStateGraph:
    graph = StateGraph(DraftCharge)
    graph.add_node("suggest", suggest)
    graph.add_node("review", review)
    graph.add_node("write", write)
    graph.add_edge(START, "suggest")
    graph.add_edge("suggest", "review")
    graph.add_edge("review", "write")
    graph.add_edge("write", END)
    return graph.compile(checkpointer=checkpointer)


@pytest.fixture(params=["sqlite", "postgresql"])
def checkpoint_settings(request: pytest.FixtureRequest, settings: Settings, tmp_path: Path) -> Settings:
    if request.param == "sqlite":
        return settings.model_copy(update={"checkpoint_url": str(tmp_path / "state" / "checkpoints.db")})
    return settings.model_copy(update={"checkpoint_url": request.getfixturevalue("postgres_schema")})


def test_a_new_saver_resumes_an_interrupted_run(checkpoint_settings: Settings) -> None:
    config = {"configurable": {"thread_id": "encounter:enc_42"}}
    with make_checkpointer(checkpoint_settings) as first_saver:
        paused = build_graph(first_saver).invoke({"encounter_id": "enc_42"}, config)
    (pending,) = paused["__interrupt__"]
    assert pending.value == {"encounter_id": "enc_42", "codes": ["92014", "H40.1131"]}
    assert "written" not in paused

    with make_checkpointer(checkpoint_settings) as second_saver:
        graph = build_graph(second_saver)
        assert graph.get_state(config).next == ("review",)
        finished = graph.invoke(Command(resume="approve"), config)
        assert graph.get_state(config).next == ()
    assert finished["decision"] == "approve"
    assert finished["written"] is True


def test_libpq_url_drops_the_sqlalchemy_driver() -> None:
    assert libpq_url("postgresql+psycopg://u@h:5432/db?x=1") == "postgresql://u@h:5432/db?x=1"
    assert libpq_url("postgresql://u@h/db") == "postgresql://u@h/db"
