"""The billing copilot's chat tools: typed look-ups and workflow starters bound to one caller's ToolContext."""

from langchain_core.tools import BaseTool

from tools.chat.actions import ACTIONS, action_tools
from tools.chat.ar import ar_tools
from tools.chat.codes import code_tools
from tools.chat.context import (
    CHAT_USE,
    ActionOutcome,
    ChatAuditEvent,
    ChatCaller,
    ReviewQueueView,
    ToolContext,
    WorkflowStarter,
)
from tools.chat.denials import denial_tools
from tools.chat.lookups import lookup_tools
from tools.chat.policies import policy_tools
from tools.chat.pricing import pricing_tools
from tools.chat.results import Source, ToolResult

__all__ = [
    "ACTIONS",
    "CHAT_USE",
    "ActionOutcome",
    "ChatAuditEvent",
    "ChatCaller",
    "ReviewQueueView",
    "Source",
    "ToolContext",
    "ToolResult",
    "WorkflowStarter",
    "build_chat_tools",
]


def build_chat_tools(ctx: ToolContext) -> list[BaseTool]:
    """Every chat tool bound to this caller: read tools first, then the four workflow starters."""
    return [
        *lookup_tools(ctx),
        *denial_tools(ctx),
        *code_tools(ctx),
        *policy_tools(ctx),
        *pricing_tools(ctx),
        *ar_tools(ctx),
        *action_tools(ctx),
    ]
