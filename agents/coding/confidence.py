"""Calibrated confidence: what kind of evidence backs a code, mapped by a fitted model to how often such codes were
right on notes the coder had not been tuned on."""

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from knowledge.codes.icd10 import icd10_unspecified

CALIBRATION_FILE = Path(__file__).resolve().parent / "lexicon" / "calibration.yaml"
AUTO_DRAFT = 0.9
BELOW_AUTO_DRAFT = 0.89  # the ceiling of a code under the drafting cutoff
CEILING = 0.995  # no code is certain

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
class CodeFeatures:
    """What backs one suggested code: the calibration features (bucketed from fine to coarse)."""

    kind: str  # diagnosis | visit | test | refraction | contact_lens | procedure
    basis: str  # diagnosis: where it was read; visit: exam family; service: how we know it was done today
    eye: str = "n/a"  # diagnosis: explicit | inferred | default | n/a
    stage: str = "n/a"  # diagnosis: explicit | default | n/a
    open_condition: bool = False
    fallback_link: bool = False
    structured: bool = False  # the note has an assessment section (the coder reads a problem list)
    family: str = ""  # diagnosis: the condition's group; line: the code
    # the strongest support, its own bucket: a staged/typed assessment item with its eye, a test stated as done
    # today, a visit code with every element it needs; per payer class for lines whose modifier depends on it
    support: str = ""
    # visit codes: whether the learned second opinion (agents/coding/visit_opinion.py) chose the same code
    opinion: str = ""  # firm | agree | differ | "" (no opinion)

    def score(self) -> float:
        """The rule score: how explicit the evidence is, before calibration."""
        if self.kind == "diagnosis":
            score = DX_SOURCE.get(self.basis, 0.85) * EYE_BASIS.get(self.eye, 0.85)
            score *= STAGE_BASIS.get(self.stage, 0.9) * (0.9 if self.open_condition else 1.0)
            return score
        if self.kind == "visit":
            score = VISIT_FAMILY.get(self.basis, 0.85)
        else:
            score = SERVICE_BASIS.get(self.basis, 0.9) * KIND_FACTOR.get(self.kind, 0.95)
        return score * (0.85 if self.fallback_link else 1.0)

    def buckets(self) -> tuple[str, ...]:
        """The groups of alike codes this one belongs to, from the most specific to the coarsest (the confidence
        model weighs each)."""
        certain = (
            self.eye in ("explicit", "n/a") and self.stage in ("explicit", "n/a") and not self.open_condition
        )
        detail = "sure" if certain and not self.fallback_link else "open"
        layout = "list" if self.structured else "prose"
        support = "+".join(part for part in (self.support, self.opinion) if part)
        finest = (f"{self.kind}|{self.basis}|{detail}|{self.family}|{support}",) if support else ()
        # visit codes of one family the second opinion judged alike, pooled over the codes of that family
        pooled = (f"{self.kind}|{self.basis}|{detail}|opinion-{self.opinion}",) if self.opinion else ()
        return (
            *finest,
            *pooled,
            f"{self.kind}|{self.basis}|{detail}|{self.family}",
            f"{self.kind}|{self.basis}|{detail}|{layout}",
            f"{self.kind}|{self.basis}|{detail}",
            f"{self.kind}|{self.basis}",
            self.kind,
        )


def unspecified_eye_code(code: str) -> bool:
    """An eye-chapter code whose title leaves the type, eye or stage unspecified: out of sample these were
    wrong more often than right (the note usually said more than the coder read), so they go to review."""
    return code.upper().startswith("H") and icd10_unspecified(code)


def diagnosis_features(
    source: str,
    eye_basis: str,
    stage_basis: str,
    condition_id: str | None,
    group: str,
    structured: bool,
    code: str = "",
) -> CodeFeatures:
    # stated in the assessment with its eye and its stage or type: the strongest a diagnosis gets
    stated = source == "assessment" and eye_basis == "explicit" and stage_basis == "explicit"
    return CodeFeatures(
        "diagnosis",
        source,
        eye_basis,
        stage_basis,
        condition_id in OPEN_CONDITIONS or unspecified_eye_code(code),
        False,
        structured,
        group,
        "stated" if stated else "",
    )


def line_features(
    kind: str,
    basis: str,
    code: str,
    fallback_link: bool,
    structured: bool,
    support: str = "",
    opinion: str = "",
) -> CodeFeatures:
    return CodeFeatures(
        kind,
        basis,
        fallback_link=fallback_link,
        structured=structured,
        family=code,
        support=support,
        opinion=opinion,
    )


def model_inputs(features: CodeFeatures, code: str) -> dict[str, float]:
    """What the confidence model reads of one code: every bucket its features fall in (fine to coarse), the code
    itself (and its ICD-10-CM category), and the rule score."""
    inputs = {f"bucket={key}": 1.0 for key in features.buckets()}
    inputs[f"code={code.upper()}"] = 1.0
    if features.kind == "diagnosis":
        inputs[f"category={code.upper()[:3]}"] = 1.0
    inputs["score"] = features.score()
    return inputs


@dataclass(frozen=True)
class Calibration:
    """A logistic model of whether a suggested code is right (fitted mostly on codes the coder had not been tuned
    on, evals/coding/calibrate.py) and the drafting cutoff: the probability above which, out of fold, drafted codes
    were right at least the fit's target precision of the time. A code at or above the cutoff keeps its probability
    as confidence (at least the auto-draft line); a code below it is held under the line, however high its
    probability, and so is a visit code the learned second opinion disputes (its finding asks for review)."""

    weights: dict[str, float]
    intercept: float
    cutoff: float
    fitted_on: str

    def probability(self, features: CodeFeatures, code: str) -> float:
        z = self.intercept + sum(
            self.weights.get(name, 0.0) * value for name, value in model_inputs(features, code).items()
        )
        return 1.0 / (1.0 + math.exp(-z))

    def __call__(self, features: CodeFeatures, code: str, vote: float = 1.0) -> float:
        if not self.weights:  # no fit stored: the rule score, never enough to auto-draft
            return round(min(features.score() * vote, BELOW_AUTO_DRAFT), 4)
        p = self.probability(features, code)
        # neighbours may pull a code under the cutoff, never lift one over it: the cutoff was chosen without them
        if p * min(vote, 1.0) >= self.cutoff and features.opinion != "differ":
            return round(min(max(p * vote, AUTO_DRAFT), CEILING), 4)
        return round(min(p * vote, BELOW_AUTO_DRAFT), 4)


@cache
def load_calibration(path: Path = CALIBRATION_FILE) -> Calibration:
    """The fitted model; the rule score (below auto-draft) when no fit has been stored."""
    if not path.is_file():
        return Calibration({}, 0.0, 1.0, "none")
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Calibration(
        {name: float(weight) for name, weight in (data.get("weights") or {}).items()},
        float(data.get("intercept", 0.0)),
        float(data.get("cutoff", 1.0)),
        data.get("fitted_on", ""),
    )


def vote_factor(agreement: float | None) -> float:
    """Nearest approved encounters nudge a code: agreement raises it a little, silence lowers it."""
    if agreement is None:
        return 1.0
    if agreement >= 0.5:
        return 1.0 + 0.04 * agreement
    return 0.85 + 0.15 * agreement
