"""`fovea scrub ...`: scrub one CLAIM.json, scan the claims queue, or run the scrub evaluation."""

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from agents.scrub.scrub import ScrubResult

app = typer.Typer(
    help="Claims before submission: findings, denial risk and concrete fixes. "
    "`fovea scrub --since DATE` scans the claims queue.",
    invoke_without_command=True,
)


@app.callback()
def scan(
    ctx: typer.Context,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Scan claims with a date of service on or after DATE (YYYY-MM-DD)"),
    ] = None,
    practice_id: Annotated[
        str | None, typer.Option("--practice-id", help="Only this practice's claims")
    ] = None,
    all_statuses: Annotated[
        bool, typer.Option("--all-statuses", help="Scan every claim, not only those ready (or rejected)")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report only: no workflow runs, audit records or review items")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the scan's summary as JSON")] = False,
) -> None:
    """Scrub the claims queue: clean low-risk claims pass (audited), the others become review items."""
    if ctx.invoked_subcommand is not None:
        return
    if since is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)
    try:
        start = date.fromisoformat(since)
    except ValueError:
        _refuse(f"--since {since!r} is not a date (YYYY-MM-DD)")
    summary = _scan(start, practice_id, all_statuses=all_statuses, dry_run=dry_run, quiet=as_json)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    _print_summary(summary)


@app.command("claim")
def scrub_claim_file(
    input_path: Annotated[
        Path, typer.Option("--input", "-i", help="CLAIM.json to scrub", show_default=False)
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"findings", "risk", "fixes"} as JSON')
    ] = False,
) -> None:
    """Scrub one claim (the CLAIM.json of `fovea check claim`, plus optional coverage, prior_auth, submitted_on)."""
    from agents.risk.store import load_risk_scorer
    from agents.scrub.scrub import scrub_claim
    from billing.claim_input import ClaimInputError, parse_claim_json
    from billing.settings import get_settings
    from knowledge.base import load_knowledge

    try:
        claim = parse_claim_json(input_path.read_bytes())
    except OSError as exc:
        _refuse(f"cannot read {input_path}: {exc.strerror or exc}")
    except ClaimInputError as exc:
        _refuse(f"{input_path}: {exc}")
    settings = get_settings()
    result = scrub_claim(claim, load_knowledge(settings), load_risk_scorer(settings))
    if as_json:
        typer.echo(json.dumps(result.model_dump(mode="json"), indent=2))
        return
    _print_result(result)


@app.command("eval")
def scrub_eval(
    patients: Annotated[int, typer.Option("--patients", min=50, help="Synthetic practice size")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Generator seed")] = 7,
    holdout: Annotated[
        float, typer.Option("--holdout", min=0.05, max=0.5, help="Latest share held out")
    ] = 0.2,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole report as JSON")] = False,
    report: Annotated[Path | None, typer.Option("--report", help="Also write the report JSON here")] = None,
) -> None:
    """Train on a synthetic practice's history before a cut date; measure on the later window."""
    from billing.settings import get_settings
    from evals.scrub import run_scrub_eval
    from knowledge.base import load_knowledge
    from sandbox.generator import generate_dataset

    result = run_scrub_eval(
        generate_dataset(seed, patients), load_knowledge(get_settings()), holdout_fraction=holdout
    )
    payload = result.model_dump(mode="json")
    if report is not None:
        report.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(payload, indent=2))
        return
    _print_eval(payload)


def _refuse(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _scan(
    start: date, practice_id: str | None, *, all_statuses: bool, dry_run: bool, quiet: bool
) -> dict[str, Any]:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from agents.risk.store import load_risk_scorer
    from agents.scrub.facts import claim_input_for
    from agents.scrub.load import FactsLoader
    from agents.scrub.scrub import scrub_claim
    from billing.claims import ClaimStatus
    from billing.settings import get_settings
    from knowledge.base import load_knowledge
    from tools.crystalpm import CrystalPMError, make_crystalpm

    settings = get_settings()
    queue = {ClaimStatus.READY, ClaimStatus.REJECTED}
    summary: dict[str, Any] = {"scanned": 0, "passed": [], "review": [], "broken": [], "dry_run": dry_run}

    def broken(claim_id: str, exc: Exception) -> None:
        summary["broken"].append({"claim_id": claim_id, "error": f"{type(exc).__name__}: {exc}"[:300]})

    try:
        client = make_crystalpm(settings)
        claims = [
            c for c in client.iter_claims(practice_id, since=start) if all_statuses or c.status in queue
        ]
    except (CrystalPMError, NotImplementedError, OSError) as exc:
        _refuse(f"cannot read the claims queue from Crystal PM: {exc}")
    loader = FactsLoader(client, today=date.today())
    progress = Progress(
        TextColumn("scrubbing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=quiet,
    )

    def gathered() -> "Any":
        for claim in claims:
            try:
                yield loader.facts(claim)
            except Exception as exc:  # a claim whose context cannot be read is reported, the scan goes on
                broken(claim.id, exc)
                progress.advance(task)

    def record(claim_id: str, outcome: "Any") -> None:
        summary["scanned"] += 1
        if isinstance(outcome, Exception):
            broken(claim_id, outcome)
        elif outcome.state == "pending_review":
            summary["review"].append(claim_id)
        else:
            summary["passed"].append(claim_id)
        progress.advance(task)

    with client, progress:
        task = progress.add_task("scrubbing", total=len(claims))
        if dry_run:
            kb, risk = load_knowledge(settings), load_risk_scorer(settings)
            for facts in gathered():
                try:
                    result = scrub_claim(claim_input_for(facts), kb, risk, facts)
                except Exception as exc:  # reported per claim; the scan goes on
                    record(facts.claim.id, exc)
                    continue
                record(facts.claim.id, _DryStatus("pending_review" if result.needs_review else "done"))
        else:
            _runtime(settings, client).scan(gathered(), record)
    return summary


class _DryStatus:
    def __init__(self, state: str) -> None:
        self.state = state


def _runtime(settings: "Any", client: "Any") -> "Any":
    """The claim_scrub runtime on the service's database, reporting reviews to the review queue."""
    from api.features import FeatureGate
    from api.reviews import ReviewService, WorkflowRegistry
    from api.scrub_runtime import ClaimScrubRuntime
    from api.storage.db import create_db_engine, create_session_factory
    from api.storage.migrate import migrate_engine

    engine = create_db_engine(settings.resolved_database_url)
    migrate_engine(engine)
    sessions = create_session_factory(engine)
    runtime = ClaimScrubRuntime(settings, sessions, crystalpm=client)
    runtime.sink = ReviewService(sessions, WorkflowRegistry([runtime]), FeatureGate(sessions))
    return runtime


def _print_summary(summary: dict[str, Any]) -> None:
    from rich.console import Console

    console = Console()
    verb = "would go to review" if summary["dry_run"] else "wait for review"
    console.print(
        f"{summary['scanned']} claims scrubbed: {len(summary['passed'])} passed, {len(summary['review'])} {verb}, "
        f"{len(summary['broken'])} could not be scrubbed."
    )
    for item in summary["broken"]:
        console.print(f"[red]broken[/red] {item['claim_id']}: {item['error']}")


def _print_result(result: "ScrubResult") -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console()
    risk = result.risk
    colors = {
        "error": "red",
        "warning": "yellow",
        "info": "cyan",
        "high": "red",
        "medium": "yellow",
        "low": "green",
    }
    console.print(
        f"Denial risk [{colors[risk.band]}]{risk.band}[/{colors[risk.band]}] ({risk.score:.2f}, {risk.model} {risk.version})"
    )
    for factor in risk.factors:
        console.print(f"  - {escape(factor)}")
    for item in result.findings:
        color = colors.get(item.severity.value, "white")
        console.print(f"[{color}]{item.severity.value}[/{color}] {item.code}: {escape(item.message)}")
    for fix in result.fixes:
        console.print(f"[bold]fix[/bold] {escape(fix.description)}  ({fix.edit.op})")


def _print_eval(payload: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    holdout = payload["holdout"]
    table = Table(title=f"Held-out claims from {payload['cut_date']} ({payload['test_claims']} claims)")
    for column in ("scorer", "ROC AUC", "PR AUC", "precision@10%", "Brier"):
        table.add_column(column)
    for name in ("model", "baseline"):
        m = holdout[name]
        table.add_row(
            name, str(m["roc_auc"]), str(m["pr_auc"]), str(m["precision_at_budget"]), str(m["brier"])
        )
    console.print(table)
    month = payload["month"]
    flags = Table(title=f"Flags on new claims {month['start']} to {month['end']} ({month['claims']} claims)")
    for column in ("scorer", "denied flagged", "denied passed", "paid flagged", "paid passed"):
        flags.add_column(column)
    for name in ("model", "baseline", "model_without_noise"):
        t = month[name]
        flags.add_row(
            name, *(str(t[k]) for k in ("denied_flagged", "denied_passed", "paid_flagged", "paid_passed"))
        )
    console.print(flags)
    console.print(f"missed denials by payer rule: {month['missed_by_rule'] or 'none'}")
