"""The copilot chat: POST /chat answers a question as a Server-Sent Events stream; GET /chat/history."""

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.security.deps import Principal, require
from api.security.permissions import Permission

if TYPE_CHECKING:
    from api.chat_runtime import ChatRuntime

router = APIRouter(prefix="/chat", tags=["chat"])

ChatUser = Annotated[Principal, Depends(require(Permission.CHAT_USE))]
CONVERSATION = r"^[A-Za-z0-9_-]{1,64}$"
_runtime_lock = threading.Lock()


class ChatRequest(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
    conversation: str = Field("default", pattern=CONVERSATION)
    stream: bool = Field(True, description="false answers one JSON object instead of an event stream")


def chat_runtime(request: Request) -> "ChatRuntime":
    """The app's chat runtime, built on first use; it starts loading the router's model at once."""
    with _runtime_lock:
        runtime = getattr(request.app.state, "chat", None)
        if runtime is None:
            from api.chat_runtime import ChatRuntime

            runtime = ChatRuntime(
                request.app.state.settings,
                sessions=request.app.state.sessions,
                workflows=getattr(request.app.state, "workflows", None),
            )
            threading.Thread(target=runtime.warm, name="fovea-chat-warm", daemon=True).start()
            request.app.state.chat = runtime
        return runtime


def sse(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'), default=str)}\n\n".encode()


@router.post(
    "",
    response_model=None,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "start, step, token, answer, done"}
    },
)
async def ask(body: ChatRequest, request: Request, principal: ChatUser) -> StreamingResponse | dict[str, Any]:
    """Ask the copilot. Events: `start`, `step` (route, tool calls, results), `token`, `answer`, `done`."""
    from api.chat_runtime import caller_of, permission_check

    runtime = chat_runtime(request)
    caller, can = caller_of(principal), permission_check(principal)
    if not body.stream:
        answer = await run_in_threadpool(
            runtime.ask, caller, can, body.question, conversation=body.conversation
        )
        return answer.model_dump(mode="json")

    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any] | None] = asyncio.Queue()

    def emit(event: str, data: Any) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, (event, data))

    def work() -> None:
        try:
            answer = runtime.ask(caller, can, body.question, conversation=body.conversation, on_event=emit)
            emit("answer", answer.model_dump(mode="json"))
        except Exception as exc:  # the stream is already open: the error becomes its last event
            emit(
                "error",
                {"detail": "The copilot could not answer; try again.", "error_type": type(exc).__name__},
            )
        finally:
            loop.call_soon_threadsafe(queue.put_nowait, None)

    async def events() -> AsyncIterator[bytes]:
        # The first bytes go out before any work starts, so the client sees the stream open at once.
        yield sse("start", {"conversation": body.conversation, "engine": runtime.engine_name})
        worker = loop.run_in_executor(None, work)
        while (item := await queue.get()) is not None:
            yield sse(*item)
        await worker
        yield sse("done", {})

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/history")
async def history(
    request: Request,
    principal: ChatUser,
    conversation: Annotated[str, Query(pattern=CONVERSATION)] = "default",
) -> list[dict[str, Any]]:
    """Your questions and the copilot's answers on this conversation, oldest first."""
    from api.chat_runtime import caller_of

    turns = await run_in_threadpool(chat_runtime(request).history, caller_of(principal), conversation)
    return [turn.model_dump(mode="json") for turn in turns]
