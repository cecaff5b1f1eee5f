"""Password sign-in: lockout check, argon2 verification, a new session, and an audit record of each outcome."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from api.security.audit import audit_security
from api.security.lockout import LockoutPolicy, Outcome, locked_until, record_attempt
from api.security.passwords import rehashed, verify_password
from api.security.sessions import start_session
from api.storage.models import SessionRecord, UserRecord
from api.storage.users import find_user, normalize_username


class SignInRefused(Exception):
    """The username or password is wrong (the same answer for unknown users)."""


class SignInLocked(SignInRefused):
    """Too many recent failures for this username."""

    def __init__(self, until: datetime, now: datetime) -> None:
        super().__init__("too many failed sign-ins")
        self.retry_after_seconds = max(1, int((until - now).total_seconds()))


@dataclass
class SignedIn:
    user: UserRecord
    session_id: str
    session: SessionRecord


def audit_sign_in(db: Session, action: str, user: UserRecord | None, now: datetime) -> None:
    """Record `auth.<action>`; only known usernames are kept (an unknown one may be a mistyped password)."""
    actor = f"user:{user.id}" if user is not None else "anonymous"
    detail = {"username": user.username} if user is not None else {"username_known": False}
    audit_security(db, actor=actor, action=f"auth.{action}", now=now, detail=detail)


def sign_in(db: Session, username: str, password: str, policy: LockoutPolicy, now: datetime) -> SignedIn:
    """A new session for a right username and password; SignInLocked or SignInRefused otherwise."""
    name = normalize_username(username)
    user = find_user(db, name)
    until = locked_until(db, name, policy, now)
    if until is not None:
        record_attempt(db, name, Outcome.LOCKED, now)
        audit_sign_in(db, "login_locked", user, now)
        raise SignInLocked(until, now)
    usable = user if user is not None and user.active else None
    if not verify_password(usable.password_hash if usable else None, password) or usable is None:
        record_attempt(db, name, Outcome.FAILURE, now)
        audit_sign_in(db, "login_failed", user, now)
        until = locked_until(db, name, policy, now)
        if until is not None:
            audit_sign_in(db, "lockout", user, now)
            raise SignInLocked(until, now)
        raise SignInRefused("the username or password is wrong")
    record_attempt(db, name, Outcome.SUCCESS, now)
    fresh_hash = rehashed(usable.password_hash or "", password)
    if fresh_hash is not None:
        usable.password_hash = fresh_hash
        db.commit()
    session_id, record = start_session(db, usable.id, now)
    audit_sign_in(db, "login", usable, now)
    return SignedIn(user=usable, session_id=session_id, session=record)
