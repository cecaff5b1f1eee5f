"""API keys: shown once, stored hashed, used as Bearer tokens, listed by prefix, revocable, expiring."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.storage.models import ApiKeyRecord
from billing.practice import Role
from billing.settings import Settings
from tests.support.security import FakeClock, TestUser, add_user, bearer, secured_client


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with secured_client(settings) as test_client:
        test_client.app.state.clock = FakeClock()
        yield test_client


@pytest.fixture
def coder(client: TestClient) -> TestUser:
    return add_user(client, "ccoder", [Role.CODER], ["prac-1"])


def test_issued_key_authenticates_and_is_stored_only_as_a_hash(client: TestClient, coder: TestUser) -> None:
    issued = client.post("/auth/api-keys", json={"name": "nightly export"}, headers=bearer(coder.api_key))
    assert issued.status_code == 201
    key = issued.json()["key"]
    assert key.startswith(f"fovea_{issued.json()['prefix']}_")
    me = client.get("/auth/me", headers=bearer(key)).json()
    assert (me["username"], me["via"], me["csrf_token"]) == ("ccoder", "api_key", None)
    listed = client.get("/auth/api-keys", headers=bearer(key)).json()
    assert sorted(k["name"] for k in listed) == ["nightly export", "test"]
    assert all("key" not in k for k in listed)
    with client.app.state.sessions() as db:
        stored = db.scalars(select(ApiKeyRecord).where(ApiKeyRecord.id == issued.json()["id"])).one()
        assert key not in (stored.key_hash, stored.prefix) and len(stored.key_hash) == 64
        assert stored.last_used_at is not None


def test_revoked_key_is_401_and_others_keys_cannot_be_revoked(client: TestClient, coder: TestUser) -> None:
    other = add_user(client, "jbiller", [Role.BILLER], ["prac-1"])
    issued = client.post("/auth/api-keys", json={"name": "temp"}, headers=bearer(coder.api_key)).json()
    assert client.delete(f"/auth/api-keys/{issued['id']}", headers=bearer(other.api_key)).status_code == 404
    assert client.get("/auth/me", headers=bearer(issued["key"])).status_code == 200
    assert client.delete(f"/auth/api-keys/{issued['id']}", headers=bearer(coder.api_key)).status_code == 204
    refused = client.get("/auth/me", headers=bearer(issued["key"]))
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert client.get("/auth/me", headers=bearer(coder.api_key)).status_code == 200


def test_key_expires(client: TestClient, coder: TestUser) -> None:
    issued = client.post(
        "/auth/api-keys", json={"name": "week", "expires_in_days": 7}, headers=bearer(coder.api_key)
    ).json()
    client.app.state.clock.advance(days=6)
    assert client.get("/auth/me", headers=bearer(issued["key"])).status_code == 200
    client.app.state.clock.advance(days=1)
    assert client.get("/auth/me", headers=bearer(issued["key"])).status_code == 401


@pytest.mark.parametrize(
    "authorization",
    ["Bearer nonsense", "Bearer fovea_000000000000_forged", "Basic Y2NvZGVyOnBhc3N3b3Jk", "Bearer "],
)
def test_malformed_or_forged_credentials_are_401(
    client: TestClient, coder: TestUser, authorization: str
) -> None:
    assert client.get("/auth/me", headers={"Authorization": authorization}).status_code == 401


def test_a_tampered_key_with_a_real_prefix_is_401(client: TestClient, coder: TestUser) -> None:
    tampered = coder.api_key[:-4] + ("AAAA" if not coder.api_key.endswith("AAAA") else "BBBB")
    assert client.get("/auth/me", headers=bearer(tampered)).status_code == 401
