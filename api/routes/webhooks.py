"""`POST /webhooks/crystalpm`: capped body, HMAC signature and timestamp checks, store once, 202."""

import hashlib
import hmac
import logging
import time

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from api.deps import SessionDep, SettingsDep, WorkerDep
from api.problems import ProblemError, validation_errors
from api.storage.events import record_event
from billing.events import WebhookEvent
from billing.settings import Settings

router = APIRouter(tags=["webhooks"])
log = logging.getLogger("fovea.webhooks")

SIGNATURE_HEADER = "X-CrystalPM-Signature"
TIMESTAMP_HEADER = "X-CrystalPM-Timestamp"


class WebhookAccepted(BaseModel):
    event_id: str
    duplicate: bool


async def read_capped_body(request: Request, max_bytes: int) -> bytes:
    """The raw body, refused with 413 past max_bytes, whether Content-Length says so or the stream does."""
    too_large = ProblemError(
        413,
        f"The body exceeds {max_bytes} bytes.",
        title="Payload too large",
        type_="/problems/payload-too-large",
    )
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise ProblemError(400, "Content-Length is not a number.")
        if int(declared) > max_bytes:
            raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > max_bytes:
            raise too_large
    return bytes(body)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value Crystal PM sends for this body."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(request: Request, body: bytes, settings: Settings) -> None:
    """401 unless the signature matches and the timestamp is within the tolerance (replay protection)."""

    def unauthorized(detail: str) -> ProblemError:
        return ProblemError(
            401, detail, title="Webhook not authenticated", type_="/problems/webhook-signature"
        )

    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not timestamp or not signature:
        raise unauthorized(f"Send both {SIGNATURE_HEADER} and {TIMESTAMP_HEADER}.")
    if not timestamp.isdigit():
        raise unauthorized(f"{TIMESTAMP_HEADER} must be Unix seconds.")
    if abs(time.time() - int(timestamp)) > settings.webhook_tolerance_seconds:
        raise unauthorized(
            f"{TIMESTAMP_HEADER} is more than {settings.webhook_tolerance_seconds} s from now; "
            "re-sign the delivery and check the sender's clock."
        )
    expected = sign(settings.webhook_secret.get_secret_value(), timestamp, body)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise unauthorized("The signature does not match the body; check the shared webhook secret.")


def parse_event(body: bytes) -> WebhookEvent:
    try:
        return WebhookEvent.model_validate_json(body)
    except ValidationError as exc:
        raise ProblemError(
            422,
            "The body is not a valid WebhookEvent; see `errors`.",
            title="Invalid webhook event",
            type_="/problems/invalid-webhook-event",
            errors=validation_errors(exc.errors()),
        ) from None


@router.post(
    "/webhooks/crystalpm",
    status_code=status.HTTP_202_ACCEPTED,
    responses={401: {"description": "bad signature"}, 413: {"description": "too large"}, 422: {}},
)
async def receive_crystalpm_webhook(
    request: Request, settings: SettingsDep, session: SessionDep, worker: WorkerDep
) -> WebhookAccepted:
    """Store a signed Crystal PM event once (its id is the idempotency key) and answer at once."""
    body = await read_capped_body(request, settings.max_body_bytes)
    verify_signature(request, body, settings)
    event = parse_event(body)
    stored = await run_in_threadpool(record_event, session, event)
    if stored:
        worker.notify()
    log.info(
        "webhook accepted",
        extra={
            "event_id": event.id,
            "event_type": event.type.value,
            "practice_id": event.practice_id,
            "duplicate": not stored,
        },
    )
    return WebhookAccepted(event_id=event.id, duplicate=not stored)
