"""Crystal PM REST routes and payloads: what each operation sends and how its answer parses (no I/O)."""

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, TypeVar

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
DEFAULT_PAGE_SIZE = 100
Params = Mapping[str, str]


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request and the parser of its answer. `operation` names it in logs: never ids, never PHI."""

    operation: str
    method: str
    path: str
    parse: Callable[[Any], T]
    params: Params = field(default_factory=dict)
    body: Any = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class PageCall(Generic[T]):
    """A paginated list: the first page's call; the client follows `next_cursor` until it is null."""

    operation: str
    path: str
    item: TypeAdapter[T]
    params: Params = field(default_factory=dict)
    limit: int = DEFAULT_PAGE_SIZE

    def page(self, cursor: str | None) -> Call[tuple[list[T], str | None]]:
        params = {**self.params, "limit": str(self.limit)}
        if cursor is not None:
            params["cursor"] = cursor
        return Call(self.operation, "GET", self.path, self._parse_page, params)

    def _parse_page(self, payload: Any) -> tuple[list[T], str | None]:
        return [self.item.validate_python(entry) for entry in payload["items"]], payload.get("next_cursor")


def _query(**values: str | date | bool | None) -> dict[str, str]:
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


def _get(operation: str, path: str, model: type[T] | Any, **query: str | date | bool | None) -> Call[T]:
    adapter: TypeAdapter[T] = TypeAdapter(model)
    return Call(operation, "GET", path, adapter.validate_python, _query(**query))


def _pages(operation: str, path: str, model: type[T], limit: int, **query: str | date | bool | None) -> PageCall[T]:
    return PageCall(operation, path, TypeAdapter(model), _query(**query), limit)


def _write(operation: str, method: str, path: str, body: BaseModel, model: type[T], key: str) -> Call[T]:
    if not key:
        raise ValueError(f"{operation} needs an idempotency key")
    payload = body.model_dump(mode="json", exclude_none=isinstance(body, ClaimEdit))
    return Call(operation, method, path, TypeAdapter(model).validate_python, body=payload, idempotency_key=key)


def health() -> Call[Health]:
    return _get("health", "/health", Health)


def practices() -> PageCall[Practice]:
    return _pages("list_practices", f"{API}/practices", Practice)


def practice(practice_id: str) -> Call[Practice]:
    return _get("get_practice", f"{API}/practices/{practice_id}", Practice)


def providers(practice_id: str | None) -> PageCall[Provider]:
    return _pages("list_providers", f"{API}/providers", Provider, practice_id=practice_id)


def payers() -> PageCall[Payer]:
    return _pages("list_payers", f"{API}/payers", Payer)


def payer(payer_id: str) -> Call[Payer]:
    return _get("get_payer", f"{API}/payers/{payer_id}", Payer)


def patients(practice_id: str | None) -> PageCall[Patient]:
    return _pages("iter_patients", f"{API}/patients", Patient, practice_id=practice_id)


def patient(patient_id: str) -> Call[Patient]:
    return _get("get_patient", f"{API}/patients/{patient_id}", Patient)


def coverage(patient_id: str) -> Call[list[Coverage]]:
    return _get("get_coverage", f"{API}/patients/{patient_id}/coverage", list[Coverage])


def visit_history(patient_id: str) -> Call[list[Encounter]]:
    return _get("get_visit_history", f"{API}/patients/{patient_id}/encounters", list[Encounter])


def encounters(
    practice_id: str | None,
    since: date | None,
    until: date | None,
    unbilled: bool | None,
) -> PageCall[Encounter]:
    return _pages(
        "iter_encounters",
        f"{API}/encounters",
        Encounter,
        limit,
        practice_id=practice_id,
        since=since,
        until=until,
        unbilled=unbilled,
    )


def encounter(encounter_id: str) -> Call[Encounter]:
    return _get("get_encounter", f"{API}/encounters/{encounter_id}", Encounter)


def note(encounter_id: str) -> Call[ClinicalNote]:
    return _get("get_note", f"{API}/encounters/{encounter_id}/note", ClinicalNote)


def fee_schedule(practice_id: str) -> Call[list[FeeScheduleEntry]]:
    return _get("get_fee_schedule", f"{API}/fee-schedules/{practice_id}", list[FeeScheduleEntry])


def charges(
    encounter_id: str | None,
    practice_id: str | None,
    patient_id: str | None,
) -> PageCall[Charge]:
    return _pages(
        "iter_charges",
        f"{API}/charges",
        Charge,
        limit,
        encounter_id=encounter_id,
        practice_id=practice_id,
        patient_id=patient_id,
    )


def charge(charge_id: str) -> Call[Charge]:
    return _get("get_charge", f"{API}/charges/{charge_id}", Charge)


def draft_charge(draft: Charge, idempotency_key: str) -> Call[Charge]:
    return _write("post_draft_charge", "POST", f"{API}/charges/draft", draft, Charge, idempotency_key)


def claims(
    practice_id: str | None,
    status: ClaimStatus | None,
    since: date | None,
    patient_id: str | None,
) -> PageCall[Claim]:
    return _pages(
        "iter_claims",
        f"{API}/claims",
        Claim,
        limit,
        practice_id=practice_id,
        status=status,
        since=since,
        patient_id=patient_id,
    )


def claim(claim_id: str) -> Call[Claim]:
    return _get("get_claim", f"{API}/claims/{claim_id}", Claim)


def claim_outcome(claim_id: str) -> Call[list[LineOutcome]]:
    return _get("get_claim_outcome", f"{API}/claims/{claim_id}/outcome", list[LineOutcome])


def claim_edit(claim_id: str, edit: ClaimEdit, idempotency_key: str) -> Call[Claim]:
    return _write("update_claim", "PATCH", f"{API}/claims/{claim_id}", edit, Claim, idempotency_key)


def remittances(practice_id: str | None, since: date | None) -> PageCall[RemittanceFileInfo]:
    return _pages("iter_remittances", f"{API}/remittances", RemittanceFileInfo, practice_id=practice_id, since=since)


def remittance(remittance_id: str) -> Call[RemittanceFileInfo]:
    return _get("get_remittance", f"{API}/remittances/{remittance_id}", RemittanceFileInfo)


def contracts(practice_id: str | None, payer_id: str | None) -> PageCall[Contract]:
    return _pages("iter_contracts", f"{API}/contracts", Contract, practice_id=practice_id, payer_id=payer_id)


def contract(contract_id: str) -> Call[Contract]:
    return _get("get_contract", f"{API}/contracts/{contract_id}", Contract)


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


def new_webhook_subscription(url: str, events: Iterable[str]) -> Call[WebhookSubscription]:
    wanted = sorted(set(events))
    # Same url and events, same key: a retried or repeated ensure never creates a second subscription.
    key = "webhook-subscription:" + hashlib.sha256(f"{url}|{','.join(wanted)}".encode()).hexdigest()[:32]
    body = _NewSubscription(url=url, events=wanted)
    return _write("create_webhook_subscription", "POST", f"{API}/webhooks/subscriptions", body, WebhookSubscription, key)


def delete_webhook_subscription(subscription_id: str) -> Call[None]:
    return Call("delete_webhook_subscription", "DELETE", f"{API}/webhooks/subscriptions/{subscription_id}", lambda _: None)


def webhook_deliveries(event_id: str) -> PageCall[WebhookDelivery]:
    return _pages("list_webhook_deliveries", f"{API}/webhooks/deliveries", WebhookDelivery, event_id=event_id)


def reusable_subscription(
    subscriptions: Iterable[WebhookSubscription], url: str, events: Iterable[str]
) -> WebhookSubscription | None:
    """An active subscription for `url` that already covers every wanted event, if there is one."""
    wanted = set(events)
    for subscription in subscriptions:
        if subscription.active and subscription.url == url and wanted <= set(subscription.events):
            return subscription
    return None
