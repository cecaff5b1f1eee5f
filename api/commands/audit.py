"""`fovea audit verify` (name the first edited, deleted or reordered record) and `fovea audit export`."""

import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="The audit trail: verify its hash chain, export its records.", no_args_is_help=True)
console = Console(stderr=True)


class ExportFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


@app.command()
def verify() -> None:
    """Recompute the audit log's hash chain; exit 1 naming the first bad record and why."""
    from api.audit_trail import verify_trail
    from api.storage.db import create_db_engine, create_session_factory
    from api.storage.migrate import migrate_engine
    from billing.settings import get_settings

    engine = create_db_engine(get_settings().resolved_database_url)
    try:
        migrate_engine(engine)
        with create_session_factory(engine)() as session:
            check = verify_trail(session)
    finally:
        engine.dispose()
    if check.problem is not None:
        typer.echo(
            f"FAILED: {check.problem.kind} record {check.problem.record_id}: {check.problem.message}",
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(f"OK: {check.records} records, hash chain intact")


@app.command()
def export(
    since: Annotated[
        datetime | None, typer.Option(help="Only records at or after this date/time (UTC).")
    ] = None,
    export_format: Annotated[
        ExportFormat, typer.Option("--format", help="csv or jsonl.")
    ] = ExportFormat.JSONL,
    output: Annotated[Path | None, typer.Option(help="Write here instead of standard output.")] = None,
) -> None:
    """Export audit records (chain order) as CSV or JSON Lines."""
    from api.audit_trail import audit_records, export_lines
    from api.storage.db import create_db_engine, create_session_factory
    from api.storage.migrate import migrate_engine
    from billing.settings import get_settings

    engine = create_db_engine(get_settings().resolved_database_url)
    try:
        migrate_engine(engine)
        with create_session_factory(engine)() as session:
            records = audit_records(session, since=since)
            lines = list(export_lines(records, export_format.value))
    finally:
        engine.dispose()
    if output is not None:
        output.write_text("".join(lines), encoding="utf-8")
        console.print(f"{len(records)} records written to {output}")
        return
    sys.stdout.write("".join(lines))
