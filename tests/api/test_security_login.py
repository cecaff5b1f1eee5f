"""Sign-in, sign-out and /auth/me over HTTP: JSON and form logins, CSRF on cookie writes, session fixation."""

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.security.passwords import hash_password
from api.security.sessions import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    SessionPolicy,
    hash_session_id,
    session_id_from_cookie,
)
from api.storage.models import AuditRecord, SessionRecord
from api.storage.users import create_user
from billing.practice import Role
from billing.settings import Settings
from tests.support.sandbox import serving
from tests.support.security import TestUser, add_user, bearer, secured_client, security_app

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def password_hash() -> str:
    return hash_password(PASSWORD)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with secured_client(settings) as test_client:
        yield test_client


@pytest.fixture
def biller(client: TestClient, password_hash: str) -> TestUser:
    return add_user(client, "jbiller", [Role.BILLER], ["prac-1", "prac-2"], password_hash=password_hash)


def json_login(client: TestClient, username: str = "jbiller", password: str = PASSWORD) -> httpx.Response:
    return client.post("/auth/login", json={"username": username, "password": password})


def test_json_login_then_me_then_logout(client: TestClient, biller: TestUser) -> None:
    signed_in = json_login(client, "JBILLER")
    assert signed_in.status_code == 200
    me = client.get("/auth/me").json()
    assert me == signed_in.json()
    assert me["username"] == "jbiller" and me["roles"] == ["Biller"] and me["via"] == "session"
    assert me["practice_ids"] == ["prac-1", "prac-2"]
    assert "claims.review" in me["permissions"] and "charges.review" not in me["permissions"]

    assert client.post("/auth/logout").status_code == 403  # a cookie write without the CSRF token
    out = client.post("/auth/logout", headers={"X-CSRF-Token": me["csrf_token"]})
    assert out.status_code == 204
    assert client.get("/auth/me").status_code == 401
    with client.app.state.sessions() as db:
        actions = [r.action for r in db.scalars(select(AuditRecord).order_by(AuditRecord.id))]
    assert actions == ["auth.login", "auth.logout"]


def test_wrong_password_and_unknown_user_get_the_same_answer(client: TestClient, biller: TestUser) -> None:
    wrong = json_login(client, password="not the password")
    unknown = json_login(client, username="nobody")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]
    assert SESSION_COOKIE not in wrong.cookies


def test_missing_fields_are_422(client: TestClient) -> None:
    response = client.post("/auth/login", json={"username": "jbiller"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["password"]


def test_form_login_needs_the_form_csrf_token_and_redirects_to_a_local_page(
    client: TestClient, biller: TestUser
) -> None:
    form = {"username": "jbiller", "password": PASSWORD, "next": "/queue"}
    assert client.post("/auth/login", data=form, follow_redirects=False).status_code == 403
    token = client.get("/auth/login").json()["csrf_token"]
    assert client.cookies.get(LOGIN_CSRF_COOKIE) == token
    forged = client.post("/auth/login", data={**form, "csrf_token": token + "x"}, follow_redirects=False)
    assert forged.status_code == 403
    response = client.post("/auth/login", data={**form, "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/queue"
    assert client.get("/auth/me").status_code == 200
    elsewhere = client.post(
        "/auth/login", data={**form, "next": "//evil.example", "csrf_token": token}, follow_redirects=False
    )
    assert elsewhere.headers["location"] == "/"


def test_cookie_writes_need_csrf_but_api_key_writes_do_not(client: TestClient, biller: TestUser) -> None:
    csrf = json_login(client).json()["csrf_token"]
    assert client.post("/auth/api-keys", json={"name": "script"}).status_code == 403
    assert (
        client.post("/auth/api-keys", json={"name": "script"}, headers={"X-CSRF-Token": "guess"}).status_code
        == 403
    )
    made = client.post("/auth/api-keys", json={"name": "script"}, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201
    client.cookies.clear()
    by_key = client.post("/auth/api-keys", json={"name": "another"}, headers=bearer(made.json()["key"]))
    assert by_key.status_code == 201


def test_a_new_sign_in_ends_the_session_the_browser_held(client: TestClient, biller: TestUser) -> None:
    json_login(client)
    policy = SessionPolicy.from_settings(client.app.state.settings)
    first = session_id_from_cookie(policy, client.cookies.get(SESSION_COOKIE))
    json_login(client)
    second = session_id_from_cookie(policy, client.cookies.get(SESSION_COOKIE))
    assert first and second and first != second
    with client.app.state.sessions() as db:
        assert db.get(SessionRecord, hash_session_id(first)).revoked_at is not None
        assert db.get(SessionRecord, hash_session_id(second)).revoked_at is None


def test_disabled_user_is_signed_out_everywhere(client: TestClient, biller: TestUser) -> None:
    json_login(client)
    admin = add_user(client, "admin1", [Role.ADMIN], ["prac-1", "prac-2"])
    changed = client.patch(f"/admin/users/{biller.id}", json={"active": False}, headers=bearer(admin.api_key))
    assert changed.status_code == 200 and changed.json()["active"] is False
    assert client.get("/auth/me").status_code == 401
    assert json_login(client).status_code == 401


def test_sign_in_over_real_http(settings: Settings, password_hash: str) -> None:
    app = security_app(settings)
    with serving(app, health_path="/health") as base_url, httpx.Client(base_url=base_url) as http:
        with app.state.sessions() as db:
            create_user(
                db,
                username="ccoder",
                roles=[Role.CODER],
                practice_ids=["prac-1"],
                password_hash=password_hash,
            )
        assert http.get("/auth/me").status_code == 401
        me = http.post("/auth/login", json={"username": "ccoder", "password": PASSWORD}).json()
        assert http.get("/auth/me").json()["roles"] == ["Coder"]
        assert http.post("/auth/logout", headers={"X-CSRF-Token": me["csrf_token"]}).status_code == 204
        assert http.get("/auth/me").status_code == 401
