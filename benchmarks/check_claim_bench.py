"""Benchmark: `check claim` latency per claim after start-up (the validator in-process, knowledge loaded once).

Run: .venv/bin/python benchmarks/check_claim_bench.py [--rounds 20]
Prints start-up time, then p50/p95/max per claim over the validator test table's claims.
"""

import argparse
import statistics
import time
from pathlib import Path

import yaml

from billing.claim_input import ClaimInput
from billing.settings import Settings
from knowledge.base import load_knowledge
from knowledge.validation.engine import validate

CASES = Path(__file__).resolve().parents[1] / "tests" / "knowledge" / "validator_cases.yaml"


def load_claims() -> list[ClaimInput]:
    table = yaml.safe_load(CASES.read_text())
    claims = []
    for case in table["cases"]:
        merged = {**table["defaults"], **case["claim"]}
        for key in case.get("drop", []):
            merged.pop(key, None)
        try:
            claims.append(ClaimInput.model_validate(merged))
        except ValueError:
            continue  # cases that test schema errors are not latency cases
    return claims


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    started = time.perf_counter()
    kb = load_knowledge(Settings(_env_file=None))
    claims = load_claims()
    validate(claims[0], kb)  # first use pays the ICD-10-CM package's parse
    startup = time.perf_counter() - started
    timings = []
    for _ in range(args.rounds):
        for claim in claims:
            t = time.perf_counter()
            validate(claim, kb)
            timings.append((time.perf_counter() - t) * 1000)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(f"start-up (knowledge + ICD-10-CM load): {startup:.2f} s")
    print(
        f"{len(timings)} validations of {len(claims)} claims: p50 {statistics.median(timings):.2f} ms, "
        f"p95 {p95:.2f} ms, max {timings[-1]:.2f} ms"
    )


if __name__ == "__main__":
    main()
