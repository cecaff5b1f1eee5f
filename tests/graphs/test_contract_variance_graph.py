"""The contract_variance graphs end to end: a real sandbox on loopback, SQLite storage and checkpoints.

Intake: prose -> terms held at the review interrupt -> approve -> terms saved. Variance: a generated
remittance with one underpaid claim -> dispute draft at the interrupt -> approve -> one Crystal PM task;
resuming again writes nothing more.
"""

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from agents.contracts.schemas import IntakeRequest
from agents.variance.work_items import draft_disputes, draft_refunds
from api.contracts_runtime import ContractIntakeRuntime, ContractVarianceRuntime
from api.storage.audit import AuditLog
from api.storage.contracts import ContractStorage
from api.storage.db import create_db_engine, create_session_factory
from api.storage.migrate import migrate_engine
from api.workflows import ReviewItemDraft
from billing.contracts import Contract
from billing.settings import Settings
from evals.contracts import approved_contracts, classify_dataset, sandbox_medicare_table
from sandbox.dataset import SyntheticDataset
from sandbox.generator import generate_dataset
from tests.support.sandbox import SandboxHandle, running_sandbox
from tools.crystalpm import RestCrystalPM


class RecordingSink:
    def __init__(self) -> None:
        self.drafts: list[ReviewItemDraft] = []

    def open_item(self, draft: ReviewItemDraft) -> str:
        self.drafts.append(draft)
        return f"item-{len(self.drafts)}"


@pytest.fixture(scope="module")
def dataset() -> SyntheticDataset:
    return generate_dataset(7, 150)


@pytest.fixture(scope="module")
def target(dataset: SyntheticDataset) -> tuple[str, Contract]:
    """A percent-of-Medicare remittance whose variance drafts exactly one dispute and no refund."""
    contracts = approved_contracts(dataset)
    by_remittance: dict[str, list] = {}
    for line in classify_dataset(dataset):
        by_remittance.setdefault(line.remittance_id, []).append(line)
    for remittance in dataset.remittances:
        contract = contracts[(remittance.practice_id, remittance.payer_id)]
        if contract.basis != "percent_of_medicare":
            continue
        lines = by_remittance.get(remittance.id, [])
        disputes = draft_disputes(lines, contract, paid_on=remittance.received_on)
        if len(disputes) == 1 and not draft_refunds(lines, identified_on=remittance.received_on):
            original = next(c for c in dataset.contracts if c.id == contract.id)
            return remittance.id, original
    pytest.fail("the generated practice has no remittance with exactly one dispute")


@pytest.fixture
def sandbox(settings: Settings, dataset: SyntheticDataset) -> Iterator[SandboxHandle]:
    with running_sandbox(settings, dataset) as handle:
        yield handle


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'app.db'}")
    migrate_engine(engine)
    yield create_session_factory(engine)
    engine.dispose()


def approve(reviewer: str = "user-biller") -> dict[str, str]:
    return {"decision": "approve", "reviewer": reviewer}


def test_intake_then_variance_writes_one_dispute_task_once(
    settings: Settings,
    sandbox: SandboxHandle,
    sessions: sessionmaker[Session],
    target: tuple[str, Contract],
    dataset: SyntheticDataset,
) -> None:
    remittance_id, contract = target
    sink = RecordingSink()
    store = ContractStorage(sessions)
    with RestCrystalPM(sandbox.base_url, sandbox.token) as client:
        intake = ContractIntakeRuntime(settings, sessions, crystalpm=client, sink=sink)
        request = IntakeRequest(
            contract_id=contract.id,
            practice_id=contract.practice_id,
            payer_id=contract.payer_id,
            kind="text",
            filename="terms.txt",
            content=contract.terms_text,
        )
        status = intake.start_intake(request)
        assert status.state == "pending_review"
        assert store.approved_contract(contract.id) is None  # nothing is used before a person approves
        terms = {term["term"]: term for term in status.review["terms"]}
        assert terms["medicare.year"]["value"] == 2024
        for term in terms.values():
            assert contract.terms_text[term["start"] : term["end"]] == term["sentence"]
        assert sink.drafts[-1].workflow == "contract_intake"
        assert intake.resume(status.thread_id, approve("user-admin")).state == "done"
        approved = store.approved_contract(contract.id)
        assert approved is not None and approved.approved_by == "user-admin"
        assert approved.contract.medicare.year == 2024 and "percent" in approved.contract.evidence
        assert approved.sources[0].terms

        variance = ContractVarianceRuntime(
            settings, sessions, crystalpm=client, sink=sink, medicare=sandbox_medicare_table()
        )
        status = variance.start_variance(remittance_id)
        assert status.state == "pending_review"
        (dispute,) = status.review["disputes"]
        assert dispute["clause"] in contract.terms_text
        received_on = next(r.received_on for r in dataset.remittances if r.id == remittance_id)
        assert date.fromisoformat(dispute["deadline"]) == received_on + timedelta(days=contract.appeal_days)
        assert sink.drafts[-1].workflow == "contract_variance" and sink.drafts[-1].amount == dispute["amount"]
        assert store.work_items(contract.practice_id)[0]["status"] == "draft"
        assert store.variance_lines(contract.practice_id)
        before = [t for t in client.iter_tasks(contract.practice_id) if t.kind == "dispute"]

        variance.resume(status.thread_id, approve())
        variance.resume(status.thread_id, approve())  # a second resume changes nothing
        assert variance.start_variance(remittance_id).state == "done"  # nor does a repeated start

        after = [t for t in client.iter_tasks(contract.practice_id) if t.kind == "dispute"]
        assert len(after) == len(before) + 1
        (worklist_item,) = store.work_items(contract.practice_id)
        assert worklist_item["status"] == "created" and worklist_item["task_id"] == after[-1].id
    assert AuditLog(sessions).verify().ok


def test_rejected_terms_are_never_saved(
    settings: Settings, sessions: sessionmaker[Session], sandbox: SandboxHandle
) -> None:
    with RestCrystalPM(sandbox.base_url, sandbox.token) as client:
        intake = ContractIntakeRuntime(settings, sessions, crystalpm=client, sink=RecordingSink())
        yaml_text = "id: ctr-new\npractice_id: prac-1\npayer_id: pay-x\neffective: 2025-01-01\npercent: 90\n"
        status = intake.start_intake(
            IntakeRequest(
                contract_id="ctr-new", practice_id="prac-1", payer_id="pay-x", kind="yaml", content=yaml_text
            )
        )
        assert status.review["proposed"]["percent"] == 90
        intake.resume(status.thread_id, {"decision": "reject", "reviewer": "user-1", "reason": "wrong plan"})
    assert ContractStorage(sessions).approved_contract("ctr-new") is None
