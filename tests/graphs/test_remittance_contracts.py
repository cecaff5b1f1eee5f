"""Posting against contracts, through the runtimes on the real sandbox: fuzzy matches found from the graph,
write-offs capped by the contract in force on the date of service, and contract variance started once a
remittance is posted (a contract_variance review item for an underpaid line, none with contracts off).
"""

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from api.app import variance_after_posting
from api.contracts_runtime import ContractVarianceRuntime
from api.features import FeatureGate
from api.remittance_runtime import RemittanceRuntime
from api.reviews import ReviewService, WorkflowRegistry
from api.storage.audit import AuditLog
from api.storage.db import create_db_engine, create_session_factory
from api.storage.features import Feature, FeatureChange, change_flags
from api.storage.migrate import migrate_engine
from api.storage.models import AuditRecord, ReviewItemRecord
from billing.events import WebhookEvent
from billing.settings import Settings
from sandbox.dataset import RemittanceFile, SyntheticDataset
from tests.support.sandbox import running_sandbox
from tests.support.sandbox_data import small_dataset
from tools.crystalpm import NotFound, RestCrystalPM

# CLM-002 (Blake Samplefield, 2025-02-03): one 92014 charged 165.00; CTR-001 prices 92014 at 125.00, so at
# most 40.00 of a contractual reduction may be written off. The payer allows 100.00 (CO-45 65.00).
UNDERPAID_LINES = [
    "SVC*HC:92014*165.00*80.00**1",
    "DTM*472*20250203",
    "CAS*CO*45*65.00",
    "CAS*PR*2*20.00",
    "AMT*B6*100.00",
]
MANGLED = "CLM-0O2"  # the payer keyed the letter O for a zero


def era(number: int, control_number: str) -> str:
    """A valid 835 paying CLM-002 short, under the given CLP01."""
    segments = [
        "ST*835*0001",
        "BPR*I*80.00*C*ACH*CCP*01*999999999*DA*123456*1234567890**01*999999999*DA*654321*20250310",
        f"TRN*1*SYNTH{number:04d}*1234567890",
        "N1*PR*SYNTHETIC COMMERCIAL PLAN",
        "N3*100 PAYER WAY",
        "N4*COLUMBUS*OH*43004",
        "PER*BL*CLAIMS*TE*5555550100",
        "N1*PE*LAKESIDE EYE CARE*XX*1999999984",
        "LX*1",
        f"CLP*{control_number}*1*165.00*80.00*20.00*12*PCN{number:04d}",
        "NM1*QC*1*SAMPLEFIELD*BLAKE****MI*SYN002A",
        "DTM*232*20250203",
        *UNDERPAID_LINES,
    ]
    segments.append(f"SE*{len(segments) + 1}*0001")
    control = f"{number:09d}"
    return (
        f"ISA*00*          *00*          *ZZ*SYNTHPAYER     *ZZ*SYNTHPRACTICE  *250310*1200*^*00501*{control}"
        f"*0*T*:~GS*HP*SYNTHPAYER*SYNTHPRACTICE*20250310*1200*{number}*X*005010X221A1~"
        + "~".join(segments)
        + f"~GE*1*{number}~IEA*1*{control}~"
    )


def remittance(remittance_id: str, number: int, control_number: str) -> RemittanceFile:
    return RemittanceFile(
        id=remittance_id,
        practice_id="PRA-1",
        payer_id="PAY-COM",
        received_on=date(2025, 3, 10),
        filename=f"synthetic-{number:04d}.835",
        x12=era(number, control_number),
        claim_ids=["CLM-002"],
    )


def event(remittance_id: str) -> WebhookEvent:
    return WebhookEvent(
        id=f"evt-{remittance_id}",
        type="remittance.received",
        practice_id="PRA-1",
        occurred_at="2025-03-10T08:00:00Z",
        data={"remittance_id": remittance_id},
    )


def dataset() -> SyntheticDataset:
    data = small_dataset()
    data.remittances += [remittance("RMT-FUZZ", 9, MANGLED), remittance("RMT-SHORT", 10, "CLM-002")]
    return data


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'fovea.db'}")
    migrate_engine(engine)
    yield create_session_factory(engine)
    engine.dispose()


@pytest.fixture
def client(settings: Settings) -> Iterator[RestCrystalPM]:
    with (
        running_sandbox(settings, dataset()) as sandbox,
        RestCrystalPM(sandbox.base_url, sandbox.token) as rest,
    ):
        yield rest


def runtimes(
    settings: Settings, sessions: sessionmaker[Session], client: RestCrystalPM
) -> tuple[RemittanceRuntime, ContractVarianceRuntime, FeatureGate]:
    """Wired as the app wires them: one review queue, variance started by the remittance runtime's callback."""
    gate = FeatureGate(sessions)
    registry = WorkflowRegistry()
    reviews = ReviewService(sessions, registry, gate)
    variance = ContractVarianceRuntime(settings, sessions, crystalpm=client, sink=reviews)
    remittance_runtime = RemittanceRuntime(
        settings,
        sessions,
        crystalpm=client,
        sink=reviews,
        today=lambda: date(2025, 3, 12),
        medicare=variance.medicare_source,
        on_posted=variance_after_posting(variance, gate),
    )
    registry.register(variance)
    registry.register(remittance_runtime)
    return remittance_runtime, variance, gate


def review_items(sessions: sessionmaker[Session], workflow: str) -> list[ReviewItemRecord]:
    with sessions() as db:
        return list(db.query(ReviewItemRecord).filter(ReviewItemRecord.workflow == workflow))


def test_a_mangled_control_number_posts_by_fuzzy_match_and_the_underpaid_line_is_held(
    settings: Settings, sessions: sessionmaker[Session], client: RestCrystalPM
) -> None:
    with pytest.raises(NotFound):
        client.get_claim(MANGLED)
    remittance_runtime, _, _ = runtimes(settings, sessions, client)
    status = remittance_runtime.start_remittance(event("RMT-FUZZ"))
    assert status.state == "pending_review"
    assert status.review["posting"]["auto_matched"] == 1

    posting = remittance_runtime.view("RMT-FUZZ").posting
    (match,) = posting["matches"]
    assert (match["how"], match["claim_id"]) == ("fuzzy", "CLM-002")
    (draft,) = posting["drafts"]
    (line,) = draft["lines"]
    assert line["expected_allowed"] == "125.00" and line["contractual"] == "65.00"
    assert (line["write_off"], line["held"]) == ("40.00", "25.00")  # only charge - contract is written off
    assert draft["held"] == "25.00"
    codes = [exception["code"] for exception in posting["exceptions"]]
    assert "UNDERPAID_BEYOND_CONTRACT" in codes and "UNMATCHED_CLAIM" not in codes

    with sessions() as db:
        post = db.query(AuditRecord).filter(AuditRecord.action == "remittance.post").one()
    assert post.detail["fuzzy_matched"] == 1 and post.detail["held"] == "25.00"


def test_a_posted_remittance_with_an_underpaid_line_opens_a_contract_variance_review(
    settings: Settings, sessions: sessionmaker[Session], client: RestCrystalPM
) -> None:
    remittance_runtime, variance, _ = runtimes(settings, sessions, client)
    remittance_runtime.start_remittance(event("RMT-SHORT"))

    (remittance_item,) = review_items(sessions, "remittance")
    (variance_item,) = review_items(sessions, "contract_variance")
    assert variance_item.thread_id == "variance:RMT-SHORT" and variance_item.status == "pending"
    (dispute,) = variance_item.payload["disputes"]
    assert dispute["claim_id"] == "CLM-002" and dispute["contract_id"] == "CTR-001"
    (line,) = dispute["lines"]
    assert (line["expected_allowed"], line["actual_allowed"]) == ("125.00", "100.00")
    assert variance_item.amount == dispute["amount"] and float(dispute["amount"]) > 0
    assert remittance_item.thread_id == "remit:RMT-SHORT"

    remittance_runtime.start_remittance(event("RMT-SHORT"))  # a redelivered event: nothing new
    assert len(review_items(sessions, "contract_variance")) == 1
    assert variance.status("variance:RMT-SHORT").state == "pending_review"
    assert AuditLog(sessions).verify().ok


def test_with_contracts_switched_off_posting_starts_no_variance(
    settings: Settings, sessions: sessionmaker[Session], client: RestCrystalPM
) -> None:
    remittance_runtime, variance, _ = runtimes(settings, sessions, client)
    with sessions() as db:
        change_flags(db, Feature.CONTRACTS, FeatureChange(enabled=False), "user-admin")
    assert remittance_runtime.start_remittance(event("RMT-SHORT")).state == "pending_review"
    assert review_items(sessions, "contract_variance") == []
    assert variance.status("variance:RMT-SHORT").state == "not_started"
