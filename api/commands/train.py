"""`fovea train ...`: train the denial model on the practice's adjudicated claim history."""

import json
from datetime import date
from typing import Annotated, NoReturn

import typer

app = typer.Typer(help="Train models on the practice's own history.", no_args_is_help=True)


@app.callback()
def train() -> None:
    """Train models on the practice's own history."""


@app.command("denials")
def train_denials_command(
    practice_id: Annotated[
        str | None, typer.Option("--practice-id", help="Only this practice's claims")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the training report as JSON")] = False,
) -> None:
    """Train the denial model on adjudicated claims read from Crystal PM; save it as the next version."""
    from agents.risk.store import save_model
    from agents.risk.training import denial_rates, examples_from, load_labeled_claims, train_denials
    from billing.settings import get_settings
    from knowledge.base import load_knowledge
    from tools.crystalpm import CrystalPMError, make_crystalpm

    settings = get_settings()
    try:
        with make_crystalpm(settings) as client:
            labeled = list(load_labeled_claims(client, practice_id=practice_id, today=date.today()))
    except (CrystalPMError, NotImplementedError, OSError) as exc:
        _refuse(f"cannot read the claim history from Crystal PM: {exc}")
    examples = examples_from(labeled, load_knowledge(settings))
    try:
        model, report = train_denials(examples)
    except ValueError as exc:
        _refuse(str(exc))
    practices = sorted({item.facts.claim.practice_id for item in labeled})
    metadata = {
        **report.model_dump(mode="json"),
        "practice_ids": practices,
        "denial_rates": denial_rates(examples),
    }
    report.version = save_model(settings, model, metadata)
    payload = report.model_dump(mode="json")
    if as_json:
        typer.echo(json.dumps(payload, indent=2))
        return
    holdout = payload["holdout"]
    typer.echo(
        f"denial model {report.version}: {report.claims} adjudicated claims ({report.denied} denied), "
        f"held out from {report.cut_date}: {report.test_claims} claims"
    )
    for name in ("model", "baseline"):
        m = holdout[name]
        typer.echo(
            f"  {name:8} ROC AUC {m['roc_auc']}  PR AUC {m['pr_auc']}  precision@10% {m['precision_at_budget']}  "
            f"Brier {m['brier']}"
        )


def _refuse(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)
