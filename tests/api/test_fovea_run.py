"""End to end: `fovea run` seeds the sandbox, starts both services, and stops cleanly on Ctrl-C."""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import httpx
import pytest

API_TOKEN = "e2e-crystalpm-token"
ADMIN_TOKEN = "e2e-sandbox-admin-token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_health(url: str, process: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        assert process.poll() is None, f"`fovea run` exited early with {process.returncode}"
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{url}/health did not answer in time")


def emit_sandbox_event(sandbox_url: str) -> str:
    """Have the sandbox emit note.finalized for its first practice; the event id."""
    practices = httpx.get(f"{sandbox_url}/api/v1/practices", headers={"Authorization": f"Bearer {API_TOKEN}"})
    practice_id = practices.json()["items"][0]["id"]
    emitted = httpx.post(
        f"{sandbox_url}/_sandbox/events",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        json={"type": "note.finalized", "practice_id": practice_id, "data": {"encounter_id": "enc_e2e"}},
    )
    assert emitted.status_code == 202, emitted.text
    assert emitted.json()["deliveries"] == 1
    return emitted.json()["event"]["id"]


def copilot_event_status(database: Path, event_id: str) -> str | None:
    with closing(sqlite3.connect(database)) as connection:
        row = connection.execute("SELECT status FROM events WHERE id = ?", (event_id,)).fetchone()
    return row[0] if row else None


def refuses_connections(url: str) -> bool:
    try:
        httpx.get(f"{url}/health", timeout=1)
    except httpx.TransportError:
        return True
    return False


def test_fovea_run_serves_both_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    api_port, sandbox_port = free_port(), free_port()
    api_url, sandbox_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{sandbox_port}"
    # Only this test's FOVEA_ settings reach the child, whatever the calling shell exports.
    env = {key: value for key, value in os.environ.items() if not key.startswith("FOVEA_")}
    env |= {
        "FOVEA_MODE": "development",
        "FOVEA_CRYSTALPM_TOKEN": API_TOKEN,
        "FOVEA_SANDBOX_ADMIN_TOKEN": ADMIN_TOKEN,
        "FOVEA_WEBHOOK_SECRET": "e2e-webhook-secret-0123456789",
        "FOVEA_DATA_DIR": str(tmp_path / "var"),
        "FOVEA_API_PORT": str(api_port),
        "FOVEA_SANDBOX_PORT": str(sandbox_port),
        "FOVEA_PUBLIC_URL": api_url,
        "FOVEA_CRYSTALPM_BASE_URL": sandbox_url,
    }
    output = tmp_path / "run.log"
    with output.open("wb") as log_file:
        # cwd is the temporary folder so no developer .env leaks in; the venv's package is installed.
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "run", "--patients", "40"],
            cwd=tmp_path,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        wait_for_health(sandbox_url, process, deadline)
        wait_for_health(api_url, process, deadline)
        assert httpx.get(f"{api_url}/ready", timeout=5).json()["status"] == "ready"
        while "Press Ctrl-C to stop" not in output.read_text(errors="replace"):
            assert process.poll() is None and time.monotonic() < deadline, output.read_text(errors="replace")
            time.sleep(0.2)
        # The sandbox signs a delivery to the subscribed URL; the copilot stores it and a worker finishes it.
        event_id = emit_sandbox_event(sandbox_url)
        while copilot_event_status(tmp_path / "var" / "fovea.db", event_id) != "done":
            assert time.monotonic() < deadline, "the sandbox's event never reached 'done' in the copilot"
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0, output.read_text(errors="replace")
    finally:
        if process.poll() is None:
            # SIGTERM first: `fovea run` then stops its children, which a SIGKILL would orphan.
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    shown = output.read_text(errors="replace")
    assert api_url in shown and sandbox_url in shown
    assert "(subscribed)" in shown, shown
    assert refuses_connections(api_url) and refuses_connections(sandbox_url)
    assert (tmp_path / "var" / "fovea.db").is_file()
