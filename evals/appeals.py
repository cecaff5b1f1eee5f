"""The appeal-success evaluation: model vs rules baseline, ROC AUC on the held-out time split of a synthetic practice.

The practice's appeal history is read the way the product reads Crystal PM (agents.denials.appeal_model
.appeal_history) through `DatasetSource`, a read-only view of a generated SyntheticDataset.
"""

import time
from collections import Counter
from collections.abc import Iterator

from pydantic import BaseModel

from agents.denials.appeal_model import AppealEvaluation, appeal_history, evaluate
from billing.claims import Claim
from billing.encounters import ClinicalNote
from billing.practice import Payer
from sandbox.dataset import SyntheticDataset
from tools.crystalpm.errors import NotFound
from tools.crystalpm.models import Appeal, LineOutcome


class DatasetSource:
    """The part of the Crystal PM port appeal training reads, answered from a SyntheticDataset."""

    def __init__(self, dataset: SyntheticDataset) -> None:
        self.dataset = dataset
        self._claims = {claim.id: claim for claim in dataset.claims}
        self._notes = {note.encounter_id: note for note in dataset.notes}
        self._outcomes: dict[str, list[LineOutcome]] = {}
        for outcome in dataset.outcomes:
            self._outcomes.setdefault(outcome.claim_id, []).append(
                LineOutcome.model_validate(outcome.model_dump())
            )

    def iter_appeals(
        self, practice_id: str | None = None, *, claim_id: str | None = None
    ) -> Iterator[Appeal]:
        for appeal in self.dataset.appeals:
            claim = self._claims[appeal.claim_id]
            if (practice_id is None or claim.practice_id == practice_id) and claim_id in (
                None,
                appeal.claim_id,
            ):
                yield Appeal.model_validate(appeal.model_dump())

    def get_claim(self, claim_id: str) -> Claim:
        if claim_id not in self._claims:
            raise NotFound(f"no claim {claim_id}")
        return self._claims[claim_id]

    def get_claim_outcome(self, claim_id: str) -> list[LineOutcome]:
        return self._outcomes.get(claim_id, [])

    def get_note(self, encounter_id: str) -> ClinicalNote:
        if encounter_id not in self._notes:
            raise NotFound(f"no note for {encounter_id}")
        return self._notes[encounter_id]

    def list_payers(self) -> list[Payer]:
        return list(self.dataset.payers)


class AppealEvalReport(BaseModel):
    seed: int
    patients: int
    appeals: int
    pending: int
    evaluation: AppealEvaluation
    won_rate_by_category: dict[str, str]
    seconds: float


def run_appeal_eval(dataset: SyntheticDataset, *, patients: int) -> AppealEvalReport:
    """Read the dataset's appeal history, split it by filing date, and score model and baseline on the later part."""
    started = time.perf_counter()
    cases = appeal_history(DatasetSource(dataset))
    decided = [case for case in cases if case.won is not None]
    totals = Counter(case.category.value for case in decided)
    wins = Counter(case.category.value for case in decided if case.won)
    return AppealEvalReport(
        seed=dataset.seed,
        patients=patients,
        appeals=len(cases),
        pending=len(cases) - len(decided),
        evaluation=evaluate(cases),
        won_rate_by_category={name: f"{wins[name]}/{count}" for name, count in sorted(totals.items())},
        seconds=round(time.perf_counter() - started, 2),
    )
