"""Batch charge coding: JSONL note records in, one suggestion record out per line, in input order."""

import json
import multiprocessing
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agents.coding.schemas import CodeSuggester, CodeSuggestion, CodingRequest, PriorVisit
from billing.settings import Settings


class PatientInput(BaseModel):
    age: int | None = None
    sex: str | None = None


class PayerInput(BaseModel):
    name: str = ""
    kind: str = "commercial"


class NoteRecord(BaseModel):
    """One input line of `fovea code batch` (the gold set's rows are a superset of it)."""

    model_config = ConfigDict(extra="ignore")

    id: str
    note: str = Field(min_length=1)
    patient: PatientInput = Field(default_factory=PatientInput)
    payer: PayerInput = Field(default_factory=PayerInput)
    established: bool | None = None
    date_of_service: date | None = None
    history: list[PriorVisit] = Field(default_factory=list)

    def to_request(self) -> CodingRequest:
        return CodingRequest(
            note=self.note,
            patient_age=self.patient.age,
            patient_sex=self.patient.sex,
            payer_name=self.payer.name,
            payer_kind=self.payer.kind,
            established=self.established,
            date_of_service=self.date_of_service,
            history=self.history,
        )


class EngineUnavailable(Exception):
    """The chosen engine cannot run here (e.g. the LLM engine without a configured model)."""


def build_suggester(engine: str, settings: Settings) -> CodeSuggester:
    """The engine by name; asking for the LLM engine without a configured model is refused, not downgraded."""
    if engine == "llm" and not settings.llm_base_url:
        raise EngineUnavailable("the llm engine needs FOVEA_LLM_BASE_URL (an OpenAI-compatible server)")
    from agents.coding.engines import make_code_suggester

    return make_code_suggester(settings.model_copy(update={"engine": engine}))


def suggestion_record(record_id: str | None, suggestion: CodeSuggestion) -> dict[str, Any]:
    """The output shape of `fovea code batch` and `fovea code note --json`."""
    return {
        "id": record_id,
        "lines": [
            {
                "code": line.code,
                "modifiers": line.modifiers,
                "units": line.units,
                "diagnosis_codes": line.diagnosis_codes,
                "confidence": line.confidence,
                "evidence": [span.model_dump() for span in line.evidence],
            }
            for line in suggestion.lines
        ],
        "diagnoses": [
            {
                "code": dx.code,
                "confidence": dx.confidence,
                "evidence": [span.model_dump() for span in dx.evidence],
            }
            for dx in suggestion.diagnoses
        ],
        "findings": [finding.model_dump(mode="json") for finding in suggestion.findings],
        "confidence": suggestion.confidence,
        "engine": suggestion.engine,
    }


def error_record(record_id: str | None, message: str) -> dict[str, Any]:
    return {"id": record_id, "error": message}


def _readable_id(raw: str) -> str | None:
    """The record's id when the line is a JSON object with a string id, so an error line can name it."""
    try:
        parsed = json.loads(raw)
    except ValueError:
        return None
    value = parsed.get("id") if isinstance(parsed, dict) else None
    return value if isinstance(value, str) else None


def code_line(raw: str, suggester: CodeSuggester) -> dict[str, Any]:
    """Code one JSONL line; never raises (a bad line or an engine failure becomes an error record)."""
    try:
        record = NoteRecord.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "line"
        return error_record(_readable_id(raw), f"unreadable record: {where}: {first['msg']}")
    return code_record(record, suggester)


def code_record(record: NoteRecord, suggester: CodeSuggester) -> dict[str, Any]:
    """Code one parsed record; an engine failure becomes an error record (its message names no note text)."""
    try:
        return suggestion_record(record.id, suggester.suggest(record.to_request()))
    except Exception as exc:  # one failing note must not stop the batch
        return error_record(record.id, f"engine failed: {type(exc).__name__}: {exc}")


# The worker's engine: built in the parent before the pool forks, so it loads once for all workers.
_worker_suggester: CodeSuggester | None = None


def _code_in_worker(raw: str) -> dict[str, Any]:
    assert _worker_suggester is not None
    return code_line(raw, _worker_suggester)


@dataclass
class BatchStats:
    notes: int = 0
    errors: int = 0
    load_seconds: float = 0.0
    coding_seconds: float = 0.0

    @property
    def notes_per_second(self) -> float:
        return self.notes / self.coding_seconds if self.coding_seconds > 0 else 0.0


def load_suggester(engine: str, settings: Settings, stats: BatchStats) -> CodeSuggester:
    """Build the engine and warm it on a tiny note, timing both as the load (kept out of throughput)."""
    started = time.perf_counter()
    suggester = build_suggester(engine, settings)
    suggester.suggest(CodingRequest(note="A: Dry eye syndrome of both eyes. P: artificial tears."))
    stats.load_seconds = time.perf_counter() - started
    return suggester


def _executor(engine: str, workers: int) -> Executor:
    if engine == "offline":
        # fork shares the loaded lexicon with every worker instead of loading it once per process.
        return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    return ThreadPoolExecutor(workers)  # a remote model is network-bound: threads are enough


def run_batch(
    lines: Iterable[str],
    suggester: CodeSuggester,
    *,
    engine: str,
    workers: int,
    stats: BatchStats,
    on_record: Callable[[dict[str, Any]], None] = lambda _: None,
) -> Iterator[dict[str, Any]]:
    """Yield one output record per non-blank input line, in input order."""
    global _worker_suggester
    records = (line for line in lines if line.strip())
    started = time.perf_counter()
    try:
        if workers <= 1:
            results: Iterable[dict[str, Any]] = (code_line(raw, suggester) for raw in records)
            yield from _counted(results, stats, on_record)
            return
        _worker_suggester = suggester
        with _executor(engine, workers) as pool:
            call = _code_in_worker if engine == "offline" else (lambda raw: code_line(raw, suggester))
            yield from _counted(pool.map(call, records, chunksize=16), stats, on_record)
    finally:
        _worker_suggester = None
        stats.coding_seconds = time.perf_counter() - started


def _counted(
    results: Iterable[dict[str, Any]], stats: BatchStats, on_record: Callable[[dict[str, Any]], None]
) -> Iterator[dict[str, Any]]:
    for result in results:
        stats.notes += 1
        stats.errors += "error" in result
        on_record(result)
        yield result
