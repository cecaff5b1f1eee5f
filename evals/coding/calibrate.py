"""Fit the offline coder's confidence: per-code calibration samples from gold sets, then buckets stored in YAML."""

import argparse
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from agents.coding.confidence import (
    CALIBRATION_FILE,
    CodeFeatures,
    Sample,
    fit_buckets,
    fit_calibration,
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


def _samples(path: Path, *, weight: float, unseen: bool, hand: bool = False) -> list[Sample]:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    untuned = _UNTUNED.fullmatch(path.name)
    if untuned and not any("opinion" in record["features"] for record in records):
        records = add_opinion(records, DATASETS / f"coding_{untuned.group(1)}.jsonl")
    return [Sample(_features(record), bool(record["correct"]), weight, unseen, hand) for record in records]


def _features(record: dict[str, Any]) -> CodeFeatures:
    """A sample's features as the coder computes them now: samples kept from an earlier coder (the untuned runs)
    predate the unspecified-code flag, which depends on the code alone."""
    features = CodeFeatures(**record["features"])
    if features.kind == "diagnosis" and unspecified_eye_code(record["code"]):
        return replace(features, open_condition=True)
    return features


def _weighted(spec: str, default: float) -> tuple[Path, float]:
    """PATH or PATH:WEIGHT (an in-sample file's own weight)."""
    path, _, weight = spec.rpartition(":")
    try:
        return Path(path), float(weight)
    except ValueError:  # no weight given (or a colon inside the path)
        return Path(spec), default


def fit(
    unseen: list[Path], in_sample: list[str], in_sample_weight: float, note: str, hand: Sequence[str] = ()
) -> dict[str, Any]:
    """`unseen` and `in_sample` are generated notes; `hand` are hand-written gold sets (PATH:WEIGHT), the only
    evidence that can lift a bucket to the auto-draft line."""
    weighted = [_weighted(spec, in_sample_weight) for spec in in_sample]
    handwritten = [_weighted(spec, 1.0) for spec in hand]
    samples = [s for p in unseen for s in _samples(p, weight=1.0, unseen=True)]
    samples += [s for p, w in weighted for s in _samples(p, weight=w, unseen=False)]
    samples += [s for p, w in handwritten for s in _samples(p, weight=w, unseen=False, hand=True)]
    fallback = fit_calibration([(s.features.score(), s.correct) for s in samples if s.unseen])
    return {
        "fitted_on": note,
        "method": "Codes are bucketed by their calibration features (kind, evidence basis, whether eye/stage/type "
        "were explicit, problem list vs prose), fine to coarse; a code uses the first bucket with weighted "
        "support >= 8. Generated codes weigh 1 (in-sample generated files their own weight), hand-written codes "
        "their file's weight (sources.hand). A bucket may reach the 0.9 auto-draft line only when its "
        "hand-written precision is >= 0.99 with a one-sided 84% (z=1) Wilson lower bound >= 0.9 (its confidence) "
        "AND its generated precision is >= 0.99; generated evidence alone never lifts a bucket, and visit codes "
        "earn it only in their sharpest bucket (code + complete support). Otherwise the bucket's confidence is the "
        "Wilson lower bound of all its weighted evidence, held at <= 0.89. Codes in no bucket use the rule-score isotonic map "
        "(scores/values), capped at 0.89. Refit: python -m evals.coding.calibrate (see --help). Never fit on "
        "holdout rows.",
        "fitted": date.today().isoformat(),
        "sources": {
            "unseen": [str(p) for p in unseen],
            "in_sample": {str(p): w for p, w in weighted},
            "hand": {str(p): w for p, w in handwritten},
        },
        "buckets": fit_buckets(samples),
        "scores": fallback["scores"],
        "values": fallback["values"],
        "samples": {
            "unseen": sum(s.unseen for s in samples),
            "in_sample": sum(not s.unseen and not s.hand for s in samples),
            "hand": sum(s.hand for s in samples),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    take = commands.add_parser("collect", help="write per-code calibration samples of a gold set")
    take.add_argument("dataset", type=Path)
    take.add_argument("out", type=Path)
    store = commands.add_parser("fit", help="fit the buckets and store them")
    store.add_argument("--unseen", type=Path, nargs="+", required=True)
    store.add_argument(
        "--hand", nargs="*", default=[], help="hand-written sets, PATH or PATH:WEIGHT (default 1)"
    )
    store.add_argument(
        "--in-sample", nargs="*", default=[], help="PATH or PATH:WEIGHT (default weight below)"
    )
    store.add_argument("--in-sample-weight", type=float, default=0.25)
    store.add_argument("--note", default="")
    store.add_argument("--out", type=Path, default=CALIBRATION_FILE)
    args = parser.parse_args()
    if args.command == "collect":
        # the second opinion must not have seen these rows: train it on the other sets
        records = collect(args.dataset, OfflineCoder(opinion=train(exclude=args.dataset)))
        args.out.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        print(f"{len(records)} codes, {sum(r['correct'] for r in records)} right -> {args.out}")
    else:
        fitted = fit(args.unseen, args.in_sample, args.in_sample_weight, args.note, args.hand)
        header = "# Confidence calibration of the offline coder (evals/coding/calibrate.py, agents/coding/confidence.py).\n"
        args.out.write_text(header + yaml.safe_dump(fitted, sort_keys=False, width=110), encoding="utf-8")
        print(f"{len(fitted['buckets'])} buckets -> {args.out}")


if __name__ == "__main__":
    main()
