"""Train the visit-code second opinion on the hand-written gold sets, and measure it out of sample.

    python -m evals.coding.opinion train            # writes agents/coding/lexicon/visit_opinion.npz
    python -m evals.coding.opinion cross-validate   # leave-one-author-set-out: the opinion vs the gold

Only rows a tuner may read train it (never a holdout or check row). Out-of-fold models (all sets but one) give
the calibration fit an honest agreement signal for that set's rows."""

import argparse
from collections import Counter
from pathlib import Path

from agents.coding.visit_opinion import (
    NO_VISIT,
    OPINION_FILE,
    VisitOpinion,
    is_visit_code,
    opinion_text,
    train_opinion,
)
from evals.coding.datasets import GoldRow, load_rows
from evals.coding.splits import BLIND_SPLITS

DATASETS = Path(__file__).resolve().parent.parent / "datasets"


def gold_visit(row: GoldRow) -> str:
    codes = [line.code for line in row.gold.lines if is_visit_code(line.code)]
    return codes[0] if codes else NO_VISIT


def training_rows(exclude: Path | None = None) -> list[GoldRow]:
    """Every tunable row of the hand-written sets, except those of `exclude` (a gold set file)."""
    rows = []
    for path in sorted(DATASETS.glob("coding_*.jsonl")):
        if exclude is not None and path.resolve() == exclude.resolve():
            continue
        rows += [row for row in load_rows(path, "all") if row.split not in BLIND_SPLITS]
    return rows


def row_text(row: GoldRow) -> str:
    return opinion_text(row.note, row.established, row.payer.kind, row.patient.age, row.payer.name)


def train(exclude: Path | None = None) -> VisitOpinion:
    rows = training_rows(exclude)
    return train_opinion([row_text(r) for r in rows], [gold_visit(r) for r in rows])


def cross_validate() -> dict[str, float]:
    """Each set scored by a model trained on the others: how often the opinion names the gold visit code."""
    tally: Counter[str] = Counter()
    for path in sorted(DATASETS.glob("coding_*.jsonl")):
        rows = [row for row in load_rows(path, "all") if row.split not in BLIND_SPLITS]
        model = train(exclude=path)
        right = sum(model.opinion(row_text(r)).code == gold_visit(r) for r in rows)
        print(f"{path.name:24s} {right:4d} / {len(rows):4d}  {right / len(rows):.3f}")
        tally["right"] += right
        tally["rows"] += len(rows)
    accuracy = tally["right"] / tally["rows"]
    print(f"{'all':24s} {tally['right']:4d} / {tally['rows']:4d}  {accuracy:.3f}")
    return {"accuracy": accuracy, "rows": tally["rows"]}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    fit = commands.add_parser("train", help="train on every tunable hand-written row and store the model")
    fit.add_argument("--out", type=Path, default=OPINION_FILE)
    commands.add_parser("cross-validate", help="leave-one-set-out accuracy of the opinion")
    args = parser.parse_args()
    if args.command == "train":
        model = train()
        model.save(args.out)
        print(f"{len(model.classes)} visit classes, {args.out}")
    else:
        cross_validate()


if __name__ == "__main__":
    main()
