"""Structured JSON logs that carry ids and event types only, never PHI (note text, names, bodies)."""

import json
import logging
import sys
import time
import traceback
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from billing.settings import Settings

# The only `extra` fields a record may carry into the output: identifiers, types, counts, timings.
SAFE_FIELDS = frozenset(
    {
        "event_id",
        "event_type",
        "practice_id",
        "status",
        "attempts",
        "duplicate",
        "worker",
        "delay_seconds",
        "method",
        "path",
        "status_code",
        "duration_ms",
        "thread_id",
        "run_id",
        "error_type",
        "count",
        "revision",
    }
)
# Loggers whose arguments are known to be configuration (hosts, ports), not request content.
TRUSTED_ARG_LOGGERS = frozenset({"uvicorn.error"})
REDACTED = "[redacted]"


def _safe_message(record: logging.LogRecord) -> str:
    """The message template with only numeric arguments filled in, unless the logger is trusted.

    Formatting arguments are where libraries put request content, so strings never pass through.
    """
    if not isinstance(record.msg, str):
        # A logged object (often an exception) renders its contents: keep only what kind it is.
        return f"<{type(record.msg).__name__}>"
    template = record.msg
    if not record.args:
        return template
    if record.name in TRUSTED_ARG_LOGGERS:
        return record.getMessage()
    args = record.args if isinstance(record.args, tuple) else (record.args,)
    safe = tuple(a if isinstance(a, int | float) else REDACTED for a in args)
    try:
        return template % safe
    except (TypeError, ValueError, KeyError):
        return template


def _exception_fields(exc_info: Any) -> dict[str, Any]:
    """Exception type and stack frames; the message is left out since it may quote input values."""
    exc_type, _exc, tb = exc_info
    frames = [f"{frame.filename}:{frame.lineno} in {frame.name}" for frame in traceback.extract_tb(tb)]
    return {"error_type": exc_type.__name__ if exc_type else "", "stack": frames[-8:]}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the whitelisted extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": _safe_message(record),
        }
        entry.update({key: value for key, value in record.__dict__.items() if key in SAFE_FIELDS})
        if record.exc_info and record.exc_info[0] is not None:
            entry.update(_exception_fields(record.exc_info))
        return json.dumps(entry, default=str)


class JsonStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The service's one log handler: JSON lines on stderr."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        self.setFormatter(JsonFormatter())


def configure_logging(settings: Settings) -> None:
    """Send every logger through one JSON handler on stderr at settings.log_level (idempotent)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, JsonStderrHandler)]:
        root.removeHandler(handler)
    root.addHandler(JsonStderrHandler())
    root.setLevel(settings.log_level.upper())
    # Uvicorn's own handlers would print unfiltered lines: its records go to the root instead,
    # except the access log (query strings), which RequestLogMiddleware replaces.
    for name, propagate in (("uvicorn", True), ("uvicorn.error", True), ("uvicorn.access", False)):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = propagate
    # Alembic narrates every schema look-up at INFO; api.storage.migrate logs the outcome instead.
    logging.getLogger("alembic").setLevel(logging.WARNING)


class RequestLogMiddleware:
    """Logs method, path (without query string), status and duration of each HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = logging.getLogger("fovea.http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status_code = 500

        async def send_recording_status(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            self.log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status_code": status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
