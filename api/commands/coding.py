"""`fovea code ...`: suggest the charge for one visit note or for a JSONL batch of them."""

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from agents.coding.batch import BatchStats
    from agents.coding.schemas import CodeSuggester

app = typer.Typer(
    help="Charge coding: visit notes in, CPT/HCPCS lines and ICD-10-CM codes out.", no_args_is_help=True
)


class Engine(StrEnum):
    offline = "offline"
    llm = "llm"


class Sex(StrEnum):
    F = "F"
    M = "M"


class PayerKind(StrEnum):
    medicare = "medicare"
    medicaid = "medicaid"
    commercial = "commercial"
    medicare_advantage = "medicare_advantage"
    vision = "vision"


EngineOption = Annotated[Engine, typer.Option("--engine", help="Coding engine")]


@app.command("note")
def code_note(
    note_path: Annotated[Path, typer.Argument(metavar="FILE", help="The visit note, as a text file")],
    payer_kind: Annotated[
        PayerKind, typer.Option("--payer-kind", help="The plan billed")
    ] = PayerKind.commercial,
    payer_name: Annotated[
        str, typer.Option("--payer-name", help="The plan's name, e.g. 'VSP Vision Care'")
    ] = "",
    age: Annotated[int | None, typer.Option("--age", help="Patient age on the date of service")] = None,
    sex: Annotated[Sex | None, typer.Option("--sex", help="Patient sex")] = None,
    new_patient: Annotated[
        bool, typer.Option("--new-patient", help="No visit with the group in 3 years")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the suggestion as one JSON object")] = False,
    engine: EngineOption = Engine.offline,
) -> None:
    """Suggest the charge for one note: codes, modifiers, units, linked diagnoses, confidence, evidence."""
    from agents.coding.batch import NoteRecord, suggestion_record

    try:
        text = note_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _refuse(f"cannot read {note_path}: {getattr(exc, 'strerror', None) or exc}")
    if not text.strip():
        _refuse(f"{note_path} is empty")
    record = NoteRecord.model_validate(
        {
            "id": note_path.name,
            "note": text,
            "patient": {"age": age, "sex": sex.value if sex else None},
            "payer": {"name": payer_name, "kind": payer_kind.value},
            "established": not new_patient,
        }
    )
    suggester = _suggester(engine)
    result = suggestion_record(record.id, suggester.suggest(record.to_request()))
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    _print_suggestion(result)


@app.command("batch")
def code_batch(
    input_path: Annotated[Path, typer.Option("--input", "-i", help="IN.jsonl: one note record a line")],
    output_path: Annotated[Path, typer.Option("--output", "-o", help="OUT.jsonl: one suggestion a line")],
    engine: EngineOption = Engine.offline,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Worker processes (threads for llm)")] = 2,
) -> None:
    """Code every note of a JSONL file; output lines keep the input order, a bad line gives an error line."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from agents.coding.batch import BatchStats, run_batch

    try:
        lines = input_path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        _refuse(f"cannot read {input_path}: {getattr(exc, 'strerror', None) or exc}")
    try:
        output = output_path.open("w", encoding="utf-8")
    except OSError as exc:
        _refuse(f"cannot write {output_path}: {exc.strerror or exc}")
    console = Console(stderr=True)
    stats = BatchStats()
    suggester = _suggester(engine, stats)
    total = sum(1 for line in lines if line.strip())
    progress = Progress(
        TextColumn("coding"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )
    with output, progress:
        task = progress.add_task("coding", total=total)
        for record in run_batch(
            lines,
            suggester,
            engine=engine.value,
            workers=workers,
            stats=stats,
            on_record=lambda _: progress.advance(task),
        ):
            output.write(json.dumps(record) + "\n")
    console.print(
        f"{stats.notes} notes, {stats.errors} errors, engine load {stats.load_seconds:.1f} s, "
        f"{stats.notes_per_second:.1f} notes/s ({workers} worker{'s' if workers > 1 else ''})"
    )


def _suggester(engine: Engine, stats: "BatchStats | None" = None) -> "CodeSuggester":
    from agents.coding.batch import BatchStats, EngineUnavailable, load_suggester
    from billing.settings import get_settings

    try:
        return load_suggester(engine.value, get_settings(), stats or BatchStats())
    except EngineUnavailable as exc:
        _refuse(str(exc))


def _refuse(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _evidence(spans: list[dict[str, Any]]) -> str:
    from rich.markup import escape

    return " | ".join(f'"{escape(span["text"])}" @{span["start"]}' for span in spans)


def _print_suggestion(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    lines = Table(
        title=f"{result['id']}: charge lines (confidence {result['confidence']:.2f})", show_lines=True
    )
    for column in ("code", "modifiers", "units", "linked dx", "confidence"):
        lines.add_column(column, no_wrap=True)
    lines.add_column("evidence", overflow="fold", ratio=3)
    for line in result["lines"]:
        lines.add_row(
            line["code"],
            " ".join(line["modifiers"]),
            str(line["units"]),
            ", ".join(line["diagnosis_codes"]),
            f"{line['confidence']:.2f}",
            _evidence(line["evidence"]),
        )
    console.print(lines)
    diagnoses = Table(title="diagnoses", show_lines=True)
    for column in ("code", "confidence"):
        diagnoses.add_column(column, no_wrap=True)
    diagnoses.add_column("evidence", overflow="fold", ratio=3)
    for dx in result["diagnoses"]:
        diagnoses.add_row(dx["code"], f"{dx['confidence']:.2f}", _evidence(dx["evidence"]))
    console.print(diagnoses)
    colors = {"error": "red", "warning": "yellow", "info": "cyan"}
    for finding in result["findings"]:
        color = colors.get(finding["severity"], "white")
        console.print(
            f"[{color}]{finding['severity']}[/{color}] {finding['code']}: {escape(finding['message'])}"
        )
