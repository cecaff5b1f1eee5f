"""The one Settings object (env prefix FOVEA_): modules get configuration here, never from os.environ."""

from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {
    "",
    "changeme",
    "change-me",
    "dev-webhook-secret",
    "dev-session-secret",
    "dev-token",
    "dev-sandbox-admin",
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FOVEA_", env_file=".env", extra="ignore")

    mode: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("var")
    log_level: str = "INFO"

    # storage
    database_url: str = Field("", description="SQLAlchemy URL; default sqlite:///<data_dir>/fovea.db")
    checkpoint_url: str = Field("", description="LangGraph checkpoints; default sqlite file under data_dir")

    # engines
    engine: Literal["offline", "llm"] = "offline"
    llm_base_url: str = ""
    llm_api_key: SecretStr = SecretStr("")
    llm_model: str = "gpt-4o-mini"
    llm_timeout_seconds: float = 30.0

    # LangSmith tracing: off unless both are set; inputs and outputs are then redacted (agents/tracing.py)
    langsmith_tracing: bool = False
    langsmith_api_key: SecretStr = SecretStr("")
    langsmith_project: str = "fovea"
    langsmith_endpoint: str = Field("", description="LangSmith API URL; empty means the hosted service")

    # Crystal PM
    crystalpm_adapter: Literal["rest", "files"] = "rest"
    crystalpm_base_url: str = "http://127.0.0.1:8100"
    crystalpm_token: SecretStr = SecretStr("dev-token")
    crystalpm_timeout_seconds: float = 10.0
    crystalpm_max_retries: int = 4
    files_inbox_dir: Path | None = None
    files_outbox_dir: Path | None = Field(None, description="work items for staff; default <data_dir>/outbox")
    files_practice_id: str = Field("practice", description="the practice the files adapter serves")
    files_after_import: Literal["move", "leave"] = Field(
        "move",
        description="move imported files to <inbox>/imported (failed ones to <inbox>/failed), or leave them",
    )
    files_poll_seconds: float = 10.0

    # webhooks in
    webhook_secret: SecretStr = SecretStr("dev-webhook-secret")
    webhook_tolerance_seconds: int = 300
    max_body_bytes: int = 1024 * 1024

    # the copilot service
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    session_secret: SecretStr = SecretStr("dev-session-secret")
    worker_concurrency: int = 2

    # sign-in: server-side sessions and lockout after repeated failures (api/security)
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    login_max_failures: int = 5
    login_failure_window_minutes: int = 15
    login_lockout_minutes: int = 15

    # the Crystal PM sandbox
    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = 8100
    sandbox_database_url: str = Field("", description="default sqlite:///<data_dir>/sandbox.db")
    sandbox_admin_token: SecretStr = SecretStr("dev-sandbox-admin")
    sandbox_patients: int = 1000
    sandbox_seed: int = 7
    demo_password: SecretStr = SecretStr("fovea-demo")

    # knowledge: official files are imported from here (never shipped in the repo)
    ncci_dir: Path | None = None
    pfs_dir: Path | None = None
    codes_dir: Path | None = None
    medicare_locality: str = Field("", description="default MAC locality, e.g. '01112-05'")
    chroma_url: str = Field("", description="Chroma server URL; empty means the embedded PersistentClient")

    # denials and appeals (agents/denials): work-queue routing by amount, upload size
    denial_high_value_threshold: Decimal = Field(
        Decimal("250"),
        description="denied amount at or above which a line goes to its queue's high-value lane",
    )
    denial_small_balance_threshold: Decimal = Field(
        Decimal("15"), description="denied amount below which a line goes to small-balance write-off review"
    )
    remittance_upload_max_bytes: int = 5 * 1024 * 1024

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> "Settings":
        if self.mode == "development":
            return self
        weak = [
            name
            for name in ("webhook_secret", "session_secret", "crystalpm_token", "sandbox_admin_token")
            if getattr(self, name).get_secret_value().strip().lower() in PLACEHOLDER_SECRETS
        ]
        if weak:
            raise ValueError(
                f"set real values for {', '.join('FOVEA_' + w.upper() for w in weak)} outside development"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'fovea.db').resolve()}"

    @property
    def resolved_checkpoint_url(self) -> str:
        return self.checkpoint_url or str((self.data_dir / "checkpoints.db").resolve())

    @property
    def resolved_sandbox_database_url(self) -> str:
        return self.sandbox_database_url or f"sqlite:///{(self.data_dir / 'sandbox.db').resolve()}"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"


@lru_cache
def get_settings() -> Settings:
    return Settings()
