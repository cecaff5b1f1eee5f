"""Idempotent writes: a key replays its first answer (200, Idempotent-Replay); another body is 409."""

import hashlib
import json
import time
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, Request, Response
from pydantic import BaseModel
from sqlalchemy import Connection, insert, select

from sandbox.db import idempotency_keys
from sandbox.problems import ProblemError
from sandbox.queries import json_response

REPLAY_HEADER = "Idempotent-Replay"


def idempotency_key(
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> str:
    key = (idempotency_key or "").strip()
    if not key:
        raise ProblemError(
            400,
            "Writes need an 'Idempotency-Key' header; send a unique value per intended write "
            "and the same value when retrying it.",
            kind="missing-idempotency-key",
        )
    if len(key) > 255:
        raise ProblemError(
            400, "The Idempotency-Key is longer than 255 characters.", kind="bad-idempotency-key"
        )
    return key


IdempotencyKeyDep = Annotated[str, Depends(idempotency_key)]


def _fingerprint(request: Request, body: BaseModel) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{request.method} {request.url.path}\n{canonical}".encode()).hexdigest()


def run_idempotent(
    request: Request,
    key: str,
    body: BaseModel,
    write: Callable[[Connection], tuple[int, str]],
) -> Response:
    """Run `write` (returning status and JSON body) once per key, in one transaction with the key's record."""
    fingerprint = _fingerprint(request, body)
    state = request.app.state
    # One writer at a time, so two concurrent requests with one key cannot both write.
    with state.write_lock, state.engine.begin() as conn:
        stored = conn.execute(
            select(idempotency_keys.c.fingerprint, idempotency_keys.c.response).where(
                idempotency_keys.c.key == key
            )
        ).first()
        if stored is not None:
            if stored.fingerprint != fingerprint:
                raise ProblemError(
                    409,
                    "This Idempotency-Key was already used for a different request; "
                    "use a new key for a new write.",
                    kind="idempotency-conflict",
                )
            return json_response(stored.response, 200, headers={REPLAY_HEADER: "true"})
        status_code, response = write(conn)
        conn.execute(
            insert(idempotency_keys).values(
                key=key,
                fingerprint=fingerprint,
                status_code=status_code,
                response=response,
                created_at=time.time(),
            )
        )
    return json_response(response, status_code)
