"""Users of the copilot: create, find, list and change staff accounts, their roles and their practices."""

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.storage.models import UserPracticeRecord, UserRecord, UserRoleRecord
from billing.practice import Role, User


class UsernameTakenError(ValueError):
    """Another account already has this username."""


def normalize_username(username: str) -> str:
    return username.strip().lower()


def to_user(record: UserRecord) -> User:
    return User(
        id=record.id,
        username=record.username,
        display_name=record.display_name,
        roles=[Role(row.role) for row in record.roles],
        practice_ids=[row.practice_id for row in record.practices],
        active=record.active,
    )


def create_user(
    session: Session,
    *,
    username: str,
    roles: Iterable[Role],
    practice_ids: Iterable[str],
    password_hash: str | None,
    display_name: str = "",
    user_id: str | None = None,
) -> UserRecord:
    """Add a user and commit; UsernameTakenError when the (case-insensitive) username exists."""
    record = UserRecord(
        id=user_id or f"usr_{uuid.uuid4().hex[:16]}",
        username=normalize_username(username),
        display_name=display_name,
        password_hash=password_hash,
        active=True,
    )
    set_roles(record, roles)
    set_practices(record, practice_ids)
    session.add(record)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise UsernameTakenError(f"the username {record.username!r} is taken") from None
    return record


def set_roles(record: UserRecord, roles: Iterable[Role]) -> None:
    record.roles = [UserRoleRecord(role=Role(role).value) for role in sorted(set(roles))]


def set_practices(record: UserRecord, practice_ids: Iterable[str]) -> None:
    record.practices = [
        UserPracticeRecord(practice_id=practice_id) for practice_id in sorted(set(practice_ids))
    ]


def get_user(session: Session, user_id: str) -> UserRecord | None:
    return session.get(UserRecord, user_id)


def find_user(session: Session, username: str) -> UserRecord | None:
    query = select(UserRecord).where(UserRecord.username == normalize_username(username))
    return session.scalars(query).first()


def list_users(session: Session, *, practice_ids: Iterable[str] | None = None) -> list[UserRecord]:
    """All users, or those who belong to at least one of `practice_ids`."""
    query = select(UserRecord).order_by(UserRecord.username)
    if practice_ids is not None:
        members = select(UserPracticeRecord.user_id).where(
            UserPracticeRecord.practice_id.in_(list(practice_ids))
        )
        query = query.where(UserRecord.id.in_(members))
    return list(session.scalars(query))
