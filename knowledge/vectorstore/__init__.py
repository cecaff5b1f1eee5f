"""Chroma collections of approved encounters, payer policies and the ICD-10-CM index, embedded with MiniLM.

Names resolve lazily (PEP 562), so importing a record model from here does not import chromadb or torch.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "ENCOUNTERS": "collections",
    "ICD10_INDEX": "collections",
    "PAYER_POLICIES": "collections",
    "search_icd10": "collections",
    "search_policies": "collections",
    "similar_encounters": "collections",
    "CodedEncounter": "records",
    "CodedProcedure": "records",
    "EncounterHit": "records",
    "Icd10Hit": "records",
    "PolicyHit": "records",
    "MiniLMEmbeddingFunction": "embeddings",
    "MiniLMEmbeddings": "embeddings",
    "load_minilm": "embeddings",
    "IngestResult": "ingest",
    "ingest_icd10_index": "ingest",
    "ingest_policies": "ingest",
    "upsert_encounters": "ingest",
    "get_collection": "store",
    "open_chroma": "store",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
