"""`fovea eval ...`: score an engine on a gold set and write reports."""

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from evals.coding.splits import SPLITS

if TYPE_CHECKING:
    from evals.coding.metrics import CodingMetrics

app = typer.Typer(help="Evaluation suites: metrics per engine, reports.", no_args_is_help=True)


# The gold sets' split names (evals.coding.splits is a light module: nothing heavy at CLI start-up).
Split = StrEnum("Split", {name: name for name in SPLITS})


class Engine(StrEnum):
    offline = "offline"
    llm = "llm"


@app.command("coding")
def eval_coding(
    dataset: Annotated[
        Path | None, typer.Option("--dataset", help="Gold JSONL (default: evals/datasets/coding_dev.jsonl)")
    ] = None,
    split: Annotated[Split, typer.Option("--split", help="Rows to score")] = Split.holdout,
    engine: Annotated[Engine, typer.Option("--engine", help="Coding engine")] = Engine.offline,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object with every metric")] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write DIR/index.html and DIR/metrics.json")
    ] = None,
    langsmith: Annotated[
        bool,
        typer.Option("--langsmith", help="Also run the LangSmith evaluators (offline unless a key is given)"),
    ] = False,
    langsmith_api_url: Annotated[
        str,
        typer.Option("--langsmith-api-url", help="LangSmith endpoint, used only with --langsmith-api-key"),
    ] = "https://api.smith.langchain.com",
    langsmith_api_key: Annotated[
        str,
        typer.Option(
            "--langsmith-api-key", help="Upload the experiment to LangSmith (default: stay offline)"
        ),
    ] = "",
) -> None:
    """Score the charge-coding engine: line/code/ICD P/R/F1, modifiers, laterality, calibration, latency."""
    from pydantic import ValidationError
    from rich.console import Console
    from rich.progress import Progress

    from agents.coding.batch import BatchStats, EngineUnavailable, load_suggester
    from billing.settings import get_settings
    from evals.coding.datasets import DEFAULT_DATASET, load_rows
    from evals.coding.runner import evaluate_coding

    path = dataset or DEFAULT_DATASET
    try:
        rows = load_rows(path, split.value)
    except OSError as exc:
        _refuse(f"cannot read {path}: {exc.strerror or exc}")
    except ValidationError as exc:
        _refuse(f"{path} is not a coding gold set: {exc.errors()[0]['msg']}")
    if not rows:
        _refuse(f"{path} has no {split.value} rows")
    stats = BatchStats()
    try:
        suggester = load_suggester(engine.value, get_settings(), stats)
    except EngineUnavailable as exc:
        _refuse(str(exc))
    console = Console(stderr=True)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"scoring {len(rows)} {split.value} notes", total=len(rows))
        metrics = evaluate_coding(rows, suggester, on_note=lambda: progress.advance(task))
    payload = metrics.model_dump(mode="json")
    payload |= {
        "dataset": str(path),
        "split": split.value,
        "engine": engine.value,
        "load_seconds": stats.load_seconds,
    }
    if langsmith:
        from evals.coding.langsmith import OFFLINE_API_KEY, run_langsmith_eval

        payload["langsmith"] = run_langsmith_eval(
            rows, suggester, api_url=langsmith_api_url, api_key=langsmith_api_key or OFFLINE_API_KEY
        )
    if report is not None:
        from evals.coding.report import write_report

        page = write_report(metrics, report, dataset=str(path), split=split.value, engine=engine.value)
        console.print(f"report: {page}")
    if as_json:
        typer.echo(json.dumps(payload, indent=2))
        return
    _print_metrics(
        metrics, payload.get("langsmith"), title=f"{engine.value} engine, {split.value} split ({path.name})"
    )


def _refuse(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _print_metrics(metrics: "CodingMetrics", langsmith: dict[str, float] | None, title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    def pct(value: float) -> str:
        return f"{value:.1%}"

    console = Console()
    scores = Table(title=f"{title}: {metrics.notes} notes, {metrics.failed_notes} failed")
    for column in ("items", "precision", "recall", "F1", "tp", "fp", "fn"):
        scores.add_column(column, justify="left" if column == "items" else "right")
    for name, prf in (
        ("CPT/HCPCS lines", metrics.lines),
        ("CPT/HCPCS codes", metrics.codes),
        ("ICD-10-CM", metrics.icd),
    ):
        scores.add_row(
            name, pct(prf.precision), pct(prf.recall), pct(prf.f1), str(prf.tp), str(prf.fp), str(prf.fn)
        )
    console.print(scores)
    other = Table(show_header=False)
    other.add_column("measure")
    other.add_column("value", justify="right")
    other.add_row("modifier accuracy", pct(metrics.modifier_accuracy))
    other.add_row("laterality error rate", pct(metrics.laterality_error_rate))
    other.add_row("invalid codes", str(metrics.invalid_codes))
    other.add_row(f"abstention (confidence < {metrics.threshold})", pct(metrics.abstention_rate))
    other.add_row(
        "auto-draft coverage / precision",
        f"{pct(metrics.auto_draft_coverage)} / {pct(metrics.auto_draft_precision)}",
    )
    other.add_row("latency p50 / p95", f"{metrics.latency_p50_ms:.1f} / {metrics.latency_p95_ms:.1f} ms")
    for key, value in (langsmith or {}).items():
        other.add_row(f"langsmith {key} (mean)", f"{value:.3f}")
    console.print(other)
    families = Table(title="per note family")
    for column in ("family", "notes", "line F1", "code F1", "ICD F1", "abstention"):
        families.add_column(column, justify="left" if column == "family" else "right")
    for name, family in metrics.per_family.items():
        families.add_row(
            name,
            str(family.notes),
            pct(family.lines.f1),
            pct(family.codes.f1),
            pct(family.icd.f1),
            pct(family.abstention_rate),
        )
    console.print(families)


@app.command("chat")
def eval_chat(
    seed: Annotated[int, typer.Option("--seed", help="Seed of the generated sandbox practice")] = 7,
    patients: Annotated[int, typer.Option("--patients", help="Patients in the generated practice")] = 60,
    actions: Annotated[
        bool, typer.Option("--actions/--no-actions", help="Run the real workflows the action questions start")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object with every metric")] = False,
) -> None:
    """Score the offline chat engine on staff questions over a generated sandbox: routing, arguments, facts, latency."""
    from rich.console import Console
    from rich.progress import Progress

    from billing.settings import get_settings
    from evals.chat.practice import chat_practice
    from evals.chat.runner import evaluate_chat, load_questions

    settings = get_settings().model_copy(update={"engine": "offline"})
    questions = load_questions()
    console = Console(stderr=True)
    with (
        Progress(console=console, transient=True) as progress,
        chat_practice(settings, seed=seed, patients=patients, actions=actions) as practice,
    ):
        task = progress.add_task(f"asking {len(questions)} questions", total=len(questions))
        metrics = evaluate_chat(
            practice.runtime, practice.dataset, questions, on_question=lambda _: progress.advance(task)
        )
    if as_json:
        typer.echo(
            json.dumps(metrics.model_dump(mode="json") | {"seed": seed, "patients": patients}, indent=2)
        )
        return
    from rich.table import Table

    table = Table(title=f"chat eval: {metrics.questions} questions, seed {seed}, {patients} patients")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("routing (right tool)", f"{metrics.routing_accuracy:.1%}")
    table.add_row("arguments", f"{metrics.argument_accuracy:.1%}")
    table.add_row("facts in the answer", f"{metrics.fact_recall:.1%}")
    table.add_row(
        "first event p50 / p95", f"{metrics.first_event_p50_ms:.0f} / {metrics.first_event_p95_ms:.0f} ms"
    )
    table.add_row("full answer p50 / p95", f"{metrics.answer_p50_ms:.0f} / {metrics.answer_p95_ms:.0f} ms")
    table.add_row("full answer p95, read questions", f"{metrics.read_answer_p95_ms:.0f} ms")
    Console().print(table)
    for failure in metrics.failures:
        Console().print(
            f"[red]x[/red] {failure.question} -> {failure.tool} {failure.args} "
            f"(expected {failure.expected_tool}; missing {failure.missing_facts})"
        )
