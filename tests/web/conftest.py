"""The live service for web UI tests: the sandbox and the copilot on loopback, two review items, a Coder.

Built once per test session (the offline coder takes ~15 s to load): ENC-006 is the glaucoma visit the
browser test edits and approves; ENC-008's note carries a script tag and quotes, for the escaping tests.
"""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from api.app import create_app
from api.security.passwords import hash_password
from api.storage.models import ReviewItemRecord
from api.storage.users import create_user
from billing.practice import Role
from billing.settings import Settings
from sandbox.dataset import SyntheticDataset
from tests.support.coding_data import DRY_EYE_NOTE, coding_dataset
from tests.support.sandbox import SandboxHandle, running_sandbox, serving
from tools.crystalpm import RestCrystalPM

PRACTICE = "PRA-1"
EDITED_ENCOUNTER = "ENC-006"
HOSTILE_ENCOUNTER = "ENC-008"
HOSTILE_TEXT = '<script>alert(1)</script> "quoted" & <b>bold</b>'
HOSTILE_NOTE = DRY_EYE_NOTE.replace("Lids clear.", f"Lids clear. Patient typed: {HOSTILE_TEXT}")
CODER = ("coder-web", "a-long-coder-password-1")


def web_settings(data_dir: Path) -> Settings:
    return Settings(
        _env_file=None,
        mode="development",
        data_dir=data_dir,
        webhook_secret="test-webhook-secret-0123456789",
        session_secret="test-session-secret-0123456789",
        crystalpm_token="test-crystalpm-token",
        sandbox_admin_token="test-sandbox-admin-token",
    )


def web_dataset() -> SyntheticDataset:
    dataset = coding_dataset()
    notes = [
        note.model_copy(update={"text": HOSTILE_NOTE}) if note.encounter_id == HOSTILE_ENCOUNTER else note
        for note in dataset.notes
    ]
    return dataset.model_copy(update={"notes": notes})


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass(frozen=True)
class LiveService:
    app: FastAPI
    url: str
    sandbox: SandboxHandle
    items: dict[str, str]  # encounter id -> review item id

    def charges(self, encounter_id: str) -> list[Any]:
        with RestCrystalPM(self.sandbox.base_url, self.sandbox.token) as client:
            return list(client.iter_charges(encounter_id=encounter_id))


@pytest.fixture(scope="session")
def live_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    settings = web_settings(tmp_path_factory.mktemp("web") / "var")
    with running_sandbox(settings, web_dataset()) as sandbox:
        app = create_app(settings.model_copy(update={"crystalpm_base_url": sandbox.base_url}))
        with serving(app) as app_url, RestCrystalPM(sandbox.base_url, sandbox.token) as client:
            client.ensure_webhook_subscription(f"{app_url}/webhooks/crystalpm", ["note.finalized"])
            for encounter_id in (EDITED_ENCOUNTER, HOSTILE_ENCOUNTER):
                answer = httpx.post(
                    f"{sandbox.base_url}/_sandbox/events",
                    json={
                        "type": "note.finalized",
                        "practice_id": PRACTICE,
                        "data": {
                            "encounter_id": encounter_id,
                            "note_id": encounter_id.replace("ENC", "NOTE"),
                        },
                    },
                    headers=sandbox.headers(admin=True),
                )
                assert answer.status_code == 202, answer.text

            def opened() -> dict[str, str] | None:
                with app.state.sessions() as db:
                    items = {row.encounter_id: row.id for row in db.scalars(select(ReviewItemRecord))}
                return items if {EDITED_ENCOUNTER, HOSTILE_ENCOUNTER} <= set(items) else None

            items = wait_for(opened, "the worker to open both review items")
            with app.state.sessions() as db:
                create_user(
                    db,
                    username=CODER[0],
                    display_name="Casey Coder",
                    roles=[Role.CODER],
                    practice_ids=[PRACTICE],
                    password_hash=hash_password(CODER[1]),
                )
            yield LiveService(app=app, url=app_url, sandbox=sandbox, items=items)
