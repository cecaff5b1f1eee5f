"""`fovea sandbox ...`: seed and serve the Crystal PM sandbox."""

import datetime
import time
from typing import Annotated

import typer

app = typer.Typer(
    help="The Crystal PM sandbox: a local stand-in with a synthetic practice.", no_args_is_help=True
)


@app.command()
def seed(
    patients: Annotated[
        int | None, typer.Option(help="Patients to generate (default: FOVEA_SANDBOX_PATIENTS)")
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Random seed (default: FOVEA_SANDBOX_SEED)")
    ] = None,
    through: Annotated[
        datetime.datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"], help="Last date of generated activity, YYYY-MM-DD (default: today)"
        ),
    ] = None,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing when the sandbox already holds data")
    ] = False,
    reset: Annotated[bool, typer.Option("--reset", help="Empty the sandbox database first")] = False,
) -> None:
    """Generate a synthetic practice and load it into the sandbox database."""
    from rich.console import Console
    from rich.table import Table

    from billing.settings import get_settings
    from sandbox import store
    from sandbox.db import create_sandbox_engine
    from sandbox.generator import generate_dataset

    console = Console()
    settings = get_settings()
    engine = create_sandbox_engine(settings.resolved_sandbox_database_url)
    try:
        if reset:
            store.reset(engine)
        elif store.is_seeded(engine):
            if if_empty:
                console.print("The sandbox already holds data; nothing to do (--if-empty).")
                return
            console.print(
                "[red]The sandbox already holds data.[/red] Use --reset to replace it or --if-empty to skip."
            )
            raise typer.Exit(1)
        started = time.perf_counter()
        dataset = generate_dataset(
            seed=settings.sandbox_seed if seed is None else seed,
            patients=settings.sandbox_patients if patients is None else patients,
            through=through.date() if through else None,
        )
        generated = time.perf_counter()
        counts = store.load_dataset(engine, dataset)
        loaded = time.perf_counter()
    finally:
        engine.dispose()
    table = Table(title="Sandbox seeded")
    table.add_column("resource")
    table.add_column("rows", justify="right")
    for kind, count in sorted(counts.items()):
        table.add_row(kind, str(count))
    console.print(table)
    console.print(f"seed {dataset.seed}, activity through {dataset.generated_through}")
    console.print(
        f"generated in {generated - started:.1f} s, loaded in {loaded - generated:.1f} s "
        f"(total {loaded - started:.1f} s) into {settings.resolved_sandbox_database_url}"
    )


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Bind address (default: FOVEA_SANDBOX_HOST, loopback)")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: FOVEA_SANDBOX_PORT)")] = None,
) -> None:
    """Serve the sandbox API and webhooks until Ctrl-C."""
    import uvicorn

    from billing.settings import get_settings
    from sandbox.app import create_app

    settings = get_settings()
    uvicorn.run(
        create_app(settings),
        host=host or settings.sandbox_host,
        port=port or settings.sandbox_port,
        log_level=settings.log_level.lower(),
    )
