"""The offline coder over real note corpora and generated notes: no crash, valid codes, exact evidence, speed."""

import csv
import statistics
import time
from datetime import date
from pathlib import Path

from agents.coding.lexicon import load_lexicon
from agents.coding.offline import OfflineCoder
from agents.coding.schemas import CodeSuggestion, CodingRequest, PriorVisit
from knowledge.codes.icd10 import icd10_billable
from knowledge.codes.procedures import is_known_procedure


def _public_notes(folder: Path) -> list[str]:
    csv.field_size_limit(10**8)
    notes = []
    for path in sorted((folder / "notes").glob("*.csv")):  # reserved/ is a folder: never read
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                notes.append(row.get("text") or row.get("transcription") or "")
    return notes


def _assert_well_formed(note: str, suggestion: CodeSuggestion) -> None:
    assert all(icd10_billable(d.code) for d in suggestion.diagnoses)
    assert all(is_known_procedure(line.code) for line in suggestion.lines)
    coded = {d.code for d in suggestion.diagnoses}
    for line in suggestion.lines:
        assert 1 <= len(line.diagnosis_codes) <= 4 and set(line.diagnosis_codes) <= coded
    spans = [e for d in suggestion.diagnoses for e in d.evidence] + [
        e for x in suggestion.lines for e in x.evidence
    ]
    assert all(note[e.start : e.end] == e.text for e in spans)


def test_every_public_note_runs_through_the_coder(coder: OfflineCoder, shared_data: Path) -> None:
    notes = _public_notes(shared_data)
    assert len(notes) > 400
    for note in notes:
        suggestion = coder.suggest(
            CodingRequest(note=note, payer_kind="medicare", date_of_service=date(2026, 1, 5))
        )
        _assert_well_formed(note, suggestion)


def test_generated_notes_are_coded_and_fast(coder: OfflineCoder) -> None:
    from sandbox.generator import generate_dataset

    data = generate_dataset(seed=11, patients=40)
    encounters = {e.id: e for e in data.encounters}
    coverages = {c.id: c for c in data.coverages}
    notes = {n.encounter_id: n.text for n in data.notes}
    hits = total = 0
    timings = []
    coder.suggest(CodingRequest(note=next(iter(notes.values()))))  # warm-up
    for intended in data.intended[:80]:
        encounter = encounters[intended.encounter_id]
        coverage = coverages.get(encounter.coverage_id or "")
        history = [
            PriorVisit(date=e.date_of_service, codes=[])
            for e in data.encounters
            if e.patient_id == encounter.patient_id and e.date_of_service < encounter.date_of_service
        ]
        request = CodingRequest(
            note=notes[intended.encounter_id],
            date_of_service=encounter.date_of_service,
            payer_kind=coverage.plan_kind.value if coverage else "commercial",
            history=history,
        )
        started = time.perf_counter()
        suggestion = coder.suggest(request)
        timings.append(time.perf_counter() - started)
        _assert_well_formed(request.note, suggestion)
        hits += len({d.code for d in suggestion.diagnoses} & set(intended.diagnosis_codes))
        total += len(set(intended.diagnosis_codes))
    assert hits / total >= 0.9
    assert statistics.quantiles(timings, n=20)[-1] < 0.15  # p95 under 150 ms per note


def test_lexicon_codes_render_billable_for_every_eye() -> None:
    from agents.coding.diagnoses import _render_eye

    lexicon = load_lexicon()
    for condition in lexicon.conditions:
        scale = lexicon.stages.get(condition.stage)
        stage = scale.default if scale else ""
        for template in condition.codes:
            if "{lid}" in template:
                assert icd10_billable(template.format(lid="1")), template
                continue
            for eyes in (frozenset({"right"}), frozenset({"left"}), frozenset({"right", "left"})):
                codes = _render_eye(template, eyes, stage=stage, encounter="A")
                assert codes and all(icd10_billable(code) for code in codes), (condition.id, codes)
