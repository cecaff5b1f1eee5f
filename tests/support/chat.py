"""The copilot chat in tests: one warmed intent router per session, and a scripted tool-calling chat model.

Usage::

    router = chat_router()  # MiniLM and the utterance vectors, loaded once per test session
    model = ScriptedChatModel([AIMessage("", tool_calls=[...]), AIMessage("done")])
    model.received  # the message lists it was called with, in order
"""

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from pydantic import Field

from agents.chat.router import IntentRouter
from billing.settings import Settings


def isolated_settings(root: Path) -> Settings:
    """The conftest `settings`, for module-scoped fixtures: a data dir of their own, test secrets."""
    return Settings(
        _env_file=None,
        mode="development",
        data_dir=root / "var",
        webhook_secret="test-webhook-secret-0123456789",
        session_secret="test-session-secret-0123456789",
        crystalpm_token="test-crystalpm-token",
        sandbox_admin_token="test-sandbox-admin-token",
    )


@cache
def chat_router() -> IntentRouter:
    router = IntentRouter()
    router.warm()
    return router


class ScriptedChatModel(BaseChatModel):
    """Answers the scripted AIMessages in turn (tool calls included); binding tools records their names."""

    script: list[AIMessage]
    received: list[list[BaseMessage]] = Field(default_factory=list)
    bound_tools: list[str] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Runnable:
        self.bound_tools = [getattr(tool, "name", str(tool)) for tool in tools]
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.received.append(list(messages))
        if not self.script:
            raise AssertionError("the scripted model ran out of replies")
        return ChatResult(generations=[ChatGeneration(message=self.script.pop(0))])
