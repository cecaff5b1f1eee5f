"""Calibrated confidence: what kind of evidence backs a code, mapped to the precision seen out of sample."""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from knowledge.codes.icd10 import icd10_unspecified

CALIBRATION_FILE = Path(__file__).resolve().parent / "lexicon" / "calibration.yaml"
AUTO_DRAFT = 0.9
BELOW_AUTO_DRAFT = 0.89  # the ceiling of a code whose bucket has not earned auto-drafting

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
        """Keys from the most specific to the coarsest; calibration uses the first with enough support."""
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


def wilson_lower(correct: float, total: float, z: float) -> float:
    """Wilson score lower bound of a proportion (weighted counts allowed)."""
    if total <= 0:
        return 0.0
    p = correct / total
    centre = p + z * z / (2 * total)
    margin = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    return max(0.0, (centre - margin) / (1 + z * z / total))


@dataclass(frozen=True)
class Calibration:
    """Bucket -> confidence (fitted out of sample), with a rule-score map below the auto-draft line as fallback."""

    buckets: dict[str, float]
    scores: tuple[float, ...]
    values: tuple[float, ...]
    fitted_on: str

    def __call__(self, features: CodeFeatures, vote: float = 1.0) -> float:
        # a visit level the second opinion does not firmly share goes to review: out of fold such codes were right
        # 95% of the time (agree) or about two times in three (differ), whatever their bucket's in-sample record
        ceiling = BELOW_AUTO_DRAFT if features.opinion in ("agree", "differ") else 0.995
        for key in features.buckets():
            if key in self.buckets:
                return round(min(self.buckets[key] * vote, ceiling), 4)
        return round(min(self.from_score(features.score()) * vote, BELOW_AUTO_DRAFT), 4)

    def from_score(self, score: float) -> float:
        """The rule-score map, for codes of a kind the fit never saw."""
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
    """The fitted map; the rule score itself (below auto-draft) when no fit has been stored."""
    if not path.is_file():
        return Calibration({}, (), (), "none")
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    buckets = {key: float(entry["confidence"]) for key, entry in (data.get("buckets") or {}).items()}
    return Calibration(
        buckets, tuple(data.get("scores", ())), tuple(data.get("values", ())), data.get("fitted_on", "")
    )


@dataclass(frozen=True)
class Sample:
    """One suggested code of a calibration run: its features, whether the gold had it, and the sample's weight
    (out-of-sample notes count fully, notes the rules were tuned on count little). `hand` marks a hand-written
    note: only those can prove a bucket, because generated notes share the generator's phrasing."""

    features: CodeFeatures
    correct: bool
    weight: float = 1.0
    unseen: bool = True
    hand: bool = False


def fit_buckets(
    samples: Iterable[Sample],
    *,
    min_support: float = 8.0,
    z: float = 1.0,
    gate: float = 0.99,
    cap: float = 0.995,
) -> dict[str, dict[str, Any]]:
    """Each bucket's confidence is the Wilson lower bound (one-sided 84% at z=1) of its weighted precision.
    A bucket may reach the auto-draft line only when its hand-written precision is >= `gate` with a Wilson
    lower bound >= 0.9, AND its generated precision (if any) is >= `gate`; generated evidence alone never lifts
    it. Visit codes earn it only in a bucket that names the code (an E/M level: with its complete support). Buckets with less
    weighted support than `min_support`, or clean ones with less hand-written support, are left out, so their
    codes back off to a coarser bucket."""
    # per bucket, weighted: right, total; hand-written right, total; generated (not hand) right, total
    tallies: dict[str, list[float]] = {}
    sharp: set[str] = set()
    for sample in samples:
        keys = sample.features.buckets()
        # a visit code is sharp when its bucket names the code or pools codes the second opinion firmly shared;
        # an E/M level also needs its complete support or the opinion's agreement
        if sample.features.kind == "visit":
            firm = sample.features.opinion == "firm"
            if sample.features.basis != "em":
                sharp.update(keys[: len(keys) - 4])
            elif sample.features.support or sample.features.opinion in ("agree", "firm"):
                sharp.update(keys[: 2 if firm else 1])
        for key in keys:
            tally = tallies.setdefault(key, [0.0] * 6)
            tally[0] += sample.weight * sample.correct
            tally[1] += sample.weight
            offset = 2 if sample.hand else 4
            tally[offset] += sample.weight * sample.correct if sample.hand else sample.correct
            tally[offset + 1] += sample.weight if sample.hand else 1
    fitted: dict[str, dict[str, Any]] = {}
    for key, (right, total, hand_right, hand_total, gen_right, gen_total) in sorted(tallies.items()):
        # too little evidence, or clean but too few hand-written codes to decide: codes back off to a coarser
        # bucket (a bucket with misses stays, so its misses cannot hide in a cleaner parent)
        if total < min_support or (hand_total < min_support and right / total >= gate):
            continue
        lower = wilson_lower(right, total, z)
        hand_lower = wilson_lower(hand_right, hand_total, z)
        hand_precision = hand_right / hand_total if hand_total else 0.0
        gen_precision = gen_right / gen_total if gen_total else 1.0
        visit_ok = not key.startswith("visit") or key in sharp
        earned = visit_ok and hand_precision >= gate and hand_lower >= AUTO_DRAFT and gen_precision >= gate
        fitted[key] = {
            "confidence": round(min(hand_lower, cap) if earned else min(lower, BELOW_AUTO_DRAFT), 4),
            "support": round(total, 2),
            "precision": round(right / total, 4),
            "hand": round(hand_total, 2),
            "hand_precision": round(hand_precision, 4),
            "generated": int(gen_total),
            "generated_precision": round(gen_precision, 4),
        }
    return fitted


def fit_calibration(
    samples: list[tuple[float, bool]], *, strength: float = 50.0, cap: float = BELOW_AUTO_DRAFT
) -> dict[str, Any]:
    """Fit the fallback score -> confidence map from (rule score, was the code right) pairs.

    Codes are grouped by rule score (2 decimals); each group's precision is a Beta estimate whose prior is the
    rule score itself worth `strength` pseudo-codes, so a small group that happened to be all right does not
    read as certainty; then weighted isotonic regression makes the map non-decreasing. Capped below the
    auto-draft line: only a fitted bucket can earn auto-drafting."""
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


def vote_factor(agreement: float | None) -> float:
    """Nearest approved encounters nudge a code: agreement raises it a little, silence lowers it."""
    if agreement is None:
        return 1.0
    if agreement >= 0.5:
        return 1.0 + 0.04 * agreement
    return 0.85 + 0.15 * agreement
