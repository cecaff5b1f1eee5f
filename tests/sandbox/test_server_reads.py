"""The sandbox over real HTTP: auth, pagination, filters, problem details, the contract's reads."""

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest

from billing.charges import ChargeStatus
from billing.settings import Settings
from sandbox.dataset import SyntheticDataset
from tests.support.sandbox import SandboxHandle, running_sandbox
from tests.support.sandbox_data import small_dataset


@pytest.fixture(scope="module")
def dataset() -> SyntheticDataset:
    return small_dataset()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory, dataset: SyntheticDataset) -> Iterator[SandboxHandle]:
    # Reads never change the sandbox, so one server serves the whole module.
    settings = Settings(
        _env_file=None,
        data_dir=Path(tmp_path_factory.mktemp("var")),
        crystalpm_token="reads-api-token",
        sandbox_admin_token="reads-admin-token",
        webhook_secret="reads-webhook-secret-0123456789",
    )
    with running_sandbox(settings, dataset) as handle:
        yield handle


@pytest.fixture(scope="module")
def api(sandbox: SandboxHandle) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.api_url, headers=sandbox.headers(), timeout=10) as client:
        yield client


def _all_pages(api: httpx.Client, path: str, **params: object) -> tuple[list[dict], list[dict]]:
    """Every item of a paginated list, and the pages as answered."""
    items, pages, cursor = [], [], None
    while True:
        answer = api.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert answer.status_code == 200, answer.text
        page = answer.json()
        pages.append(page)
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items, pages


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", "reads-api-token", "Basic cmVhZHMtYXBpLXRva2Vu", "Bearer reads-admin-token"],
)
def test_api_refuses_missing_or_wrong_bearer_token(sandbox: SandboxHandle, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    answer = httpx.get(f"{sandbox.api_url}/patients", headers=headers)
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert answer.json()["status"] == 401


def test_health_and_ready_need_no_token(sandbox: SandboxHandle) -> None:
    assert httpx.get(f"{sandbox.base_url}/health").json() == {"status": "ok"}
    ready = httpx.get(f"{sandbox.base_url}/ready")
    assert ready.status_code == 200
    assert ready.json()["practices"] == 2


@pytest.mark.parametrize("limit", [1, 2, 3, 500])
def test_pagination_walks_every_patient_once(
    api: httpx.Client, dataset: SyntheticDataset, limit: int
) -> None:
    items, pages = _all_pages(api, "/patients", limit=limit)
    ids = [item["id"] for item in items]
    assert sorted(ids) == sorted(p.id for p in dataset.patients)
    assert len(ids) == len(set(ids))
    assert all(len(page["items"]) <= limit for page in pages)
    assert {page["total"] for page in pages} == {len(dataset.patients)}
    assert len(pages) == -(-len(dataset.patients) // limit)


def test_list_filters_by_practice_and_total_counts_the_filter(
    api: httpx.Client, dataset: SyntheticDataset
) -> None:
    page = api.get("/patients", params={"practice_id": "PRA-2", "limit": 1}).json()
    expected = [p.id for p in dataset.patients if p.practice_id == "PRA-2"]
    assert page["total"] == len(expected)
    assert page["items"][0]["id"] in expected
    users = api.get("/users", params={"practice_id": "PRA-2"}).json()["items"]
    assert {u["id"] for u in users} == {u.id for u in dataset.users if "PRA-2" in u.practice_ids}


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 501}, {"limit": "ten"}, {"since": "yesterday"}])
def test_bad_query_parameters_are_422_problems(api: httpx.Client, params: dict) -> None:
    answer = api.get("/encounters", params=params)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["errors"][0]["loc"][0] == "query"


@pytest.mark.parametrize(
    "path",
    ["/patients/PAT-404", "/encounters/ENC-404/note", "/claims/CLM-404", "/remittances/R-404", "/no-such"],
)
def test_unknown_resources_are_404_problem_details(api: httpx.Client, path: str) -> None:
    answer = api.get(path)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["status"] == 404 and body["title"] == "Not Found" and body["detail"]


def test_unbilled_filter_keeps_encounters_without_a_live_charge(
    api: httpx.Client, dataset: SyntheticDataset
) -> None:
    billed = {c.encounter_id for c in dataset.charges if c.status != ChargeStatus.VOID}
    unbilled, _ = _all_pages(api, "/encounters", unbilled="true", limit=2)
    assert {e["id"] for e in unbilled} == {e.id for e in dataset.encounters if e.id not in billed}
    with_charge, _ = _all_pages(api, "/encounters", unbilled="false")
    assert {e["id"] for e in with_charge} == billed


def test_encounter_date_window_and_practice(api: httpx.Client, dataset: SyntheticDataset) -> None:
    since, until = date(2025, 3, 1), date(2025, 6, 20)
    found, _ = _all_pages(api, "/encounters", practice_id="PRA-1", since=since, until=until)
    expected = {
        e.id for e in dataset.encounters if e.practice_id == "PRA-1" and since <= e.date_of_service <= until
    }
    assert {e["id"] for e in found} == expected


def test_patient_visit_history_and_coverage_are_plain_lists(
    api: httpx.Client, dataset: SyntheticDataset
) -> None:
    visits = api.get("/patients/PAT-001/encounters").json()
    assert [v["id"] for v in visits] == [
        e.id for e in sorted(dataset.encounters, key=lambda e: e.date_of_service) if e.patient_id == "PAT-001"
    ]
    coverage = api.get("/patients/PAT-001/coverage").json()
    assert [c["priority"] for c in coverage] == sorted(c["priority"] for c in coverage)
    assert all(c["patient_id"] == "PAT-001" for c in coverage)
    assert api.get("/patients/PAT-404/coverage").status_code == 404


def test_money_is_two_decimal_strings(api: httpx.Client) -> None:
    fees = api.get("/fee-schedules/PRA-1").json()
    assert fees and all(isinstance(f["amount"], str) and f["amount"].count(".") == 1 for f in fees)
    assert all(len(f["amount"].split(".")[1]) == 2 for f in fees)


def test_note_claim_outcome_and_remittance_reads(api: httpx.Client, dataset: SyntheticDataset) -> None:
    note = api.get("/encounters/ENC-001/note").json()
    assert note["encounter_id"] == "ENC-001" and note["finalized"] is True
    outcome = api.get("/claims/CLM-001/outcome").json()
    assert [o["line_number"] for o in outcome] == [
        o.line_number for o in dataset.outcomes if o.claim_id == "CLM-001"
    ]
    assert api.get("/claims/CLM-003/outcome").json() == []
    listed = api.get("/remittances", params={"since": "2025-02-01"}).json()["items"]
    assert [r["id"] for r in listed] == ["RMT-001"] and "x12" not in listed[0]
    detail = api.get("/remittances/RMT-001").json()
    assert detail["x12"].startswith("ISA*") and detail["claim_ids"] == ["CLM-001", "CLM-002"]
    assert api.get("/remittances", params={"since": "2025-03-02"}).json()["total"] == 0


def test_claim_filters(api: httpx.Client, dataset: SyntheticDataset) -> None:
    denied = api.get("/claims", params={"status": "denied"}).json()["items"]
    assert [c["id"] for c in denied] == [c.id for c in dataset.claims if c.status == "denied"]
    assert api.get("/claims", params={"status": "lost"}).status_code == 422
    mine = api.get("/claims", params={"patient_id": "PAT-101"}).json()["items"]
    assert {c["patient_id"] for c in mine} == {"PAT-101"}


def test_gold_is_admin_only(sandbox: SandboxHandle, dataset: SyntheticDataset) -> None:
    url = f"{sandbox.base_url}/_sandbox/gold/ENC-001"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers=sandbox.headers()).status_code == 401
    gold = httpx.get(url, headers=sandbox.headers(admin=True))
    assert gold.status_code == 200
    intended = next(i for i in dataset.intended if i.encounter_id == "ENC-001")
    assert gold.json()["diagnosis_codes"] == intended.diagnosis_codes
    assert (
        httpx.get(
            f"{sandbox.base_url}/_sandbox/gold/ENC-404", headers=sandbox.headers(admin=True)
        ).status_code
        == 404
    )
    # The gold coding is never reachable through the API itself.
    assert httpx.get(f"{sandbox.api_url}/gold/ENC-001", headers=sandbox.headers()).status_code == 404


def test_stats_count_what_was_loaded(sandbox: SandboxHandle, dataset: SyntheticDataset) -> None:
    stats = httpx.get(f"{sandbox.base_url}/_sandbox/stats", headers=sandbox.headers(admin=True)).json()
    assert stats["resources"]["patient"] == len(dataset.patients)
    assert stats["resources"]["encounter"] == len(dataset.encounters)
    assert stats["dataset"]["generated_through"] == dataset.generated_through.isoformat()
