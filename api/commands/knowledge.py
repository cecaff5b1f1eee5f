"""`fovea check ...`: the deterministic validator."""

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from billing.findings import Finding

check_app = typer.Typer(help="Deterministic checks a senior coder would make.", no_args_is_help=True)


@check_app.command("claim")
def check_claim(
    input_path: Annotated[
        Path, typer.Option("--input", "-i", help="CLAIM.json to check", show_default=False)
    ],
    as_json: Annotated[bool, typer.Option("--json", help='Print {"findings": [...]} as JSON')] = False,
) -> None:
    """Check one claim (CLAIM.json) and list what a payer would deny; exits 0 whatever it finds."""
    from billing.claim_input import ClaimInputError, parse_claim_json
    from billing.settings import get_settings
    from knowledge.base import load_knowledge
    from knowledge.validation.engine import validate

    try:
        claim = parse_claim_json(input_path.read_bytes())
    except OSError as exc:
        _refuse(f"cannot read {input_path}: {exc.strerror or exc}")
    except ClaimInputError as exc:
        _refuse(f"{input_path}: {exc}")
    findings = validate(claim, load_knowledge(get_settings()))
    if as_json:
        payload = {"findings": [item.model_dump(mode="json") for item in findings]}
        typer.echo(json.dumps(payload, indent=2))
        return
    _print_table(findings)


def _refuse(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _print_table(findings: "list[Finding]") -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not findings:
        console.print("[green]No findings:[/green] nothing on this claim that the checks would deny.")
        return
    colors = {"error": "red", "warning": "yellow", "info": "cyan"}
    table = Table(title=f"{len(findings)} finding{'s' if len(findings) > 1 else ''}", show_lines=True)
    for column in ("severity", "code", "lines"):
        table.add_column(column, no_wrap=True)
    table.add_column("message", overflow="fold", ratio=3)
    table.add_column("fix", overflow="fold", ratio=2)
    for item in findings:
        color = colors.get(item.severity.value, "white")
        table.add_row(
            f"[{color}]{item.severity.value}[/{color}]",
            item.code,
            ", ".join(str(n) for n in item.lines) or "claim",
            item.message,
            item.fix,
        )
    console.print(table)
