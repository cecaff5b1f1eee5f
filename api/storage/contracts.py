"""Approved contract terms, classified variance lines, and dispute and refund drafts (graphs' ContractStore)."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agents.contracts.schemas import ApprovedContract
from agents.variance.schemas import DisputeDraft, LineVariance, RefundDraft
from api.storage.models import (
    ContractDisputeRecord,
    ContractRefundRecord,
    ContractTermsRecord,
    VarianceLineRecord,
)
from billing.money import money_str

WorkItemRecord = type[ContractDisputeRecord] | type[ContractRefundRecord]


def _approved(row: ContractTermsRecord) -> ApprovedContract:
    return ApprovedContract.model_validate(
        {
            "contract": row.contract,
            "sources": row.sources,
            "approved_by": row.approved_by,
            "approved_at": row.approved_at,
            "run_id": row.run_id,
        }
    )


class ContractStorage:
    """The ContractStore of graphs.contract_variance, and the reads behind the contract routes."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    # -- contract terms

    def approved_contract(self, contract_id: str) -> ApprovedContract | None:
        with self.sessions() as session:
            row = session.get(ContractTermsRecord, contract_id)
            return _approved(row) if row is not None else None

    def save_contract(self, approved: ApprovedContract) -> None:
        contract = approved.contract
        with self.sessions() as session:
            row = session.get(ContractTermsRecord, contract.id)
            if row is not None and row.run_id == approved.run_id:
                return  # the save node re-ran after a crash: this approval is stored already
            values = {
                "practice_id": contract.practice_id,
                "payer_id": contract.payer_id,
                "contract": contract.model_dump(mode="json"),
                "sources": [source.model_dump(mode="json") for source in approved.sources],
                "approved_by": approved.approved_by,
                "approved_at": approved.approved_at,
                "run_id": approved.run_id,
            }
            if row is None:
                session.add(ContractTermsRecord(contract_id=contract.id, **values))
            else:
                for name, value in values.items():
                    setattr(row, name, value)
            session.commit()

    # -- variance

    def save_variance(self, lines: list[LineVariance]) -> None:
        with self.sessions() as session:
            for line in lines:
                values = {
                    "practice_id": line.practice_id,
                    "payer_id": line.payer_id,
                    "remittance_id": line.remittance_id,
                    "claim_id": line.claim_id,
                    "kind": line.kind,
                    "service_month": f"{line.date_of_service:%Y-%m}" if line.date_of_service else "",
                    "amount": money_str(line.amount),
                    "line": line.model_dump(mode="json"),
                }
                row = session.get(VarianceLineRecord, line.id)
                if row is None:
                    session.add(VarianceLineRecord(id=line.id, **values))
                else:
                    for name, value in values.items():
                        setattr(row, name, value)
            session.commit()

    def variance_lines(self, practice_id: str) -> list[LineVariance]:
        with self.sessions() as session:
            rows = session.scalars(
                select(VarianceLineRecord)
                .where(VarianceLineRecord.practice_id == practice_id)
                .order_by(VarianceLineRecord.service_month, VarianceLineRecord.id)
            )
            return [LineVariance.model_validate(row.line) for row in rows]

    # -- disputes and refunds

    def save_work_items(
        self,
        disputes: list[DisputeDraft],
        refunds: list[RefundDraft],
        *,
        status: str,
        task_ids: dict[str, str] | None = None,
    ) -> None:
        task_ids = task_ids or {}
        with self.sessions() as session:
            pairs: list[tuple[WorkItemRecord, DisputeDraft | RefundDraft]] = [
                *((ContractDisputeRecord, d) for d in disputes),
                *((ContractRefundRecord, r) for r in refunds),
            ]
            for record, item in pairs:
                row = session.get(record, item.id)
                if row is not None and row.status != "draft" and status == "draft":
                    continue  # a re-run of the analysis never reopens a decided item
                values = {
                    "practice_id": item.practice_id,
                    "payer_id": item.payer_id,
                    "claim_id": item.claim_id,
                    "remittance_id": item.remittance_id,
                    "amount": money_str(item.amount),
                    "deadline": item.deadline,
                    "status": status,
                    "task_id": task_ids.get(item.id, row.task_id if row is not None else None),
                    "draft": item.model_dump(mode="json"),
                    "updated_at": datetime.now(UTC),
                }
                if row is None:
                    session.add(record(id=item.id, **values))
                else:
                    for name, value in values.items():
                        setattr(row, name, value)
            session.commit()

    def work_items(self, practice_id: str, *, refunds: bool = False) -> list[dict[str, Any]]:
        """Disputes (or refunds) of the practice, soonest deadline first: the draft plus status and task id."""
        record: WorkItemRecord = ContractRefundRecord if refunds else ContractDisputeRecord
        with self.sessions() as session:
            rows = session.scalars(
                select(record).where(record.practice_id == practice_id).order_by(record.deadline, record.id)
            )
            return [{**row.draft, "status": row.status, "task_id": row.task_id} for row in rows]
