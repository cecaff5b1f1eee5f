"""A recorded-response OpenAI-compatible server on loopback: scripted chat completions, requests kept.

Usage::

    from tests.support.openai_server import recorded_openai_server, tool_call_reply

    with recorded_openai_server([tool_call_reply("ChargeCoding", {...})]) as server:
        settings = settings.model_copy(update={"llm_base_url": server.base_url})
        ...  # real ChatOpenAI calls over HTTP
        server.requests[0]["tools"]  # the JSON bodies it received, in order

`POST /v1/chat/completions` answers the scripted replies in turn (a `Reply` can also delay, to test
timeouts, or answer an error status); when the script runs out it answers 500 so a test notices.
"""

import asyncio
import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.support.sandbox import serving

_ids = itertools.count(1)


@dataclass(frozen=True)
class Reply:
    """One scripted answer: a chat.completion body (or an error body with `status`), after `delay` s."""

    body: dict[str, Any]
    status: int = 200
    delay: float = 0.0


def _completion(message: dict[str, Any], finish_reason: str, model: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-recorded-{next(_ids)}",
        "object": "chat.completion",
        "created": 1735689600,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
    }


def tool_call_reply(
    name: str, arguments: dict[str, Any], *, model: str = "recorded-model", delay: float = 0.0
) -> Reply:
    """The assistant calls tool `name` with `arguments` (function-calling structured output)."""
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": f"call_{next(_ids)}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments)},
            }
        ],
    }
    return Reply(_completion(message, "tool_calls", model), delay=delay)


def text_reply(text: str, *, model: str = "recorded-model") -> Reply:
    """A plain assistant message (no tool call)."""
    return Reply(_completion({"role": "assistant", "content": text}, "stop", model))


def error_reply(status: int, message: str = "scripted failure") -> Reply:
    return Reply({"error": {"message": message, "type": "server_error", "code": None}}, status=status)


@dataclass
class RecordedOpenAI:
    replies: list[Reply]
    base_url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)


def _app(server: RecordedOpenAI) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> JSONResponse:
        server.requests.append(await request.json())
        if not server.replies:
            return JSONResponse(error_reply(500, "no scripted reply left").body, status_code=500)
        reply = server.replies.pop(0)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        return JSONResponse(reply.body, status_code=reply.status)

    return app


@contextmanager
def recorded_openai_server(replies: list[Reply]) -> Iterator[RecordedOpenAI]:
    """Serve the script on a free 127.0.0.1 port; `base_url` ends in /v1, as OpenAI clients expect."""
    server = RecordedOpenAI(replies=list(replies))
    with serving(_app(server)) as url:
        server.base_url = f"{url}/v1"
        yield server
