"""Charge-coding metrics: line, code and ICD P/R/F1, modifiers, laterality, validity, calibration, latency."""

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from agents.coding.schemas import AUTO_DRAFT_THRESHOLD
from evals.coding.datasets import GoldRow
from evals.coding.splits import BLIND_SPLITS
from knowledge.codes.icd10 import icd10_billable, icd10_laterality, normalize_icd10
from knowledge.codes.procedures import get_procedure, normalize_procedure

# Left out of the gold on purpose (dataset README): neither credited nor counted as wrong.
IGNORED_CODES = frozenset({"G2211", "A4262", "A4263", "99070"})
LATERALITY_MODIFIERS = frozenset({"RT", "LT", "50", "E1", "E2", "E3", "E4"})
CALIBRATION_BINS = 10

LineKey = tuple[str, tuple[str, ...], int]


class PRF(BaseModel):
    precision: float
    recall: float
    f1: float
    tp: int
    fp: int
    fn: int


def prf(tp: int, fp: int, fn: int) -> PRF:
    """Micro P/R/F1; an empty side scores 1.0 only when there was nothing to find and nothing claimed."""
    nothing = tp + fp + fn == 0
    precision = tp / (tp + fp) if tp + fp else float(nothing)
    recall = tp / (tp + fn) if tp + fn else float(nothing)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PRF(precision=precision, recall=recall, f1=f1, tp=tp, fp=fp, fn=fn)


def line_key(code: str, modifiers: Iterable[str], units: int) -> LineKey:
    """What a line must match on: code, modifiers in any order, units."""
    return normalize_procedure(code), tuple(sorted(m.strip().upper() for m in modifiers)), int(units)


def line_label(key: LineKey) -> str:
    code, modifiers, units = key
    return "-".join((code, *modifiers)) + (f" x{units}" if units != 1 else "")


@dataclass(frozen=True)
class ScoredCode:
    """One predicted code with its confidence and whether the gold has it (for calibration, auto-draft)."""

    kind: str  # "line" or "icd"
    label: str
    confidence: float
    correct: bool


@dataclass
class NoteScore:
    id: str
    family: str
    split: str
    failed: bool = False
    confidence: float = 0.0
    lines: Counter[str] = field(default_factory=Counter)  # tp / fp / fn on full line keys
    codes: Counter[str] = field(default_factory=Counter)  # tp / fp / fn on codes alone
    icd: Counter[str] = field(default_factory=Counter)
    modifier_pairs: int = 0
    modifier_correct: int = 0
    laterality_items: int = 0
    laterality_errors: int = 0
    invalid_codes: list[str] = field(default_factory=list)
    scored: list[ScoredCode] = field(default_factory=list)
    confusion: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, gold, predicted)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    gold_line_codes: Counter[str] = field(default_factory=Counter)
    pred_line_codes: Counter[str] = field(default_factory=Counter)
    gold_icd: set[str] = field(default_factory=set)
    pred_icd: set[str] = field(default_factory=set)


def _counts(gold: Counter, predicted: Counter) -> Counter[str]:
    tp = sum((gold & predicted).values())
    return Counter(tp=tp, fp=sum(predicted.values()) - tp, fn=sum(gold.values()) - tp)


def _one_eye_apart(predicted: str, gold: str) -> bool:
    """Same category and same code but for the character that names the eye (H40.1131 vs H40.1121)."""
    if predicted[:3] != gold[:3] or len(predicted) != len(gold):
        return False
    if sum(a != b for a, b in zip(predicted, gold, strict=True)) != 1:
        return False
    sides = icd10_laterality(predicted), icd10_laterality(gold)
    return None not in sides and sides[0] != sides[1]


def _pair_wrong(kind: str, missing: list[str], extra: list[str]) -> list[tuple[str, str, str]]:
    """Pair each missed gold code with the closest wrong prediction (same first 3 characters first)."""
    left = list(extra)
    pairs = []
    for gold in missing:
        match = next((p for p in left if p[:3] == gold[:3]), left[0] if left else None)
        if match is not None:
            left.remove(match)
        pairs.append((kind, gold, match or "(none)"))
    pairs.extend((kind, "(none)", predicted) for predicted in left)
    return pairs


def score_note(row: GoldRow, predicted: dict[str, Any]) -> NoteScore:
    """Score one engine output record (the `fovea code batch` shape) against its gold row."""
    score = NoteScore(id=row.id, family=row.family, split=row.split)
    failed = "error" in predicted
    score.failed = failed
    score.confidence = 0.0 if failed else float(predicted.get("confidence", 0.0))
    gold_lines = [
        line_key(g.code, g.modifiers, g.units) for g in row.gold.lines if g.code.upper() not in IGNORED_CODES
    ]
    pred_raw = [] if failed else predicted.get("lines", [])
    pred_lines = [
        (line_key(p["code"], p.get("modifiers", []), p.get("units", 1)), float(p.get("confidence", 0.0)))
        for p in pred_raw
        if normalize_procedure(p["code"]) not in IGNORED_CODES
    ]
    gold_line_counter = Counter(gold_lines)
    pred_line_counter = Counter(key for key, _ in pred_lines)
    score.lines = _counts(gold_line_counter, pred_line_counter)
    score.gold_line_codes = Counter(key[0] for key in gold_lines)
    score.pred_line_codes = Counter(key[0] for key in pred_line_counter.elements())
    score.codes = _counts(score.gold_line_codes, score.pred_line_codes)

    remaining = Counter(gold_line_counter)
    for key, confidence in pred_lines:
        correct = remaining[key] > 0
        remaining[key] -= correct
        score.scored.append(ScoredCode("line", line_label(key), confidence, correct))
        if get_procedure(key[0]) is None:
            score.invalid_codes.append(key[0])
    score.missing += [line_label(k) for k in (gold_line_counter - pred_line_counter).elements()]
    score.extra += [line_label(k) for k in (pred_line_counter - gold_line_counter).elements()]

    _score_modifiers(score, gold_lines, [key for key, _ in pred_lines])
    _score_diagnoses(score, row, [] if failed else predicted.get("diagnoses", []))
    score.confusion = _pair_wrong(
        "line",
        list((score.gold_line_codes - score.pred_line_codes).elements()),
        list((score.pred_line_codes - score.gold_line_codes).elements()),
    ) + _pair_wrong("icd", sorted(score.gold_icd - score.pred_icd), sorted(score.pred_icd - score.gold_icd))
    return score


def _score_modifiers(score: NoteScore, gold_lines: list[LineKey], pred_lines: list[LineKey]) -> None:
    """Pair lines whose code matched (exact modifier matches first) and compare their modifiers."""
    by_code: dict[str, tuple[list[tuple[str, ...]], list[tuple[str, ...]]]] = defaultdict(lambda: ([], []))
    for code, modifiers, _ in gold_lines:
        by_code[code][0].append(modifiers)
    for code, modifiers, _ in pred_lines:
        by_code[code][1].append(modifiers)
    for gold_sets, pred_sets in by_code.values():
        pairs = min(len(gold_sets), len(pred_sets))
        exact = sum((Counter(gold_sets) & Counter(pred_sets)).values())
        score.modifier_pairs += pairs
        score.modifier_correct += exact
        # Pairs beyond the exact ones join the leftovers in order; their eye modifiers may still agree.
        gold_left = list((Counter(gold_sets) - Counter(pred_sets)).elements())
        pred_left = list((Counter(pred_sets) - Counter(gold_sets)).elements())
        for gold_mods, pred_mods in zip(gold_left, pred_left, strict=False):
            score.laterality_errors += (set(gold_mods) & LATERALITY_MODIFIERS) != (
                set(pred_mods) & LATERALITY_MODIFIERS
            )
        score.laterality_items += pairs


def _score_diagnoses(score: NoteScore, row: GoldRow, predicted: Sequence[dict[str, Any]]) -> None:
    gold = {normalize_icd10(code) for code in row.gold.diagnoses}
    pred_conf: dict[str, float] = {}
    for dx in predicted:
        code = normalize_icd10(dx["code"])
        pred_conf[code] = max(pred_conf.get(code, 0.0), float(dx.get("confidence", 0.0)))
    score.gold_icd, score.pred_icd = gold, set(pred_conf)
    score.icd = Counter(
        tp=len(gold & pred_conf.keys()), fp=len(pred_conf.keys() - gold), fn=len(gold - pred_conf.keys())
    )
    for code, confidence in pred_conf.items():
        score.scored.append(ScoredCode("icd", code, confidence, code in gold))
        if not icd10_billable(code):
            score.invalid_codes.append(code)
    unmatched_gold = sorted(gold - pred_conf.keys())
    lateral_misses = 0
    for code in sorted(pred_conf.keys() - gold):
        partner = next((g for g in unmatched_gold if _one_eye_apart(code, g)), None)
        if partner is not None:
            unmatched_gold.remove(partner)
            lateral_misses += 1
    score.laterality_errors += lateral_misses
    score.laterality_items += score.icd["tp"] + lateral_misses
    score.missing += sorted(gold - pred_conf.keys())
    score.extra += sorted(pred_conf.keys() - gold)


class FamilyMetrics(BaseModel):
    notes: int
    lines: PRF
    codes: PRF
    icd: PRF
    abstention_rate: float


class CalibrationBin(BaseModel):
    low: float
    high: float
    count: int
    mean_confidence: float
    accuracy: float


class ConfusionEntry(BaseModel):
    kind: str
    gold: str
    predicted: str
    count: int


class NoteErrors(BaseModel):
    id: str
    family: str
    missing: list[str]
    extra: list[str]
    failed: bool = False


class CodingMetrics(BaseModel):
    notes: int
    failed_notes: int
    lines: PRF
    codes: PRF
    icd: PRF
    modifier_accuracy: float
    modifier_pairs: int
    laterality_error_rate: float
    laterality_errors: int
    laterality_items: int
    invalid_codes: int
    threshold: float = AUTO_DRAFT_THRESHOLD
    abstention_rate: float
    auto_draft_coverage: float
    auto_draft_precision: float
    latency_p50_ms: float
    latency_p95_ms: float
    per_family: dict[str, FamilyMetrics]
    per_code: dict[str, PRF] = Field(description="CPT/HCPCS code alone")
    per_icd_category: dict[str, PRF] = Field(description="ICD-10-CM 3-character category, exact codes")
    calibration: list[CalibrationBin]
    confusion: list[ConfusionEntry] = Field(
        description="Wrong codes, from rows outside the blind splits only"
    )
    note_errors: list[NoteErrors] = Field(
        description="Per-note diffs, from rows outside the blind splits only"
    )


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _sum(scores: Iterable[NoteScore], attribute: str) -> PRF:
    total: Counter[str] = Counter()
    for score in scores:
        total.update(getattr(score, attribute))
    return prf(total["tp"], total["fp"], total["fn"])


def _calibration(scored: list[ScoredCode]) -> list[CalibrationBin]:
    bins: list[list[ScoredCode]] = [[] for _ in range(CALIBRATION_BINS)]
    for item in scored:
        bins[min(int(item.confidence * CALIBRATION_BINS), CALIBRATION_BINS - 1)].append(item)
    return [
        CalibrationBin(
            low=index / CALIBRATION_BINS,
            high=(index + 1) / CALIBRATION_BINS,
            count=len(items),
            mean_confidence=sum(i.confidence for i in items) / len(items) if items else 0.0,
            accuracy=sum(i.correct for i in items) / len(items) if items else 0.0,
        )
        for index, items in enumerate(bins)
    ]


def _per_code(scores: list[NoteScore]) -> tuple[dict[str, PRF], dict[str, PRF]]:
    lines: dict[str, Counter[str]] = defaultdict(Counter)
    icd: dict[str, Counter[str]] = defaultdict(Counter)
    for score in scores:
        for code in score.gold_line_codes.keys() | score.pred_line_codes.keys():
            gold, pred = score.gold_line_codes[code], score.pred_line_codes[code]
            lines[code].update(tp=min(gold, pred), fp=max(pred - gold, 0), fn=max(gold - pred, 0))
        for code in score.gold_icd | score.pred_icd:
            hit = code in score.gold_icd and code in score.pred_icd
            icd[code[:3]].update(
                tp=int(hit),
                fp=int(not hit and code in score.pred_icd),
                fn=int(not hit and code in score.gold_icd),
            )
    as_prf = {code: prf(c["tp"], c["fp"], c["fn"]) for code, c in sorted(lines.items())}
    return as_prf, {category: prf(c["tp"], c["fp"], c["fn"]) for category, c in sorted(icd.items())}


def summarize(scores: list[NoteScore], latencies_ms: Sequence[float] = ()) -> CodingMetrics:
    """Aggregate note scores; per-note diffs and the wrong-code confusion leave blind rows (holdout, checks) out."""
    scored = [item for score in scores for item in score.scored]
    drafted = [item for item in scored if item.confidence >= AUTO_DRAFT_THRESHOLD]
    modifier_pairs = sum(s.modifier_pairs for s in scores)
    laterality_items = sum(s.laterality_items for s in scores)
    laterality_errors = sum(s.laterality_errors for s in scores)
    families: dict[str, list[NoteScore]] = defaultdict(list)
    for score in scores:
        families[score.family].append(score)
    visible = [s for s in scores if s.split not in BLIND_SPLITS]
    confusion = Counter(pair for s in visible for pair in s.confusion)
    per_code, per_icd = _per_code(scores)
    return CodingMetrics(
        notes=len(scores),
        failed_notes=sum(s.failed for s in scores),
        lines=_sum(scores, "lines"),
        codes=_sum(scores, "codes"),
        icd=_sum(scores, "icd"),
        modifier_accuracy=sum(s.modifier_correct for s in scores) / modifier_pairs if modifier_pairs else 0.0,
        modifier_pairs=modifier_pairs,
        laterality_error_rate=laterality_errors / laterality_items if laterality_items else 0.0,
        laterality_errors=laterality_errors,
        laterality_items=laterality_items,
        invalid_codes=sum(len(s.invalid_codes) for s in scores),
        abstention_rate=_abstention(scores),
        auto_draft_coverage=len(drafted) / len(scored) if scored else 0.0,
        auto_draft_precision=sum(i.correct for i in drafted) / len(drafted) if drafted else 0.0,
        latency_p50_ms=percentile(latencies_ms, 50),
        latency_p95_ms=percentile(latencies_ms, 95),
        per_family={
            family: FamilyMetrics(
                notes=len(members),
                lines=_sum(members, "lines"),
                codes=_sum(members, "codes"),
                icd=_sum(members, "icd"),
                abstention_rate=_abstention(members),
            )
            for family, members in sorted(families.items())
        },
        per_code=per_code,
        per_icd_category=per_icd,
        calibration=_calibration(scored),
        confusion=[
            ConfusionEntry(kind=kind, gold=gold, predicted=pred, count=count)
            for (kind, gold, pred), count in confusion.most_common()
        ],
        note_errors=[
            NoteErrors(id=s.id, family=s.family, missing=s.missing, extra=s.extra, failed=s.failed)
            for s in visible
            if s.missing or s.extra or s.failed
        ],
    )


def _abstention(scores: list[NoteScore]) -> float:
    return sum(s.confidence < AUTO_DRAFT_THRESHOLD for s in scores) / len(scores) if scores else 0.0
