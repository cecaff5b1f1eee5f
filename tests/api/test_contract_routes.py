"""The contract JSON endpoints: a contract's terms, the variance leak, the dispute worklist, and intake."""

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook

from agents.contracts.schemas import ApprovedContract
from agents.variance.schemas import DisputeDraft, DisputeLine, LineVariance
from api.storage.contracts import ContractStorage
from billing.contracts import Contract
from billing.practice import Role
from billing.settings import Settings
from tests.support.sandbox import running_sandbox
from tests.support.security import add_user, bearer, secured_client

PROSE = (
    "Payer shall reimburse Provider at 110% of the 2024 Medicare Physician Fee Schedule. "
    "Claims must be filed within 90 days of the date of service."
)


def variance_line(number: int, kind: str, amount: str, month: int) -> LineVariance:
    return LineVariance(
        id=f"era-1:clm-{number}:1",
        practice_id="prac-1",
        payer_id="pay-a",
        contract_id="ctr-a",
        remittance_id="era-1",
        claim_id=f"clm-{number}",
        line_number=1,
        code="92014",
        date_of_service=date(2025, month, 3),
        kind=kind,
        amount=Decimal(amount),
    )


def test_contract_variance_and_dispute_pages(settings: Settings, tmp_path: Path) -> None:
    with (
        running_sandbox(settings) as sandbox,
        secured_client(settings.model_copy(update={"crystalpm_base_url": sandbox.base_url})) as client,
    ):
        biller = add_user(client, "biller", [Role.BILLER], ["prac-1"])
        outsider = add_user(client, "outsider", [Role.BILLER], ["prac-2"])
        storage = ContractStorage(client.app.state.sessions)
        contract = Contract(
            id="ctr-a",
            practice_id="prac-1",
            payer_id="pay-a",
            effective=date(2024, 1, 1),
            evidence={"percent": PROSE},
        )
        storage.save_contract(
            ApprovedContract(
                contract=contract, sources=[], approved_by="u", approved_at=datetime.now(UTC), run_id="r"
            )
        )
        storage.save_variance(
            [
                variance_line(1, "underpaid", "10.00", 3),
                variance_line(2, "reduction_misapplied", "5.50", 3),
                variance_line(3, "overpaid", "4.00", 4),
                variance_line(4, "ok", "0.00", 4),
            ]
        )
        line = DisputeLine(
            line_number=1,
            code="92014",
            kind="underpaid",
            expected_allowed=Decimal(110),
            actual_allowed=Decimal(100),
            expected_paid=Decimal(88),
            actual_paid=Decimal(78),
            amount=Decimal(10),
        )
        dispute = DisputeDraft(
            id="dispute:era-1:clm-1",
            practice_id="prac-1",
            payer_id="pay-a",
            contract_id="ctr-a",
            claim_id="clm-1",
            remittance_id="era-1",
            remittance_reference="remittance era-1",
            amount=Decimal(10),
            clause=PROSE,
            deadline=date(2025, 6, 1),
            lines=[line],
            summary="short",
        )
        storage.save_work_items([dispute], [], status="draft")

        page = client.get("/contracts/ctr-a", headers=bearer(biller.api_key)).json()
        assert page["evidence"]["percent"] == PROSE and page["effective"] == "2024-01-01"
        assert client.get("/contracts/ctr-a", headers=bearer(outsider.api_key)).status_code == 404

        summary = client.get(
            "/variance/summary", params={"practice_id": "prac-1"}, headers=bearer(biller.api_key)
        )
        body = summary.json()
        assert (body["underpaid"], body["overpaid"], body["lines"]) == ("15.50", "4.00", 4)
        months = {row["month"]: row["underpaid"] for row in body["by_payer_month"]}
        assert months == {"2025-03": "15.50", "2025-04": "0.00"}
        assert (
            client.get(
                "/variance/summary", params={"practice_id": "prac-1"}, headers=bearer(outsider.api_key)
            ).status_code
            == 404
        )

        worklist = client.get(
            "/disputes", params={"practice_id": "prac-1"}, headers=bearer(biller.api_key)
        ).json()
        assert [d["claim_id"] for d in worklist["disputes"]] == ["clm-1"] and worklist["refunds"] == []
        assert worklist["disputes"][0]["status"] == "draft"

        upload = client.post(
            "/contracts/intake",
            headers=bearer(biller.api_key),
            files={"file": ("terms.txt", PROSE.encode(), "text/plain")},
            data={
                "contract_id": "ctr-b",
                "practice_id": "prac-1",
                "payer_id": "pay-b",
                "effective": "2025-01-01",
            },
        )
        assert upload.status_code == 202, upload.text
        review = upload.json()["review"]
        assert {t["term"]: t["value"] for t in review["terms"]}["timely_filing_days"] == 90
        assert storage.approved_contract("ctr-b") is None
        refused = client.post(
            "/contracts/intake",
            headers=bearer(biller.api_key),
            files={"file": ("fees.xlsx", b"PK", "application/octet-stream")},
            data={"contract_id": "ctr-b", "practice_id": "prac-1", "payer_id": "pay-b"},
        )
        assert refused.status_code == 422 and "not a readable XLSX" in refused.json()["detail"]
        workbook = Workbook()
        workbook.active.append(["Code", "Amount"])
        workbook.active.append(["92014", 97.5])
        sheet = io.BytesIO()
        workbook.save(sheet)
        fees = client.post(
            "/contracts/intake",
            headers=bearer(biller.api_key),
            files={"file": ("fees.xlsx", sheet.getvalue(), "application/octet-stream")},
            data={"contract_id": "ctr-b", "practice_id": "prac-1", "payer_id": "pay-b"},
        )
        assert fees.status_code == 202, fees.text
        proposed = fees.json()["review"]["proposed"]["fee_schedule"]
        assert [(row["code"], row["amount"]) for row in proposed] == [("92014", "97.50")]
