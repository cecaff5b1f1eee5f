"""Admin: list, create and change users (roles, practices, active) and reset passwords, within the admin's practices.

An admin manages only accounts whose practices are all among their own, so an office manager cannot
take over a group administrator's account to reach another practice.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, Field, SecretStr
from sqlalchemy.orm import Session

from api.deps import SessionDep
from api.problems import ProblemError
from api.security.audit import audit_security
from api.security.deps import ClockDep, Principal, require
from api.security.passwords import MIN_PASSWORD_LENGTH, WeakPasswordError, hash_password
from api.security.permissions import Permission
from api.security.sessions import end_user_sessions
from api.storage.models import UserRecord
from api.storage.users import (
    UsernameTakenError,
    create_user,
    get_user,
    list_users,
    set_practices,
    set_roles,
    to_user,
)
from billing.practice import Role, User

router = APIRouter(prefix="/admin/users", tags=["admin"])
Admin = Annotated[Principal, Depends(require(Permission.ADMIN_USERS))]
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$"


class NewUser(BaseModel):
    username: str = Field(pattern=USERNAME_PATTERN)
    display_name: str = Field("", max_length=255)
    password: SecretStr | None = Field(None, description="omit for a service account (no password sign-in)")
    roles: list[Role] = Field(min_length=1)
    practice_ids: list[str] = Field(default_factory=list)


class UserChange(BaseModel):
    display_name: str | None = Field(None, max_length=255)
    roles: list[Role] | None = Field(None, min_length=1)
    practice_ids: list[str] | None = None
    active: bool | None = None


class PasswordReset(BaseModel):
    password: SecretStr = Field(min_length=MIN_PASSWORD_LENGTH)


def manages(admin: Principal, user: UserRecord) -> bool:
    return {row.practice_id for row in user.practices} <= admin.practice_ids


def managed_user(db: Session, admin: Principal, user_id: str) -> UserRecord:
    """The user, if this admin manages them; 404 otherwise (accounts of other practices do not exist here)."""
    user = get_user(db, user_id)
    if user is None or not manages(admin, user):
        raise ProblemError(404, "No user with this id among the practices you administer.")
    return user


def check_practices(admin: Principal, practice_ids: list[str]) -> None:
    outside = sorted(set(practice_ids) - admin.practice_ids)
    if outside:
        raise ProblemError(403, f"You can grant only practices you belong to; not {', '.join(outside)}.")


def hashed(password: SecretStr) -> str:
    try:
        return hash_password(password.get_secret_value())
    except WeakPasswordError as exc:
        raise ProblemError(422, f"The password is too weak: {exc}.") from None


@router.get("")
def users(admin: Admin, db: SessionDep) -> list[User]:
    """Users whose practices are all among yours."""
    return [to_user(user) for user in list_users(db) if manages(admin, user)]


@router.post("", status_code=status.HTTP_201_CREATED)
def new_user(body: NewUser, admin: Admin, db: SessionDep, clock: ClockDep) -> User:
    """Create a user in your practices; usernames are case-insensitive and unique."""
    check_practices(admin, body.practice_ids)
    try:
        user = create_user(
            db,
            username=body.username,
            display_name=body.display_name,
            roles=body.roles,
            practice_ids=body.practice_ids,
            password_hash=hashed(body.password) if body.password is not None else None,
        )
    except UsernameTakenError:
        raise ProblemError(409, f"The username {body.username.lower()!r} is taken; choose another.") from None
    audit_security(
        db, actor=admin.actor, action="admin.user_created", now=clock(), detail=to_user(user).model_dump()
    )
    return to_user(user)


@router.get("/{user_id}")
def user(user_id: str, admin: Admin, db: SessionDep) -> User:
    return to_user(managed_user(db, admin, user_id))


@router.patch("/{user_id}")
def change_user(user_id: str, body: UserChange, admin: Admin, db: SessionDep, clock: ClockDep) -> User:
    """Change a user's name, roles, practices or active flag; disabling signs them out everywhere."""
    user = managed_user(db, admin, user_id)
    if user.id == admin.user_id and (
        body.active is False or (body.roles is not None and Role.ADMIN not in body.roles)
    ):
        raise ProblemError(409, "You cannot disable yourself or drop your own Admin role; ask another admin.")
    if body.practice_ids is not None:
        check_practices(admin, body.practice_ids)
        set_practices(user, body.practice_ids)
    if body.roles is not None:
        set_roles(user, body.roles)
    if body.display_name is not None:
        user.display_name = body.display_name
    if body.active is not None:
        user.active = body.active
    db.commit()
    now = clock()
    if body.active is False:
        end_user_sessions(db, user.id, now)
    changed = body.model_dump(exclude_none=True)
    audit_security(
        db, actor=admin.actor, action="admin.user_changed", now=now, detail={"user_id": user.id, **changed}
    )
    return to_user(user)


@router.post("/{user_id}/password", status_code=status.HTTP_204_NO_CONTENT)
def reset_password(
    user_id: str, body: PasswordReset, admin: Admin, db: SessionDep, clock: ClockDep
) -> Response:
    """Set a new password and sign the user out everywhere."""
    user = managed_user(db, admin, user_id)
    user.password_hash = hashed(body.password)
    db.commit()
    now = clock()
    end_user_sessions(db, user.id, now)
    audit_security(db, actor=admin.actor, action="admin.password_reset", now=now, detail={"user_id": user.id})
    return Response(status_code=status.HTTP_204_NO_CONTENT)
