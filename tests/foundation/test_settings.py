"""Settings: safe offline defaults, the FOVEA_ prefix, refusing placeholder secrets outside development."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from billing.settings import Settings


def test_defaults_are_offline_and_local(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("FOVEA_ENGINE", "FOVEA_DATABASE_URL", "FOVEA_CRYSTALPM_BASE_URL", "FOVEA_MODE"):
        monkeypatch.delenv(key, raising=False)
    s = Settings(_env_file=None)
    assert s.engine == "offline"
    assert s.crystalpm_base_url.startswith("http://127.0.0.1:")
    assert s.api_host == "127.0.0.1" and s.sandbox_host == "127.0.0.1"
    assert s.resolved_database_url.startswith("sqlite:///")
    assert s.resolved_database_url.endswith("var/fovea.db")
    assert s.llm_base_url == ""


def test_env_prefix_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOVEA_ENGINE", "llm")
    monkeypatch.setenv("FOVEA_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("FOVEA_CRYSTALPM_BASE_URL", "https://crystal.example.test")
    s = Settings(_env_file=None)
    assert (s.engine, s.resolved_database_url, s.crystalpm_base_url) == (
        "llm",
        "postgresql+psycopg://u@h/db",
        "https://crystal.example.test",
    )


def test_placeholder_secrets_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="FOVEA_WEBHOOK_SECRET"):
        Settings(_env_file=None, mode="production")
    real = {
        "webhook_secret": "a" * 32,
        "session_secret": "b" * 32,
        "crystalpm_token": "c" * 32,
        "sandbox_admin_token": "d" * 32,
    }
    assert Settings(_env_file=None, mode="production", **real).mode == "production"
    with pytest.raises(ValidationError, match="FOVEA_SESSION_SECRET"):
        Settings(_env_file=None, mode="test", **{**real, "session_secret": "changeme"})


def test_development_mode_accepts_placeholders() -> None:
    assert Settings(_env_file=None, mode="development").webhook_secret.get_secret_value()


def test_data_lives_under_the_data_dir(tmp_path: Path) -> None:
    s = Settings(_env_file=None, data_dir=tmp_path)
    for path in (s.chroma_dir, s.models_dir, Path(s.resolved_checkpoint_url)):
        assert path.resolve().is_relative_to(tmp_path.resolve())
    assert str(tmp_path.resolve()) in s.resolved_sandbox_database_url
