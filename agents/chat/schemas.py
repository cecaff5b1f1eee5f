"""What the chat engines answer: the text, the intent, the tool calls made and the sources cited."""

from typing import Any

from pydantic import BaseModel, Field

from tools.chat.results import Source


class ToolCallRecord(BaseModel):
    name: str
    args: dict[str, Any] = Field(default_factory=dict)
    status: str = ""


class ChatAnswer(BaseModel):
    """One answer as the API, the CLI and the eval see it."""

    answer: str
    intent: str
    engine: str
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)
