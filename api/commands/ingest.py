"""`fovea ingest`: build or refresh the Chroma collections."""

import typer


def ingest() -> None:
    """Build or refresh the Chroma collections (idempotent)."""
    typer.echo("not built yet")
    raise typer.Exit(1)
