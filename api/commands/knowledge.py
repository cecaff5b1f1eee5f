"""`fovea check ...` and `fovea ingest`: the deterministic validator and the Chroma collections."""

import typer

check_app = typer.Typer(help="Deterministic checks a senior coder would make.", no_args_is_help=True)


def ingest() -> None:
    """Build or refresh the Chroma collections (idempotent)."""
    typer.echo("not built yet")
    raise typer.Exit(1)
