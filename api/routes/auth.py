"""Sign-in for people: `/auth/login` (JSON or form), `/auth/logout`, `/auth/me`, and their own API keys."""

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from api.deps import SessionDep, SettingsDep
from api.problems import ProblemError, validation_errors
from api.routes.webhooks import read_capped_body
from api.security.api_keys import issue_api_key, list_api_keys, revoke_api_key
from api.security.audit import audit_security
from api.security.deps import ClockDep, Principal, require
from api.security.lockout import LockoutPolicy
from api.security.permissions import Permission
from api.security.sessions import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    SessionPolicy,
    clear_session_cookie,
    end_session,
    issue_login_csrf,
    login_csrf_matches,
    session_id_from_cookie,
    set_session_cookie,
)
from api.security.signin import SignInLocked, SignInRefused, sign_in
from api.storage.models import ApiKeyRecord
from billing.practice import Role

router = APIRouter(prefix="/auth", tags=["auth"])
Account = Annotated[Principal, Depends(require(Permission.ACCOUNT_SELF))]
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=1024)


class LoginForm(BaseModel):
    csrf_token: str


class Me(BaseModel):
    id: str
    username: str
    display_name: str
    roles: list[Role]
    practice_ids: list[str]
    permissions: list[str]
    via: str
    csrf_token: str | None = Field(None, description="send as X-CSRF-Token on cookie-authenticated writes")


class NewApiKey(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    expires_in_days: int | None = Field(None, ge=1, le=3650)


class ApiKeyInfo(BaseModel):
    id: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, record: ApiKeyRecord) -> "ApiKeyInfo":
        return cls.model_validate(record, from_attributes=True)


class IssuedApiKey(ApiKeyInfo):
    key: str = Field(description="shown once; send as `Authorization: Bearer <key>`")


def me_of(principal: Principal) -> Me:
    return Me(
        id=principal.user_id,
        username=principal.username,
        display_name=principal.display_name,
        roles=sorted(principal.roles),
        practice_ids=sorted(principal.practice_ids),
        permissions=sorted(p.value for p in principal.permissions),
        via=principal.via,
        csrf_token=principal.csrf_token,
    )


def safe_next(target: str | None) -> str:
    """Only same-site paths, so the sign-in form cannot be used to redirect elsewhere."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


@router.get("/login")
def login_form_token(response: Response, settings: SettingsDep) -> LoginForm:
    """A CSRF token for the HTML sign-in form: put it in the form's `csrf_token` field (the cookie matches it)."""
    return LoginForm(csrf_token=issue_login_csrf(response, SessionPolicy.from_settings(settings)))


async def read_credentials(
    request: Request, policy: SessionPolicy, max_bytes: int
) -> tuple[Credentials, bool]:
    """The credentials and whether they came from a form (which must carry the sign-in CSRF token)."""
    is_form = request.headers.get("content-type", "").startswith(FORM_TYPES)
    try:
        if not is_form:
            return Credentials.model_validate_json(await read_capped_body(request, max_bytes)), False
        form = await request.form()
        submitted = form.get(CSRF_FIELD)
        if not login_csrf_matches(
            policy, request.cookies.get(LOGIN_CSRF_COOKIE), submitted if isinstance(submitted, str) else None
        ):
            raise ProblemError(
                403,
                "The sign-in form's csrf_token does not match; reload the form (GET /auth/login) and retry.",
                type_="/problems/csrf",
            )
        return Credentials.model_validate(
            {"username": form.get("username"), "password": form.get("password")}
        ), True
    except ValidationError as exc:
        raise ProblemError(
            422,
            "Send `username` and `password` as JSON or as a form.",
            title="Request validation failed",
            errors=validation_errors(exc.errors()),
        ) from None


@router.post(
    "/login",
    response_model=Me,
    responses={303: {"description": "form sign-in: redirect to `next`"}, 401: {}, 403: {}, 429: {}},
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": Credentials.model_json_schema()},
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "username": {"type": "string"},
                            "password": {"type": "string"},
                            CSRF_FIELD: {"type": "string"},
                            "next": {"type": "string"},
                        },
                        "required": ["username", "password", CSRF_FIELD],
                    }
                },
            },
            "required": True,
        }
    },
)
async def login(request: Request, db: SessionDep, settings: SettingsDep, clock: ClockDep) -> Response:
    """Sign in with a username and password: a session cookie (HttpOnly, SameSite=Lax) and your account."""
    policy = SessionPolicy.from_settings(settings)
    credentials, from_form = await read_credentials(request, policy, settings.max_body_bytes)
    now = clock()
    try:
        signed = await run_in_threadpool(
            sign_in,
            db,
            credentials.username,
            credentials.password,
            LockoutPolicy.from_settings(settings),
            now,
        )
    except SignInLocked as locked:
        minutes = -(-locked.retry_after_seconds // 60)
        raise ProblemError(
            429,
            f"Too many failed sign-ins for this username; try again in {minutes} minute(s) or ask an admin.",
            title="Sign-in locked",
            type_="/problems/sign-in-locked",
            headers={"Retry-After": str(locked.retry_after_seconds)},
        ) from None
    except SignInRefused:
        raise ProblemError(
            401,
            "The username or password is wrong.",
            title="Sign-in failed",
            type_="/problems/sign-in-failed",
        ) from None
    # A fresh session id at every sign-in: an id planted before sign-in is worthless (session fixation).
    previous = session_id_from_cookie(policy, request.cookies.get(SESSION_COOKIE))
    if previous is not None:
        await run_in_threadpool(end_session, db, previous, now)
    principal = Principal(
        user_id=signed.user.id,
        username=signed.user.username,
        display_name=signed.user.display_name,
        roles=frozenset(Role(row.role) for row in signed.user.roles),
        practice_ids=frozenset(row.practice_id for row in signed.user.practices),
        via="session",
        session_id=signed.session_id,
        csrf_token=signed.session.csrf_token,
    )
    if from_form:
        response: Response = RedirectResponse(
            safe_next(str((await request.form()).get("next") or "")), status.HTTP_303_SEE_OTHER
        )
    else:
        response = JSONResponse(me_of(principal).model_dump(mode="json"))
    set_session_cookie(response, policy, signed.session_id)
    return response


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(principal: Account, db: SessionDep, settings: SettingsDep, clock: ClockDep) -> Response:
    """End this session (a no-op for API keys: revoke those with DELETE /auth/api-keys/{id})."""
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    if principal.session_id is not None:
        now = clock()
        end_session(db, principal.session_id, now)
        audit_security(
            db, actor=principal.actor, action="auth.logout", now=now, detail={"username": principal.username}
        )
        clear_session_cookie(response, SessionPolicy.from_settings(settings))
    return response


@router.get("/me")
def me(principal: Account) -> Me:
    """Who you are: roles, the practices you see, what you may do, and the CSRF token of your session."""
    return me_of(principal)


@router.post("/api-keys", status_code=status.HTTP_201_CREATED)
def create_api_key(body: NewApiKey, principal: Account, db: SessionDep, clock: ClockDep) -> IssuedApiKey:
    """A new API key for yourself; the key is shown in this answer only."""
    now = clock()
    expires_at = now + timedelta(days=body.expires_in_days) if body.expires_in_days else None
    key, record = issue_api_key(db, principal.user_id, body.name, now, expires_at)
    return IssuedApiKey(**ApiKeyInfo.of(record).model_dump(), key=key)


@router.get("/api-keys")
def api_keys(principal: Account, db: SessionDep) -> list[ApiKeyInfo]:
    """Your API keys (prefixes only), revoked ones included."""
    return [ApiKeyInfo.of(record) for record in list_api_keys(db, principal.user_id)]


@router.delete("/api-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_api_key(key_id: str, principal: Account, db: SessionDep, clock: ClockDep) -> Response:
    """Revoke one of your API keys at once."""
    if not revoke_api_key(db, principal.user_id, key_id, clock()):
        raise ProblemError(404, "You have no API key with this id; GET /auth/api-keys lists yours.")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
