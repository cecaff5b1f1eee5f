"""Calibrated confidence: a rule score from how explicit the evidence is, mapped through an isotonic fit."""

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CALIBRATION_FILE = Path(__file__).resolve().parent / "lexicon" / "calibration.yaml"

# How much each kind of evidence is worth before calibration (1.0 = stated outright in the note).
DX_SOURCE = {
    "assessment": 1.0,
    "note_wide": 0.93,
    "derived": 0.97,
    "routine": 0.95,
    "fallback": 0.85,
    "vote": 0.9,
}
EYE_BASIS = {"explicit": 1.0, "n/a": 1.0, "inferred": 0.86, "default": 0.8}
STAGE_BASIS = {"explicit": 1.0, "n/a": 1.0, "default": 0.86}
# Conditions named in words that leave a choice open (type, risk level, acute vs chronic) score lower.
OPEN_CONDITIONS = frozenset(
    {
        "cataract",
        "glaucoma_suspect",
        "conjunctivitis",
        "foreign_body",
        "amblyopia",
        "keratoconus",
        "ptosis",
        "floaters",
        "hypertension",
        "acute_allergic_conjunctivitis",
        "hordeolum",
    }
)
VISIT_FAMILY = {"vision_plan": 0.97, "comprehensive": 0.92, "intermediate": 0.82, "em": 0.78, "none": 0.9}
SERVICE_BASIS = {"today": 0.97, "result": 0.95, "inferred": 0.86}
KIND_FACTOR = {"test": 1.0, "refraction": 0.98, "contact_lens": 0.94, "procedure": 0.98}


@dataclass(frozen=True)
class Calibration:
    """Isotonic map from rule score to the precision observed on the tune split (with shrinkage)."""

    scores: tuple[float, ...]
    values: tuple[float, ...]
    fitted_on: str

    def __call__(self, score: float) -> float:
        if not self.scores:
            return round(min(max(score, 0.0), 1.0), 4)
        if score <= self.scores[0]:  # below anything seen in the fit: scale down, never flatten
            return round(self.values[0] * max(score, 0.0) / self.scores[0], 4)
        for (x0, y0), (x1, y1) in zip(
            zip(self.scores, self.values, strict=True),
            zip(self.scores[1:], self.values[1:], strict=True),
            strict=False,
        ):
            if score <= x1:
                return round(y0 + (y1 - y0) * (score - x0) / (x1 - x0) if x1 > x0 else y1, 4)
        return self.values[-1]


@cache
def load_calibration(path: Path = CALIBRATION_FILE) -> Calibration:
    """The fitted map; the identity when no fit has been stored."""
    if not path.is_file():
        return Calibration((), (), "none")
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Calibration(tuple(data["scores"]), tuple(data["values"]), data.get("fitted_on", ""))


def fit_calibration(
    samples: list[tuple[float, bool]], *, strength: float = 50.0, cap: float = 0.995
) -> dict[str, Any]:
    """Fit the score -> confidence map from (rule score, was the code right) pairs.

    Codes are grouped by rule score (2 decimals); each group's precision is a Beta estimate whose prior is the
    rule score itself worth `strength` pseudo-codes, so a small group that happened to be all right does not
    read as certainty; then weighted isotonic regression makes the map non-decreasing."""
    from sklearn.isotonic import IsotonicRegression

    groups: dict[float, list[bool]] = {}
    for score, correct in samples:
        groups.setdefault(round(score, 2), []).append(correct)
    scores = sorted(groups)
    estimates = [(sum(groups[x]) + strength * x) / (len(groups[x]) + strength) for x in scores]
    weights = [len(groups[x]) for x in scores]
    fitted = IsotonicRegression(increasing=True, y_max=cap).fit_transform(
        scores, estimates, sample_weight=weights
    )
    return {
        "scores": [float(x) for x in scores],
        "values": [round(float(y), 4) for y in fitted],
        "samples": len(samples),
        "strength": strength,
    }


def diagnosis_score(source: str, eye_basis: str, stage_basis: str, condition_id: str | None) -> float:
    score = DX_SOURCE.get(source, 0.85) * EYE_BASIS.get(eye_basis, 0.85) * STAGE_BASIS.get(stage_basis, 0.9)
    return score * (0.9 if condition_id in OPEN_CONDITIONS else 1.0)


def line_score(kind: str, basis: str, visit_family: str = "", fallback_link: bool = False) -> float:
    if kind == "visit":
        score = VISIT_FAMILY.get(visit_family, 0.85)
    else:
        score = SERVICE_BASIS.get(basis, 0.9) * KIND_FACTOR.get(kind, 0.95)
    return score * (0.85 if fallback_link else 1.0)


def vote_factor(agreement: float | None) -> float:
    """Nearest approved encounters nudge a code: agreement raises it a little, silence lowers it."""
    if agreement is None:
        return 1.0
    if agreement >= 0.5:
        return 1.0 + 0.04 * agreement
    return 0.85 + 0.15 * agreement
