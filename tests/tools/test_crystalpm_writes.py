"""The REST Crystal PM client writing to a loopback sandbox: idempotent drafts, claim edits, tasks, hooks."""

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from billing.charges import Charge, ChargeLine, ChargeStatus
from billing.claims import ClaimStatus
from billing.settings import Settings
from billing.tasks import Task
from sandbox.dataset import SyntheticDataset
from tests.support.sandbox import SandboxHandle, running_sandbox
from tests.support.sandbox_data import small_dataset
from tools.crystalpm import AsyncRestCrystalPM, Rejected, RestCrystalPM
from tools.crystalpm.models import ClaimEdit

COPILOT_HOOK = "http://127.0.0.1:9/webhooks/crystalpm"


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


@pytest.fixture
def client(sandbox: SandboxHandle) -> Iterator[RestCrystalPM]:
    with RestCrystalPM(sandbox.base_url, sandbox.token) as crystalpm:
        yield crystalpm


def _unbilled(dataset: SyntheticDataset, practice_id: str) -> list[str]:
    billed = {c.encounter_id for c in dataset.charges if c.status is not ChargeStatus.VOID}
    return [e.id for e in dataset.encounters if e.practice_id == practice_id and e.id not in billed]


def test_note_to_draft_charge_round_trip_posts_one_charge(
    client: RestCrystalPM, dataset: SyntheticDataset
) -> None:
    encounter_id = _unbilled(dataset, "PRA-1")[0]
    encounter = client.get_encounter(encounter_id)
    note = client.get_note(encounter_id)
    assert note.finalized and note.text
    fees = {entry.code: entry.amount for entry in client.get_fee_schedule(encounter.practice_id)}
    draft = Charge(
        practice_id=encounter.practice_id,
        encounter_id=encounter.id,
        patient_id=encounter.patient_id,
        diagnosis_codes=["H40.1131"],
        lines=[ChargeLine(code="92012", diagnosis_pointers=[1], fee=fees["92012"])],
        source="ai_suggested",
    )
    key = f"run-{uuid.uuid4()}"
    first = client.post_draft_charge(draft, idempotency_key=key)
    second = client.post_draft_charge(draft, idempotency_key=key)
    assert first.id and first == second
    assert first.status is ChargeStatus.DRAFT and first.provider_id == encounter.provider_id
    assert first.lines[0].fee == fees["92012"]
    drafts = [c.id for c in client.iter_charges(encounter_id=encounter_id) if c.status is ChargeStatus.DRAFT]
    assert drafts == [first.id]
    assert encounter_id not in {e.id for e in client.iter_encounters(unbilled=True)}


def test_async_round_trip_posts_one_charge(sandbox: SandboxHandle, dataset: SyntheticDataset) -> None:
    encounter_id = _unbilled(dataset, "PRA-2")[0]

    async def round_trip() -> tuple[Charge, Charge, list[Charge]]:
        async with AsyncRestCrystalPM(sandbox.base_url, sandbox.token) as crystalpm:
            encounter = await crystalpm.get_encounter(encounter_id)
            note = await crystalpm.get_note(encounter_id)
            assert note.encounter_id == encounter_id
            draft = Charge(
                practice_id=encounter.practice_id,
                encounter_id=encounter_id,
                patient_id=encounter.patient_id,
                diagnosis_codes=["H10.13"],
                lines=[ChargeLine(code="92012", diagnosis_pointers=[1])],
            )
            key = f"run-{uuid.uuid4()}"
            first, second = [await crystalpm.post_draft_charge(draft, key) for _ in range(2)]
            charges = [c async for c in crystalpm.iter_charges(encounter_id=encounter_id)]
            return first, second, [c for c in charges if c.status is ChargeStatus.DRAFT]

    first, second, charges = asyncio.run(round_trip())
    assert first == second
    assert [c.id for c in charges] == [first.id]


def test_same_key_other_body_is_rejected_with_the_problem(
    client: RestCrystalPM, dataset: SyntheticDataset
) -> None:
    encounter = next(e for e in dataset.encounters if e.id == _unbilled(dataset, "PRA-1")[-1])
    draft = Charge(
        practice_id=encounter.practice_id, encounter_id=encounter.id, patient_id=encounter.patient_id
    )
    key = f"run-{uuid.uuid4()}"
    client.post_draft_charge(draft, key)
    with pytest.raises(Rejected) as raised:
        client.post_draft_charge(draft.model_copy(update={"diagnosis_codes": ["H52.13"]}), key)
    assert raised.value.status == 409
    problem = raised.value.problem
    assert problem is not None and problem.status == 409
    assert problem.type.endswith("idempotency-conflict") and "new key" in problem.detail


def test_unprocessable_draft_is_rejected_with_field_errors(client: RestCrystalPM) -> None:
    draft = Charge(practice_id="PRA-1", encounter_id="ENC-006", patient_id="PAT-999")
    with pytest.raises(Rejected) as raised:
        client.post_draft_charge(draft, f"run-{uuid.uuid4()}")
    assert raised.value.status == 422
    assert raised.value.problem is not None and "ENC-006" in raised.value.problem.detail


def test_a_write_without_an_idempotency_key_is_refused_before_sending(client: RestCrystalPM) -> None:
    with pytest.raises(ValueError, match="idempotency key"):
        client.create_task(Task(practice_id="PRA-1", kind="follow_up", title="call payer"), "")


def test_claim_edit_applies_once_per_key(client: RestCrystalPM) -> None:
    before = client.get_claim("CLM-002")
    assert before.status is ClaimStatus.DENIED
    edit = ClaimEdit(diagnosis_codes=["E11.9", "H35.81"], note="add the retinal finding from the exam")
    key = f"fix-{uuid.uuid4()}"
    edited = client.update_claim("CLM-002", edit, key)
    assert client.update_claim("CLM-002", edit, key) == edited
    assert edited.diagnosis_codes == ["E11.9", "H35.81"]
    assert edited.lines == before.lines  # fields left out of the edit stay as they were
    assert edited.status is ClaimStatus.READY and edited.frequency_code == "7"
    assert len(client.get_claim("CLM-002").history) == len(before.history) + 1


def test_create_task_twice_with_one_key_makes_one_task(client: RestCrystalPM) -> None:
    task = Task(practice_id="PRA-1", kind="appeal", title="Appeal CLM-002", claim_id="CLM-002")
    key = f"task-{uuid.uuid4()}"
    created = client.create_task(task, key)
    assert client.create_task(task, key).id == created.id
    assert [t.id for t in client.iter_tasks("PRA-1") if t.claim_id == "CLM-002"] == [created.id]


def test_ensure_webhook_subscription_reuses_then_widens(client: RestCrystalPM) -> None:
    first = client.ensure_webhook_subscription(COPILOT_HOOK, ["note.finalized"])
    assert client.ensure_webhook_subscription(COPILOT_HOOK, ["note.finalized"]).id == first.id
    wider = client.ensure_webhook_subscription(COPILOT_HOOK, ["claim.ready", "note.finalized"])
    assert wider.id != first.id
    mine = [s for s in client.list_webhook_subscriptions() if s.url == COPILOT_HOOK and s.active]
    assert [(s.id, sorted(s.events)) for s in mine] == [(wider.id, ["claim.ready", "note.finalized"])]
    assert client.list_webhook_deliveries("no-such-event") == []
