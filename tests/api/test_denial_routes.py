"""The remittance, denial-worklist and appeal-draft endpoints over a real sandbox, and the 835 upload."""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from billing.practice import Role
from billing.settings import Settings
from tests.support.sandbox import running_sandbox
from tests.support.sandbox_data import SYNTHETIC_835, small_dataset
from tests.support.security import TestUser, add_user, bearer, secured_client

APPEAL_ID = "RMT-001:CLM-002:1"
# Two more denials on claims of the small practice: a bundled OCT (CO-97) and a non-covered exam (PR-96).
SECOND_835 = (
    SYNTHETIC_835.replace("000000001", "000000002").replace("SYNTH0001", "SYNTH0002").split("CLP*CLM-001")[0]
    + "CLP*CLM-003*1*110.00*0.00**12*PCN003~SVC*HC:92012*110.00*0.00**1~CAS*CO*97*110.00~LQ*HE*M80~"
    + "CLP*CLM-101*1*165.00*0.00*165.00*12*PCN101~SVC*HC:92014*165.00*0.00**1~CAS*PR*96*165.00~LQ*HE*N130~"
    + "SE*12*0001~GE*1*1~IEA*1*000000002~"
).replace("BPR*I*165.00", "BPR*I*0.00")


@dataclass
class World:
    client: TestClient
    biller: TestUser
    coder: TestUser
    outsider: TestUser


@pytest.fixture
def world(settings: Settings) -> Iterator[World]:
    with running_sandbox(settings, small_dataset()) as sandbox:
        live = settings.model_copy(update={"crystalpm_base_url": sandbox.base_url})
        with secured_client(live) as client:
            yield World(
                client=client,
                biller=add_user(client, "biller", [Role.BILLER], ["PRA-1", "PRA-2"]),
                coder=add_user(client, "coder", [Role.CODER], ["PRA-1"]),
                outsider=add_user(client, "other-biller", [Role.BILLER], ["PRA-9"]),
            )


def upload(world: World, text: str, practice_id: str = "PRA-1", user: TestUser | None = None) -> dict:
    response = world.client.post(
        "/remittances/upload",
        headers=bearer((user or world.biller).api_key),
        files={"file": ("era.835", text.encode(), "text/plain")},
        data={"practice_id": practice_id},
    )
    return {"status": response.status_code, **response.json()}


def test_upload_view_worklist_and_appeal_drafts(world: World) -> None:
    first = upload(world, SYNTHETIC_835)
    assert first["status"] == 201 and first["denials"] == 1 and first["appeals"] == 1
    assert upload(world, SYNTHETIC_835)["remittance_id"] == first["remittance_id"]  # same file: same run
    second = upload(world, SECOND_835)
    assert second["status"] == 201 and second["denials"] == 2
    biller = bearer(world.biller.api_key)

    view = world.client.get(f"/remittances/{first['remittance_id']}", headers=biller).json()
    assert view["state"] == "pending_review" and view["payment_amount"] == "165.00"
    assert [c["claim_id"] for c in view["claims"]] == ["CLM-001", "CLM-002"]
    assert view["denials"][0]["codes"][1]["description"] and view["denied_total"] == "165.00"
    other = bearer(world.outsider.api_key)
    assert world.client.get(f"/remittances/{first['remittance_id']}", headers=other).status_code == 404

    worklist = world.client.get("/denials/worklist", params={"practice_id": "PRA-1"}, headers=biller).json()
    recoveries = [float(item["triage"]["expected_recovery"]) for item in worklist["items"]]
    assert worklist["total"] == 3 and recoveries == sorted(recoveries, reverse=True)
    assert {item["triage"]["next_best_action"] for item in worklist["items"]} == {"appeal", "bill_secondary"}
    appeals_only = world.client.get("/denials/worklist", params={"queue": "appeals"}, headers=biller).json()
    assert appeals_only["items"] and all(
        i["triage"]["queue"].startswith("appeals") for i in appeals_only["items"]
    )
    assert (
        world.client.get("/denials/worklist", params={"practice_id": "PRA-1"}, headers=other).status_code
        == 404
    )

    appeal_id = next(item["appeal_id"] for item in worklist["items"] if item["appeal_id"])
    draft = world.client.get(f"/appeals/{appeal_id}/draft", headers=biller).json()
    assert draft["editable"] and draft["letter"]["statements"]
    pdf = world.client.get(f"/appeals/{appeal_id}/draft", params={"format": "pdf"}, headers=biller)
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    text = world.client.get(f"/appeals/{appeal_id}/draft", params={"format": "text"}, headers=biller)
    assert text.text == draft["letter"]["text"].rstrip() + "\n"

    edit = {"text": "Please reprocess the line; the note is enclosed."}
    assert (
        world.client.put(
            f"/appeals/{appeal_id}/draft", json=edit, headers=bearer(world.coder.api_key)
        ).status_code
        == 403
    )
    saved = world.client.put(f"/appeals/{appeal_id}/draft", json=edit, headers=biller).json()
    assert saved["letter"]["text"] == edit["text"] and saved["letter"]["edited_by"] == world.biller.id
    assert world.client.get("/appeals/nothing/draft", headers=biller).status_code == 404


def test_upload_refuses_what_is_not_an_835_or_too_big(world: World) -> None:
    refused = upload(world, "this is not X12")
    assert refused["status"] == 422 and "835" in refused["detail"]
    assert upload(world, SYNTHETIC_835, practice_id="PRA-9")["status"] == 404
    small = world.client.app.state.settings.model_copy(update={"remittance_upload_max_bytes": 100})
    world.client.app.state.settings = small
    assert upload(world, SYNTHETIC_835)["status"] == 413
