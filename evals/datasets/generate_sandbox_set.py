"""Write a larger coding set from the sandbox generator (coding_dev.jsonl rows, split "generated").

    .venv/bin/python -m evals.datasets.generate_sandbox_set var/evals/coding_sandbox.jsonl --notes 300

The output is generated on demand and never committed.
"""

import json
import random
from collections import defaultdict
from pathlib import Path
from typing import Annotated, Any

import typer

from sandbox.dataset import SyntheticDataset
from sandbox.generator import generate_dataset
from sandbox.generator.coding import ESTABLISHED_FOR_NEW

NEW_PATIENT_CODES = frozenset(ESTABLISHED_FOR_NEW)
ESTABLISHED_CODES = frozenset(ESTABLISHED_FOR_NEW.values())
VISION_RULES = {"pay-eyemed": "S0620/S0621", "pay-vsp": "92004/92014 + 92015"}


def sandbox_rows(dataset: SyntheticDataset) -> list[dict[str, Any]]:
    """Every generated encounter as a gold row: note, patient, payer, prior visits and intended coding."""
    patients = {p.id: p for p in dataset.patients}
    coverages = {c.id: c for c in dataset.coverages}
    payers = {p.id: p for p in dataset.payers}
    specialties = {p.id: p.specialty for p in dataset.providers}
    notes = {n.encounter_id: n for n in dataset.notes}
    intended = {i.encounter_id: i for i in dataset.intended}
    seen: dict[str, list[dict[str, Any]]] = defaultdict(list)
    rows = []
    for encounter in sorted(dataset.encounters, key=lambda e: (e.date_of_service, e.id)):
        coding, note = intended.get(encounter.id), notes.get(encounter.id)
        coverage = coverages.get(encounter.coverage_id or "")
        if coding is None or note is None or coverage is None:
            continue
        patient, payer = patients[encounter.patient_id], payers[coverage.payer_id]
        history = list(seen[encounter.patient_id])
        codes = [line.code for line in coding.lines]
        seen[encounter.patient_id].append(
            {
                "date": encounter.date_of_service.isoformat(),
                "codes": codes,
                "specialty": specialties[encounter.provider_id],
            }
        )
        payer_row = {"name": payer.name, "kind": payer.kind.value}
        if payer.id in VISION_RULES:
            payer_row["routine_exam_coding"] = VISION_RULES[payer.id]
        rows.append(
            {
                "id": f"sb-{encounter.id}",
                "split": "generated",
                "family": coding.scenario,
                "style": "generated",
                "traps": [],
                "note": note.text,
                "patient": {"age": patient.age_on(encounter.date_of_service), "sex": patient.sex.value},
                "payer": payer_row,
                "established": _established(codes, history),
                "date_of_service": encounter.date_of_service.isoformat(),
                "history": history,
                "gold": {
                    "diagnoses": coding.diagnosis_codes,
                    "lines": [
                        {
                            "code": line.code,
                            "modifiers": line.modifiers,
                            "units": line.units,
                            "diagnosis_codes": [
                                coding.diagnosis_codes[p - 1] for p in line.diagnosis_pointers
                            ],
                        }
                        for line in coding.lines
                    ],
                },
                "rationale": coding.rationale,
            }
        )
    return rows


def _established(codes: list[str], history: list[dict[str, Any]]) -> bool:
    """The generator's own answer where an exam code shows it; otherwise any earlier visit in the window."""
    if NEW_PATIENT_CODES & set(codes):
        return False
    return bool(ESTABLISHED_CODES & set(codes)) or bool(history)


def main(
    output: Annotated[
        Path, typer.Argument(help="Where to write the JSONL, e.g. var/evals/coding_sandbox.jsonl")
    ],
    notes: Annotated[
        int, typer.Option(help="Rows to keep (a seeded sample of the generated encounters)")
    ] = 300,
    seed: Annotated[int, typer.Option(help="Generator and sampling seed")] = 7,
    patients: Annotated[int, typer.Option(help="Synthetic patients to generate")] = 200,
) -> None:
    rows = sandbox_rows(generate_dataset(seed=seed, patients=patients))
    if len(rows) > notes:
        kept = sorted(random.Random(seed).sample(range(len(rows)), notes))
        rows = [rows[index] for index in kept]
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    typer.echo(f"wrote {len(rows)} rows to {output}")


if __name__ == "__main__":
    typer.run(main)
