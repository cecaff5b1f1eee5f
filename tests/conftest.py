"""Fixtures shared by every test: isolated settings, the shared public data folder, PostgreSQL."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from billing.settings import Settings

# Tests never reach a network service: pin the offline switches before any library reads them.
for _key, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "LANGSMITH_TRACING": "false",
    "LANGSMITH_TEST_TRACKING": "false",
    "ANONYMIZED_TELEMETRY": "False",
}.items():
    os.environ[_key] = _value

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The public data folder beside the clone (CI has it); skip where it is absent."""
    if not SHARED_DATA.is_dir():
        if IN_CI:
            pytest.fail(f"{SHARED_DATA} is missing in CI")
        pytest.skip(f"{SHARED_DATA} not found beside the repo")
    return SHARED_DATA


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings isolated in a temporary data directory; tests never touch ./var."""
    return Settings(
        _env_file=None,
        mode="development",
        data_dir=tmp_path / "var",
        webhook_secret="test-webhook-secret-0123456789",
        session_secret="test-session-secret-0123456789",
        crystalpm_token="test-crystalpm-token",
        sandbox_admin_token="test-sandbox-admin-token",
    )


def _postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", connect_timeout=2):
            return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A reachable PostgreSQL database; skipped with a reason on machines without one, never in CI."""
    if not _postgres_available():
        if IN_CI:
            pytest.fail("PostgreSQL on 127.0.0.1:5432 is required in CI (.ci/run starts it)")
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432 (trust auth, database 'test')")
    yield POSTGRES_URL
