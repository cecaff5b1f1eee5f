"""`fovea run` and `fovea serve`: start the copilot service (and, for run, the sandbox beside it)."""

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

if TYPE_CHECKING:
    from billing.practice import User
    from billing.settings import Settings
    from tools.crystalpm import CrystalPM

STARTUP_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 10.0
LOG_FILES = {"sandbox": "sandbox.log", "copilot": "api.log"}
# How many unbilled visits `fovea run` has the sandbox finalize, so the review queue has items to show.
DEMO_NOTES = 10
console = Console()


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default FOVEA_API_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default FOVEA_API_PORT).")] = None,
) -> None:
    """Start the copilot service alone."""
    import uvicorn

    from api.app import create_app
    from api.logging import configure_logging
    from billing.settings import get_settings

    settings = get_settings()
    configure_logging(settings)
    # log_config=None keeps the JSON logging above; the request middleware replaces the access log.
    uvicorn.run(
        create_app(settings),
        host=host or settings.api_host,
        port=port or settings.api_port,
        log_config=None,
        access_log=False,
    )


def run(
    patients: Annotated[
        int | None, typer.Option(help="Synthetic patients to seed (default FOVEA_SANDBOX_PATIENTS).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed of the synthetic practice.")] = None,
) -> None:
    """Seed the sandbox if needed, start the sandbox and the copilot service, run until Ctrl-C."""
    from api.storage.migrate import migrate
    from billing.settings import get_settings

    settings = get_settings()
    migrate(settings)
    if settings.mode == "development":
        from api.commands.users import seed_demo_users

        seed_demo_users(settings)
    seeding = subprocess.run(
        _fovea(
            "sandbox",
            "seed",
            "--if-empty",
            "--patients",
            str(patients if patients is not None else settings.sandbox_patients),
            "--seed",
            str(seed if seed is not None else settings.sandbox_seed),
        ),
        check=False,
    )
    if seeding.returncode != 0:
        console.print("[red]Seeding the sandbox failed; see the output above.[/red]")
        raise typer.Exit(1)

    stop = _stop_on_signals()
    logs_dir = settings.data_dir / "logs"
    logs_dir.mkdir(parents=True, exist_ok=True)
    sandbox_url = _loopback_url(settings.sandbox_host, settings.sandbox_port)
    api_url = _loopback_url(settings.api_host, settings.api_port)
    commands = {
        "sandbox": _fovea(
            "sandbox", "serve", "--host", settings.sandbox_host, "--port", str(settings.sandbox_port)
        ),
        "copilot": _fovea("serve", "--host", settings.api_host, "--port", str(settings.api_port)),
    }
    children = {name: _start(command, logs_dir / LOG_FILES[name]) for name, command in commands.items()}
    try:
        _wait_healthy({"sandbox": sandbox_url, "copilot": api_url}, children, logs_dir, stop)
        if stop.is_set():
            return
        console.print(_welcome_panel(settings, sandbox_url, api_url, logs_dir))
        died = _wait_for_stop(children, stop)
        if died:
            log_path = logs_dir / LOG_FILES[died]
            console.print(f"[red]The {died} process stopped unexpectedly; see {log_path}.[/red]")
            raise typer.Exit(1)
        console.print("Stopping ...")
    finally:
        _stop_children(children.values())


def _fovea(*args: str) -> list[str]:
    """The same CLI in a child process, with this interpreter (so the venv is the same)."""
    return [sys.executable, "-m", "api.cli", *args]


def _loopback_url(host: str, port: int) -> str:
    return f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"


def _start(command: list[str], log_path: Path) -> "subprocess.Popen[bytes]":
    # A session of its own: Ctrl-C reaches only this supervisor, which then stops children in order.
    with log_path.open("ab") as log_file:
        return subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    return stop


def _wait_healthy(
    urls: dict[str, str],
    children: dict[str, "subprocess.Popen[bytes]"],
    logs_dir: Path,
    stop: threading.Event,
) -> None:
    """Poll each child's /health until it answers 200; fail fast if a child exits first."""
    import httpx

    pending = dict(urls)
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    with console.status("Starting the sandbox and the copilot ..."):
        while pending and not stop.is_set():
            for name, url in list(pending.items()):
                if children[name].poll() is not None:
                    _fail_start(f"The {name} process exited during startup", logs_dir / LOG_FILES[name])
                try:
                    if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                        del pending[name]
                except httpx.TransportError:
                    pass
            if time.monotonic() > deadline:
                _fail_start(f"{', '.join(pending)} did not answer /health in time", logs_dir)
            stop.wait(0.2)


def _fail_start(message: str, log_path: Path) -> None:
    console.print(f"[red]{message}; see {log_path}.[/red]")
    if log_path.is_file():
        tail = log_path.read_text(errors="replace").splitlines()[-15:]
        console.print("\n".join(tail), markup=False, highlight=False)
    raise typer.Exit(1)


def _welcome_panel(settings: "Settings", sandbox_url: str, api_url: str, logs_dir: Path) -> Panel:
    """The two URLs, the webhook subscription, and the demo credentials."""
    from billing.events import EventType

    webhook_url = settings.public_url.rstrip("/") + "/webhooks/crystalpm"
    lines = Table.grid(padding=(0, 2))
    lines.add_row("Review queue (browser)", f"{api_url}/ui/")
    lines.add_row("Copilot API", f"{api_url}  (API docs at {api_url}/docs)")
    lines.add_row("Crystal PM sandbox", sandbox_url)
    # Demo credentials are shown only in development; elsewhere they are real secrets.
    demo = settings.mode == "development"
    token = settings.crystalpm_token.get_secret_value() if demo else "(FOVEA_CRYSTALPM_TOKEN)"
    password = settings.demo_password.get_secret_value() if demo else None
    lines.add_row("Sandbox API token", token)
    lines.add_row("Demo staff password", password or "(FOVEA_DEMO_PASSWORD)")
    staff: Table | str = ""
    try:
        from tools.crystalpm import make_crystalpm

        client = make_crystalpm(settings)
        try:
            client.ensure_webhook_subscription(webhook_url, [event_type.value for event_type in EventType])
            lines.add_row("Webhooks", f"{webhook_url}  (subscribed)")
            sent = finalize_unbilled_notes(settings, sandbox_url, client)
            lines.add_row("Review queue", f"{sent} finalized notes sent for coding; open {api_url}/ui/")
            staff = _staff_table(client.iter_users())
        finally:
            client.close()
    except Exception as exc:  # the demo still runs without a subscription; say so plainly
        lines.add_row("Webhooks", f"[yellow]NOT subscribed ({type(exc).__name__}: {exc})[/yellow]")
        lines.add_row("", f"[yellow]register {webhook_url} in the sandbox by hand to receive events[/yellow]")
    lines.add_row("Logs", ", ".join(str(logs_dir / name) for name in LOG_FILES.values()))
    return Panel(
        Group(lines, staff, "", "Press Ctrl-C to stop."), title="Fovea is running", border_style="green"
    )


def finalize_unbilled_notes(
    settings: "Settings", sandbox_url: str, client: "CrystalPM", limit: int = DEMO_NOTES
) -> int:
    """Demo glue: the sandbox sends note.finalized for up to `limit` unbilled visits; the count sent."""
    import httpx

    headers = {"Authorization": f"Bearer {settings.sandbox_admin_token.get_secret_value()}"}
    sent = 0
    for encounter in client.iter_encounters(unbilled=True):
        if sent >= limit:
            break
        answer = httpx.post(
            f"{sandbox_url}/_sandbox/events",
            json={
                "type": "note.finalized",
                "practice_id": encounter.practice_id,
                "data": {"encounter_id": encounter.id},
            },
            headers=headers,
            timeout=10.0,
        )
        answer.raise_for_status()
        sent += 1
    return sent


def _staff_table(users: Iterable["User"]) -> Table:
    table = Table(title="Demo staff", title_justify="left")
    for column in ("username", "name", "roles"):
        table.add_column(column)
    for user in users:
        table.add_row(user.username, user.display_name, ", ".join(role.value for role in user.roles))
    return table


def _wait_for_stop(children: dict[str, "subprocess.Popen[bytes]"], stop: threading.Event) -> str | None:
    """Block until a stop signal (None) or until a child exits on its own (its name)."""
    while not stop.wait(0.5):
        for name, child in children.items():
            if child.poll() is not None:
                return name
    return None


def _stop_children(children: Iterable["subprocess.Popen[bytes]"]) -> None:
    """Terminate every child, wait for each, and kill the ones that do not stop in time."""
    running = [child for child in children if child.poll() is None]
    for child in running:
        child.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for child in running:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
