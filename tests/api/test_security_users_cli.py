"""`fovea users`: the demo staff mirror the sandbox's people; `users create` reads the password from stdin."""

import os
import random
import subprocess
import sys
from pathlib import Path

from api.commands.users import seed_demo_users
from billing.settings import Settings
from sandbox.generator.practices import build_practices, build_users
from tests.support.security import secured_client

REPO = Path(__file__).resolve().parents[2]


def test_seed_demo_creates_the_sandbox_staff_once_and_they_can_sign_in(settings: Settings) -> None:
    practices, _ = build_practices(random.Random(settings.sandbox_seed))
    expected = build_users(practices)
    created, existing = seed_demo_users(settings)
    assert existing == []
    assert [(u.id, u.username, u.roles, u.practice_ids) for u in created] == [
        (u.id, u.username, sorted(u.roles), sorted(u.practice_ids)) for u in expected
    ]
    created_again, existing_again = seed_demo_users(settings)
    assert created_again == [] and len(existing_again) == len(expected)

    password = settings.demo_password.get_secret_value()
    with secured_client(settings) as client:
        me = client.post("/auth/login", json={"username": "groupadmin", "password": password}).json()
        assert me["roles"] == ["Admin", "Biller"] and me["practice_ids"] == ["prac-1", "prac-2"]
        coder = client.post("/auth/login", json={"username": "ccoder", "password": password}).json()
        assert coder["practice_ids"] == ["prac-1"] and "charges.review" in coder["permissions"]


def test_users_create_reads_the_password_from_stdin(settings: Settings, tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-c",
        "from api.commands.users import app; app()",
        "create",
        "--username",
        "Alice",
        "--role",
        "coder",
        "--practice",
        "prac-2",
        "--password-stdin",
    ]
    env = {**os.environ, "FOVEA_DATA_DIR": str(settings.data_dir)}
    result = subprocess.run(
        command,
        input="a long enough password\n",
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "alice" in result.stdout
    with secured_client(settings) as client:
        me = client.post(
            "/auth/login", json={"username": "alice", "password": "a long enough password"}
        ).json()
        assert (me["roles"], me["practice_ids"]) == (["Coder"], ["prac-2"])
