"""Bearer-token checks: the Crystal PM API token for /api/v1, the admin token for /_sandbox."""

import hmac

from fastapi import Request

from sandbox.problems import ProblemError


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _check(request: Request, expected: str, realm: str) -> None:
    given = _bearer(request)
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise ProblemError(
            401,
            f"Send 'Authorization: Bearer <token>' with the {realm} token.",
            kind="unauthorized",
            headers={"WWW-Authenticate": f'Bearer realm="{realm}"'},
        )


def require_api_token(request: Request) -> None:
    _check(request, request.app.state.settings.crystalpm_token.get_secret_value(), "crystalpm")


def require_admin_token(request: Request) -> None:
    _check(request, request.app.state.settings.sandbox_admin_token.get_secret_value(), "sandbox-admin")
