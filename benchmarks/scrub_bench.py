"""Benchmark: claim scrub latency per claim after start-up, and claims/s in a batch scan.

Run: .venv/bin/python benchmarks/scrub_bench.py [--patients 300] [--scan 200]
Prints p50/p95/max per claim for scrub_claim (validator + payer checks + trained model + fixes, facts in
hand) and claims/s for a batch of pure scrubs; then the claim_scrub workflow scan over the same facts as
`fovea scrub --since` runs it (SQLite checkpoints, chained audit records, review items for the flagged ones):
claims/s (wall, and per CPU second: the box may be shared) and p50/p95/max per claim.
"""

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from agents.risk.model import DenialModel
from agents.risk.training import examples_from
from agents.scrub.facts import ClaimFacts, claim_input_for
from agents.scrub.scrub import scrub_claim
from api.features import FeatureGate
from api.reviews import ReviewService, WorkflowRegistry
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
    sessions = create_session_factory(engine)
    runtime = ClaimScrubRuntime(settings, sessions, kb=kb, risk=model)
    runtime.sink = ReviewService(sessions, WorkflowRegistry([runtime]), FeatureGate(sessions))
    scanned = facts[: args.scan]
    outcomes: list[str] = []
    per_claim: list[float] = []

    def timed_claims() -> Iterator[ClaimFacts]:
        # The scan asks for the next claim when it is done with one: the gap is that claim's time, its share
        # of audit flushes and review items included (passed claims are reported in batches, so not on_claim).
        for item in scanned:
            began = time.perf_counter()
            yield item
            per_claim.append((time.perf_counter() - began) * 1000)

    cpu_started, started = time.process_time(), time.perf_counter()
    runtime.scan(
        timed_claims(), lambda _claim_id, status: outcomes.append(getattr(status, "state", "broken"))
    )
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    per_claim.sort()
    chain = runtime.audit.verify()
    print(
        f"claim_scrub workflow scan over {len(scanned)} claims (SQLite checkpoints, audit, review queue): "
        f"{len(scanned) / seconds:.0f} claims/s wall, {len(scanned) / cpu_seconds:.0f} claims/s per CPU second; "
        f"per claim p50 {statistics.median(per_claim):.1f} ms, p95 {per_claim[int(len(per_claim) * 0.95) - 1]:.1f} ms, "
        f"max {per_claim[-1]:.1f} ms ({outcomes.count('done')} passed, {outcomes.count('pending_review')} to "
        f"review, {outcomes.count('broken')} broken; audit chain of {chain.records} records ok={chain.ok})"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
