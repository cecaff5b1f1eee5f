"""The posting evaluation: reconcile a generated practice's last month of 835s against its claims.

The generator's truth is each file's claim list (CLP01 order): a match to any other claim is a wrong match.
A share of control numbers is mangled the ways payers mangle them (reformatted, truncated, replaced by the
payer's own number), so fuzzy matching is exercised and shown not to guess.
"""

import random
import time
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, Field

from billing.claims import Claim
from billing.posting import PatientKey, reconcile
from billing.remittance import ClaimPayment, Remittance
from billing.x12_835 import parse_835
from sandbox.dataset import RemittanceFile, SyntheticDataset

MONTH_DAYS = 30
MangleMode = Literal["reformatted", "truncated", "replaced"]
MANGLE_MODES: tuple[MangleMode, ...] = ("reformatted", "truncated", "replaced")


class PostingEvalReport(BaseModel):
    patients: int
    seed: int
    files: int
    claim_payments: int
    auto_matched: int
    auto_match_rate: float
    wrong_matches: int
    matched_by: dict[str, int] = Field(description="control_number / fuzzy / none")
    mangled: dict[str, int] = Field(default_factory=dict, description="mangled control numbers by mode")
    mangled_matched: int = 0
    exceptions: dict[str, int] = Field(default_factory=dict)
    examples: dict[str, list[str]] = Field(default_factory=dict, description="up to 3 messages per code")
    unexplained: int = Field(0, description="exceptions with no message (must be 0)")
    unmatched_causes: dict[str, int] = Field(
        default_factory=dict, description="why, by the generator's truth, a payment matched no claim"
    )
    wrong_examples: list[str] = Field(default_factory=list)
    parse_seconds: float
    post_seconds: float


def mangle(control_number: str, mode: MangleMode, rng: random.Random) -> str:
    """What payers do to a patient control number: upper-case it without punctuation, cut it, replace it."""
    if mode == "reformatted":
        return control_number.upper().replace("-", "")
    if mode == "truncated":
        return control_number[-4:]
    return f"P{rng.randrange(10**9, 10**10)}"


def last_month(dataset: SyntheticDataset) -> list[RemittanceFile]:
    latest = max(file.received_on for file in dataset.remittances)
    return [f for f in dataset.remittances if f.received_on > latest - timedelta(days=MONTH_DAYS)]


def _twins(claims: Sequence[Claim]) -> set[str]:
    """Claims with an identical sibling (a resubmitted duplicate): no fuzzy match can tell them apart."""
    seen: dict[tuple[str, object, str], list[str]] = {}
    for claim in claims:
        seen.setdefault((claim.patient_id, claim.date_of_service, str(claim.total_charge)), []).append(
            claim.id
        )
    return {claim_id for ids in seen.values() if len(ids) > 1 for claim_id in ids}


def _unmatched_cause(truth: str, payment: ClaimPayment, twins: set[str], mangled: bool) -> str:
    if payment.reversal:
        return "reversal with no original on file"
    if not mangled:
        return "control number intact but refused"
    if truth in twins:
        return "mangled control number, and the claim has an identical resubmitted twin"
    return "mangled control number, no unique fuzzy candidate"


def run_posting_eval(*, patients: int = 1000, seed: int = 7, mangle_share: float = 0.1) -> PostingEvalReport:
    from sandbox.generator import generate_dataset

    dataset = generate_dataset(seed, patients)
    return evaluate_posting(dataset, seed=seed, mangle_share=mangle_share)


def parse_month(dataset: SyntheticDataset) -> tuple[dict[str, Remittance], float]:
    """The last month's 835s parsed (by file id), and the seconds parsing took."""
    started = time.perf_counter()
    parsed = {file.id: parse_835(file.x12).remittance for file in last_month(dataset)}
    return parsed, time.perf_counter() - started


def evaluate_posting(
    dataset: SyntheticDataset,
    *,
    seed: int,
    mangle_share: float,
    parsed: tuple[dict[str, Remittance], float] | None = None,
) -> PostingEvalReport:
    """Reconcile the last month; `parsed` (from parse_month) saves parsing again for another share."""
    rng = random.Random(seed)
    keys = {
        p.id: PatientKey(last_name=p.last_name, first_name=p.first_name, birth_date=p.birth_date)
        for p in dataset.patients
    }
    claims_by_practice: dict[str, list[Claim]] = {}
    for claim in dataset.claims:
        claims_by_practice.setdefault(claim.practice_id, []).append(claim)
    twins = _twins(dataset.claims)
    files = last_month(dataset)
    remittances, parse_seconds = parsed or parse_month(dataset)
    post_seconds = 0.0
    total = auto = wrong = mangled_matched = unexplained = 0
    matched_by: Counter[str] = Counter()
    mangled_modes: Counter[str] = Counter()
    exceptions: Counter[str] = Counter()
    causes: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    wrong_examples: list[str] = []
    for file in files:
        remittance = remittances[file.id].model_copy(deep=True)
        mangled = _mangle_file(remittance, mangle_share, rng, mangled_modes)
        started = time.perf_counter()
        result = reconcile(remittance, claims_by_practice.get(file.practice_id, []), patients=keys)
        post_seconds += time.perf_counter() - started
        total += result.total_claims
        auto += result.auto_matched
        payments = [c for t in remittance.transactions for c in t.claims]
        for match in result.matches:
            truth = file.claim_ids[match.claim_payment_index]
            matched_by[match.how] += 1
            if match.claim_id is not None and match.claim_id != truth:
                wrong += 1
                wrong_examples.append(
                    f"{file.id} payment {match.claim_payment_index}: {match.claim_id} != {truth}"
                )
            if match.claim_payment_index in mangled and match.claim_id == truth:
                mangled_matched += 1
            if match.claim_id is None:
                payment = payments[match.claim_payment_index]
                causes[_unmatched_cause(truth, payment, twins, match.claim_payment_index in mangled)] += 1
        for exception in result.exceptions:
            exceptions[exception.code] += 1
            unexplained += not exception.message.strip()
            listed = examples.setdefault(exception.code, [])
            if len(listed) < 3:
                listed.append(exception.message)
    return PostingEvalReport(
        patients=len(dataset.patients),
        seed=seed,
        files=len(files),
        claim_payments=total,
        auto_matched=auto,
        auto_match_rate=auto / total if total else 1.0,
        wrong_matches=wrong,
        matched_by=dict(matched_by),
        mangled=dict(mangled_modes),
        mangled_matched=mangled_matched,
        exceptions=dict(exceptions.most_common()),
        examples=examples,
        unexplained=unexplained,
        unmatched_causes=dict(causes),
        wrong_examples=wrong_examples[:10],
        parse_seconds=round(parse_seconds, 3),
        post_seconds=round(post_seconds, 3),
    )


def _mangle_file(remittance: Remittance, share: float, rng: random.Random, modes: Counter[str]) -> set[int]:
    """Mangle a share of the file's control numbers in place; the indexes mangled."""
    mangled: set[int] = set()
    payments = [c for t in remittance.transactions for c in t.claims]
    for index, payment in enumerate(payments):
        if rng.random() >= share:
            continue
        mode = rng.choice(MANGLE_MODES)
        payment.patient_control_number = mangle(payment.patient_control_number, mode, rng)
        modes[mode] += 1
        mangled.add(index)
    return mangled


def print_posting_report(report: PostingEvalReport) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    color = "green" if report.auto_match_rate >= 0.99 and not report.wrong_matches else "red"
    console.print(
        f"[bold]Posting eval[/bold]: {report.files} file(s), {report.claim_payments} claim payments "
        f"({report.patients} patients, seed {report.seed})"
    )
    console.print(
        f"  auto-matched [{color}]{report.auto_matched} ({report.auto_match_rate:.2%})[/{color}], "
        f"wrong matches [{'green' if not report.wrong_matches else 'red'}]{report.wrong_matches}[/], "
        f"matched by {report.matched_by}"
    )
    mangled = sum(report.mangled.values())
    console.print(
        f"  mangled control numbers: {mangled} {report.mangled}, matched to the right claim: "
        f"{report.mangled_matched}"
    )
    console.print(f"  parse {report.parse_seconds:.2f}s, post {report.post_seconds:.3f}s")
    if report.unmatched_causes:
        console.print(f"  unmatched, by cause: {report.unmatched_causes}")
    if report.exceptions:
        table = Table(title="exceptions (review items)", title_justify="left", show_lines=True)
        table.add_column("code", no_wrap=True)
        table.add_column("count", justify="right")
        table.add_column("example", overflow="fold")
        for code, count in report.exceptions.items():
            table.add_row(code, str(count), "\n".join(report.examples.get(code, [])[:2]))
        console.print(table)
    for line in report.wrong_examples:
        console.print(f"  [red]wrong:[/red] {line}")
