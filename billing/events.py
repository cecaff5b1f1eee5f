"""Webhook events Crystal PM sends to the copilot."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class EventType(StrEnum):
    NOTE_FINALIZED = "note.finalized"
    CLAIM_READY = "claim.ready"
    REMITTANCE_RECEIVED = "remittance.received"
    APPOINTMENT_SCHEDULED = "appointment.scheduled"


class WebhookEvent(BaseModel):
    id: str = Field(description="Event id; the idempotency key of the delivery")
    type: EventType
    practice_id: str
    occurred_at: datetime
    data: dict[str, Any] = Field(
        default_factory=dict, description="Ids of the resources concerned, never PHI"
    )
