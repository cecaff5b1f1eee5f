"""LangSmith tracing: off unless configured in Settings, and then every traced input and output is redacted.

Redaction keeps what helps debugging and identifies no one (codes, modifiers, engine names, decisions,
numbers, message roles) and replaces every other string with REDACTED: note text, names, ids, quotes.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from billing.settings import Settings

if TYPE_CHECKING:
    from langsmith import Client

REDACTED = "[redacted]"
# Keys whose string values are billing codes or labels, never free text or identifiers.
SAFE_KEYS = frozenset(
    {
        "code",
        "codes",
        "modifiers",
        "diagnosis_codes",
        "engine",
        "engine_version",
        "decision",
        "severity",
        "payer_kind",
        "type",
        "role",
        "action",
        "finish_reason",
        "model_name",
    }
)


def redact(value: Any, *, safe: bool = False) -> Any:
    """A copy of a trace payload with every string outside SAFE_KEYS replaced; numbers and booleans kept."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, Mapping):
        return {str(key): redact(item, safe=str(key) in SAFE_KEYS) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(item, safe=safe) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str) and safe:
        return value
    # Strings elsewhere, and objects we cannot see into (messages are pydantic, so they were walked above).
    return REDACTED


def redact_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The hide_inputs / hide_outputs hook LangSmith's Client calls on every run it sends."""
    return redact(payload)


def tracing_enabled(settings: Settings) -> bool:
    return settings.langsmith_tracing and bool(settings.langsmith_api_key.get_secret_value())


def make_tracing_client(settings: Settings, **options: Any) -> "Client":
    """A LangSmith client that redacts inputs, outputs and metadata before anything leaves the process.

    `options` go to langsmith.Client as they are (e.g. `info` to skip its server probe in tests).
    """
    from langsmith import Client

    return Client(
        api_url=settings.langsmith_endpoint or None,
        api_key=settings.langsmith_api_key.get_secret_value(),
        hide_inputs=redact_payload,
        hide_outputs=redact_payload,
        hide_metadata=redact_payload,
        **options,
    )


@contextmanager
def tracing_scope(settings: Settings) -> Iterator[None]:
    """Run graph and model calls inside this: traced with redaction when configured, else not traced at all.

    Explicitly disabled otherwise, so a stray LANGSMITH_TRACING=true in the environment sends nothing.
    """
    from langsmith import tracing_context

    if not tracing_enabled(settings):
        with tracing_context(enabled=False):
            yield
        return
    with tracing_context(
        enabled=True, client=make_tracing_client(settings), project_name=settings.langsmith_project
    ):
        yield
