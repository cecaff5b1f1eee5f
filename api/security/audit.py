"""Security events (sign-in, sign-out, lockout, user changes) appended to the hash-chained audit log."""

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session


def audit_security(db: Session, *, actor: str, action: str, now: datetime, detail: dict[str, Any]) -> None:
    """Append `auth.*` or `admin.*` records; `detail` names accounts, never passwords or patient data."""
    # Imported here: the audit module pulls in the graph ports, which the app does not need at import time.
    from api.storage.audit import append_audit
    from graphs.ports import AuditEntry

    append_audit(db, AuditEntry(actor=actor, action=action, detail=detail), at=now)
