"""Loading, checking and clearing the sandbox database, and seeding it through the generator and the CLI."""

import importlib.util
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select

from billing.charges import ChargeStatus
from billing.settings import Settings
from sandbox.db import create_sandbox_engine, resources, user_practices
from sandbox.store import is_seeded, load_dataset, reset
from tests.support.sandbox import running_sandbox
from tests.support.sandbox_data import small_dataset


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_sandbox_engine(f"sqlite:///{tmp_path / 'nested' / 'sandbox.db'}")
    yield engine
    engine.dispose()


def _generator_ready() -> bool:
    if importlib.util.find_spec("sandbox.generator") is None:
        return False
    import sandbox.generator

    return hasattr(sandbox.generator, "generate_dataset")


def test_load_dataset_counts_rows_and_marks_the_database_seeded(engine: Engine) -> None:
    dataset = small_dataset()
    assert not is_seeded(engine)
    counts = load_dataset(engine, dataset)
    assert is_seeded(engine)
    assert counts["patient"] == len(dataset.patients)
    assert counts["encounter"] == len(dataset.encounters)
    assert counts["fee_schedule"] == len(dataset.fee_schedules)
    with engine.connect() as conn:
        stored = conn.scalar(select(func.count()).select_from(resources).where(resources.c.kind == "claim"))
        links = conn.scalar(select(func.count()).select_from(user_practices))
    assert stored == len(dataset.claims)
    assert links == sum(len(u.practice_ids) for u in dataset.users)


def test_reset_empties_the_sandbox(engine: Engine) -> None:
    load_dataset(engine, small_dataset())
    reset(engine)
    assert not is_seeded(engine)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(resources)) == 0
    load_dataset(engine, small_dataset())
    assert is_seeded(engine)


def test_empty_sandbox_serves_but_is_not_ready(settings: Settings) -> None:
    with running_sandbox(settings) as sandbox:
        assert httpx.get(f"{sandbox.base_url}/health").status_code == 200
        ready = httpx.get(f"{sandbox.base_url}/ready")
        assert ready.status_code == 503 and ready.headers["retry-after"]
        assert httpx.get(f"{sandbox.api_url}/patients", headers=sandbox.headers()).json()["total"] == 0


@pytest.mark.skipif(not _generator_ready(), reason="sandbox.generator.generate_dataset is not there yet")
def test_generated_practice_loads_and_serves(settings: Settings) -> None:
    from sandbox.generator import generate_dataset

    started = time.perf_counter()
    dataset = generate_dataset(seed=11, patients=50)
    with (
        running_sandbox(settings, dataset) as sandbox,
        httpx.Client(base_url=sandbox.api_url, headers=sandbox.headers(), timeout=10) as api,
    ):
        seeded_in = time.perf_counter() - started
        assert api.get("/patients").json()["total"] == len(dataset.patients)
        billed = {c.encounter_id for c in dataset.charges if c.status != ChargeStatus.VOID}
        unbilled = api.get("/encounters", params={"unbilled": "true", "limit": 500}).json()
        assert unbilled["total"] == sum(e.id not in billed for e in dataset.encounters)
        encounter = dataset.encounters[0]
        assert api.get(f"/encounters/{encounter.id}").json()["patient_id"] == encounter.patient_id
    assert seeded_in < 30


@pytest.mark.skipif(not _generator_ready(), reason="sandbox.generator.generate_dataset is not there yet")
def test_cli_seed_loads_once_and_if_empty_skips(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from api.cli import app

    monkeypatch.setattr("billing.settings.get_settings", lambda: settings)
    runner = CliRunner()
    first = runner.invoke(
        app, ["sandbox", "seed", "--patients", "20", "--seed", "3", "--through", "2025-06-30"]
    )
    assert first.exit_code == 0, first.output
    assert "patient" in first.output
    engine = create_sandbox_engine(settings.resolved_sandbox_database_url)
    try:
        assert is_seeded(engine)
        again = runner.invoke(app, ["sandbox", "seed", "--patients", "20", "--if-empty"])
        assert again.exit_code == 0 and "nothing to do" in again.output
        refused = runner.invoke(app, ["sandbox", "seed", "--patients", "20"])
        assert refused.exit_code == 1
        with engine.connect() as conn:
            patients = conn.scalar(
                select(func.count()).select_from(resources).where(resources.c.kind == "patient")
            )
        assert patients == 20
    finally:
        engine.dispose()
