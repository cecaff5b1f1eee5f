"""The REST Crystal PM client on a real loopback sandbox: typed reads, pagination, errors, retries."""

import asyncio
import socket
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from billing.charges import ChargeStatus
from billing.claims import Claim
from billing.encounters import ClinicalNote
from billing.practice import Patient
from billing.settings import Settings
from sandbox.dataset import SyntheticDataset
from tests.support.sandbox import SandboxHandle, running_sandbox, serving
from tests.support.sandbox_data import small_dataset
from tools.crystalpm import (
    AsyncRestCrystalPM,
    CrystalPMError,
    NotFound,
    RateLimited,
    RestCrystalPM,
    Unauthorized,
    Unavailable,
)
from tools.crystalpm.retry import RetryPolicy


@pytest.fixture(scope="module")
def dataset() -> SyntheticDataset:
    return small_dataset()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory, dataset: SyntheticDataset) -> Iterator[SandboxHandle]:
    settings = Settings(
        _env_file=None,
        data_dir=Path(tmp_path_factory.mktemp("var")),
        crystalpm_token="test-crystalpm-token",
        sandbox_admin_token="test-sandbox-admin-token",
    )
    with running_sandbox(settings, dataset) as handle:
        yield handle


class Sleeps(list[float]):
    """Records the waits the client asks for, instead of waiting."""

    def sleep(self, seconds: float) -> None:
        self.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def _policy(sleeps: Sleeps, max_retries: int = 3) -> RetryPolicy:
    return RetryPolicy(max_retries=max_retries, sleep=sleeps.sleep, async_sleep=sleeps.async_sleep)


@pytest.fixture
def client(sandbox: SandboxHandle, sleeps: Sleeps) -> Iterator[RestCrystalPM]:
    with RestCrystalPM(sandbox.base_url, sandbox.token, retry=_policy(sleeps), page_size=2) as crystalpm:
        yield crystalpm


def _inject_faults(sandbox: SandboxHandle, status: int, count: int, retry_after: int = 0) -> None:
    response = httpx.post(
        f"{sandbox.base_url}/_sandbox/faults",
        json={"status": status, "count": count, "retry_after": retry_after},
        headers=sandbox.headers(admin=True),
    )
    response.raise_for_status()


@pytest.fixture
def faults(sandbox: SandboxHandle) -> Iterator[None]:
    yield
    _inject_faults(sandbox, 503, 0)  # a test that leaves faults pending must not break the next one


def test_health_and_practice_reads(client: RestCrystalPM, dataset: SyntheticDataset) -> None:
    assert client.health().status == "ok"
    assert client.list_practices() == dataset.practices
    assert client.get_practice("PRA-2") == dataset.practices[1]
    assert client.list_providers("PRA-1") == [p for p in dataset.providers if p.practice_id == "PRA-1"]
    assert client.list_payers() == sorted(dataset.payers, key=lambda p: p.id)
    assert client.get_payer("PAY-VIS").kind == "vision"
    assert list(client.iter_users("PRA-2")) == [u for u in dataset.users if "PRA-2" in u.practice_ids]
    assert client.get_fee_schedule("PRA-1") == dataset.fee_schedules["PRA-1"]


def test_note_fetched_for_an_encounter_is_typed(client: RestCrystalPM, dataset: SyntheticDataset) -> None:
    encounter = dataset.encounters[5]
    assert client.get_encounter(encounter.id) == encounter
    note = client.get_note(encounter.id)
    assert isinstance(note, ClinicalNote)
    assert note.encounter_id == encounter.id
    assert note == next(n for n in dataset.notes if n.encounter_id == encounter.id)
    patient = client.get_patient(encounter.patient_id)
    assert isinstance(patient, Patient) and patient.birth_date.year < 2000
    assert client.get_coverage(encounter.patient_id) == [
        c for c in dataset.coverages if c.patient_id == encounter.patient_id
    ]
    history = client.get_visit_history(encounter.patient_id)
    assert {e.id for e in history} == {
        e.id for e in dataset.encounters if e.patient_id == encounter.patient_id
    }


def test_pagination_follows_cursors_to_the_last_page(
    client: RestCrystalPM, dataset: SyntheticDataset
) -> None:
    # page_size=2 against 7 patients: only cursor-following returns them all.
    patients = list(client.iter_patients())
    assert [p.id for p in patients] == sorted(p.id for p in dataset.patients)
    assert {p.id for p in client.iter_patients("PRA-2")} == {
        p.id for p in dataset.patients if p.practice_id == "PRA-2"
    }


def test_encounter_filters_reach_the_server(client: RestCrystalPM, dataset: SyntheticDataset) -> None:
    billed = {c.encounter_id for c in dataset.charges if c.status is not ChargeStatus.VOID}
    unbilled = {e.id for e in dataset.encounters if e.id not in billed}
    assert {e.id for e in client.iter_encounters(unbilled=True)} == unbilled
    since, until = date(2025, 3, 1), date(2025, 6, 15)
    window = {e.id for e in client.iter_encounters("PRA-1", since=since, until=until)}
    assert window == {
        e.id for e in dataset.encounters if e.practice_id == "PRA-1" and since <= e.date_of_service <= until
    }


def test_claims_outcomes_remittances_contracts_appeals(
    client: RestCrystalPM, dataset: SyntheticDataset
) -> None:
    denied = list(client.iter_claims("PRA-1", status="denied"))
    assert [c.id for c in denied] == [c.id for c in dataset.claims if c.status == "denied"]
    claim = client.get_claim("CLM-001")
    assert isinstance(claim, Claim) and claim.history
    outcome = client.get_claim_outcome("CLM-001")
    expected = [o.model_dump(mode="json") for o in dataset.outcomes if o.claim_id == "CLM-001"]
    assert [o.model_dump(mode="json") for o in outcome] == expected
    listed = list(client.iter_remittances("PRA-1", since=date(2025, 1, 1)))
    assert [r.id for r in listed] == ["RMT-001"] and listed[0].x12 is None
    remittance = client.get_remittance("RMT-001")
    assert remittance.x12 == dataset.remittances[0].x12
    assert remittance.claim_ids == dataset.remittances[0].claim_ids
    assert [c.id for c in client.iter_contracts("PRA-1", payer_id="PAY-COM")] == ["CTR-001"]
    assert client.get_contract("CTR-001").fee_schedule == dataset.contracts[0].fee_schedule
    assert [a.id for a in client.iter_appeals(claim_id="CLM-002")] == ["APL-001"]
    assert [a.procedure_code for a in client.iter_appointments("PRA-2")] == ["66984"]
    assert [c.status for c in client.iter_charges(encounter_id="ENC-001")] == ["posted"]


def test_async_client_reads_and_paginates(
    sandbox: SandboxHandle, sleeps: Sleeps, dataset: SyntheticDataset
) -> None:
    async def read() -> tuple[list[str], ClinicalNote]:
        async with AsyncRestCrystalPM(
            sandbox.base_url, sandbox.token, retry=_policy(sleeps), page_size=3
        ) as crystalpm:
            ids = [e.id async for e in crystalpm.iter_encounters()]
            return ids, await crystalpm.get_note(ids[0])

    ids, note = asyncio.run(read())
    assert ids == sorted(e.id for e in dataset.encounters)
    assert note.encounter_id == ids[0]


def test_missing_resource_is_not_found(client: RestCrystalPM) -> None:
    with pytest.raises(NotFound) as raised:
        client.get_patient("PAT-NOPE")
    assert raised.value.status == 404
    assert raised.value.problem is not None and "PAT-NOPE" in raised.value.problem.detail


def test_wrong_token_is_unauthorized(sandbox: SandboxHandle, sleeps: Sleeps) -> None:
    crystalpm = RestCrystalPM(sandbox.base_url, "not-the-token", retry=_policy(sleeps))
    with crystalpm, pytest.raises(Unauthorized) as raised:
        crystalpm.list_practices()
    assert raised.value.status == 401
    assert sleeps == []  # never retried


@pytest.mark.usefixtures("faults")
def test_retries_503s_and_then_succeeds(
    client: RestCrystalPM, sandbox: SandboxHandle, sleeps: Sleeps
) -> None:
    _inject_faults(sandbox, 503, count=2, retry_after=0)
    assert client.get_practice("PRA-1").id == "PRA-1"
    assert sleeps == [0.0, 0.0]  # Retry-After: 0 honoured, twice


@pytest.mark.usefixtures("faults")
def test_more_faults_than_retries_is_unavailable(
    client: RestCrystalPM, sandbox: SandboxHandle, sleeps: Sleeps
) -> None:
    _inject_faults(sandbox, 503, count=5, retry_after=0)
    with pytest.raises(Unavailable) as raised:
        client.get_practice("PRA-1")
    assert raised.value.status == 503
    assert len(sleeps) == 3  # max_retries, then give up


@pytest.mark.usefixtures("faults")
def test_async_client_retries_too(sandbox: SandboxHandle, sleeps: Sleeps) -> None:
    _inject_faults(sandbox, 502, count=1, retry_after=0)

    async def read() -> str:
        async with AsyncRestCrystalPM(sandbox.base_url, sandbox.token, retry=_policy(sleeps)) as crystalpm:
            return (await crystalpm.get_practice("PRA-1")).id

    assert asyncio.run(read()) == "PRA-1"
    assert sleeps == [0.0]


@pytest.mark.usefixtures("faults")
def test_429_waits_as_long_as_retry_after_says(
    client: RestCrystalPM, sandbox: SandboxHandle, sleeps: Sleeps
) -> None:
    _inject_faults(sandbox, 429, count=1, retry_after=2)
    assert client.get_payer("PAY-MCR").id == "PAY-MCR"
    assert sleeps == [2.0]


@pytest.mark.usefixtures("faults")
def test_429_longer_than_allowed_is_rate_limited(sandbox: SandboxHandle, sleeps: Sleeps) -> None:
    _inject_faults(sandbox, 429, count=1, retry_after=120)
    crystalpm = RestCrystalPM(sandbox.base_url, sandbox.token, retry=_policy(sleeps))
    with crystalpm, pytest.raises(RateLimited) as raised:
        crystalpm.get_payer("PAY-MCR")
    assert raised.value.retry_after == 120.0
    assert sleeps == []


def test_unreachable_server_is_unavailable_after_jittered_backoff(sleeps: Sleeps) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]  # nothing listens once the socket closes
    policy = RetryPolicy(max_retries=4, base_delay=0.5, max_delay=2.0, sleep=sleeps.sleep)
    crystalpm = RestCrystalPM(f"http://127.0.0.1:{closed_port}", "t", retry=policy, timeout=2.0)
    with crystalpm, pytest.raises(Unavailable, match="unreachable"):
        crystalpm.health()
    assert len(sleeps) == 4
    for attempt, delay in enumerate(sleeps):
        cap = min(2.0, 0.5 * 2**attempt)
        assert cap / 2 <= delay <= cap


def test_unexpected_answer_names_fields_never_values(sleeps: Sleeps) -> None:
    odd = FastAPI()

    @odd.get("/api/v1/patients/{patient_id}")
    def patient(patient_id: str) -> dict[str, str]:
        return {"id": patient_id, "practice_id": "PRA-1", "first_name": "Zed", "last_name": "Oddfellow"}

    with (
        serving(odd) as base_url,
        RestCrystalPM(base_url, "t", retry=_policy(sleeps)) as crystalpm,
        pytest.raises(CrystalPMError) as raised,
    ):
        crystalpm.get_patient("PAT-001")
    message = str(raised.value)
    assert "birth_date" in message and "sex" in message
    assert "Oddfellow" not in message and raised.value.__cause__ is None and raised.value.__suppress_context__
