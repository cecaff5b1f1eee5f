"""Per-user API keys: shown once, stored as a public prefix and a SHA-256, revocable, optionally expiring."""

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.storage.models import ApiKeyRecord

KEY_SCHEME = "fovea"
# last_used_at is written at most this often, so busy scripts do not write on every call.
TOUCH_EVERY = timedelta(minutes=1)


def _digest(key: str) -> str:
    # A key holds 256 random bits, so a fast hash is enough; passwords are what need argon2.
    return hashlib.sha256(key.encode()).hexdigest()


def issue_api_key(
    db: Session, user_id: str, name: str, now: datetime, expires_at: datetime | None = None
) -> tuple[str, ApiKeyRecord]:
    """A new key for the user, committed; the plaintext is returned here and never again."""
    prefix = secrets.token_hex(6)
    key = f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    record = ApiKeyRecord(
        id=f"key_{uuid.uuid4().hex[:16]}",
        user_id=user_id,
        name=name,
        prefix=prefix,
        key_hash=_digest(key),
        created_at=now,
        expires_at=expires_at,
    )
    db.add(record)
    db.commit()
    return key, record


def authenticate_api_key(db: Session, key: str, now: datetime) -> ApiKeyRecord | None:
    """The live key record for this plaintext key; None when unknown, revoked or expired."""
    scheme, _, rest = key.partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != KEY_SCHEME or not prefix or not secret:
        return None
    record = db.scalars(select(ApiKeyRecord).where(ApiKeyRecord.prefix == prefix)).first()
    if record is None or not hmac.compare_digest(record.key_hash, _digest(key)):
        return None
    if record.revoked_at is not None or (record.expires_at is not None and record.expires_at <= now):
        return None
    if record.last_used_at is None or now - record.last_used_at >= TOUCH_EVERY:
        record.last_used_at = now
        db.commit()
    return record


def list_api_keys(db: Session, user_id: str) -> list[ApiKeyRecord]:
    query = select(ApiKeyRecord).where(ApiKeyRecord.user_id == user_id).order_by(ApiKeyRecord.created_at)
    return list(db.scalars(query))


def revoke_api_key(db: Session, user_id: str, key_id: str, now: datetime) -> bool:
    """Revoke one of the user's keys; False when the user has no such key."""
    record = db.get(ApiKeyRecord, key_id)
    if record is None or record.user_id != user_id:
        return False
    if record.revoked_at is None:
        record.revoked_at = now
        db.commit()
    return True
