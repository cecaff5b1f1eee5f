"""`fovea remit ...`: remittance advice (X12 835) files."""

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from billing.remittance import Adjustment, ClaimPayment, RemittanceTransaction
    from billing.settings import Settings
    from billing.x12_835 import ParseResult
    from tools.crystalpm.models import RemittanceFileInfo
    from tools.remittance.inbox import FileImport

app = typer.Typer(help="Remittance advice (X12 835): read what the payer paid and why.", no_args_is_help=True)


@app.callback()
def remit() -> None:
    """Remittance advice (X12 835): read what the payer paid and why."""


@app.command("parse")
def parse(
    file: Annotated[Path, typer.Argument(help="An X12 835 file", show_default=False)],
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"transactions": [...], "findings": [...]} as JSON')
    ] = False,
) -> None:
    """Parse an 835: payments, claims, lines, adjustments, and what does not balance; exits 0 whatever it finds."""
    from billing.x12_835 import X12Error
    from tools.remittance.files import read_835

    try:
        result = read_835(file)
    except OSError as exc:
        _refuse(f"cannot read {file}: {exc.strerror or exc}")
    except X12Error as exc:
        _refuse(f"{file}: {exc}")
    if as_json:
        typer.echo(json.dumps(remittance_json(result), indent=2))
        return
    _print_summary(result)


def remittance_json(result: "ParseResult") -> dict[str, Any]:
    """The `remit parse --json` contract; patient names stay out of it."""
    return {
        "transactions": [_transaction_json(t) for t in result.remittance.transactions],
        "findings": [finding.model_dump(mode="json") for finding in result.findings],
    }


def _transaction_json(transaction: "RemittanceTransaction") -> dict[str, Any]:
    payment = transaction.payment
    return {
        "payer": transaction.payer,
        "payee": transaction.payee,
        "payment": {
            "method": payment.method,
            "amount": _money(payment.amount),
            "date": payment.date.isoformat() if payment.date else None,
            "trace": payment.trace,
        },
        "claims": [_claim_json(claim) for claim in transaction.claims],
        "provider_adjustments": [
            {
                "provider_id": plb.provider_id,
                "fiscal_period": plb.fiscal_period,
                "reason": plb.reason,
                "reference": plb.reference,
                "amount": _money(plb.amount),
            }
            for plb in transaction.provider_adjustments
        ],
    }


def _claim_json(claim: "ClaimPayment") -> dict[str, Any]:
    return {
        "patient_control_number": claim.patient_control_number,
        "status": claim.status,
        "charge": _money(claim.charge),
        "paid": _money(claim.paid),
        "patient_responsibility": _money(claim.patient_responsibility),
        "payer_claim_control_number": claim.payer_claim_control_number,
        "adjustments": _adjustments_json(claim.adjustments),
        "lines": [
            {
                "code": line.code,
                "modifiers": line.modifiers,
                "charge": _money(line.charge),
                "paid": _money(line.paid),
                "allowed": _money(line.allowed) if line.allowed is not None else None,
                "units": int(line.units) if float(line.units).is_integer() else line.units,
                "adjustments": _adjustments_json(line.adjustments),
                "remarks": line.remarks,
            }
            for line in claim.lines
        ],
    }


def _adjustments_json(adjustments: "list[Adjustment]") -> list[dict[str, str]]:
    return [{"group": a.group, "reason": a.reason, "amount": _money(a.amount)} for a in adjustments]


def _money(amount: Any) -> str:
    from billing.money import money_str

    return money_str(amount)


def _refuse(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _print_summary(result: "ParseResult") -> None:
    from rich.console import Console
    from rich.table import Table

    from billing.x12_835 import CLAIM_STATUS

    console = Console()
    for transaction in result.remittance.transactions:
        payment = transaction.payment
        console.print(
            f"[bold]{transaction.payer or 'Unknown payer'}[/bold] → {transaction.payee or 'unknown payee'}: "
            f"{payment.method or 'no method'} {_money(payment.amount)} on "
            f"{payment.date.isoformat() if payment.date else 'no date'}, trace {payment.trace or '-'}"
        )
        table = Table(show_lines=False)
        for column in ("claim", "status", "charge", "paid", "patient", "lines", "adjustments"):
            table.add_column(column, overflow="fold")
        for claim in transaction.claims:
            adjustments = claim.adjustments + [a for line in claim.lines for a in line.adjustments]
            table.add_row(
                claim.patient_control_number,
                f"{claim.status} {CLAIM_STATUS.get(claim.status, '')}".strip(),
                _money(claim.charge),
                _money(claim.paid),
                _money(claim.patient_responsibility),
                str(len(claim.lines)),
                ", ".join(f"{a.group}-{a.reason} {_money(a.amount)}" for a in adjustments),
            )
        console.print(table)
        for plb in transaction.provider_adjustments:
            console.print(f"  provider adjustment {plb.reason} {plb.reference}: {_money(plb.amount)}")
    if not result.findings:
        console.print("[green]No findings:[/green] every total balances.")
        return
    colors = {"error": "red", "warning": "yellow", "info": "cyan"}
    findings = Table(title=f"{len(result.findings)} finding(s)", show_lines=True)
    for column in ("severity", "code", "segments"):
        findings.add_column(column, no_wrap=True)
    findings.add_column("message", overflow="fold", ratio=3)
    findings.add_column("fix", overflow="fold", ratio=2)
    for item in result.findings:
        color = colors.get(item.severity.value, "white")
        findings.add_row(
            f"[{color}]{item.severity.value}[/{color}]",
            item.code,
            ", ".join(str(n) for n in item.lines[:8]) + ("…" if len(item.lines) > 8 else ""),
            item.message,
            item.fix,
        )
    console.print(findings)


# --- the watched inbox (the files adapter) -----------------------------------------------------------

InboxOption = Annotated[
    Path | None,
    typer.Option("--dir", help="The inbox folder (default: FOVEA_FILES_INBOX_DIR)", show_default=False),
]


def import_inbox_once(settings: "Settings", inbox_dir: Path, *, enqueue: bool = True) -> "list[FileImport]":
    """Import the inbox once; each new 835 is queued as a remittance.received event for the worker."""
    from datetime import UTC, datetime

    from api.storage.db import create_db_engine, create_session_factory
    from api.storage.events import record_event
    from api.storage.imports import SqlImportLedger
    from api.storage.migrate import migrate_engine
    from billing.events import EventType, WebhookEvent
    from tools.remittance.inbox import import_inbox

    engine = create_db_engine(settings.resolved_database_url)
    try:
        migrate_engine(engine)
        sessions = create_session_factory(engine)

        def received(info: "RemittanceFileInfo", _parsed: "ParseResult") -> None:
            event = WebhookEvent(
                id=f"files:{info.id}",
                type=EventType.REMITTANCE_RECEIVED,
                practice_id=info.practice_id,
                occurred_at=datetime.now(UTC),
                data={"remittance_id": info.id, "source": "files"},
            )
            with sessions() as session:
                record_event(session, event)
                session.commit()

        return import_inbox(
            inbox_dir,
            SqlImportLedger(sessions),
            practice_id=settings.files_practice_id,
            after_import=settings.files_after_import,
            on_remittance=received if enqueue else None,
        )
    finally:
        engine.dispose()


def _inbox_dir(settings: "Settings", given: Path | None) -> Path:
    folder = given or settings.files_inbox_dir
    if folder is None:
        _refuse("no inbox folder: pass --dir or set FOVEA_FILES_INBOX_DIR")
    if not folder.is_dir():
        _refuse(f"the inbox folder {folder} does not exist")
    return folder


def _print_imports(results: "list[FileImport]") -> None:
    from rich.console import Console
    from rich.table import Table

    colors = {"imported": "green", "duplicate": "cyan", "failed": "red"}
    table = Table(title=f"{len(results)} file(s)", title_justify="left")
    for column in ("file", "kind", "result", "findings", "details"):
        table.add_column(column, overflow="fold")
    for result in results:
        color = colors[result.status]
        details = result.reason or ", ".join(f"{k} {v}" for k, v in result.summary.items())
        table.add_row(
            result.filename,
            result.kind,
            f"[{color}]{result.status}[/{color}]",
            str(result.findings) if result.kind == "remittance" else "",
            details,
        )
    Console().print(table)


@app.command("import")
def import_files(
    inbox: InboxOption = None,
    enqueue: Annotated[
        bool, typer.Option("--enqueue/--no-enqueue", help="Queue each new 835 for the remittance workflow")
    ] = True,
) -> None:
    """Import the 835 files and CSV exports dropped in the inbox; a file seen before is imported once."""
    from billing.settings import get_settings

    settings = get_settings()
    results = import_inbox_once(settings, _inbox_dir(settings, inbox), enqueue=enqueue)
    if not results:
        typer.echo("The inbox is empty.")
        return
    _print_imports(results)
    if any(r.status == "failed" for r in results):
        raise typer.Exit(1)


@app.command("watch")
def watch(
    inbox: InboxOption = None,
    poll: Annotated[float | None, typer.Option("--poll", help="Seconds between scans")] = None,
) -> None:
    """Watch the inbox: import new files as they arrive, until Ctrl-C."""
    import threading

    from billing.settings import get_settings
    from tools.remittance.inbox import watch_inbox

    settings = get_settings()
    folder = _inbox_dir(settings, inbox)
    seconds = poll if poll is not None else settings.files_poll_seconds
    typer.echo(f"Watching {folder} every {seconds:g}s; Ctrl-C to stop.")
    stop = threading.Event()
    try:
        watch_inbox(
            lambda: import_inbox_once(settings, folder),
            poll_seconds=seconds,
            stop=stop,
            report=_print_imports,
        )
    except KeyboardInterrupt:
        stop.set()
        typer.echo("Stopped.")


@app.command("eval-posting")
def eval_posting(
    patients: Annotated[int, typer.Option("--patients", help="Patients in the generated practice")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Generator seed")] = 7,
    mangle: Annotated[
        float, typer.Option("--mangle", help="Share of control numbers the 'payer' mangles", min=0, max=1)
    ] = 0.1,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Post the last month of a generated practice's remittances: auto-match rate, wrong matches, exceptions."""
    from evals.posting import print_posting_report, run_posting_eval

    report = run_posting_eval(patients=patients, seed=seed, mangle_share=mangle)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        print_posting_report(report)
    if report.wrong_matches:
        raise typer.Exit(1)


@app.command("eval-appeals")
def eval_appeals(
    patients: Annotated[int, typer.Option("--patients", help="Patients in the generated practice")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Generator seed")] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Appeal-success model vs rules baseline: ROC AUC on the held-out (latest) appeals of a generated practice."""
    from evals.appeals import run_appeal_eval
    from sandbox.generator import generate_dataset

    report = run_appeal_eval(generate_dataset(seed, patients), patients=patients)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    evaluation = report.evaluation
    typer.echo(
        f"{report.appeals} appeals ({report.pending} pending) in a {patients}-patient practice, seed {seed}; "
        f"train {evaluation.train_appeals} ({evaluation.train_won} won) before {evaluation.cut_date}, "
        f"test {evaluation.test_appeals} ({evaluation.test_won} won)"
    )
    typer.echo(f"ROC AUC model    {_auc(evaluation.model_auc)}")
    typer.echo(f"ROC AUC baseline {_auc(evaluation.baseline_auc)}")
    typer.echo(
        "won / decided by category: " + ", ".join(f"{k} {v}" for k, v in report.won_rate_by_category.items())
    )


def _auc(value: float | None) -> str:
    return "n/a (one class only in the test window)" if value is None else f"{value:.4f}"


@app.command("train-appeals")
def train_appeals(
    practice_id: Annotated[
        str | None, typer.Option("--practice", help="Only this practice's appeals (default: all)")
    ] = None,
) -> None:
    """Train the appeal-success model on Crystal PM's appeal history and save the next version."""
    from contextlib import closing

    from agents.denials.appeal_model import appeal_history, train_and_save
    from billing.settings import get_settings
    from tools.crystalpm import make_crystalpm

    settings = get_settings()
    with closing(make_crystalpm(settings)) as client:
        cases = appeal_history(client, practice_id)
    try:
        version, evaluation = train_and_save(settings, cases)
    except ValueError as exc:
        _refuse(f"cannot train: {exc}")
    typer.echo(
        f"appeal model {version}: {evaluation.decided_appeals} decided appeals; held-out ROC AUC "
        f"model {_auc(evaluation.model_auc)}, baseline {_auc(evaluation.baseline_auc)}"
    )
