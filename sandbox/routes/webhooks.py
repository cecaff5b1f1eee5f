"""Webhook subscriptions and the delivery log."""

import json
import time
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection, Row, delete, insert

from billing.events import EventType
from sandbox.db import webhook_deliveries, webhook_subscriptions
from sandbox.deps import ConnDep, equal_to
from sandbox.idempotency import IdempotencyKeyDep, run_idempotent
from sandbox.problems import not_found
from sandbox.queries import PageDep, page_rows

router = APIRouter(prefix="/webhooks")


class SubscriptionIn(BaseModel):
    url: str = Field(pattern=r"^https?://\S+$", description="Where events are POSTed")
    events: list[EventType] = Field(min_length=1)


class Subscription(SubscriptionIn):
    id: str
    active: bool = True


class Delivery(BaseModel):
    event_id: str
    url: str
    attempts: int
    status: str = Field(description="pending | delivered | failed")
    last_status_code: int | None = None
    last_error: str | None = None


def _subscription(row: Row[Any]) -> Subscription:
    return Subscription(id=row.id, url=row.url, events=json.loads(row.events), active=bool(row.active))


def _page(items: list[BaseModel], next_cursor: str | None, total: int) -> dict[str, Any]:
    return {
        "items": [item.model_dump(mode="json") for item in items],
        "next_cursor": next_cursor,
        "total": total,
    }


@router.get("/subscriptions")
def list_subscriptions(conn: ConnDep, page: PageDep) -> dict[str, Any]:
    rows, next_cursor, total = page_rows(conn, webhook_subscriptions, [], page)
    return _page([_subscription(row) for row in rows], next_cursor, total)


@router.post("/subscriptions", status_code=201)
def create_subscription(request: Request, body: SubscriptionIn, key: IdempotencyKeyDep) -> Response:
    def write(conn: Connection) -> tuple[int, str]:
        subscription = Subscription(id=f"whs_{uuid.uuid4().hex[:16]}", url=body.url, events=body.events)
        conn.execute(
            insert(webhook_subscriptions).values(
                id=subscription.id,
                url=subscription.url,
                events=json.dumps([str(e) for e in subscription.events]),
                active=1,
                created_at=time.time(),
            )
        )
        return 201, subscription.model_dump_json()

    return run_idempotent(request, key, body, write)


@router.delete("/subscriptions/{subscription_id}", status_code=204)
def delete_subscription(request: Request, subscription_id: str) -> Response:
    with request.app.state.engine.begin() as conn:
        deleted = conn.execute(
            delete(webhook_subscriptions).where(webhook_subscriptions.c.id == subscription_id)
        )
    if deleted.rowcount == 0:
        raise not_found("webhook subscription", subscription_id)
    return Response(status_code=204)


@router.get("/deliveries")
def list_deliveries(conn: ConnDep, page: PageDep, event_id: str | None = None) -> dict[str, Any]:
    rows, next_cursor, total = page_rows(
        conn, webhook_deliveries, equal_to((webhook_deliveries.c.event_id, event_id)), page
    )
    return _page([Delivery.model_validate(row, from_attributes=True) for row in rows], next_cursor, total)
