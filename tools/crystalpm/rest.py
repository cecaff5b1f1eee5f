"""The REST adapter of the Crystal PM port: sync and async clients on httpx over the routes in routes.py."""

import logging
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import date
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
from pydantic import ValidationError

from billing.charges import Charge
from billing.claims import Claim, ClaimStatus
from billing.contracts import Contract, FeeScheduleEntry
from billing.encounters import ClinicalNote, Encounter
from billing.practice import Coverage, Patient, Payer, Practice, Provider, User
from billing.settings import Settings
from billing.tasks import Task
from tools.crystalpm import routes
from tools.crystalpm.errors import (
    CrystalPMError,
    NotFound,
    ProblemDetail,
    RateLimited,
    Rejected,
    Unauthorized,
    Unavailable,
)
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
from tools.crystalpm.retry import RetryPolicy, parse_retry_after
from tools.crystalpm.routes import Call, PageCall

T = TypeVar("T")
log = logging.getLogger(__name__)
DEFAULT_PAGE_SIZE = 100


class _Exchange:
    """What the sync and async clients share: building requests, deciding retries, reading answers.

    Logs name the operation, status and attempt only: never ids, query values, bodies or note text.
    """

    def __init__(self, token: str, retry: RetryPolicy, page_size: int) -> None:
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.retry = retry
        self.page_size = page_size

    def request(self, call: Call[Any]) -> dict[str, Any]:
        headers = {"Idempotency-Key": call.idempotency_key} if call.idempotency_key else {}
        return {
            "method": call.method,
            "url": call.path,
            "params": call.params,
            "json": call.body,
            "headers": headers,
        }

    def delay_after_error(self, call: Call[Any], error: httpx.TransportError, attempt: int) -> float:
        """The wait before retrying a request that got no answer; Unavailable once retries are spent."""
        delay = self.retry.delay(attempt, None)
        if delay is None:
            raise Unavailable(
                f"{call.operation}: Crystal PM unreachable after {attempt + 1} tries ({type(error).__name__})"
            )
        log.warning(
            "crystalpm %s: %s, retry %d in %.2fs", call.operation, type(error).__name__, attempt + 1, delay
        )
        return delay

    def delay_after_answer(self, call: Call[Any], response: httpx.Response, attempt: int) -> float | None:
        """The wait before retrying this answer, or None when it is final (a success or an error to raise)."""
        if response.is_success:
            return None
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        delay = self.retry.delay(attempt, response.status_code, retry_after)
        if delay is not None:
            log.warning(
                "crystalpm %s: %d, retry %d in %.2fs",
                call.operation,
                response.status_code,
                attempt + 1,
                delay,
            )
        return delay

    def result(self, call: Call[T], response: httpx.Response) -> T:
        """The parsed answer, or the error it stands for."""
        log.debug(
            "crystalpm %s: %d%s",
            call.operation,
            response.status_code,
            " (replay)" if response.headers.get("Idempotent-Replay") == "true" else "",
        )
        if not response.is_success:
            raise _error(call, response)
        try:
            return call.parse(response.json() if response.content else None)
        except ValidationError as exc:
            # Field paths only, and no chained error: pydantic's message would quote the (PHI) values.
            fields = sorted({".".join(str(part) for part in error["loc"]) for error in exc.errors()})
            message = f"{call.operation}: unexpected answer shape at {', '.join(fields)}"
            raise CrystalPMError(message, status=response.status_code) from None
        except ValueError:
            raise CrystalPMError(
                f"{call.operation}: answer is not JSON", status=response.status_code
            ) from None


def _error(call: Call[Any], response: httpx.Response) -> CrystalPMError:
    status = response.status_code
    try:
        problem = ProblemDetail.model_validate({"status": status, **response.json()})
    except (ValueError, ValidationError, TypeError):
        problem = ProblemDetail(status=status, title=response.reason_phrase)
    message = f"{call.operation}: {status} {problem.title}" + (
        f": {problem.detail}" if problem.detail else ""
    )
    if status in (401, 403):
        return Unauthorized(message, status=status, problem=problem)
    if status == 404:
        return NotFound(message, status=status, problem=problem)
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return RateLimited(message, retry_after=retry_after, problem=problem)
    if status < 500:
        return Rejected(message, status=status, problem=problem)
    return Unavailable(message, status=status, problem=problem)


class _RestClient:
    """Construction shared by both clients; each subclass says which httpx client it runs on."""

    _http_client: type[httpx.Client] | type[httpx.AsyncClient]

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> None:
        self._exchange = _Exchange(token, retry or RetryPolicy(), page_size)
        self._http = self._http_client(base_url=base_url, headers=self._exchange.headers, timeout=timeout)

    @classmethod
    def from_settings(
        cls, settings: Settings, *, retry: RetryPolicy | None = None, page_size: int = DEFAULT_PAGE_SIZE
    ) -> Self:
        return cls(
            settings.crystalpm_base_url,
            settings.crystalpm_token.get_secret_value(),
            timeout=settings.crystalpm_timeout_seconds,
            retry=retry or RetryPolicy.from_settings(settings),
            page_size=page_size,
        )


class RestCrystalPM(_RestClient):
    """The Crystal PM port over REST, blocking. Use as a context manager or call close()."""

    _http_client = httpx.Client
    _http: httpx.Client

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _send(self, call: Call[T]) -> T:
        exchange = self._exchange
        attempt = 0
        while True:
            try:
                response = self._http.request(**exchange.request(call))
            except httpx.TransportError as error:
                delay = exchange.delay_after_error(call, error, attempt)
            else:
                delay = exchange.delay_after_answer(call, response, attempt)
                if delay is None:
                    return exchange.result(call, response)
            exchange.retry.sleep(delay)
            attempt += 1

    def _iterate(self, pages: PageCall[T]) -> Iterator[T]:
        cursor: str | None = None
        while True:
            items, cursor = self._send(pages.page(cursor, self._exchange.page_size))
            yield from items
            if cursor is None:
                return

    def health(self) -> Health:
        return self._send(routes.health())

    def list_practices(self) -> list[Practice]:
        return list(self._iterate(routes.practices()))

    def get_practice(self, practice_id: str) -> Practice:
        return self._send(routes.practice(practice_id))

    def list_providers(self, practice_id: str | None = None) -> list[Provider]:
        return list(self._iterate(routes.providers(practice_id)))

    def list_payers(self) -> list[Payer]:
        return list(self._iterate(routes.payers()))

    def get_payer(self, payer_id: str) -> Payer:
        return self._send(routes.payer(payer_id))

    def iter_users(self, practice_id: str | None = None) -> Iterator[User]:
        return self._iterate(routes.users(practice_id))

    def get_fee_schedule(self, practice_id: str) -> list[FeeScheduleEntry]:
        return self._send(routes.fee_schedule(practice_id))

    def iter_patients(self, practice_id: str | None = None) -> Iterator[Patient]:
        return self._iterate(routes.patients(practice_id))

    def get_patient(self, patient_id: str) -> Patient:
        return self._send(routes.patient(patient_id))

    def get_coverage(self, patient_id: str) -> list[Coverage]:
        return self._send(routes.coverage(patient_id))

    def get_visit_history(self, patient_id: str) -> list[Encounter]:
        return self._send(routes.visit_history(patient_id))

    def iter_encounters(
        self,
        practice_id: str | None = None,
        *,
        since: date | None = None,
        until: date | None = None,
        unbilled: bool | None = None,
    ) -> Iterator[Encounter]:
        return self._iterate(routes.encounters(practice_id, since, until, unbilled))

    def get_encounter(self, encounter_id: str) -> Encounter:
        return self._send(routes.encounter(encounter_id))

    def get_note(self, encounter_id: str) -> ClinicalNote:
        return self._send(routes.note(encounter_id))

    def iter_appointments(self, practice_id: str | None = None) -> Iterator[Appointment]:
        return self._iterate(routes.appointments(practice_id))

    def iter_charges(
        self,
        *,
        encounter_id: str | None = None,
        practice_id: str | None = None,
        patient_id: str | None = None,
    ) -> Iterator[Charge]:
        return self._iterate(routes.charges(encounter_id, practice_id, patient_id))

    def get_charge(self, charge_id: str) -> Charge:
        return self._send(routes.charge(charge_id))

    def post_draft_charge(self, charge: Charge, idempotency_key: str) -> Charge:
        return self._send(routes.draft_charge(charge, idempotency_key))

    def iter_claims(
        self,
        practice_id: str | None = None,
        *,
        status: ClaimStatus | None = None,
        since: date | None = None,
        patient_id: str | None = None,
    ) -> Iterator[Claim]:
        return self._iterate(routes.claims(practice_id, status, since, patient_id))

    def get_claim(self, claim_id: str) -> Claim:
        return self._send(routes.claim(claim_id))

    def get_claim_outcome(self, claim_id: str) -> list[LineOutcome]:
        return self._send(routes.claim_outcome(claim_id))

    def update_claim(self, claim_id: str, edit: ClaimEdit, idempotency_key: str) -> Claim:
        return self._send(routes.claim_edit(claim_id, edit, idempotency_key))

    def iter_remittances(
        self, practice_id: str | None = None, *, since: date | None = None
    ) -> Iterator[RemittanceFileInfo]:
        return self._iterate(routes.remittances(practice_id, since))

    def get_remittance(self, remittance_id: str) -> RemittanceFileInfo:
        return self._send(routes.remittance(remittance_id))

    def iter_contracts(
        self, practice_id: str | None = None, *, payer_id: str | None = None
    ) -> Iterator[Contract]:
        return self._iterate(routes.contracts(practice_id, payer_id))

    def get_contract(self, contract_id: str) -> Contract:
        return self._send(routes.contract(contract_id))

    def iter_appeals(
        self, practice_id: str | None = None, *, claim_id: str | None = None
    ) -> Iterator[Appeal]:
        return self._iterate(routes.appeals(practice_id, claim_id))

    def iter_tasks(self, practice_id: str | None = None, *, status: str | None = None) -> Iterator[Task]:
        return self._iterate(routes.tasks(practice_id, status))

    def create_task(self, task: Task, idempotency_key: str) -> Task:
        return self._send(routes.new_task(task, idempotency_key))

    def list_webhook_subscriptions(self) -> list[WebhookSubscription]:
        return list(self._iterate(routes.webhook_subscriptions()))

    def ensure_webhook_subscription(self, url: str, events: Iterable[str]) -> WebhookSubscription:
        plan = routes.plan_subscription(self.list_webhook_subscriptions(), url, events)
        if plan.reuse is not None:
            return plan.reuse
        created = self._send(routes.new_webhook_subscription(url, plan.create_events, uuid.uuid4().hex))
        for subscription_id in plan.retire:
            self._send(routes.retire_webhook_subscription(subscription_id))
        return created

    def list_webhook_deliveries(self, event_id: str) -> list[WebhookDelivery]:
        return list(self._iterate(routes.webhook_deliveries(event_id)))


class AsyncRestCrystalPM(_RestClient):
    """The Crystal PM port over REST for async code: the same operations awaited; `iter_*` async iterators."""

    _http_client = httpx.AsyncClient
    _http: httpx.AsyncClient

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def _send(self, call: Call[T]) -> T:
        exchange = self._exchange
        attempt = 0
        while True:
            try:
                response = await self._http.request(**exchange.request(call))
            except httpx.TransportError as error:
                delay = exchange.delay_after_error(call, error, attempt)
            else:
                delay = exchange.delay_after_answer(call, response, attempt)
                if delay is None:
                    return exchange.result(call, response)
            await exchange.retry.async_sleep(delay)
            attempt += 1

    async def _iterate(self, pages: PageCall[T]) -> AsyncIterator[T]:
        cursor: str | None = None
        while True:
            items, cursor = await self._send(pages.page(cursor, self._exchange.page_size))
            for item in items:
                yield item
            if cursor is None:
                return

    async def _collect(self, pages: PageCall[T]) -> list[T]:
        return [item async for item in self._iterate(pages)]

    async def health(self) -> Health:
        return await self._send(routes.health())

    async def list_practices(self) -> list[Practice]:
        return await self._collect(routes.practices())

    async def get_practice(self, practice_id: str) -> Practice:
        return await self._send(routes.practice(practice_id))

    async def list_providers(self, practice_id: str | None = None) -> list[Provider]:
        return await self._collect(routes.providers(practice_id))

    async def list_payers(self) -> list[Payer]:
        return await self._collect(routes.payers())

    async def get_payer(self, payer_id: str) -> Payer:
        return await self._send(routes.payer(payer_id))

    def iter_users(self, practice_id: str | None = None) -> AsyncIterator[User]:
        return self._iterate(routes.users(practice_id))

    async def get_fee_schedule(self, practice_id: str) -> list[FeeScheduleEntry]:
        return await self._send(routes.fee_schedule(practice_id))

    def iter_patients(self, practice_id: str | None = None) -> AsyncIterator[Patient]:
        return self._iterate(routes.patients(practice_id))

    async def get_patient(self, patient_id: str) -> Patient:
        return await self._send(routes.patient(patient_id))

    async def get_coverage(self, patient_id: str) -> list[Coverage]:
        return await self._send(routes.coverage(patient_id))

    async def get_visit_history(self, patient_id: str) -> list[Encounter]:
        return await self._send(routes.visit_history(patient_id))

    def iter_encounters(
        self,
        practice_id: str | None = None,
        *,
        since: date | None = None,
        until: date | None = None,
        unbilled: bool | None = None,
    ) -> AsyncIterator[Encounter]:
        return self._iterate(routes.encounters(practice_id, since, until, unbilled))

    async def get_encounter(self, encounter_id: str) -> Encounter:
        return await self._send(routes.encounter(encounter_id))

    async def get_note(self, encounter_id: str) -> ClinicalNote:
        return await self._send(routes.note(encounter_id))

    def iter_appointments(self, practice_id: str | None = None) -> AsyncIterator[Appointment]:
        return self._iterate(routes.appointments(practice_id))

    def iter_charges(
        self,
        *,
        encounter_id: str | None = None,
        practice_id: str | None = None,
        patient_id: str | None = None,
    ) -> AsyncIterator[Charge]:
        return self._iterate(routes.charges(encounter_id, practice_id, patient_id))

    async def get_charge(self, charge_id: str) -> Charge:
        return await self._send(routes.charge(charge_id))

    async def post_draft_charge(self, charge: Charge, idempotency_key: str) -> Charge:
        return await self._send(routes.draft_charge(charge, idempotency_key))

    def iter_claims(
        self,
        practice_id: str | None = None,
        *,
        status: ClaimStatus | None = None,
        since: date | None = None,
        patient_id: str | None = None,
    ) -> AsyncIterator[Claim]:
        return self._iterate(routes.claims(practice_id, status, since, patient_id))

    async def get_claim(self, claim_id: str) -> Claim:
        return await self._send(routes.claim(claim_id))

    async def get_claim_outcome(self, claim_id: str) -> list[LineOutcome]:
        return await self._send(routes.claim_outcome(claim_id))

    async def update_claim(self, claim_id: str, edit: ClaimEdit, idempotency_key: str) -> Claim:
        return await self._send(routes.claim_edit(claim_id, edit, idempotency_key))

    def iter_remittances(
        self, practice_id: str | None = None, *, since: date | None = None
    ) -> AsyncIterator[RemittanceFileInfo]:
        return self._iterate(routes.remittances(practice_id, since))

    async def get_remittance(self, remittance_id: str) -> RemittanceFileInfo:
        return await self._send(routes.remittance(remittance_id))

    def iter_contracts(
        self, practice_id: str | None = None, *, payer_id: str | None = None
    ) -> AsyncIterator[Contract]:
        return self._iterate(routes.contracts(practice_id, payer_id))

    async def get_contract(self, contract_id: str) -> Contract:
        return await self._send(routes.contract(contract_id))

    def iter_appeals(
        self, practice_id: str | None = None, *, claim_id: str | None = None
    ) -> AsyncIterator[Appeal]:
        return self._iterate(routes.appeals(practice_id, claim_id))

    def iter_tasks(self, practice_id: str | None = None, *, status: str | None = None) -> AsyncIterator[Task]:
        return self._iterate(routes.tasks(practice_id, status))

    async def create_task(self, task: Task, idempotency_key: str) -> Task:
        return await self._send(routes.new_task(task, idempotency_key))

    async def list_webhook_subscriptions(self) -> list[WebhookSubscription]:
        return await self._collect(routes.webhook_subscriptions())

    async def ensure_webhook_subscription(self, url: str, events: Iterable[str]) -> WebhookSubscription:
        plan = routes.plan_subscription(await self.list_webhook_subscriptions(), url, events)
        if plan.reuse is not None:
            return plan.reuse
        created = await self._send(routes.new_webhook_subscription(url, plan.create_events, uuid.uuid4().hex))
        for subscription_id in plan.retire:
            await self._send(routes.retire_webhook_subscription(subscription_id))
        return created

    async def list_webhook_deliveries(self, event_id: str) -> list[WebhookDelivery]:
        return await self._collect(routes.webhook_deliveries(event_id))
