"""`fovea knowledge import ncci|pfs|codes --from DIR`: load official CMS / X12 files for later runs."""

import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Code sets and payer rules: import official files.", no_args_is_help=True)


class ImportKind(StrEnum):
    NCCI = "ncci"
    PFS = "pfs"
    CODES = "codes"


@app.command("import")
def import_files(
    kind: Annotated[ImportKind, typer.Argument(help="ncci (PTP/MUE), pfs (RVU/GPCI) or codes (CARC/RARC)")],
    source: Annotated[
        Path | None,
        typer.Option(
            "--from",
            exists=True,
            file_okay=False,
            help="Folder of official files (default: FOVEA_NCCI_DIR / FOVEA_PFS_DIR / FOVEA_CODES_DIR)",
        ),
    ] = None,
) -> None:
    """Read the official files once and store them under <data_dir>/knowledge for every later run."""
    from rich.console import Console

    from billing.settings import get_settings
    from knowledge.official_files import knowledge_store

    console = Console()
    settings = get_settings()
    configured = {
        ImportKind.NCCI: settings.ncci_dir,
        ImportKind.PFS: settings.pfs_dir,
        ImportKind.CODES: settings.codes_dir,
    }[kind]
    folder = source or configured
    if folder is None:
        console.print(f"[red]No folder given.[/red] Pass --from DIR or set FOVEA_{kind.upper()}_DIR.")
        raise typer.Exit(2)
    dest = knowledge_store(settings)
    started = time.perf_counter()
    try:
        summary = _run_import(kind, folder, dest)
    except ValueError as exc:
        console.print(f"[red]Import failed:[/red] {exc}")
        raise typer.Exit(1) from exc
    console.print(
        f"Imported {kind} from {folder} into {dest}: {summary} ({time.perf_counter() - started:.1f} s)"
    )


def _run_import(kind: ImportKind, folder: Path, dest: Path) -> str:
    if kind is ImportKind.NCCI:
        from knowledge.rules.ncci import import_ncci

        tables = import_ncci(folder, dest)
        counts = tables.counts()
        return f"{counts['ptp']} PTP edits, {counts['mue']} MUEs ({tables.source})"
    if kind is ImportKind.PFS:
        from knowledge.rules.fees import import_pfs

        pfs = import_pfs(folder, dest)
        return f"{len(pfs.localities())} localities ({pfs.source})"
    from knowledge.codes.adjustments import import_adjustment_codes

    return f"{import_adjustment_codes(folder, dest)} adjustment codes"
