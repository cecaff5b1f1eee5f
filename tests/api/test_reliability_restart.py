"""Fault test: kill -9 the real service between a reviewer's approval and the charge write; restart; one charge.

The sandbox answers 503 to every API call once the decision is posted, so the service is held inside the
write (its client retrying) when it is killed. After the restart its recovery resumes the decided item
from the checkpoint; the write re-uses the run's idempotency key.
"""

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import httpx

from api.audit_trail import verify_trail
from api.security.api_keys import issue_api_key
from api.storage.db import create_db_engine, create_session_factory
from api.storage.models import utc_now
from api.storage.users import create_user
from billing.practice import Role
from billing.settings import Settings
from tests.support.coding_data import coding_dataset
from tests.support.reviews import wait_until
from tests.support.sandbox import SandboxHandle, running_sandbox
from tools.crystalpm import RestCrystalPM

REPO = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 120.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def fovea_serve(
    settings: Settings, sandbox: SandboxHandle, port: int, log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """`fovea serve` as a child process on loopback; killed (if still alive) on exit."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("FOVEA_")}
    env |= {
        "FOVEA_MODE": "development",
        "FOVEA_DATA_DIR": str(settings.data_dir),
        "FOVEA_CRYSTALPM_BASE_URL": sandbox.base_url,
        "FOVEA_CRYSTALPM_TOKEN": sandbox.token,
        "FOVEA_WEBHOOK_SECRET": settings.webhook_secret.get_secret_value(),
        "FOVEA_SESSION_SECRET": settings.session_secret.get_secret_value(),
        "FOVEA_LOG_LEVEL": "WARNING",
    }
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:

        def healthy() -> bool:
            assert process.poll() is None, log_path.read_text(errors="replace")[-3000:]
            try:
                return httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(healthy, STARTUP_SECONDS, "the service to be ready")
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def review_row(database: Path, encounter_id: str) -> dict[str, Any] | None:
    with closing(sqlite3.connect(database)) as connection:
        connection.row_factory = sqlite3.Row
        row = connection.execute(
            "SELECT id, status, applied_at, result FROM review_items WHERE encounter_id = ?", (encounter_id,)
        ).fetchone()
    return dict(row) if row else None


def set_faults(sandbox: SandboxHandle, count: int) -> None:
    answer = httpx.post(
        f"{sandbox.base_url}/_sandbox/faults",
        json={"status": 503, "count": count, "retry_after": 1},
        headers=sandbox.headers(admin=True),
    )
    assert answer.status_code == 200


def faults_left(sandbox: SandboxHandle) -> int:
    return httpx.get(f"{sandbox.base_url}/_sandbox/faults", headers=sandbox.headers(admin=True)).json()[
        "count"
    ]


def test_kill_9_between_review_and_write_then_restart_makes_exactly_one_charge(
    settings: Settings, tmp_path: Path
) -> None:
    database = settings.data_dir / "fovea.db"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"
    with (
        running_sandbox(settings, coding_dataset()) as sandbox,
        RestCrystalPM(sandbox.base_url, sandbox.token) as crystalpm,
    ):
        with fovea_serve(settings, sandbox, port, log_path) as first:
            engine = create_db_engine(f"sqlite:///{database}")
            with create_session_factory(engine)() as db:
                coder = create_user(
                    db, username="coder", roles=[Role.CODER], practice_ids=["PRA-1"], password_hash=None
                )
                key, _ = issue_api_key(db, coder.id, "test", utc_now())
            engine.dispose()
            headers = {"Authorization": f"Bearer {key}"}
            crystalpm.ensure_webhook_subscription(f"{url}/webhooks/crystalpm", ["note.finalized"])
            emitted = httpx.post(
                f"{sandbox.base_url}/_sandbox/events",
                json={"type": "note.finalized", "practice_id": "PRA-1", "data": {"encounter_id": "ENC-006"}},
                headers=sandbox.headers(admin=True),
            )
            assert emitted.status_code == 202
            item = wait_until(lambda: review_row(database, "ENC-006"), STARTUP_SECONDS, "the pending review")
            assert item["status"] == "pending"

            # Every API call now answers 503: the approved run gets as far as the write and retries there.
            set_faults(sandbox, 1000)

            def approve() -> None:
                # The service is killed while it answers.
                with contextlib.suppress(httpx.TransportError):
                    httpx.post(
                        f"{url}/reviews/{item['id']}/decision",
                        json={"decision": "approve"},
                        headers=headers,
                        timeout=60,
                    )

            decision = threading.Thread(target=approve, daemon=True)
            decision.start()
            wait_until(lambda: faults_left(sandbox) < 1000, 60, "the write to reach Crystal PM")
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
            decision.join(timeout=10)
            decided = review_row(database, "ENC-006")
            assert decided is not None and decided["status"] == "decided" and decided["applied_at"] is None

        set_faults(sandbox, 0)
        assert list(crystalpm.iter_charges(encounter_id="ENC-006")) == []
        with fovea_serve(settings, sandbox, port, log_path):
            applied = wait_until(
                lambda: (row := review_row(database, "ENC-006")) and row["applied_at"] and row,
                STARTUP_SECONDS,
                "recovery to apply the decision",
            )
        (charge,) = crystalpm.iter_charges(encounter_id="ENC-006")
        assert charge.source == "ai_suggested" and json.loads(applied["result"])["charge_id"] == charge.id
        with closing(sqlite3.connect(database)) as connection:
            assert connection.execute("SELECT status, count(*) FROM events GROUP BY status").fetchall() == [
                ("done", 1)
            ]
    engine = create_db_engine(f"sqlite:///{database}")
    with create_session_factory(engine)() as db:
        assert verify_trail(db).ok
    engine.dispose()
