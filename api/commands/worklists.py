"""`fovea worklist export`: approved items as CSV or PDF work lists for staff to key into Crystal PM."""

from datetime import UTC, date, datetime, time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from api.storage.models import ReviewItemRecord
    from billing.settings import Settings
    from tools.worklists import WorkListItem, WorkListKind

app = typer.Typer(help="Work lists: approved items for staff to key into Crystal PM.", no_args_is_help=True)

EXPORTED_ACTION = "worklist.exported"
# Review workflows and the work list their approvals belong on; anything else is a plain task.
WORKFLOW_KINDS: dict[str, "WorkListKind"] = {
    "remittance": "posting",
    "posting": "posting",
    "appeals": "appeal",
    "appeal": "appeal",
    "claim_scrub": "correction",
    "charge_coding": "charge",
}


class Format(StrEnum):
    CSV = "csv"
    PDF = "pdf"


class Source(StrEnum):
    OUTBOX = "outbox"
    REVIEWS = "reviews"


@app.callback()
def worklist() -> None:
    """Work lists: approved items for staff to key into Crystal PM."""


def outbox_dir(settings: "Settings") -> Path:
    return settings.files_outbox_dir or settings.data_dir / "outbox"


def _review_items(session: "Session", since: datetime) -> list["WorkListItem"]:
    from pydantic import ValidationError
    from sqlalchemy import select

    from api.storage.models import ReviewItemRecord
    from billing.posting import PostingDraft
    from tools.worklists import WorkListItem, items_from_posting

    query = (
        select(ReviewItemRecord)
        .where(
            ReviewItemRecord.status == "decided",
            ReviewItemRecord.decision.in_(("approve", "edit")),
            ReviewItemRecord.decided_at >= since,
        )
        .order_by(ReviewItemRecord.decided_at)
    )
    items: list[WorkListItem] = []
    for record in session.scalars(query):
        payload = record.edited or record.payload
        draft = payload.get("posting") or payload.get("draft")
        common = {"practice_id": record.practice_id, "approved_by": record.decided_by or ""}
        if isinstance(draft, dict):
            try:
                posting = PostingDraft.model_validate(draft)
            except ValidationError:
                posting = None
            if posting is not None:
                items += items_from_posting(
                    posting, item_id=record.id, approved_at=record.decided_at, **common
                )
                continue
        items.append(_generic_item(record, **common))
    return items


def _generic_item(record: "ReviewItemRecord", *, practice_id: str, approved_by: str) -> "WorkListItem":
    from tools.worklists import WorkListItem

    return WorkListItem(
        kind=WORKFLOW_KINDS.get(record.workflow, "task"),
        item_id=record.id,
        practice_id=practice_id,
        claim_id=record.claim_id or "",
        patient_id=record.patient_id or "",
        title=record.title,
        detail=record.reason,
        amount=record.amount or None,
        approved_by=approved_by,
        approved_at=record.decided_at,
    )


def _exported_keys(session: "Session", fmt: str) -> set[str]:
    from sqlalchemy import select

    from api.storage.models import AuditRecord

    details = session.scalars(select(AuditRecord.detail).where(AuditRecord.action == EXPORTED_ACTION))
    return {d.get("item_id", "") for d in details if d.get("format") == fmt}


def export_approved(
    settings: "Settings",
    sessions: "sessionmaker[Session]",
    *,
    since: date,
    fmt: Format,
    output: Path,
    source: Source,
    actor: str = "system:worklist",
) -> tuple[list[Path], int]:
    """Write the work lists of items approved since `since` not yet exported in this format; (files, items)."""
    from api.storage.audit import AuditLog
    from graphs.ports import AuditEntry
    from tools.crystalpm.files import pending_work
    from tools.worklists import WorkListItem, export_worklists, items_from_outbox

    start = datetime.combine(since, time.min, tzinfo=UTC)
    with sessions() as session:
        if source == Source.OUTBOX:
            work = [w for w in pending_work(outbox_dir(settings)) if w.created_at >= start]
            items = items_from_outbox(work)
        else:
            items = _review_items(session, start)
        done = _exported_keys(session, fmt.value)
    fresh = [item for item in items if item.item_id not in done]
    audit = AuditLog(sessions)

    def mark_exported(item: WorkListItem, path: Path) -> None:
        audit.record(
            AuditEntry(
                actor=actor,
                action=EXPORTED_ACTION,
                practice_id=item.practice_id,
                patient_id=item.patient_id,
                claim_id=item.claim_id,
                detail={"item_id": item.item_id, "kind": item.kind, "format": fmt.value, "file": path.name},
            )
        )

    files = export_worklists(
        fresh, output, fmt=fmt.value, generated_on=datetime.now(UTC).date(), on_exported=mark_exported
    )
    return files, len(fresh)


@app.command("export")
def export(
    since: Annotated[datetime, typer.Option("--since", help="Items approved on or after this date")],
    fmt: Annotated[Format, typer.Option("--format", help="csv or pdf")] = Format.CSV,
    output: Annotated[Path, typer.Option("--output", help="Folder for the work lists")] = Path("worklists"),
    source: Annotated[
        Source | None,
        typer.Option(
            help="outbox (files adapter writes) or reviews (approved review items); default by adapter"
        ),
    ] = None,
) -> None:
    """Export approved postings, corrections, appeals and tasks as work lists; each item once per format."""
    from api.storage.db import create_db_engine, create_session_factory
    from api.storage.migrate import migrate_engine
    from billing.settings import get_settings

    settings = get_settings()
    chosen = source or (Source.OUTBOX if settings.crystalpm_adapter == "files" else Source.REVIEWS)
    engine = create_db_engine(settings.resolved_database_url)
    try:
        migrate_engine(engine)
        files, count = export_approved(
            settings,
            create_session_factory(engine),
            since=since.date(),
            fmt=fmt,
            output=output,
            source=chosen,
        )
    finally:
        engine.dispose()
    if not files:
        typer.echo(
            f"Nothing to export: no {chosen.value} item approved since {since.date()} is left unexported."
        )
        return
    typer.echo(f"Exported {count} item(s) from {chosen.value}, marked exported in the audit log:")
    for path in files:
        typer.echo(f"  {path}")
