"""`fovea remit ...`: remittance advice (X12 835) files."""

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from billing.remittance import Adjustment, ClaimPayment, RemittanceTransaction
    from billing.x12_835 import ParseResult

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
