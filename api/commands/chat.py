"""`fovea chat` (an interactive conversation) and `fovea ask "QUESTION"` (one answer, `--json` for scripts).

Without `--user` the caller is the machine's local operator: read tools only, every practice, no database
needed, so `fovea ask "What does CARC 45 mean?"` answers from the knowledge base even when Crystal PM is away.
With `--user USERNAME` the copilot user's roles and practices apply, and action tools start the workflows,
whose results wait in the review queue like the service's.
"""

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from api.chat_runtime import ChatRuntime
    from tools.chat import ChatCaller

CLI_CONVERSATION = "cli"


def _refuse(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@contextmanager
def _session(username: str | None) -> Iterator[tuple["ChatRuntime", "ChatCaller", Callable[[str], bool]]]:
    """The runtime and caller for this command: the local read-only operator, or a copilot user."""
    from langgraph.checkpoint.memory import InMemorySaver

    from api.chat_runtime import ChatRuntime, read_only
    from billing.settings import get_settings
    from tools.chat import ChatCaller

    # One quick try at Crystal PM: a question the knowledge base answers must not wait on retries.
    settings = get_settings().model_copy(
        update={"crystalpm_max_retries": 0, "crystalpm_timeout_seconds": 5.0}
    )
    saver = InMemorySaver()
    with ExitStack() as stack:
        if username is None:
            runtime = ChatRuntime(settings, checkpointer=lambda: nullcontext(saver))
            yield runtime, ChatCaller(user_id="local", username="local", local=True), read_only
            return
        from api.chat_runtime import standard_workflows
        from api.features import FeatureGate
        from api.reviews import ReviewService, WorkflowRegistry
        from api.security.permissions import permissions_of
        from api.storage.db import create_db_engine, create_session_factory
        from api.storage.migrate import migrate_engine
        from api.storage.users import find_user, to_user

        engine = create_db_engine(settings.resolved_database_url)
        stack.callback(engine.dispose)
        migrate_engine(engine)
        sessions = create_session_factory(engine)
        with sessions() as db:
            record = find_user(db, username)
            user = to_user(record) if record is not None and record.active else None
        if user is None:
            _refuse(f"no active copilot user {username!r}; create one with `fovea users add`")
        reviews = ReviewService(sessions, WorkflowRegistry(), FeatureGate(sessions))
        runtime = ChatRuntime(
            settings,
            sessions=sessions,
            workflows=standard_workflows(settings, sessions, reviews),
            checkpointer=lambda: nullcontext(saver),
        )
        granted = {permission.value for permission in permissions_of(set(user.roles))}
        caller = ChatCaller(
            user_id=user.id,
            username=user.username,
            roles=frozenset(role.value for role in user.roles),
            practice_ids=frozenset(user.practice_ids),
        )
        yield runtime, caller, granted.__contains__


def ask(
    question: Annotated[str, typer.Argument(help="The question, in quotes")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print answer, intent, tool calls, sources, engine as JSON")
    ] = False,
    user: Annotated[str | None, typer.Option("--user", help="Ask as this copilot user (roles apply)")] = None,
) -> None:
    """Ask the billing copilot one question."""
    with _session(user) as (runtime, caller, can):
        answer = runtime.ask(caller, can, question, conversation=CLI_CONVERSATION)
    if as_json:
        payload: dict[str, Any] = {
            "answer": answer.answer,
            "intent": answer.intent,
            "tool_calls": [{"name": call.name, "args": call.args} for call in answer.tool_calls],
            "sources": [source.model_dump(mode="json", exclude_none=True) for source in answer.sources],
            "engine": answer.engine,
        }
        typer.echo(json.dumps(payload, indent=2))
        return
    typer.echo(answer.answer)


def chat(
    user: Annotated[
        str | None, typer.Option("--user", help="Chat as this copilot user (roles apply)")
    ] = None,
) -> None:
    """Talk with the billing copilot (exit, quit or Ctrl-D to leave)."""
    from rich.console import Console
    from rich.panel import Panel
    from rich.prompt import Prompt

    console = Console()
    console.print(
        "[bold]Fovea[/bold] billing copilot. Ask about claims, denials, codes, payers; 'help' lists examples."
    )
    with _session(user) as (runtime, caller, can):
        with console.status("loading the intent model ..."):
            runtime.warm()
        while True:
            try:
                question = Prompt.ask("[bold cyan]you[/bold cyan]").strip()
            except (EOFError, KeyboardInterrupt):
                break
            if question.lower() in ("exit", "quit"):
                break
            if not question:
                continue

            def show(event: str, data: dict[str, Any]) -> None:
                if event == "step" and data.get("node") == "tool_call":
                    console.print(f"[dim]  -> {data['tool']} {json.dumps(data['args'])}[/dim]")

            answer = runtime.ask(caller, can, question, conversation=CLI_CONVERSATION, on_event=show)
            console.print(Panel(answer.answer, title=answer.intent.replace("_", " "), title_align="left"))
