"""The vote of the nearest approved encounters: a near-identical one is adopted, weaker ones nudge confidence."""

from dataclasses import dataclass, field

from agents.coding.schemas import CodingRequest, SimilarEncounter, SuggestedLine

ADOPT_SIMILARITY = 0.97  # a staff-approved note this close is the same visit written again: its codes win
NUDGE_SIMILARITY = 0.80  # below this a neighbour says nothing about this note


def line_key(code: str, modifiers: list[str]) -> str:
    return f"{code}|{'-'.join(sorted(modifiers))}"


@dataclass
class Vote:
    adopted: SimilarEncounter | None = None
    agreement: dict[str, float] = field(default_factory=dict)  # dx code or line key -> weighted share
    voters: int = 0

    def of(self, key: str) -> float | None:
        """Weighted share of neighbours that billed this code/line; None when no neighbour voted."""
        if not self.voters:
            return None
        return self.agreement.get(key, 0.0)


def take_vote(request: CodingRequest) -> Vote:
    neighbours = sorted(
        (e for e in request.similar_encounters if e.similarity >= NUDGE_SIMILARITY),
        key=lambda e: e.similarity,
        reverse=True,
    )
    if not neighbours:
        return Vote()
    adopted = neighbours[0] if neighbours[0].similarity >= ADOPT_SIMILARITY else None
    total = sum(e.similarity for e in neighbours)
    agreement: dict[str, float] = {}
    for encounter in neighbours:
        keys = set(encounter.diagnosis_codes) | {line_key(x.code, x.modifiers) for x in encounter.lines}
        for key in keys:
            agreement[key] = agreement.get(key, 0.0) + encounter.similarity / total
    return Vote(adopted, agreement, len(neighbours))


def adopted_lines(encounter: SimilarEncounter, payer_kind: str) -> list[SuggestedLine]:
    """The approved encounter's lines, with payer-specific modifiers (GY) set for this patient's payer."""
    lines = []
    for line in encounter.lines:
        modifiers = [m for m in line.modifiers if m != "GY"]
        if payer_kind == "medicare" and ("GY" in line.modifiers or line.code == "92015"):
            modifiers.append("GY")
        lines.append(line.model_copy(update={"modifiers": modifiers}))
    return lines
