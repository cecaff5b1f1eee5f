"""`fovea ingest` end to end: approved encounters pulled from a real sandbox on loopback into Chroma."""

import io
import socket
from pathlib import Path

import pytest
from rich.console import Console

from api.commands.ingest import build_collections
from billing.charges import ChargeStatus
from billing.settings import Settings
from knowledge.vectorstore import load_minilm, open_chroma, similar_encounters
from tests.support.sandbox import running_sandbox
from tests.support.sandbox_data import small_dataset

POLICY = """---
id: test-commercial
title: Commercial plans
payer_kinds: [commercial]
effective: 2024-01-01
source: test fixture
---
# Refraction
Most commercial medical plans do not pay for refraction (92015); the patient pays it.
"""


@pytest.fixture(scope="session")
def minilm() -> object:
    return load_minilm()


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "commercial.md").write_text(POLICY)
    return folder


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_ingest_pulls_posted_encounters_once_and_a_rerun_changes_nothing(
    settings: Settings, policy_dir: Path, minilm: object
) -> None:
    dataset = small_dataset()
    posted = {charge.encounter_id for charge in dataset.charges if charge.status == ChargeStatus.POSTED}
    output = io.StringIO()
    console = Console(file=output, width=120)
    with running_sandbox(settings, dataset) as sandbox:
        settings = settings.model_copy(update={"crystalpm_base_url": sandbox.base_url})
        first = build_collections(settings, ["policies", "encounters"], console, policy_dir=policy_dir)
        second = build_collections(settings, ["policies", "encounters"], console, policy_dir=policy_dir)
    first_by_name = {result.collection: result for result in first}
    assert first_by_name["payer_policies"].added == 1
    assert first_by_name["encounters"].added >= len(posted)
    assert all(result.added == result.updated == result.deleted == 0 for result in second)
    assert [result.unchanged for result in second] == [result.total for result in first]

    client = open_chroma(settings)
    stored = client.get_collection("encounters").get(include=["metadatas"])["metadatas"]
    assert {metadata["encounter_id"] for metadata in stored} == posted  # drafts, voids and unbilled left out
    glaucoma = next(note for note in dataset.notes if note.encounter_id == "ENC-001")
    best = similar_encounters(client, glaucoma.text, k=1)[0]
    charge = next(charge for charge in dataset.charges if charge.encounter_id == "ENC-001")
    assert (best.encounter_id, best.diagnosis_codes) == ("ENC-001", charge.diagnosis_codes)
    assert [line.code for line in best.procedure_codes] == [line.code for line in charge.lines]
    assert best.payer_kind and best.payer_name


def test_ingest_says_why_encounters_are_skipped_when_crystal_pm_is_down(
    settings: Settings, policy_dir: Path, minilm: object
) -> None:
    settings = settings.model_copy(update={"crystalpm_base_url": f"http://127.0.0.1:{_free_port()}"})
    output = io.StringIO()
    results = build_collections(
        settings, ["policies", "encounters"], Console(file=output, width=200), policy_dir=policy_dir
    )
    assert [result.collection for result in results] == ["payer_policies"]
    assert "encounters skipped" in output.getvalue()
    assert settings.crystalpm_base_url in output.getvalue()
