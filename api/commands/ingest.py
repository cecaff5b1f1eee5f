"""`fovea ingest`: build or refresh the Chroma collections."""

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from billing.charges import Charge
    from billing.settings import Settings
    from knowledge.vectorstore import CodedEncounter, IngestResult
    from knowledge.vectorstore.ingest import Progress as ProgressCallback
    from tools.crystalpm import CrystalPM

COLLECTIONS = ("icd10", "policies", "encounters")


def ingest(
    collections: Annotated[
        str, typer.Option("--collections", help="Comma-separated, any of: icd10, policies, encounters")
    ] = ",".join(COLLECTIONS),
    practice_id: Annotated[
        str | None, typer.Option("--practice-id", help="Only this practice's encounters (default: all)")
    ] = None,
    policy_dir: Annotated[
        Path | None,
        typer.Option("--policy-dir", help="Policy Markdown folder (default: knowledge/data/policies)"),
    ] = None,
) -> None:
    """Build or refresh the Chroma collections (idempotent: unchanged documents are not re-embedded)."""
    wanted = [name.strip() for name in collections.split(",") if name.strip()]
    unknown = sorted(set(wanted) - set(COLLECTIONS))
    if unknown:
        raise typer.BadParameter(f"unknown {', '.join(unknown)}; choose from {', '.join(COLLECTIONS)}")

    from rich.console import Console
    from rich.table import Table

    from billing.settings import get_settings

    console = Console()
    settings = get_settings()
    started = time.perf_counter()
    results = build_collections(settings, wanted, console, practice_id=practice_id, policy_dir=policy_dir)
    table = Table(title=f"Chroma collections ({settings.chroma_url or settings.chroma_dir})")
    for heading in ("collection", "added", "updated", "unchanged", "deleted", "seconds"):
        table.add_column(heading, justify="left" if heading == "collection" else "right")
    for result in results:
        table.add_row(
            result.collection,
            str(result.added),
            str(result.updated),
            str(result.unchanged),
            str(result.deleted),
            f"{result.seconds:.1f}",
        )
    console.print(table)
    console.print(f"Done in {time.perf_counter() - started:.1f} s.")


def build_collections(
    settings: "Settings",
    wanted: list[str],
    console: "Console",
    *,
    practice_id: str | None = None,
    policy_dir: Path | None = None,
) -> list["IngestResult"]:
    """Refresh the wanted collections, showing progress; encounters are skipped if Crystal PM is down."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from knowledge.vectorstore import ingest_icd10_index, ingest_policies, open_chroma
    from knowledge.vectorstore.ingest import POLICY_DIR

    client = open_chroma(settings)
    results: list[IngestResult] = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        if "icd10" in wanted:
            task = progress.add_task("icd10_index: embedding", total=None)
            results.append(ingest_icd10_index(client, progress=_reporter(progress, task)))
        if "policies" in wanted:
            task = progress.add_task("payer_policies: embedding", total=None)
            results.append(
                ingest_policies(client, policy_dir or POLICY_DIR, progress=_reporter(progress, task))
            )
        if "encounters" in wanted:
            encounters_result = _ingest_encounters(settings, client, practice_id, progress, console)
            if encounters_result is not None:
                results.append(encounters_result)
    return results


def _reporter(progress: "Progress", task: "TaskID") -> "ProgressCallback":
    def report(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    return report


def _ingest_encounters(
    settings: "Settings",
    client: "ClientAPI",
    practice_id: str | None,
    progress: "Progress",
    console: "Console",
) -> "IngestResult | None":
    """Pull approved coded encounters from Crystal PM into `encounters`; None (said why) if unreachable."""
    from knowledge.vectorstore import upsert_encounters
    from tools.crystalpm import CrystalPMError, make_crystalpm

    try:
        # A quick probe without retries, so a stopped sandbox is reported at once rather than after backoff.
        probe = make_crystalpm(settings.model_copy(update={"crystalpm_max_retries": 0}))
        try:
            probe.health()
        finally:
            probe.close()
    except (CrystalPMError, NotImplementedError) as error:
        console.print(
            f"[yellow]encounters skipped:[/yellow] Crystal PM at {settings.crystalpm_base_url} "
            f"is not available ({error}). Start it (`fovea sandbox serve`), then run "
            "`fovea ingest --collections encounters`."
        )
        return None
    task = progress.add_task("encounters: pulling from Crystal PM", total=None)
    crystalpm = make_crystalpm(settings)
    try:
        approved = _approved_charges(crystalpm, practice_id)
        progress.update(task, total=len(approved), description="encounters: notes + embedding")

        def counted() -> Iterator["CodedEncounter"]:
            for encounter in _coded_encounters(crystalpm, practice_id, approved):
                yield encounter
                progress.advance(task)

        return upsert_encounters(client, counted())
    except CrystalPMError as error:
        console.print(f"[red]encounters stopped:[/red] {error} (what was written stays; run again to finish)")
        return None
    finally:
        crystalpm.close()


def _approved_charges(crystalpm: "CrystalPM", practice_id: str | None) -> dict[str, "Charge"]:
    """Encounter id -> its posted charge: coding a person approved (drafts and voided charges are not)."""
    from billing.charges import ChargeStatus

    return {
        charge.encounter_id: charge
        for charge in crystalpm.iter_charges(practice_id=practice_id)
        if charge.status == ChargeStatus.POSTED
    }


def _coded_encounters(
    crystalpm: "CrystalPM", practice_id: str | None, approved: dict[str, "Charge"]
) -> Iterator["CodedEncounter"]:
    """Each approved encounter with its note, billed codes and the payer of the coverage it was billed to."""
    from billing.practice import Coverage
    from knowledge.vectorstore import CodedEncounter, CodedProcedure
    from tools.crystalpm import NotFound

    payers = {payer.id: payer for payer in crystalpm.list_payers()}
    coverage_by_patient: dict[str, dict[str, Coverage]] = {}
    for encounter in crystalpm.iter_encounters(practice_id):
        charge = approved.get(encounter.id)
        if charge is None:
            continue
        try:
            note = crystalpm.get_note(encounter.id)
        except NotFound:
            continue
        if encounter.patient_id not in coverage_by_patient:
            coverage_by_patient[encounter.patient_id] = {
                coverage.id: coverage for coverage in crystalpm.get_coverage(encounter.patient_id)
            }
        coverage = coverage_by_patient[encounter.patient_id].get(encounter.coverage_id or "")
        payer = payers.get(coverage.payer_id) if coverage else None
        yield CodedEncounter(
            encounter_id=encounter.id,
            practice_id=encounter.practice_id,
            note_text=note.text,
            diagnosis_codes=charge.diagnosis_codes,
            procedure_codes=[
                CodedProcedure(code=line.code, modifiers=line.modifiers, units=line.units)
                for line in charge.lines
            ],
            payer_name=payer.name if payer else "",
            payer_kind=str(coverage.plan_kind) if coverage else "",
            date_of_service=encounter.date_of_service,
        )
