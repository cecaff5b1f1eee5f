"""Server-side web sessions: a signed cookie carries a random id, the database keeps its hash and timeouts."""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Response
from sqlalchemy import update
from sqlalchemy.orm import Session

from api.storage.models import SessionRecord
from billing.settings import Settings

SESSION_COOKIE = "fovea_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
LOGIN_CSRF_COOKIE = "fovea_login_csrf"
# last_seen_at is written at most this often, so reading pages does not write on every request.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    absolute: timedelta
    secret: bytes
    secure_cookie: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> "SessionPolicy":
        return cls(
            idle=timedelta(minutes=settings.session_idle_minutes),
            absolute=timedelta(hours=settings.session_absolute_hours),
            secret=settings.session_secret.get_secret_value().encode(),
            secure_cookie=settings.public_url.startswith("https://"),
        )


def _mac(secret: bytes, purpose: str, value: str) -> str:
    digest = hmac.new(secret, f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign_value(secret: bytes, purpose: str, value: str) -> str:
    return f"{value}.{_mac(secret, purpose, value)}"


def unsign_value(secret: bytes, purpose: str, signed: str) -> str | None:
    """The value inside a signed string, or None when the signature is not ours."""
    value, _, mac = signed.rpartition(".")
    if not value or not hmac.compare_digest(mac.encode(), _mac(secret, purpose, value).encode()):
        return None
    return value


def hash_session_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start_session(db: Session, user_id: str, now: datetime) -> tuple[str, SessionRecord]:
    """A new session for the user, committed; returns the raw id (for the cookie) and the stored row."""
    session_id = secrets.token_urlsafe(32)
    record = SessionRecord(
        id_hash=hash_session_id(session_id),
        user_id=user_id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
    )
    db.add(record)
    db.commit()
    return session_id, record


def is_expired(record: SessionRecord, policy: SessionPolicy, now: datetime) -> bool:
    return (
        record.revoked_at is not None
        or now - record.last_seen_at > policy.idle
        or now - record.created_at > policy.absolute
    )


def load_session(db: Session, session_id: str, policy: SessionPolicy, now: datetime) -> SessionRecord | None:
    """The live session with this id, its idle clock reset; None when unknown, ended or timed out."""
    record = db.get(SessionRecord, hash_session_id(session_id))
    if record is None:
        return None
    if is_expired(record, policy, now):
        db.delete(record)
        db.commit()
        return None
    if now - record.last_seen_at >= TOUCH_EVERY:
        record.last_seen_at = now
        db.commit()
    return record


def end_session(db: Session, session_id: str, now: datetime) -> None:
    record = db.get(SessionRecord, hash_session_id(session_id))
    if record is not None:
        record.revoked_at = now
        db.commit()


def end_user_sessions(db: Session, user_id: str, now: datetime) -> None:
    """Sign a user out everywhere (password reset, account disabled)."""
    db.execute(
        update(SessionRecord)
        .where(SessionRecord.user_id == user_id, SessionRecord.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    db.commit()


def session_id_from_cookie(policy: SessionPolicy, cookie: str | None) -> str | None:
    return unsign_value(policy.secret, SESSION_COOKIE, cookie) if cookie else None


def set_session_cookie(response: Response, policy: SessionPolicy, session_id: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        sign_value(policy.secret, SESSION_COOKIE, session_id),
        max_age=int(policy.absolute.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=policy.secure_cookie,
        path="/",
    )


def clear_session_cookie(response: Response, policy: SessionPolicy) -> None:
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="lax", secure=policy.secure_cookie, path="/"
    )


def issue_login_csrf(response: Response, policy: SessionPolicy, path: str = "/auth") -> str:
    """A signed double-submit token for the sign-in form: set as a cookie, echoed in the form's csrf_token.

    `path` is where the form posts (the API's /auth, or the web UI's /ui/login).
    """
    token = sign_value(policy.secret, LOGIN_CSRF_COOKIE, secrets.token_urlsafe(24))
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=policy.secure_cookie, path=path
    )
    return token


def login_csrf_matches(policy: SessionPolicy, cookie: str | None, submitted: str | None) -> bool:
    if not cookie or not submitted or not hmac.compare_digest(cookie.encode(), submitted.encode()):
        return False
    return unsign_value(policy.secret, LOGIN_CSRF_COOKIE, cookie) is not None
