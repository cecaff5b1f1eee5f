"""Chroma collections of approved encounters, payer policies and the ICD-10-CM index, embedded with MiniLM."""

from knowledge.vectorstore.collections import (
    ENCOUNTERS,
    ICD10_INDEX,
    PAYER_POLICIES,
    CodedEncounter,
    CodedProcedure,
    EncounterHit,
    Icd10Hit,
    PolicyHit,
    search_icd10,
    search_policies,
    similar_encounters,
)
from knowledge.vectorstore.embeddings import MiniLMEmbeddingFunction, MiniLMEmbeddings, load_minilm
from knowledge.vectorstore.ingest import IngestResult, ingest_icd10_index, ingest_policies, upsert_encounters
from knowledge.vectorstore.store import get_collection, open_chroma

__all__ = [
    "ENCOUNTERS",
    "ICD10_INDEX",
    "PAYER_POLICIES",
    "CodedEncounter",
    "CodedProcedure",
    "EncounterHit",
    "Icd10Hit",
    "IngestResult",
    "MiniLMEmbeddingFunction",
    "MiniLMEmbeddings",
    "PolicyHit",
    "get_collection",
    "ingest_icd10_index",
    "ingest_policies",
    "load_minilm",
    "open_chroma",
    "search_icd10",
    "search_policies",
    "similar_encounters",
    "upsert_encounters",
]
