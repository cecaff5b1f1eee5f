"""Run the Crystal PM sandbox (or any ASGI app) for real on a free loopback port inside a test.

Usage::

    from tests.support.sandbox import running_sandbox
    from tests.support.sandbox_data import small_dataset

    def test_something(settings):
        with running_sandbox(settings, small_dataset()) as sandbox:
            headers = {"Authorization": f"Bearer {sandbox.token}"}
            httpx.get(f"{sandbox.base_url}/api/v1/patients", headers=headers)

`running_sandbox(settings, dataset=None, *, webhook_retry_base_seconds=0.05)`:

- makes a fresh SQLite file in its own temporary folder (never `settings.data_dir`'s sandbox.db),
  loads `dataset` into it when given (`dataset=None` leaves the sandbox empty: `/ready` answers 503);
- serves `sandbox.app.create_app(settings, engine=...)` with uvicorn in a daemon thread on a socket it
  bound itself to 127.0.0.1:0 (so there is no race for the port), waits for `/health`;
- yields a `SandboxHandle`: `base_url` (no trailing slash, without `/api/v1`), `token` (API bearer
  token = settings.crystalpm_token), `admin_token` (settings.sandbox_admin_token, for `/_sandbox`),
  `engine` (the SQLAlchemy engine, to inspect rows directly);
- webhook retries wait 0.05, 0.1, 0.2 ... s instead of 1, 2, 4 ... s so retry tests run fast;
  `webhook_secret` is settings.webhook_secret;
- on exit stops uvicorn (lifespan shutdown stops the webhook worker), joins the thread, disposes the
  engine and deletes the folder.

`serving(app)` runs any ASGI app the same way and yields its base URL (e.g. a webhook receiver).
"""

import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import Engine

from billing.settings import Settings
from sandbox.app import create_app
from sandbox.dataset import SyntheticDataset
from sandbox.db import create_sandbox_engine, create_schema
from sandbox.store import load_dataset

STARTUP_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class SandboxHandle:
    base_url: str
    token: str
    admin_token: str
    engine: Engine

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/v1"

    def headers(self, *, admin: bool = False) -> dict[str, str]:
        """Bearer auth headers for the API (or, with admin=True, for /_sandbox)."""
        return {"Authorization": f"Bearer {self.admin_token if admin else self.token}"}


@contextmanager
def serving(app: Any, *, health_path: str | None = None) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free 127.0.0.1 port in a thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="uvicorn-test")
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError(f"the server at {base_url} failed to start")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the server at {base_url} did not start in {STARTUP_TIMEOUT_SECONDS} s")
            time.sleep(0.01)
        if health_path:
            httpx.get(base_url + health_path, timeout=5).raise_for_status()
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def running_sandbox(
    settings: Settings,
    dataset: SyntheticDataset | None = None,
    *,
    webhook_retry_base_seconds: float = 0.05,
) -> Iterator[SandboxHandle]:
    """A real sandbox on loopback, loaded with `dataset`, torn down on exit (see the module docstring)."""
    folder = Path(tempfile.mkdtemp(prefix="fovea-sandbox-"))
    engine = create_sandbox_engine(f"sqlite:///{folder / 'sandbox.db'}")
    try:
        create_schema(engine)
        if dataset is not None:
            load_dataset(engine, dataset)
        app = create_app(settings, engine=engine, webhook_retry_base_seconds=webhook_retry_base_seconds)
        with serving(app, health_path="/health") as base_url:
            yield SandboxHandle(
                base_url=base_url,
                token=settings.crystalpm_token.get_secret_value(),
                admin_token=settings.sandbox_admin_token.get_secret_value(),
                engine=engine,
            )
    finally:
        engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)
