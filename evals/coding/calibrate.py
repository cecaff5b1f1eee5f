"""Fit the offline coder's confidence: per-code calibration samples from gold sets, then a model stored in YAML."""

import argparse
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from agents.coding.confidence import (
    CALIBRATION_FILE,
    Calibration,
    CodeFeatures,
    model_inputs,
    unspecified_eye_code,
)
from agents.coding.offline import OfflineCoder
from evals.coding.datasets import load_rows
from evals.coding.metrics import IGNORED_CODES, line_key
from evals.coding.opinion import DATASETS, row_text, train
from evals.coding.splits import BLIND_SPLITS
from knowledge.codes.icd10 import normalize_icd10


def collect(dataset: Path, coder: OfflineCoder) -> list[dict[str, Any]]:
    """One record per predicted code of every row a tuner may read (never a holdout or check row): the row id,
    code, features, and correctness judged the way the eval judges it (ICD code in the gold; line matched on
    code, modifiers and units)."""
    records = []
    for row in load_rows(dataset, "all"):
        if row.split in BLIND_SPLITS:
            continue
        suggestion, features = coder.explain(row.to_request())
        gold_dx = {normalize_icd10(c) for c in row.gold.diagnoses}
        gold_lines = Counter(line_key(g.code, g.modifiers, g.units) for g in row.gold.lines)
        by_code = iter(features)
        for dx in suggestion.diagnoses:
            _, found = next(by_code)
            records.append(_record(row.id, "icd", dx.code, found, normalize_icd10(dx.code) in gold_dx))
        for line in suggestion.lines:
            _, found = next(by_code)
            if line.code.upper() in IGNORED_CODES:
                continue
            key = line_key(line.code, line.modifiers, line.units)
            correct = gold_lines[key] > 0
            gold_lines[key] -= correct
            records.append(_record(row.id, "line", line.code, found, correct))
    return records


_UNTUNED = re.compile(r"untuned_(tune\d+)_at_\w+\.jsonl")


def add_opinion(records: list[dict[str, Any]], dataset: Path) -> list[dict[str, Any]]:
    """Samples kept from an earlier coder (the untuned runs, which predate the second opinion) with the visit
    codes' opinion filled in by a model trained without this set: what the coder computes now, out of fold."""
    rows = {row.id: row for row in load_rows(dataset, "all")}
    model = train(exclude=dataset)
    filled = []
    for record in records:
        features = dict(record["features"])
        if features["kind"] == "visit" and features["basis"] != "vision_plan":
            features["opinion"] = model.opinion(row_text(rows[record["id"]])).on(record["code"])
        filled.append({**record, "features": features})
    return filled


def _record(row_id: str, kind: str, code: str, found: CodeFeatures, correct: bool) -> dict[str, Any]:
    return {"id": row_id, "kind": kind, "code": code, "features": asdict(found), "correct": correct}


@dataclass(frozen=True)
class Sample:
    """One suggested code of a calibration run: its features and code, whether the gold had it, its weight, the
    gold set it came from (the unit left out when the cutoff is chosen out of fold), and whether it is an untuned
    run's (only those are scored out of fold)."""

    features: CodeFeatures
    code: str
    correct: bool
    weight: float
    group: str
    untuned: bool


_SET = re.compile(r"(tune\d+)")


def load_samples(path: Path, weight: float, *, untuned: bool) -> list[Sample]:
    """A calibration file's samples; an untuned run kept from an earlier coder gets its visit opinions filled in
    out of fold when it predates them (its name, untuned_tuneN_at_COMMIT.jsonl, names its gold set)."""
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    kept = _UNTUNED.fullmatch(path.name)
    if kept and not any("opinion" in record["features"] for record in records):
        records = add_opinion(records, DATASETS / f"coding_{kept.group(1)}.jsonl")
    return samples_of(records, path.name, weight, untuned=untuned)


def samples_of(records: list[dict[str, Any]], name: str, weight: float, *, untuned: bool) -> list[Sample]:
    """Samples of one file's records; `name` (a file name) gives their gold set."""
    found = _SET.search(name)
    group = found.group(1) if found else Path(name).stem
    return [
        Sample(_features(record), record["code"], bool(record["correct"]), weight, group, untuned)
        for record in records
    ]


def collect_current() -> dict[str, list[dict[str, Any]]]:
    """Today's coder on the tuning rows of every hand-written gold set, each set coded with a second opinion
    trained without it: the in-sample evidence, rebuilt from the repository alone."""
    return {
        path.name: collect(path, OfflineCoder(opinion=train(exclude=path)))
        for path in sorted(DATASETS.glob("coding_*.jsonl"))
    }


def _features(record: dict[str, Any]) -> CodeFeatures:
    """A sample's features as the coder computes them now: samples kept from an earlier coder (the untuned runs)
    predate the unspecified-code flag, which depends on the code alone."""
    features = CodeFeatures(**record["features"])
    if features.kind == "diagnosis" and unspecified_eye_code(record["code"]):
        return replace(features, open_condition=True)
    return features


def _set_number(group: str) -> int:
    return int(group.removeprefix("tune")) if group.removeprefix("tune").isdigit() else 0


def fit_model(samples: Sequence[Sample], c: float = 1.0) -> tuple[dict[str, float], float]:
    """L2 logistic regression of 'the code was right' on the codes' model inputs: (weights, intercept)."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = DictVectorizer()
    inputs = vectorizer.fit_transform([model_inputs(s.features, s.code) for s in samples])
    model = LogisticRegression(C=c, max_iter=5000)
    model.fit(inputs, [s.correct for s in samples], sample_weight=[s.weight for s in samples])
    names = vectorizer.get_feature_names_out()
    return {str(n): round(float(w), 4) for n, w in zip(names, model.coef_[0], strict=True)}, float(
        model.intercept_[0]
    )


def drafting_cutoff(probabilities: Sequence[float], correct: Sequence[bool], target: float) -> float:
    """The lowest probability such that the codes at or above it (ties included) are right at least `target` of
    the time (1.0, nothing drafts, when no such probability exists)."""
    ranked = sorted(zip(probabilities, correct, strict=True), key=lambda pair: -pair[0])
    cutoff, right = 1.0, 0
    for count, (probability, ok) in enumerate(ranked, start=1):
        right += ok
        tied_with_next = count < len(ranked) and ranked[count][0] == probability
        if not tied_with_next and right / count >= target:
            cutoff = probability
    return cutoff


def out_of_fold(samples: Sequence[Sample], folds: Sequence[str], c: float) -> tuple[list[float], list[bool]]:
    """Each fold's untuned codes scored by a model fitted without that gold set (its untuned and its in-sample
    codes alike): what the model says of notes it has not seen."""
    probabilities: list[float] = []
    correct: list[bool] = []
    for fold in folds:
        weights, intercept = fit_model([s for s in samples if s.group != fold], c)
        held = Calibration(weights, intercept, 1.0, "fold")
        for s in samples:
            if s.group == fold and s.untuned:
                probabilities.append(held.probability(s.features, s.code))
                correct.append(s.correct)
    return probabilities, correct


def fit(
    untuned: Sequence[Path],
    in_sample: Sequence[Path] | None = None,
    *,
    recent: int = 8,
    older_weight: float = 0.3,
    in_sample_weight: float = 0.3,
    c: float = 1.0,
    target: float = 0.99,
    note: str = "",
) -> dict[str, Any]:
    """The confidence model: fitted on untuned runs (the last `recent` sets at full weight, older ones, from
    coders further from today's, at `older_weight`) and on today's coder over the tuning rows (in sample, so at
    `in_sample_weight`); the drafting cutoff is chosen out of fold over the recent sets at `target` precision."""
    kept = [load_samples(path, 1.0, untuned=True) for path in untuned]
    newest = sorted({s.group for batch in kept for s in batch}, key=_set_number)[-recent:]
    samples = [replace(s, weight=1.0 if s.group in newest else older_weight) for batch in kept for s in batch]
    if in_sample is None:  # rebuilt from the repository: what makes the stored fit reproducible
        current = collect_current()
        samples += [
            s
            for name, records in current.items()
            for s in samples_of(records, name, in_sample_weight, untuned=False)
        ]
    else:
        samples += [s for path in in_sample for s in load_samples(path, in_sample_weight, untuned=False)]
    probabilities, correct = out_of_fold(samples, newest, c)
    cutoff = drafting_cutoff(probabilities, correct, target)
    drafted = [ok for p, ok in zip(probabilities, correct, strict=True) if p >= cutoff]
    weights, intercept = fit_model(samples, c)
    return {
        "fitted_on": note,
        "method": "A logistic regression (L2, C as below) of 'the suggested code was right' on each code's model "
        "inputs (agents/coding/confidence.py model_inputs: every bucket of its calibration features, the code, "
        "its ICD-10-CM category, the rule score). Samples: the untuned runs kept in "
        "evals/coding/calibration_samples/ (codes the coder had never been tuned on; the newest sets at weight 1, "
        "older ones at a lower weight because today's coder has moved further from theirs) and today's coder on "
        "the tuning rows (in sample, at a low weight). The drafting cutoff is the lowest probability at which, "
        "out of fold (each recent set scored by a model fitted without it), drafted codes were right >= target "
        "of the time. A code at or above the cutoff keeps its probability (at least 0.9, the auto-draft line); "
        "below it, the probability held at <= 0.89. Refit: python -m evals.coding.calibrate (see --help). Never "
        "fit on holdout or check rows (calibrate collect skips them).",
        "fitted": date.today().isoformat(),
        "sources": {
            "untuned": [str(path) for path in untuned],
            "in_sample": "today's coder on every gold set's tuning rows, collected when fitted"
            if in_sample is None
            else [str(path) for path in in_sample],
            "recent_sets": newest,
            "older_weight": older_weight,
            "in_sample_weight": in_sample_weight,
        },
        "c": c,
        "target_precision": target,
        "out_of_fold": {
            "codes": len(correct),
            "drafted": len(drafted),
            "coverage": round(len(drafted) / len(correct), 4) if correct else 0.0,
            "precision": round(sum(drafted) / len(drafted), 4) if drafted else 0.0,
        },
        "samples": len(samples),
        "cutoff": round(cutoff, 4),
        "intercept": round(intercept, 4),
        "weights": dict(sorted(weights.items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    take = commands.add_parser("collect", help="write per-code calibration samples of a gold set")
    take.add_argument("dataset", type=Path)
    take.add_argument("out", type=Path)
    store = commands.add_parser("fit", help="fit the confidence model and store it")
    store.add_argument(
        "--untuned", type=Path, nargs="+", required=True, help="untuned runs (calibration_samples)"
    )
    store.add_argument(
        "--in-sample",
        type=Path,
        nargs="+",
        default=None,
        help="today's coder on tuning rows, collected files (default: collected now from every gold set)",
    )
    store.add_argument("--recent", type=int, default=8, help="newest untuned sets at full weight")
    store.add_argument("--older-weight", type=float, default=0.3)
    store.add_argument("--in-sample-weight", type=float, default=0.3)
    store.add_argument("--c", type=float, default=1.0, help="inverse L2 strength")
    store.add_argument("--target", type=float, default=0.99, help="out-of-fold precision of drafted codes")
    store.add_argument("--note", default="")
    store.add_argument("--out", type=Path, default=CALIBRATION_FILE)
    args = parser.parse_args()
    if args.command == "collect":
        # the second opinion must not have seen these rows: train it on the other sets
        records = collect(args.dataset, OfflineCoder(opinion=train(exclude=args.dataset)))
        args.out.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        print(f"{len(records)} codes, {sum(r['correct'] for r in records)} right -> {args.out}")
    else:
        fitted = fit(
            args.untuned,
            args.in_sample,
            recent=args.recent,
            older_weight=args.older_weight,
            in_sample_weight=args.in_sample_weight,
            c=args.c,
            target=args.target,
            note=args.note,
        )
        header = "# Confidence calibration of the offline coder (evals/coding/calibrate.py, agents/coding/confidence.py).\n"
        args.out.write_text(header + yaml.safe_dump(fitted, sort_keys=False, width=110), encoding="utf-8")
        folds = fitted["out_of_fold"]
        print(
            f"cutoff {fitted['cutoff']}: out of fold {folds['coverage']:.1%} drafted at {folds['precision']:.4f} "
            f"-> {args.out}"
        )


if __name__ == "__main__":
    main()
