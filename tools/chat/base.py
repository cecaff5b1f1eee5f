"""How a chat tool is made: a typed StructuredTool that checks the caller's permission, then looks up or starts.

Every tool answers `(content, artifact)` (LangChain's content_and_artifact): the LLM reads the content, the
offline engine and the UI read the artifact, a ToolResult as JSON. Crystal PM errors become an `unavailable` result, never an
exception, so one failed look-up does not end the conversation.
"""

import hashlib
import json
import logging
from collections.abc import Callable
from typing import TypeVar

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel

from tools.chat.context import CHAT_USE, ChatAuditEvent, ToolContext
from tools.chat.results import ToolResult, not_found, refused
from tools.crystalpm import CrystalPMError, NotFound

log = logging.getLogger("fovea.chat.tools")
Args = TypeVar("Args", bound=BaseModel)


def args_hash(args: BaseModel) -> str:
    canonical = json.dumps(args.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def chat_tool(
    ctx: ToolContext,
    *,
    name: str,
    description: str,
    args_schema: type[Args],
    run: Callable[[ToolContext, Args], ToolResult],
    permission: str = CHAT_USE,
    action: bool = False,
) -> BaseTool:
    """A tool bound to `ctx`. Action tools (which start a workflow) are audited whatever they answer."""

    def call(**kwargs: object) -> tuple[str, dict]:
        args = args_schema.model_validate(kwargs)
        if not ctx.can(permission):
            result = refused(name, permission)
        else:
            try:
                result = run(ctx, args)
            except NotFound:
                result = not_found(name, "record")
            except (CrystalPMError, LookupError) as exc:
                # The error class only: its message may quote ids the log must not hold.
                log.warning(
                    "chat tool could not reach Crystal PM",
                    extra={"tool": name, "error_type": type(exc).__name__},
                )
                result = ToolResult(
                    tool=name,
                    status="unavailable",
                    message="Crystal PM did not answer, so I could not look that up; try again in a moment.",
                )
            except Exception as exc:  # a failing tool answers as such instead of ending the conversation
                # No traceback: exception messages can quote record values (PHI).
                log.error("chat tool failed", extra={"tool": name, "error_type": type(exc).__name__})
                result = ToolResult(
                    tool=name, status="error", message="That look-up failed on our side; it has been logged."
                )
        if action or result.status == "refused":
            ctx.audit(
                ChatAuditEvent(
                    actor=ctx.caller.actor,
                    action="chat.refused" if result.status == "refused" else "chat.action",
                    practice_id=str(result.facts.get("practice_id", "")),
                    patient_id=str(result.facts.get("patient_id", "")),
                    claim_id=str(result.facts.get("claim_id", "")),
                    thread_id=str(result.facts.get("thread_id", "")),
                    tool=name,
                    args_hash=args_hash(args),
                    detail={
                        "status": result.status,
                        "permission": permission,
                        "review_item_id": result.facts.get("review_item_id"),
                        "workflow_state": result.facts.get("state"),
                    },
                )
            )
        # The artifact is plain JSON so checkpoints hold it without pickling a model class.
        return result.as_content(), result.model_dump(mode="json")

    return StructuredTool.from_function(
        func=call,
        name=name,
        description=description,
        args_schema=args_schema,
        response_format="content_and_artifact",
    )
