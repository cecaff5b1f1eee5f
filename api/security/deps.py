"""FastAPI guards: who is calling (session cookie, API key or webhook signature), may they, which practices.

Use `Annotated[Principal, Depends(require(Permission.X))]` on every route; create_app refuses (through
api.security.registry) a route that declares no permission.
"""

import hmac
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Annotated, Literal

from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.deps import SessionDep, SettingsDep
from api.problems import ProblemError
from api.security.api_keys import authenticate_api_key
from api.security.permissions import Permission, permissions_of, roles_for
from api.security.sessions import (
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    SessionPolicy,
    load_session,
    session_id_from_cookie,
)
from api.storage.models import UserRecord, utc_now
from api.storage.users import get_user
from billing.practice import Role
from billing.settings import Settings

Clock = Callable[[], datetime]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SERVICE_ACTOR = "service:crystalpm"


class Principal(BaseModel):
    """Who is calling: a signed-in user, an API key's user, or Crystal PM by its webhook signature."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    username: str
    display_name: str = ""
    roles: frozenset[Role]
    practice_ids: frozenset[str]
    via: Literal["session", "api_key", "signature"]
    # Secrets of the session: kept out of repr so a logged principal leaks neither.
    session_id: str | None = Field(None, repr=False)
    csrf_token: str | None = Field(None, repr=False)

    @property
    def actor(self) -> str:
        """The audit log's name for this caller."""
        return SERVICE_ACTOR if self.via == "signature" else f"user:{self.user_id}"

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_of(self.roles)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


def get_clock(request: Request) -> Clock:
    """The time source: utc_now, or the clock a test put on app.state.clock."""
    return getattr(request.app.state, "clock", utc_now)


ClockDep = Annotated[Clock, Depends(get_clock)]


def unauthenticated(detail: str) -> ProblemError:
    return ProblemError(
        401,
        detail,
        title="Not signed in",
        type_="/problems/unauthenticated",
        headers={"WWW-Authenticate": 'Bearer realm="fovea"'},
    )


def forbidden(detail: str, type_: str = "/problems/forbidden") -> ProblemError:
    return ProblemError(403, detail, title="Forbidden", type_=type_)


def _principal(user: UserRecord, via: Literal["session", "api_key"], **extra: str) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        roles=frozenset(Role(row.role) for row in user.roles),
        practice_ids=frozenset(row.practice_id for row in user.practices),
        via=via,
        **extra,
    )


def has_credentials(request: Request) -> bool:
    return "authorization" in request.headers or SESSION_COOKIE in request.cookies


def authenticate(request: Request, db: Session, settings: Settings, now: datetime) -> Principal | None:
    """The caller by API key (Authorization: Bearer) or session cookie; None without either; 401 if invalid."""
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, key = authorization.partition(" ")
        record = authenticate_api_key(db, key.strip(), now) if scheme.lower() == "bearer" else None
        user = get_user(db, record.user_id) if record is not None else None
        if user is None or not user.active:
            raise unauthenticated(
                "The API key is unknown, revoked or expired; send `Authorization: Bearer <key>`."
            )
        return _principal(user, "api_key")
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie is None:
        return None
    policy = SessionPolicy.from_settings(settings)
    session_id = session_id_from_cookie(policy, cookie)
    stored = load_session(db, session_id, policy, now) if session_id else None
    user = get_user(db, stored.user_id) if stored is not None else None
    if stored is None or session_id is None or user is None or not user.active:
        raise unauthenticated("Your session has ended or timed out; sign in again at POST /auth/login.")
    return _principal(user, "session", session_id=session_id, csrf_token=stored.csrf_token)


async def check_csrf(request: Request, principal: Principal) -> None:
    """Cookie-authenticated writes must echo the session's CSRF token (header, or form field for forms)."""
    if principal.via != "session" or request.method in SAFE_METHODS:
        return
    supplied = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if supplied is None and content_type.startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        supplied = value if isinstance(value, str) else None
    expected = principal.csrf_token or ""
    if not supplied or not hmac.compare_digest(supplied.encode(), expected.encode()):
        raise forbidden(
            f"Send the session's CSRF token in {CSRF_HEADER} (or the `{CSRF_FIELD}` form field); "
            "GET /auth/me returns it.",
            type_="/problems/csrf",
        )


class Require:
    """The guard a route declares: authenticates the caller and admits only roles the table grants."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    def refusal(self) -> ProblemError:
        return forbidden(
            f"This needs the `{self.permission.value}` permission, which your roles do not grant."
        )

    async def __call__(
        self, request: Request, db: SessionDep, settings: SettingsDep, clock: ClockDep
    ) -> Principal:
        principal = await run_in_threadpool(authenticate, request, db, settings, clock())
        if principal is None:
            raise unauthenticated(
                "Sign in (POST /auth/login) or send an API key as `Authorization: Bearer <key>`."
            )
        await check_csrf(request, principal)
        if not principal.can(self.permission):
            raise self.refusal()
        return principal


class RequireSignature(Require):
    """The guard of a signed webhook route: a valid HMAC signature is the Service principal.

    The route itself checks the signature against the capped body; this guard declares the permission,
    checks the table grants it to Service, and refuses signed-in staff (403) who call without a signature.
    """

    def __init__(self, permission: Permission, signature_header: str) -> None:
        super().__init__(permission)
        self.signature_header = signature_header

    async def __call__(
        self, request: Request, db: SessionDep, settings: SettingsDep, clock: ClockDep
    ) -> Principal:
        if Role.SERVICE not in roles_for(self.permission):
            raise forbidden(f"The Service role does not hold `{self.permission.value}`.")
        if self.signature_header not in request.headers and has_credentials(request):
            caller = await run_in_threadpool(authenticate, request, db, settings, clock())
            if caller is not None and not caller.can(self.permission):
                raise self.refusal()
        return Principal(
            user_id=SERVICE_ACTOR,
            username="crystalpm",
            roles=frozenset({Role.SERVICE}),
            practice_ids=frozenset(),
            via="signature",
        )


@cache
def require(permission: Permission) -> Require:
    """The guard for `permission` (one instance per permission, so FastAPI runs it once per request)."""
    return Require(permission)


@cache
def require_signature(permission: Permission, signature_header: str) -> RequireSignature:
    return RequireSignature(permission, signature_header)


def ensure_practice_access(principal: Principal, practice_id: str) -> None:
    """404 unless the caller belongs to the practice: another practice's resources do not exist for them."""
    if practice_id not in principal.practice_ids:
        raise ProblemError(404, "Nothing with this id among the practices you belong to.")


def visible_practice_ids(principal: Principal, practice_id: str | None = None) -> list[str]:
    """The practices a list or metric should cover: the one asked for (if the caller's), else all theirs."""
    if practice_id is not None:
        ensure_practice_access(principal, practice_id)
        return [practice_id]
    return sorted(principal.practice_ids)
