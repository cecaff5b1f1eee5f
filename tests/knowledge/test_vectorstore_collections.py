"""The Chroma collections for real: MiniLM embedding, incremental ingest, filtered and similarity queries."""

import re
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import chromadb
import numpy as np
import pytest
from chromadb.api import ClientAPI
from chromadb.api.shared_system_client import SharedSystemClient
from chromadb.config import Settings as ChromaSettings

from billing.settings import Settings
from knowledge.vectorstore import (
    ENCOUNTERS,
    ICD10_INDEX,
    CodedEncounter,
    CodedProcedure,
    MiniLMEmbeddingFunction,
    MiniLMEmbeddings,
    get_collection,
    ingest_icd10_index,
    ingest_policies,
    load_minilm,
    open_chroma,
    search_icd10,
    search_policies,
    similar_encounters,
    upsert_encounters,
)
from knowledge.vectorstore import embeddings as embeddings_module
from knowledge.vectorstore.collections import chunk_text

GLAUCOMA_AND_RETINA = re.compile(r"^H(40|35)")

GLAUCOMA_NOTE = """Chief complaint: glaucoma follow-up, no new symptoms. Using latanoprost nightly both eyes.

Exam: IOP 17 OD and 18 OS by applanation. Cup to disc 0.6 OD and 0.65 OS with inferior thinning.
OCT RNFL shows mild inferior thinning both eyes, stable from last year.

Assessment: primary open angle glaucoma, both eyes, mild stage, stable on drops.
Plan: continue latanoprost, repeat OCT of the optic nerve and visual field in six months."""

CATARACT_NOTE = """Chief complaint: glare driving at night and blurry distance vision, worse in the right eye.

Exam: 2+ nuclear sclerosis right eye, 1+ left eye. Best corrected acuity 20/40 OD and 20/25 OS.

Assessment: age-related nuclear cataract, bilateral, visually significant on the right.
Plan: refer for cataract surgery evaluation of the right eye."""

DRY_EYE_NOTE = """Chief complaint: burning and gritty eyes by afternoon, worse with screens.

Exam: tear break-up time 5 seconds both eyes, trace punctate staining inferior cornea.

Assessment: dry eye syndrome of both lacrimal glands.
Plan: preservative-free artificial tears four times daily, warm compresses, return in three months."""

POLICY_MEDICARE = """---
id: test-medicare-refraction
title: Medicare refraction and routine eye exams
payer_kinds: [medicare, medicare_advantage]
payer_names: []
effective: 2024-01-01
source: test fixture
---
# Refraction
Refraction (92015) is a non-covered service for Medicare; bill it with modifier GY so the denial
passes to the patient, who pays the practice's fee.

# Routine exams
Routine eye exams without a medical complaint are statutorily excluded from Medicare.
"""

POLICY_VISION = """---
id: test-vision-plan
title: Vision plan routine exam
payer_kinds: [vision]
payer_names: [Synthetic Vision Plan]
effective: 2024-01-01
source: test fixture
---
# Routine exam
The vision plan covers one routine eye exam with refraction every twelve months, billed with S0620 or S0621.

# Contact lenses
Contact lens fitting is covered up to the plan allowance; the rest is the member's.
"""


@pytest.fixture(autouse=True)
def no_default_embedding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chroma's default (ONNX, downloaded) embedding function must never run: make it fail loudly."""
    from chromadb.api.types import DefaultEmbeddingFunction
    from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

    def refuse(self: object, input: list[str]) -> None:
        raise AssertionError("chromadb's default ONNX embedding function was used")

    monkeypatch.setattr(DefaultEmbeddingFunction, "__call__", refuse)
    monkeypatch.setattr(ONNXMiniLM_L6_V2, "__call__", refuse)


@pytest.fixture(scope="session")
def minilm() -> object:
    """MiniLM, loaded once for the whole test session."""
    return load_minilm()


def _settings(data_dir: Path) -> Settings:
    return Settings(_env_file=None, data_dir=data_dir)


@pytest.fixture(scope="module")
def icd_client(tmp_path_factory: pytest.TempPathFactory, minilm: object) -> ClientAPI:
    """A client whose icd10_index holds the H40 and H35 slice (a few hundred codes)."""
    client = open_chroma(_settings(tmp_path_factory.mktemp("icd")))
    ingest_icd10_index(client, scope=GLAUCOMA_AND_RETINA)
    return client


@pytest.fixture
def client(settings: Settings, minilm: object) -> ClientAPI:
    return open_chroma(settings)


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "medicare.md").write_text(POLICY_MEDICARE)
    (folder / "vision.md").write_text(POLICY_VISION)
    return folder


@pytest.fixture
def embedded_texts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text MiniLM is asked to embed during the test (documents and queries)."""
    seen: list[str] = []
    real = embeddings_module.embed_texts

    def counting(texts: list[str]) -> np.ndarray:
        seen.extend(texts)
        return real(texts)

    monkeypatch.setattr(embeddings_module, "embed_texts", counting)
    return seen


def _encounter(
    encounter_id: str, note: str, dx: list[str], cpt: list[str], kind: str = "medicare"
) -> CodedEncounter:
    return CodedEncounter(
        encounter_id=encounter_id,
        practice_id="PRA-1",
        note_text=note,
        diagnosis_codes=dx,
        procedure_codes=[
            CodedProcedure(code=code, modifiers=["RT"] if code == "92083" else []) for code in cpt
        ],
        payer_name="Synthetic Medicare" if kind == "medicare" else "Synthetic Commercial",
        payer_kind=kind,
        date_of_service=date(2025, 3, 4),
    )


def test_minilm_vectors_are_unit_length_and_shared_by_chroma_and_langchain(minilm: object) -> None:
    texts = ["primary open angle glaucoma", "nuclear sclerotic cataract"]
    chroma_vectors = np.array(MiniLMEmbeddingFunction()(texts))
    langchain_vectors = np.array(MiniLMEmbeddings().embed_documents(texts))
    assert chroma_vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(chroma_vectors, axis=1), 1.0, atol=1e-4)
    assert np.allclose(chroma_vectors, langchain_vectors, atol=1e-5)
    assert np.allclose(MiniLMEmbeddings().embed_query(texts[0]), langchain_vectors[0], atol=1e-5)


def test_the_model_loads_once_even_from_many_threads(minilm: object) -> None:
    loaded: list[object] = []
    threads = [threading.Thread(target=lambda: loaded.append(load_minilm())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(model is minilm for model in loaded)


def test_collections_use_cosine_space_and_our_registered_embedding_function(client: ClientAPI) -> None:
    configuration = get_collection(client, ENCOUNTERS).configuration_json
    assert configuration["hnsw"]["space"] == "cosine"
    assert configuration["embedding_function"]["name"] == MiniLMEmbeddingFunction.name()


def test_a_collection_reopens_in_a_new_client_without_passing_the_embedding_function(tmp_path: Path) -> None:
    path = tmp_path / "chroma"
    first = open_chroma(_settings(tmp_path))
    ingest_icd10_index(first, scope=re.compile(r"^H40\.11"))
    expected = [hit.code for hit in search_icd10(first, "open angle glaucoma right eye severe")]
    # Forget the cached system for this path only, so the next client really opens the files again.
    assert SharedSystemClient._identifier_to_system.pop(str(path), None) is not None
    reopened = chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))
    collection = reopened.get_collection(ICD10_INDEX)  # no embedding_function: rebuilt from its stored config
    answer = collection.query(query_texts=["open angle glaucoma right eye severe"], n_results=len(expected))
    assert answer["ids"][0] == expected
    refreshed = ingest_icd10_index(reopened, scope=re.compile(r"^H40\.11"))
    assert refreshed.unchanged == collection.count() and refreshed.added == refreshed.updated == 0


def test_search_icd10_ranks_bilateral_mild_poag_in_the_top_five(icd_client: ClientAPI) -> None:
    hits = search_icd10(icd_client, "primary open angle glaucoma both eyes mild")
    assert len(hits) == 5
    assert any(hit.code.startswith("H40.11") for hit in hits)
    assert [hit.distance for hit in hits] == sorted(hit.distance for hit in hits)


def test_search_icd10_prefix_keeps_only_codes_under_it(icd_client: ClientAPI) -> None:
    hits = search_icd10(icd_client, "glaucoma", k=5, prefix="h35.3")
    assert hits
    assert all(hit.code.startswith("H35.3") for hit in hits)


def test_icd10_ingest_is_idempotent_and_drops_codes_that_left_the_scope(
    client: ClientAPI, embedded_texts: list[str]
) -> None:
    first = ingest_icd10_index(client, scope=re.compile(r"^H40\.1[12]"))
    assert first.added > 0 and first.updated == first.deleted == 0
    embedded_texts.clear()
    second = ingest_icd10_index(client, scope=re.compile(r"^H40\.1[12]"))
    assert (second.added, second.updated, second.deleted, second.unchanged) == (0, 0, 0, first.added)
    assert embedded_texts == []  # unchanged documents are not embedded again
    narrower = ingest_icd10_index(client, scope=re.compile(r"^H40\.11"))
    assert narrower.deleted > 0 and narrower.added == 0
    assert get_collection(client, ICD10_INDEX).count() == narrower.unchanged
    assert all(hit.code.startswith("H40.11") for hit in search_icd10(client, "glaucoma", k=10))


def test_policy_ingest_updates_changed_chunks_and_deletes_removed_policies(
    client: ClientAPI, policy_dir: Path, embedded_texts: list[str]
) -> None:
    first = ingest_policies(client, policy_dir)
    assert first.added == 4 and first.unchanged == 0
    embedded_texts.clear()
    assert ingest_policies(client, policy_dir).unchanged == 4
    assert embedded_texts == []

    vision = policy_dir / "vision.md"
    vision.write_text(vision.read_text().replace("every twelve months", "every twenty-four months"))
    changed = ingest_policies(client, policy_dir)
    assert (changed.added, changed.updated, changed.unchanged, changed.deleted) == (0, 1, 3, 0)
    assert len(embedded_texts) == 1 and "twenty-four" in embedded_texts[0]

    (policy_dir / "medicare.md").unlink()
    removed = ingest_policies(client, policy_dir)
    assert (removed.unchanged, removed.deleted) == (2, 2)
    assert {hit.policy_id for hit in search_policies(client, "refraction modifier", k=10)} == {
        "test-vision-plan"
    }


def test_search_policies_filters_by_payer_kind(client: ClientAPI, policy_dir: Path) -> None:
    ingest_policies(client, policy_dir)
    question = "is refraction covered, and which modifier"
    unfiltered = search_policies(client, question, k=4)
    assert {hit.policy_id for hit in unfiltered} == {"test-medicare-refraction", "test-vision-plan"}
    for kind, policy_id in (("medicare", "test-medicare-refraction"), ("vision", "test-vision-plan")):
        hits = search_policies(client, question, k=4, payer_kind=kind)
        assert hits and all(hit.policy_id == policy_id and kind in hit.payer_kinds for hit in hits)
    assert search_policies(client, question, payer_kind="medicaid") == []
    assert search_policies(client, "GY modifier refraction", k=1)[0].section == "Refraction"


@pytest.fixture
def encounter_client(client: ClientAPI) -> Iterator[ClientAPI]:
    upsert_encounters(
        client,
        [
            _encounter("ENC-G", GLAUCOMA_NOTE, ["H40.1131"], ["92012", "92133", "92083"]),
            _encounter("ENC-C", CATARACT_NOTE, ["H25.13"], ["92014"], kind="commercial"),
            _encounter("ENC-D", DRY_EYE_NOTE, ["H04.123"], ["92012"], kind="commercial"),
        ],
    )
    yield client


def test_similar_encounters_finds_the_near_duplicate_note_first(encounter_client: ClientAPI) -> None:
    rewritten = GLAUCOMA_NOTE.replace("17 OD and 18 OS", "16 OD and 17 OS").replace("six months", "4 months")
    hits = similar_encounters(encounter_client, rewritten, k=3)
    assert hits[0].encounter_id == "ENC-G"
    assert len({hit.encounter_id for hit in hits}) == len(hits) == 3  # one hit per encounter
    best = hits[0]
    assert best.diagnosis_codes == ["H40.1131"]
    assert [(line.code, line.modifiers) for line in best.procedure_codes] == [
        ("92012", []),
        ("92133", []),
        ("92083", ["RT"]),
    ]
    assert best.payer_kind == "medicare" and best.date_of_service == date(2025, 3, 4)
    assert best.distance < hits[1].distance


def test_similar_encounters_where_filter_returns_only_matching(encounter_client: ClientAPI) -> None:
    hits = similar_encounters(encounter_client, GLAUCOMA_NOTE, k=5, where={"payer_kind": "commercial"})
    assert {hit.encounter_id for hit in hits} == {"ENC-C", "ENC-D"}
    by_code = similar_encounters(encounter_client, CATARACT_NOTE, where={"icd": {"$contains": "H40.1131"}})
    assert [hit.encounter_id for hit in by_code] == ["ENC-G"]


def test_upsert_encounters_is_idempotent_updates_changes_and_drops_stale_chunks(
    encounter_client: ClientAPI, embedded_texts: list[str]
) -> None:
    collection = get_collection(encounter_client, ENCOUNTERS)
    chunks_before = collection.count()
    again = upsert_encounters(
        encounter_client, [_encounter("ENC-G", GLAUCOMA_NOTE, ["H40.1131"], ["92012", "92133", "92083"])]
    )
    assert (again.added, again.updated, again.deleted) == (0, 0, 0) and again.unchanged > 0
    assert embedded_texts == []

    recoded = upsert_encounters(
        encounter_client, [_encounter("ENC-G", GLAUCOMA_NOTE, ["H40.1132"], ["92012", "92133"])]
    )
    assert recoded.updated == again.unchanged and recoded.added == 0
    assert similar_encounters(encounter_client, GLAUCOMA_NOTE, k=1)[0].diagnosis_codes == ["H40.1132"]

    shortened = upsert_encounters(
        encounter_client, [_encounter("ENC-G", "Glaucoma check, stable.", ["H40.1132"], ["92012"])]
    )
    assert shortened.deleted == len(chunk_text(GLAUCOMA_NOTE)) - 1
    assert collection.count() == chunks_before - shortened.deleted
    assert len(collection.get(where={"encounter_id": "ENC-C"})["ids"]) == len(chunk_text(CATARACT_NOTE))
