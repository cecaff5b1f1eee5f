"""The three Chroma collections (approved encounters, payer policies, ICD-10-CM index) and their queries."""

import json
import re
from datetime import date
from typing import Any

from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Where

from knowledge.vectorstore.records import CodedProcedure, EncounterHit, Icd10Hit, PolicyHit
from knowledge.vectorstore.store import get_collection

ENCOUNTERS = "encounters"
PAYER_POLICIES = "payer_policies"
ICD10_INDEX = "icd10_index"

CHUNK_CHARS = 1000  # MiniLM reads 256 word pieces (~1,000 characters of clinical English); the rest is cut.


def chunk_text(text: str, max_chars: int = CHUNK_CHARS) -> list[str]:
    """Paragraph-packed chunks of about `max_chars` at most; long paragraphs are cut at sentence ends."""
    pieces: list[str] = []
    for paragraph in re.split(r"\n\s*\n|\n(?=[A-Z][A-Za-z /&]{1,40}:)", text):
        paragraph = " ".join(paragraph.split())
        if not paragraph:
            continue
        if len(paragraph) <= max_chars:
            pieces.append(paragraph)
            continue
        sentence_run = ""
        for sentence in re.split(r"(?<=[.;!?])\s+", paragraph):
            while len(sentence) > max_chars:  # a run-on with no sentence end: cut it hard
                pieces.append(sentence[:max_chars])
                sentence = sentence[max_chars:]
            if sentence_run and len(sentence_run) + 1 + len(sentence) > max_chars:
                pieces.append(sentence_run)
                sentence_run = sentence
            else:
                sentence_run = f"{sentence_run} {sentence}".strip()
        if sentence_run:
            pieces.append(sentence_run)
    chunks: list[str] = []
    for piece in pieces:
        if chunks and len(chunks[-1]) + 1 + len(piece) <= max_chars:
            chunks[-1] = f"{chunks[-1]}\n{piece}"
        else:
            chunks.append(piece)
    return chunks


def _split(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(item) for item in value]
    return [item for item in str(value or "").split(",") if item]


def _query(collection: Collection, texts: list[str], n_results: int, where: Where | None) -> list[tuple]:
    """(id, distance, metadata, document) rows from all query texts, nearest first."""
    count = collection.count()
    if count == 0 or not texts:
        return []
    answer = collection.query(
        query_texts=texts,
        n_results=min(n_results, count),
        where=where,
        include=["metadatas", "distances", "documents"],
    )
    rows = [
        (row_id, distance, metadata, document)
        for ids, distances, metadatas, documents in zip(
            answer["ids"], answer["distances"], answer["metadatas"], answer["documents"], strict=True
        )
        for row_id, distance, metadata, document in zip(ids, distances, metadatas, documents, strict=True)
    ]
    return sorted(rows, key=lambda row: row[1])


def similar_encounters(
    client: ClientAPI, note_text: str, k: int = 5, where: Where | None = None
) -> list[EncounterHit]:
    """The k approved encounters whose notes are nearest this note, one hit per encounter, nearest first."""
    # Every chunk of the note asks, so the whole note counts, not only its first 256 word pieces.
    rows = _query(get_collection(client, ENCOUNTERS), chunk_text(note_text), k * 3, where)
    hits: dict[str, EncounterHit] = {}
    for row_id, distance, metadata, document in rows:
        encounter_id = str(metadata["encounter_id"])
        if encounter_id in hits:
            continue
        hits[encounter_id] = EncounterHit(
            encounter_id=encounter_id,
            chunk_id=row_id,
            distance=distance,
            diagnosis_codes=_split(metadata.get("icd")),
            procedure_codes=[
                CodedProcedure(**line) for line in json.loads(str(metadata.get("procedures", "[]")))
            ],
            payer_name=str(metadata.get("payer", "")),
            payer_kind=str(metadata.get("payer_kind", "")),
            date_of_service=date.fromisoformat(str(metadata["date"])),
            text=document or "",
        )
    return list(hits.values())[:k]


def search_policies(
    client: ClientAPI, text: str, k: int = 5, payer_kind: str | None = None
) -> list[PolicyHit]:
    """The k policy passages nearest the text, optionally only from policies that apply to a payer kind."""
    where: Where | None = {"payer_kinds": {"$contains": payer_kind}} if payer_kind else None
    rows = _query(get_collection(client, PAYER_POLICIES), [text], k, where)
    return [
        PolicyHit(
            policy_id=str(metadata["policy_id"]),
            chunk_id=row_id,
            distance=distance,
            title=str(metadata.get("title", "")),
            section=str(metadata.get("section", "")),
            payer_kinds=_split(metadata.get("payer_kinds")),
            payer_names=_split(metadata.get("payer_names")),
            effective=date.fromisoformat(str(metadata["effective"])) if metadata.get("effective") else None,
            text=document or "",
        )
        for row_id, distance, metadata, document in rows
    ]


def search_icd10(client: ClientAPI, text: str, k: int = 5, prefix: str | None = None) -> list[Icd10Hit]:
    """The k billable ICD-10-CM codes described nearest the text, optionally under a code prefix."""
    where: Where | None = None
    if prefix:
        normalized = prefix.strip().upper().replace(".", "")
        where = {"prefixes": {"$contains": normalized}}
    rows = _query(get_collection(client, ICD10_INDEX), [text], k, where)
    return [
        Icd10Hit(code=str(metadata["code"]), description=str(metadata["description"]), distance=distance)
        for _, distance, metadata, _ in rows
    ]
