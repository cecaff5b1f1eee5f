"""Benchmark: claim scrub latency per claim after start-up, and claims/s in a batch scan.

Run: .venv/bin/python benchmarks/scrub_bench.py [--patients 300] [--scan 200]
Prints p50/p95/max per claim for scrub_claim (validator + payer checks + trained model + fixes, facts in
hand), then claims/s for a batch of pure scrubs and for the claim_scrub workflow over the same facts (SQLite
checkpoints and audit records, as `fovea scrub --since` runs it).
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from agents.risk.model import DenialModel
from agents.risk.training import examples_from
from agents.scrub.facts import claim_input_for
from agents.scrub.scrub import scrub_claim
from api.scrub_runtime import ClaimScrubRuntime
from api.storage.db import create_db_engine, create_session_factory
from api.storage.migrate import migrate_engine
from billing.settings import Settings
from evals.scrub import labeled_claims
from knowledge.base import load_knowledge
from sandbox.generator import generate_dataset


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--scan", type=int, default=200, help="claims to run through the workflow")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="fovea-scrub-bench-"))
    settings = Settings(_env_file=None, data_dir=folder / "var")
    kb = load_knowledge(settings)
    labeled = labeled_claims(generate_dataset(7, args.patients))
    model = DenialModel.fit(examples_from(labeled, kb))
    facts = [item.facts for item in labeled]

    scrub_claim(claim_input_for(facts[0]), kb, model, facts[0])  # warm-up
    latencies = []
    started = time.perf_counter()
    for item in facts:
        began = time.perf_counter()
        scrub_claim(claim_input_for(item), kb, model, item)
        latencies.append((time.perf_counter() - began) * 1000)
    batch_seconds = time.perf_counter() - started
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(
        f"scrub_claim over {len(latencies)} claims: p50 {statistics.median(latencies):.1f} ms, "
        f"p95 {p95:.1f} ms, max {latencies[-1]:.1f} ms; batch {len(latencies) / batch_seconds:.0f} claims/s"
    )

    engine = create_db_engine(settings.resolved_database_url)
    migrate_engine(engine)
    runtime = ClaimScrubRuntime(settings, create_session_factory(engine), kb=kb, risk=model)
    outcomes: list[str] = []
    scanned = facts[: args.scan]
    started = time.perf_counter()
    runtime.scan(iter(scanned), lambda claim_id, status: outcomes.append(getattr(status, "state", "broken")))
    seconds = time.perf_counter() - started
    print(
        f"claim_scrub workflow over {len(scanned)} claims: {len(scanned) / seconds:.0f} claims/s "
        f"({outcomes.count('done')} passed, {outcomes.count('pending_review')} to review, "
        f"{outcomes.count('broken')} broken)"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
