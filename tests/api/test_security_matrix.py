"""Role × route matrix over every route of create_app, generated from the permission table.

Routes other modules add later are covered without editing this file: each declares its permission
with api.security.deps.require, and the cases below come from that declaration. Unauthenticated calls
get 401, roles the table does not grant get 403, and granted roles get past the guard (2xx where an
example request is known below).
"""

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.routes.webhooks import sign
from api.security.api_keys import issue_api_key
from api.security.permissions import PUBLIC_ROUTES, Permission, roles_for
from api.security.registry import route_permissions, undeclared_routes
from billing.practice import Role
from billing.settings import Settings
from tests.support.security import TestUser, add_user, bearer, secured_client

PRACTICE = "prac-1"


def matrix_settings(data_dir: Path) -> Settings:
    return Settings(
        _env_file=None,
        mode="development",
        data_dir=data_dir,
        webhook_secret="test-webhook-secret-0123456789",
        session_secret="test-session-secret-0123456789",
    )


ROUTES = route_permissions(create_app(matrix_settings(Path("unused"))))
GUARDED = {route: permissions for route, permissions in ROUTES.items() if permissions}


@dataclass
class World:
    client: TestClient
    users: dict[Role, TestUser]
    target: TestUser
    settings: Settings


@dataclass
class Call:
    path_params: dict[str, str]
    kwargs: dict[str, Any]


def _new_key(world: World, user: TestUser) -> Call:
    with world.client.app.state.sessions() as db:
        _key, record = issue_api_key(db, user.id, "to revoke", datetime.now(UTC))
    return Call({"key_id": record.id}, {})


def _signed_event(world: World, _user: TestUser) -> Call:
    event = {
        "id": f"evt_{uuid.uuid4().hex[:12]}",
        "type": "note.finalized",
        "practice_id": PRACTICE,
        "occurred_at": "2025-03-04T15:00:00Z",
        "data": {"encounter_id": "enc_1", "note_id": "note_1"},
    }
    body = json.dumps(event).encode()
    stamp = str(int(time.time()))
    secret = world.settings.webhook_secret.get_secret_value()
    headers = {
        "content-type": "application/json",
        "X-CrystalPM-Timestamp": stamp,
        "X-CrystalPM-Signature": sign(secret, stamp, body),
    }
    return Call({}, {"content": body, "headers": headers, "signed": True})


# An 835 with a payment header and no claims: the remittance graph runs to its review without Crystal PM.
EMPTY_835 = (
    "ISA*00*          *00*          *ZZ*MATRIXPAYER    *ZZ*MATRIXPRACTICE *250301*1200*^*00501*000000001*0*T*:~"
    "GS*HP*MATRIXPAYER*MATRIXPRACTICE*20250301*1200*1*X*005010X221A1~ST*835*0001~"
    "BPR*H*0*C*NON************20250301~TRN*1*MATRIX0001*1234567890~N1*PR*MATRIX PLAN~"
    "N1*PE*MATRIX PRACTICE*XX*1999999984~SE*6*0001~GE*1*1~IEA*1*000000001~"
)


def _upload_835(world: World, _user: TestUser) -> Call:
    files = {"file": ("matrix.835", EMPTY_835.encode(), "text/plain")}
    return Call({}, {"files": files, "data": {"practice_id": PRACTICE}})


def _uploaded_remittance(world: World, _user: TestUser) -> Call:
    call = _upload_835(world, _user)
    response = world.client.post(
        "/remittances/upload", headers=bearer(world.users[Role.BILLER].api_key), **call.kwargs
    )
    return Call({"remittance_id": response.json()["remittance_id"]}, {})


def _approved_contract(world: World, _user: TestUser) -> Call:
    from agents.contracts.schemas import ApprovedContract
    from api.storage.contracts import ContractStorage
    from billing.contracts import Contract

    contract = Contract(id="ctr-matrix", practice_id=PRACTICE, payer_id="pay-x", effective="2024-01-01")
    ContractStorage(world.client.app.state.sessions).save_contract(
        ApprovedContract(
            contract=contract, sources=[], approved_by="matrix", approved_at=datetime.now(UTC), run_id="m"
        )
    )
    return Call({"contract_id": contract.id}, {})


def _contract_upload(_world: World, _user: TestUser) -> Call:
    contract_id = f"ctr-up-{uuid.uuid4().hex[:8]}"
    body = f"id: {contract_id}\npractice_id: {PRACTICE}\npayer_id: pay-x\neffective: 2024-01-01\n"
    return Call(
        {},
        {
            "files": {"file": ("terms.yaml", body.encode(), "application/x-yaml")},
            "data": {"contract_id": contract_id, "practice_id": PRACTICE, "payer_id": "pay-x"},
        },
    )


# Requests a granted role makes to get a 2xx; routes missing here are still checked for 401/403.
EXAMPLES: dict[tuple[str, str], Callable[[World, TestUser], Call]] = {
    ("POST", "/auth/api-keys"): lambda w, u: Call({}, {"json": {"name": "matrix"}}),
    ("DELETE", "/auth/api-keys/{key_id}"): _new_key,
    ("GET", "/admin/users/{user_id}"): lambda w, u: Call({"user_id": w.target.id}, {}),
    ("PATCH", "/admin/users/{user_id}"): lambda w, u: Call(
        {"user_id": w.target.id}, {"json": {"display_name": "Renamed"}}
    ),
    ("POST", "/admin/users/{user_id}/password"): lambda w, u: Call(
        {"user_id": w.target.id}, {"json": {"password": "a-new-password-123"}}
    ),
    ("POST", "/admin/users"): lambda w, u: Call(
        {},
        {
            "json": {
                "username": f"new-{uuid.uuid4().hex[:8]}",
                "roles": ["Biller"],
                "practice_ids": [PRACTICE],
            }
        },
    ),
    ("POST", "/webhooks/crystalpm"): _signed_event,
    ("GET", "/contracts/{contract_id}"): _approved_contract,
    ("POST", "/contracts/intake"): _contract_upload,
    ("GET", "/variance/summary"): lambda w, u: Call({}, {"params": {"practice_id": PRACTICE}}),
    ("GET", "/disputes"): lambda w, u: Call({}, {"params": {"practice_id": PRACTICE}}),
    ("POST", "/remittances/upload"): _upload_835,
    ("GET", "/remittances/{remittance_id}"): _uploaded_remittance,
    ("GET", "/denials/worklist"): lambda w, u: Call({}, {"params": {"practice_id": PRACTICE}}),
    ("POST", "/chat"): lambda w, u: Call(
        {}, {"json": {"question": "What does CARC 45 mean?", "stream": False}}
    ),
    ("GET", "/chat/history"): lambda w, u: Call({}, {}),
}


def fill_path(path: str, params: dict[str, str]) -> str:
    for name, value in {"practice_id": PRACTICE, **params}.items():
        path = path.replace("{" + name + "}", value)
    # Unknown parameters get a placeholder: the guard answers before the route looks anything up.
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        path = path[:start] + "x" + path[end + 1 :]
    return path


def granted(permissions: frozenset[Permission], role: Role) -> bool:
    return all(role in roles_for(permission) for permission in permissions)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings = matrix_settings(tmp_path_factory.mktemp("matrix") / "var")
    with secured_client(settings) as client:
        users = {role: add_user(client, f"{role.value.lower()}-user", [role], [PRACTICE]) for role in Role}
        target = add_user(client, "target-user", [Role.BILLER], [PRACTICE])
        yield World(client, users, target, settings)


def call(world: World, method: str, path: str, caller: TestUser | None, example: Call | None) -> int:
    kwargs = dict(example.kwargs) if example else {}
    signed = kwargs.pop("signed", False)
    headers = dict(kwargs.pop("headers", {}))
    if caller is not None and not signed:
        headers.update(bearer(caller.api_key))
    url = fill_path(path, example.path_params if example else {})
    return world.client.request(method, url, headers=headers, **kwargs).status_code


CASES = [
    pytest.param(method, path, role, id=f"{method} {path} as {role.value if role else 'anonymous'}")
    for (method, path) in sorted(GUARDED)
    for role in [None, *Role]
]


@pytest.mark.parametrize(("method", "path", "role"), CASES)
def test_route_admits_exactly_the_roles_of_its_permission(
    world: World, method: str, path: str, role: Role | None
) -> None:
    permissions = GUARDED[(method, path)]
    make_example = EXAMPLES.get((method, path))
    if role is None:
        example = make_example(world, world.target) if make_example else None
        if example is not None:
            example.kwargs.pop("signed", None)
            example.kwargs.pop("headers", None)
        assert call(world, method, path, None, example) == 401
        return
    caller = world.users[role]
    if not granted(permissions, role):
        # Staff calling a signed route present their own credentials, not a signature.
        example = make_example(world, caller) if make_example and role is not Role.SERVICE else None
        if example is not None and example.kwargs.get("signed"):
            example = None
        assert call(world, method, path, caller, example) == 403
        return
    example = make_example(world, caller) if make_example else None
    status = call(world, method, path, caller, example)
    if example is not None:
        assert 200 <= status < 300, f"{role.value} should succeed on {method} {path}, got {status}"
    else:
        assert status not in (401, 403) and status < 500, f"{role.value} refused on {method} {path}: {status}"


def test_every_route_declares_a_permission_or_is_public() -> None:
    assert undeclared_routes(create_app(matrix_settings(Path("unused")))) == []
    public = {route for route, permissions in ROUTES.items() if not permissions}
    assert public <= PUBLIC_ROUTES


@pytest.mark.parametrize(("method", "path"), sorted(PUBLIC_ROUTES))
def test_public_routes_answer_without_credentials(world: World, method: str, path: str) -> None:
    if (method, path) == ("POST", "/auth/login"):
        response = world.client.post(path, json={"username": "nobody", "password": "wrong-password"})
        # Refused by the sign-in itself (wrong password), not by a guard asking to sign in first.
        assert response.json()["type"] == "/problems/sign-in-failed"
        return
    if (method, path) == ("POST", "/ui/login"):
        response = world.client.post(path, data={"username": "nobody", "password": "wrong-password"})
        # The web form refuses a post without its sign-in CSRF token, not a guard asking to sign in first.
        assert response.status_code == 403 and "sign-in form expired" in response.text
        return
    if (method, path) == ("GET", "/"):
        # `/` only sends people to the web UI, whose pages then ask them to sign in.
        assert world.client.get(path, follow_redirects=False).headers["location"] == "/ui/"
        return
    assert world.client.request(method, path).status_code == 200
