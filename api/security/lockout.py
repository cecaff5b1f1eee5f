"""Lockout after repeated failed sign-ins: N failures within a window lock the username for M minutes.

Attempts are kept by username whether or not an account has it, so a lockout says nothing about who exists.
Attempts refused while locked are recorded but do not extend the lock.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.storage.models import LoginAttemptRecord
from billing.settings import Settings


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    LOCKED = "locked"


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int
    window: timedelta
    lockout: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> "LockoutPolicy":
        return cls(
            max_failures=settings.login_max_failures,
            window=timedelta(minutes=settings.login_failure_window_minutes),
            lockout=timedelta(minutes=settings.login_lockout_minutes),
        )


def record_attempt(db: Session, username: str, outcome: Outcome, now: datetime) -> None:
    db.add(LoginAttemptRecord(username=username, outcome=outcome.value, at=now))
    db.commit()


def locked_until(db: Session, username: str, policy: LockoutPolicy, now: datetime) -> datetime | None:
    """When the lock on `username` ends, or None when it is not locked at `now`."""
    recent = db.scalars(
        select(LoginAttemptRecord)
        .where(
            LoginAttemptRecord.username == username,
            LoginAttemptRecord.outcome != Outcome.LOCKED.value,
            LoginAttemptRecord.at <= now,
        )
        .order_by(LoginAttemptRecord.at.desc(), LoginAttemptRecord.id.desc())
        .limit(policy.max_failures)
    ).all()
    if len(recent) < policy.max_failures or any(a.outcome != Outcome.FAILURE.value for a in recent):
        return None
    newest, oldest = recent[0].at, recent[-1].at
    if newest - oldest > policy.window:
        return None
    until = newest + policy.lockout
    return until if until > now else None
