"""`fovea run` and `fovea serve`: start the copilot service (and, for run, the sandbox beside it)."""

import typer


def run() -> None:
    """Seed the sandbox if needed, start the sandbox and the copilot service, run until Ctrl-C."""
    typer.echo("not built yet")
    raise typer.Exit(1)


def serve() -> None:
    """Start the copilot service alone."""
    typer.echo("not built yet")
    raise typer.Exit(1)
