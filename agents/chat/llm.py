"""The LLM chat engine: a tool-calling chat model (make_chat_model(...).bind_tools) with the system prompt."""

from collections.abc import Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage
from langchain_core.tools import BaseTool

from agents.prompts import Prompt, load_prompt

ENGINE_NAME = "llm"
# The model sees the latest turns only; each turn starts at a question, so tool calls stay with their results.
RECENT_TURNS = 8


def recent(messages: Sequence[AnyMessage], turns: int = RECENT_TURNS) -> list[AnyMessage]:
    """The messages of the last `turns` questions (and everything after them)."""
    starts = [index for index, message in enumerate(messages) if isinstance(message, HumanMessage)]
    return list(messages[starts[-turns] :] if len(starts) > turns else messages)


class LLMChatEngine:
    """Calls the model with the system prompt and the conversation; the model chooses the tools."""

    name = ENGINE_NAME

    def __init__(self, model: BaseChatModel, *, prompt: Prompt | None = None) -> None:
        self.model = model
        self.prompt = prompt or load_prompt("chat_system")

    def respond(self, messages: Sequence[AnyMessage], tools: Sequence[BaseTool]) -> AIMessage:
        bound = self.model.bind_tools(list(tools))
        answer = bound.invoke([SystemMessage(self.prompt.text), *recent(messages)])
        if not isinstance(answer, AIMessage):
            raise TypeError("a tool-calling chat model must answer with an AIMessage")
        return answer
