"""Practice scoping: users see only their practices (404 for others) and admins manage only their own."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from api.problems import ProblemError
from api.security.deps import Principal, visible_practice_ids
from api.storage.models import Event
from billing.practice import Role
from billing.settings import Settings
from tests.support.security import TestUser, add_user, bearer, secured_client


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with secured_client(settings) as test_client:
        yield test_client


@pytest.fixture
def staff(client: TestClient) -> dict[str, TestUser]:
    """The sandbox's demo staff: one practice each, and a group admin over both."""
    people = {
        "jbiller": ([Role.BILLER], ["prac-1"]),
        "rbiller": ([Role.BILLER], ["prac-2"]),
        "admin1": ([Role.ADMIN], ["prac-1"]),
        "groupadmin": ([Role.ADMIN, Role.BILLER], ["prac-1", "prac-2"]),
    }
    return {name: add_user(client, name, roles, practices) for name, (roles, practices) in people.items()}


def add_events(client: TestClient, practice_id: str, count: int) -> None:
    with client.app.state.sessions() as db:
        for index in range(count):
            db.add(
                Event(
                    id=f"evt_{practice_id}_{index}",
                    type="note.finalized",
                    practice_id=practice_id,
                    payload={},
                    received_at=datetime.now(UTC),
                )
            )
        db.commit()


def test_me_lists_only_the_users_practices(client: TestClient, staff: dict[str, TestUser]) -> None:
    assert client.get("/auth/me", headers=bearer(staff["jbiller"].api_key)).json()["practice_ids"] == [
        "prac-1"
    ]
    group = client.get("/auth/me", headers=bearer(staff["groupadmin"].api_key)).json()
    assert group["practice_ids"] == ["prac-1", "prac-2"]


def test_another_practices_summary_is_404_like_a_practice_that_does_not_exist(
    client: TestClient, staff: dict[str, TestUser]
) -> None:
    add_events(client, "prac-1", 3)
    add_events(client, "prac-2", 2)
    mine = client.get("/practices/prac-1/summary", headers=bearer(staff["jbiller"].api_key))
    assert mine.status_code == 200
    assert mine.json() == {"practice_id": "prac-1", "events_by_status": {"received": 3}, "users": 3}
    theirs = client.get("/practices/prac-2/summary", headers=bearer(staff["jbiller"].api_key))
    missing = client.get("/practices/prac-9/summary", headers=bearer(staff["jbiller"].api_key))
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["detail"] == missing.json()["detail"]
    other = client.get("/practices/prac-2/summary", headers=bearer(staff["groupadmin"].api_key))
    assert other.json()["events_by_status"] == {"received": 2}


def test_office_admin_sees_and_manages_only_accounts_within_their_practice(
    client: TestClient, staff: dict[str, TestUser]
) -> None:
    admin = bearer(staff["admin1"].api_key)
    listed = [user["username"] for user in client.get("/admin/users", headers=admin).json()]
    assert listed == ["admin1", "jbiller"]
    for outside in ("rbiller", "groupadmin"):
        assert client.get(f"/admin/users/{staff[outside].id}", headers=admin).status_code == 404
        reset = client.post(
            f"/admin/users/{staff[outside].id}/password", json={"password": "x" * 12}, headers=admin
        )
        assert reset.status_code == 404
    grant = client.patch(
        f"/admin/users/{staff['jbiller'].id}", json={"practice_ids": ["prac-2"]}, headers=admin
    )
    assert grant.status_code == 403
    create = client.post(
        "/admin/users",
        json={"username": "newbie", "roles": ["Coder"], "practice_ids": ["prac-2"]},
        headers=admin,
    )
    assert create.status_code == 403
    group = client.get("/admin/users", headers=bearer(staff["groupadmin"].api_key)).json()
    assert {user["username"] for user in group} == set(staff)


def test_admin_creates_changes_and_resets_users(client: TestClient, staff: dict[str, TestUser]) -> None:
    admin = bearer(staff["admin1"].api_key)
    created = client.post(
        "/admin/users",
        json={"username": "CCoder", "display_name": "Casey", "roles": ["Coder"], "practice_ids": ["prac-1"]},
        headers=admin,
    )
    assert created.status_code == 201
    user = created.json()
    assert (user["username"], user["roles"], user["practice_ids"]) == ("ccoder", ["Coder"], ["prac-1"])
    again = client.post("/admin/users", json={"username": "ccoder", "roles": ["Coder"]}, headers=admin)
    assert again.status_code == 409
    changed = client.patch(f"/admin/users/{user['id']}", json={"roles": ["Coder", "Biller"]}, headers=admin)
    assert changed.json()["roles"] == ["Biller", "Coder"]
    weak = client.post(f"/admin/users/{user['id']}/password", json={"password": "short"}, headers=admin)
    assert weak.status_code == 422
    reset = client.post(
        f"/admin/users/{user['id']}/password", json={"password": "a-long-password"}, headers=admin
    )
    assert reset.status_code == 204
    signed_in = client.post("/auth/login", json={"username": "ccoder", "password": "a-long-password"})
    assert signed_in.status_code == 200


def test_admin_cannot_lock_themselves_out(client: TestClient, staff: dict[str, TestUser]) -> None:
    me = staff["admin1"]
    for change in ({"active": False}, {"roles": ["Biller"]}):
        assert (
            client.patch(f"/admin/users/{me.id}", json=change, headers=bearer(me.api_key)).status_code == 409
        )


def test_visible_practice_ids_narrows_to_one_of_the_callers_practices() -> None:
    principal = Principal(
        user_id="u",
        username="u",
        roles=frozenset({Role.BILLER}),
        practice_ids=frozenset({"b", "a"}),
        via="api_key",
    )
    assert visible_practice_ids(principal) == ["a", "b"]
    assert visible_practice_ids(principal, "b") == ["b"]
    with pytest.raises(ProblemError) as refused:
        visible_practice_ids(principal, "c")
    assert refused.value.problem.status == 404
