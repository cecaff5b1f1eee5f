"""Crystal PM REST routes and payloads: what each operation sends and how its answer parses (no I/O)."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, TypeAdapter

from billing.charges import Charge
from billing.claims import Claim, ClaimStatus
from billing.contracts import Contract, FeeScheduleEntry
from billing.encounters import ClinicalNote, Encounter
from billing.practice import Coverage, Patient, Payer, Practice, Provider, User
from billing.tasks import Task
from tools.crystalpm.models import (
    Appeal,
    Appointment,
    ClaimEdit,
    Health,
    LineOutcome,
    RemittanceFileInfo,
    WebhookDelivery,
    WebhookSubscription,
)

T = TypeVar("T")
API = "/api/v1"
QueryValue = str | date | bool | None


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request and the parser of its answer. `operation` names it in logs: never ids, never PHI."""

    operation: str
    method: str
    path: str
    parse: Callable[[Any], T]
    params: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class PageCall(Generic[T]):
    """A paginated list; the client asks page after page, following `next_cursor` until it is null."""

    operation: str
    path: str
    item: TypeAdapter[T]
    params: Mapping[str, str] = field(default_factory=dict)

    def page(self, cursor: str | None, limit: int) -> Call[tuple[list[T], str | None]]:
        params = {**self.params, "limit": str(limit)}
        if cursor is not None:
            params["cursor"] = cursor
        return Call(self.operation, "GET", self.path, self._parse_page, params)

    def _parse_page(self, payload: Any) -> tuple[list[T], str | None]:
        return [self.item.validate_python(entry) for entry in payload["items"]], payload.get("next_cursor")


@dataclass(frozen=True)
class SubscriptionPlan:
    """What ensuring a webhook subscription takes: reuse one, or create one and retire those it replaces."""

    reuse: WebhookSubscription | None
    create_events: list[str]
    retire: list[str]


def _id(value: str) -> str:
    """A resource id as one path segment, whatever characters it holds."""
    return quote(value, safe="")


def _query(**values: QueryValue) -> dict[str, str]:
    """Query parameters with the unset ones left out; dates ISO, booleans lowercase."""
    query: dict[str, str] = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            query[name] = "true" if value else "false"
        elif isinstance(value, date):
            query[name] = value.isoformat()
        else:
            query[name] = str(value)
    return query


def _get(operation: str, path: str, answer: Any) -> Call[Any]:
    return Call(operation, "GET", path, TypeAdapter(answer).validate_python)


def _pages(operation: str, path: str, item: type[T], **query: QueryValue) -> PageCall[T]:
    return PageCall(operation, path, TypeAdapter(item), _query(**query))


def _write(operation: str, method: str, path: str, body: BaseModel, answer: type[T], key: str) -> Call[T]:
    if not key:
        raise ValueError(f"{operation} needs an idempotency key")
    # A claim edit sends only the fields it changes; everything else is sent whole.
    payload = body.model_dump(mode="json", exclude_none=isinstance(body, ClaimEdit))
    return Call(
        operation, method, path, TypeAdapter(answer).validate_python, body=payload, idempotency_key=key
    )


def health() -> Call[Health]:
    return _get("health", "/health", Health)


def practices() -> PageCall[Practice]:
    return _pages("list_practices", f"{API}/practices", Practice)


def practice(practice_id: str) -> Call[Practice]:
    return _get("get_practice", f"{API}/practices/{_id(practice_id)}", Practice)


def providers(practice_id: str | None) -> PageCall[Provider]:
    return _pages("list_providers", f"{API}/providers", Provider, practice_id=practice_id)


def payers() -> PageCall[Payer]:
    return _pages("list_payers", f"{API}/payers", Payer)


def payer(payer_id: str) -> Call[Payer]:
    return _get("get_payer", f"{API}/payers/{_id(payer_id)}", Payer)


def patients(practice_id: str | None) -> PageCall[Patient]:
    return _pages("iter_patients", f"{API}/patients", Patient, practice_id=practice_id)


def patient(patient_id: str) -> Call[Patient]:
    return _get("get_patient", f"{API}/patients/{_id(patient_id)}", Patient)


def coverage(patient_id: str) -> Call[list[Coverage]]:
    return _get("get_coverage", f"{API}/patients/{_id(patient_id)}/coverage", list[Coverage])


def visit_history(patient_id: str) -> Call[list[Encounter]]:
    return _get("get_visit_history", f"{API}/patients/{_id(patient_id)}/encounters", list[Encounter])


def encounters(
    practice_id: str | None, since: date | None, until: date | None, unbilled: bool | None
) -> PageCall[Encounter]:
    return _pages(
        "iter_encounters",
        f"{API}/encounters",
        Encounter,
        practice_id=practice_id,
        since=since,
        until=until,
        unbilled=unbilled,
    )


def encounter(encounter_id: str) -> Call[Encounter]:
    return _get("get_encounter", f"{API}/encounters/{_id(encounter_id)}", Encounter)


def note(encounter_id: str) -> Call[ClinicalNote]:
    return _get("get_note", f"{API}/encounters/{_id(encounter_id)}/note", ClinicalNote)


def fee_schedule(practice_id: str) -> Call[list[FeeScheduleEntry]]:
    return _get("get_fee_schedule", f"{API}/fee-schedules/{_id(practice_id)}", list[FeeScheduleEntry])


def charges(encounter_id: str | None, practice_id: str | None, patient_id: str | None) -> PageCall[Charge]:
    return _pages(
        "iter_charges",
        f"{API}/charges",
        Charge,
        encounter_id=encounter_id,
        practice_id=practice_id,
        patient_id=patient_id,
    )


def charge(charge_id: str) -> Call[Charge]:
    return _get("get_charge", f"{API}/charges/{_id(charge_id)}", Charge)


def draft_charge(draft: Charge, idempotency_key: str) -> Call[Charge]:
    return _write("post_draft_charge", "POST", f"{API}/charges/draft", draft, Charge, idempotency_key)


def claims(
    practice_id: str | None, status: ClaimStatus | None, since: date | None, patient_id: str | None
) -> PageCall[Claim]:
    return _pages(
        "iter_claims",
        f"{API}/claims",
        Claim,
        practice_id=practice_id,
        status=status,
        since=since,
        patient_id=patient_id,
    )


def claim(claim_id: str) -> Call[Claim]:
    return _get("get_claim", f"{API}/claims/{_id(claim_id)}", Claim)


def claim_outcome(claim_id: str) -> Call[list[LineOutcome]]:
    return _get("get_claim_outcome", f"{API}/claims/{_id(claim_id)}/outcome", list[LineOutcome])


def claim_edit(claim_id: str, edit: ClaimEdit, idempotency_key: str) -> Call[Claim]:
    return _write("update_claim", "PATCH", f"{API}/claims/{_id(claim_id)}", edit, Claim, idempotency_key)


def remittances(practice_id: str | None, since: date | None) -> PageCall[RemittanceFileInfo]:
    return _pages(
        "iter_remittances", f"{API}/remittances", RemittanceFileInfo, practice_id=practice_id, since=since
    )


def remittance(remittance_id: str) -> Call[RemittanceFileInfo]:
    return _get("get_remittance", f"{API}/remittances/{_id(remittance_id)}", RemittanceFileInfo)


def contracts(practice_id: str | None, payer_id: str | None) -> PageCall[Contract]:
    return _pages("iter_contracts", f"{API}/contracts", Contract, practice_id=practice_id, payer_id=payer_id)


def contract(contract_id: str) -> Call[Contract]:
    return _get("get_contract", f"{API}/contracts/{_id(contract_id)}", Contract)


def appeals(practice_id: str | None, claim_id: str | None) -> PageCall[Appeal]:
    return _pages("iter_appeals", f"{API}/appeals", Appeal, practice_id=practice_id, claim_id=claim_id)


def tasks(practice_id: str | None, status: str | None) -> PageCall[Task]:
    return _pages("iter_tasks", f"{API}/tasks", Task, practice_id=practice_id, status=status)


def new_task(task: Task, idempotency_key: str) -> Call[Task]:
    return _write("create_task", "POST", f"{API}/tasks", task, Task, idempotency_key)


def users(practice_id: str | None) -> PageCall[User]:
    return _pages("iter_users", f"{API}/users", User, practice_id=practice_id)


def appointments(practice_id: str | None) -> PageCall[Appointment]:
    return _pages("iter_appointments", f"{API}/appointments", Appointment, practice_id=practice_id)


def webhook_subscriptions() -> PageCall[WebhookSubscription]:
    return _pages("list_webhook_subscriptions", f"{API}/webhooks/subscriptions", WebhookSubscription)


class _NewSubscription(BaseModel):
    url: str
    events: list[str]


def new_webhook_subscription(url: str, events: list[str], idempotency_key: str) -> Call[WebhookSubscription]:
    body = _NewSubscription(url=url, events=events)
    path = f"{API}/webhooks/subscriptions"
    return _write("create_webhook_subscription", "POST", path, body, WebhookSubscription, idempotency_key)


def retire_webhook_subscription(subscription_id: str) -> Call[None]:
    path = f"{API}/webhooks/subscriptions/{_id(subscription_id)}"
    return Call("delete_webhook_subscription", "DELETE", path, lambda _: None)


def webhook_deliveries(event_id: str) -> PageCall[WebhookDelivery]:
    return _pages("list_webhook_deliveries", f"{API}/webhooks/deliveries", WebhookDelivery, event_id=event_id)


def plan_subscription(
    subscriptions: Iterable[WebhookSubscription], url: str, events: Iterable[str]
) -> SubscriptionPlan:
    """Reuse an active subscription for `url` that covers `events`; else one new subscription for `url`
    with the union of the wanted events and those of the subscriptions it retires, so no event is
    delivered twice to the same url."""
    wanted = set(events)
    same_url = [s for s in subscriptions if s.active and s.url == url]
    for subscription in same_url:
        if wanted <= set(subscription.events):
            return SubscriptionPlan(reuse=subscription, create_events=[], retire=[])
    union = wanted.union(*(s.events for s in same_url))
    return SubscriptionPlan(reuse=None, create_events=sorted(union), retire=[s.id for s in same_url])
