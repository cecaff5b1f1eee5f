"""The one roles table: docs/roles.md is generated from it, it grants what the issue asks, routes must declare."""

from pathlib import Path

import pytest

from api.security.permissions import PERMISSIONS, Permission, render_roles_markdown, roles_for
from api.security.registry import UndeclaredRouteError, assert_routes_declared, undeclared_routes
from billing.practice import Role
from billing.settings import Settings
from tests.support.security import security_app

ROLES_DOC = Path(__file__).resolve().parents[2] / "docs" / "roles.md"
REGENERATE = (
    ".venv/bin/python -c 'from api.security.permissions import render_roles_markdown; "
    'print(render_roles_markdown(), end="")\' > docs/roles.md'
)


def test_roles_doc_matches_the_table() -> None:
    assert ROLES_DOC.read_text() == render_roles_markdown(), f"regenerate it: {REGENERATE}"


def test_every_permission_appears_in_the_doc_with_its_roles() -> None:
    rows = {
        line.split("|")[1].strip(" `"): line for line in ROLES_DOC.read_text().splitlines() if "| `" in line
    }
    assert set(rows) == {permission.value for permission in Permission}
    for permission, grant in PERMISSIONS.items():
        assert rows[permission.value].count("yes") == len(grant.roles)


@pytest.mark.parametrize(
    ("permission", "roles"),
    [
        (Permission.CHARGES_REVIEW, {Role.CODER}),
        (Permission.CLAIMS_REVIEW, {Role.BILLER}),
        (Permission.APPEALS_REVIEW, {Role.BILLER}),
        (Permission.DISPUTES_REVIEW, {Role.BILLER}),
        (Permission.ADMIN_POLICIES, {Role.ADMIN}),
        (Permission.ADMIN_USERS, {Role.ADMIN}),
        (Permission.ADMIN_FEATURES, {Role.ADMIN}),
        (Permission.WEBHOOKS_RECEIVE, {Role.SERVICE}),
    ],
)
def test_table_grants_what_the_issue_assigns(permission: Permission, roles: set[Role]) -> None:
    assert roles_for(permission) == roles


def test_service_role_holds_nothing_but_webhook_delivery() -> None:
    assert [p for p in Permission if Role.SERVICE in roles_for(p)] == [Permission.WEBHOOKS_RECEIVE]


def test_an_app_with_an_undeclared_route_is_refused(settings: Settings) -> None:
    app = security_app(settings)
    assert undeclared_routes(app) == []

    @app.get("/leak")
    def leak() -> dict[str, str]:
        return {"secret": "anyone could read this"}

    assert undeclared_routes(app) == ["GET /leak"]
    with pytest.raises(UndeclaredRouteError, match="GET /leak"):
        assert_routes_declared(app)
