"""Incremental, idempotent loading of the Chroma collections: stable ids, content hashes, stale ids gone."""

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from itertools import islice
from pathlib import Path
from typing import Any

import yaml
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Where
from pydantic import BaseModel

from knowledge.vectorstore.collections import ENCOUNTERS, ICD10_INDEX, PAYER_POLICIES, chunk_text
from knowledge.vectorstore.records import CodedEncounter
from knowledge.vectorstore.store import get_collection

Progress = Callable[[int, int], None]
"""Told (documents written so far, documents to write) as embedding proceeds."""

POLICY_DIR = Path(__file__).resolve().parent.parent / "data" / "policies"
UPSERT_BATCH = 256
ENCOUNTER_BATCH = 100
HASH_KEY = "content_hash"

# The ICD-10-CM chapters and categories eye care bills from (billable leaves only).
ICD10_EYE_CARE_SCOPE = re.compile(
    r"^(H[0-5]\d"  # diseases of the eye and adnexa, H00-H59
    r"|E(0[89]|1[0-3])\.3"  # diabetes with ophthalmic complications
    r"|Z01\.0|Z13\.5|Z79|Z83\.5|Z96\.1|Z98\.4"  # exams, screening, drugs, history, lens status
    r"|T15|T26|S05"  # foreign body, burns, injury of eye and orbit
    r"|M32|M0[56]"  # lupus and rheumatoid arthritis (hydroxychloroquine monitoring)
    r"|B88|B30)"  # other infestations (demodex), viral conjunctivitis
)


class IngestResult(BaseModel):
    collection: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return self.added + self.updated + self.unchanged

    def merge(self, other: "IngestResult") -> "IngestResult":
        return IngestResult(
            collection=self.collection,
            added=self.added + other.added,
            updated=self.updated + other.updated,
            unchanged=self.unchanged + other.unchanged,
            deleted=self.deleted + other.deleted,
            seconds=self.seconds + other.seconds,
        )


@dataclass(frozen=True)
class SourceDocument:
    """One document as it should be in a collection; `content_hash` covers its text and metadata."""

    id: str
    text: str
    metadata: dict[str, Any]

    @property
    def content_hash(self) -> str:
        payload = json.dumps([self.text, self.metadata], sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:32]


def _batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def sync_documents(
    collection: Collection,
    documents: list[SourceDocument],
    *,
    scope: Where | None = None,
    progress: Progress | None = None,
) -> IngestResult:
    """Make the documents in `scope` (default: the whole collection) exactly `documents`.

    Unchanged documents (same id, same content hash) are not re-embedded; ids in scope that are no
    longer among `documents` are deleted.
    """
    started = time.perf_counter()
    existing = collection.get(where=scope, include=["metadatas"])
    stored_hashes = {
        doc_id: (metadata or {}).get(HASH_KEY)
        for doc_id, metadata in zip(existing["ids"], existing["metadatas"] or [], strict=True)
    }
    wanted = {document.id: document for document in documents}  # the last one wins on a repeated id
    changed = [
        document for document in wanted.values() if stored_hashes.get(document.id) != document.content_hash
    ]
    added = sum(1 for document in changed if document.id not in stored_hashes)
    if progress:
        progress(0, len(changed))
    written = 0
    for batch in _batched(changed, UPSERT_BATCH):
        collection.upsert(
            ids=[document.id for document in batch],
            documents=[document.text for document in batch],
            metadatas=[{**document.metadata, HASH_KEY: document.content_hash} for document in batch],
        )
        written += len(batch)
        if progress:
            progress(written, len(changed))
    stale = [doc_id for doc_id in stored_hashes if doc_id not in wanted]
    for batch in _batched(stale, UPSERT_BATCH):
        collection.delete(ids=batch)
    return IngestResult(
        collection=collection.name,
        added=added,
        updated=len(changed) - added,
        unchanged=len(wanted) - len(changed),
        deleted=len(stale),
        seconds=time.perf_counter() - started,
    )


# ICD-10-CM index


def _code_prefixes(code: str) -> list[str]:
    """Every leading part of the dotless code ("H", "H4", "H40", ... "H401131"), so any prefix filters."""
    bare = code.replace(".", "")
    return [bare[:length] for length in range(1, len(bare) + 1)]


# How notes say what a description spells out: MiniLM does not equate "bilateral" with "OU" or know "POAG".
_NOTE_WORDS_BY_PHRASE = {
    "bilateral": "both eyes, OU",
    "right eye": "OD",
    "left eye": "OS",
    "right upper eyelid": "RUL",
    "right lower eyelid": "RLL",
    "left upper eyelid": "LUL",
    "left lower eyelid": "LLL",
    "primary open-angle glaucoma": "POAG",
    "age-related macular degeneration": "AMD, ARMD",
    "nonexudative": "dry",
    "exudative": "wet",
    "nonproliferative diabetic retinopathy": "NPDR",
    "proliferative diabetic retinopathy": "PDR",
    "with macular edema": "DME, CSME",
    "age-related nuclear cataract": "nuclear sclerosis, NS",
    "keratoconjunctivitis sicca": "dry eye",
}
_NOTE_WORDS = {
    re.compile(rf"\b{re.escape(phrase)}\b", re.IGNORECASE): words
    for phrase, words in _NOTE_WORDS_BY_PHRASE.items()
}


@cache
def _inclusion_terms(code: str) -> tuple[str, ...]:
    """Inclusion terms of the code and of its ancestors up to the category (children inherit them)."""
    import simple_icd_10_cm as icd

    terms: list[str] = []
    current: str | None = code
    while current and not icd.is_chapter_or_block(current):
        terms.extend(term for term in icd.get_inclusion_term(current) if term not in terms)
        current = icd.get_parent(current) or None
    return tuple(terms)


def icd10_documents(scope: re.Pattern[str] = ICD10_EYE_CARE_SCOPE) -> list[SourceDocument]:
    """The billable ICD-10-CM codes in scope: description plus inherited inclusion terms, keyed by code."""
    import simple_icd_10_cm as icd

    documents = []
    for code in icd.get_all_codes(True):
        if not scope.match(code) or not icd.is_leaf(code):
            continue
        description = icd.get_description(code)
        terms = _inclusion_terms(code)
        text = f"{description}. Includes: {'; '.join(terms)}" if terms else description
        text += "".join(f". {words}" for phrase, words in _NOTE_WORDS.items() if phrase.search(description))
        metadata: dict[str, Any] = {
            "code": code,
            "description": description,
            "category": code[:3],
            "prefixes": _code_prefixes(code),
        }
        documents.append(SourceDocument(id=code, text=text, metadata=metadata))
    return documents


def ingest_icd10_index(
    client: ClientAPI, *, progress: Progress | None = None, scope: re.Pattern[str] = ICD10_EYE_CARE_SCOPE
) -> IngestResult:
    """Build or refresh `icd10_index` (pass a narrower `scope` pattern for a slice, e.g. in tests)."""
    return sync_documents(get_collection(client, ICD10_INDEX), icd10_documents(scope), progress=progress)


# payer policies

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n(.*)\Z", re.DOTALL)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(item) for item in (value if isinstance(value, list) else [value])]


def _sections(body: str) -> list[tuple[str, str]]:
    """(heading, text) per Markdown section; text before the first heading goes under ''."""
    sections: list[tuple[str, str]] = []
    heading, lines = "", []
    for line in body.splitlines():
        match = re.match(r"#{1,6}\s+(.*)", line)
        if match:
            if "".join(lines).strip():
                sections.append((heading, "\n".join(lines)))
            heading, lines = match.group(1).strip(), []
        else:
            lines.append(line)
    if "".join(lines).strip():
        sections.append((heading, "\n".join(lines)))
    return sections


def policy_documents(policy_dir: Path) -> list[SourceDocument]:
    """Chunks of each `*.md` policy (YAML front matter + prose), id `<policy id>#<n>`, with its scope."""
    if not policy_dir.is_dir():  # a mistyped folder must not empty the collection
        raise FileNotFoundError(f"no policy folder at {policy_dir}")
    documents = []
    for path in sorted(policy_dir.glob("*.md")):
        match = _FRONT_MATTER.match(path.read_text(encoding="utf-8"))
        if not match:
            continue
        front = yaml.safe_load(match.group(1)) or {}
        policy_id = str(front.get("id") or path.stem)
        title = str(front.get("title", policy_id))
        metadata: dict[str, Any] = {
            "policy_id": policy_id,
            "title": title,
            "source": str(front.get("source", "")),
        }
        for key in ("payer_kinds", "payer_names"):
            if values := _as_list(front.get(key)):  # Chroma refuses empty lists
                metadata[key] = values
        for key in ("effective", "termination"):
            if isinstance(front.get(key), date):
                metadata[key] = front[key].isoformat()
        number = 0
        for heading, text in _sections(match.group(2)):
            for chunk in chunk_text(text):
                context = f"{title} — {heading}" if heading else title
                documents.append(
                    SourceDocument(
                        id=f"{policy_id}#{number}",
                        text=f"{context}\n{chunk}",
                        metadata={**metadata, "section": heading, "chunk": number},
                    )
                )
                number += 1
    return documents


def ingest_policies(
    client: ClientAPI, policy_dir: Path = POLICY_DIR, *, progress: Progress | None = None
) -> IngestResult:
    """Build or refresh `payer_policies` from the policy Markdown files in `policy_dir`."""
    return sync_documents(
        get_collection(client, PAYER_POLICIES), policy_documents(policy_dir), progress=progress
    )


# approved coded encounters


def encounter_documents(encounter: CodedEncounter) -> list[SourceDocument]:
    """Chunks of the encounter's note, id `<encounter id>#<n>`, each carrying the approved coding."""
    procedures = [line.model_dump() for line in encounter.procedure_codes]
    billed = [
        "-".join([line.code, *line.modifiers]) for line in encounter.procedure_codes
    ]  # "92083-RT" reads as billers write it
    metadata: dict[str, Any] = {
        "encounter_id": encounter.encounter_id,
        "practice_id": encounter.practice_id,
        "codes": ",".join([*encounter.diagnosis_codes, *billed]),
        "procedures": json.dumps(procedures, sort_keys=True),
        "payer": encounter.payer_name,
        "payer_kind": encounter.payer_kind,
        "date": encounter.date_of_service.isoformat(),
    }
    # Lists let a query filter on one code ({"icd": {"$contains": "H40.1131"}}); Chroma refuses empty ones.
    if encounter.diagnosis_codes:
        metadata["icd"] = list(encounter.diagnosis_codes)
    if encounter.procedure_codes:
        metadata["cpt"] = [line.code for line in encounter.procedure_codes]
    return [
        SourceDocument(
            id=f"{encounter.encounter_id}#{number}", text=chunk, metadata={**metadata, "chunk": number}
        )
        for number, chunk in enumerate(chunk_text(encounter.note_text))
    ]


def upsert_encounters(
    client: ClientAPI, encounters: Iterable[CodedEncounter], *, progress: Progress | None = None
) -> IngestResult:
    """Add or refresh these encounters; chunks an encounter no longer has are deleted, others kept."""
    collection = get_collection(client, ENCOUNTERS)
    result = IngestResult(collection=ENCOUNTERS)
    for batch in _batched(encounters, ENCOUNTER_BATCH):
        documents = [document for encounter in batch for document in encounter_documents(encounter)]
        scope: Where = {"encounter_id": {"$in": [encounter.encounter_id for encounter in batch]}}
        result = result.merge(sync_documents(collection, documents, scope=scope, progress=progress))
    return result
