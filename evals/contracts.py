"""Contract evaluations: term extraction on the sample contracts, variance detection on a synthetic practice.

Extraction: the offline extractor's pricing basis (and percent) and timely filing days against each sample's
sidecar YAML, and whether every term cites its sentence. Variance: every remittance of a generated practice
classified against its contract (terms read from the contract prose, as a reviewer would approve them),
scored against the generator's seeded variances: recall and precision on lines underpaid beyond tolerance,
dollars found against dollars seeded, per cause.
"""

import time
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from agents.contracts.apply import apply_terms
from agents.contracts.extract_offline import OfflineTermExtractor
from agents.contracts.schemas import TermExtractor
from agents.variance.classify import classify_remittance
from agents.variance.medicare_table import MedicareFeeTable
from agents.variance.schemas import UNDERPAID_KINDS, CostShareFacts, LineVariance, VarianceOptions
from billing.contracts import Contract
from billing.money import ZERO, Money, round_cents
from billing.pricing import HUNDRED
from billing.x12_835 import parse_835
from sandbox.dataset import SeededVariance, SyntheticDataset

SAMPLES_DIR = Path(__file__).resolve().parent / "contract_samples"
CHECKED_TERMS = ("basis", "percent", "timely_filing_days")


# -- extraction ---------------------------------------------------------------------------------------


class SampleScore(BaseModel):
    name: str
    expected: dict[str, object]
    extracted: dict[str, object]
    correct: bool
    cites_sentences: bool
    terms: int


class ExtractionReport(BaseModel):
    engine: str
    samples: list[SampleScore]
    accuracy: float = Field(description="Share of samples with basis, percent and timely filing all right")
    all_terms_cite_their_sentence: bool


def score_extraction(
    extractor: TermExtractor | None = None, samples_dir: Path = SAMPLES_DIR
) -> ExtractionReport:
    extractor = extractor or OfflineTermExtractor()
    scores = []
    for path in sorted(samples_dir.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        expected = yaml.safe_load(path.with_suffix(".yaml").read_text(encoding="utf-8"))
        extraction = extractor.extract(text)
        extracted = {
            name: (term.value if (term := extraction.first(name)) else None) for name in CHECKED_TERMS
        }
        wanted = {name: expected.get(name) for name in CHECKED_TERMS}
        scores.append(
            SampleScore(
                name=path.stem,
                expected=wanted,
                extracted=extracted,
                correct=extracted == wanted,
                cites_sentences=all(
                    text[term.start : term.end] == term.sentence and term.sentence
                    for term in extraction.terms
                ),
                terms=len(extraction.terms),
            )
        )
    return ExtractionReport(
        engine=extractor.name,
        samples=scores,
        accuracy=sum(score.correct for score in scores) / len(scores) if scores else 0.0,
        all_terms_cite_their_sentence=all(score.cites_sentences for score in scores),
    )


# -- variance -----------------------------------------------------------------------------------------


class CauseScore(BaseModel):
    cause: str
    seeded: int
    beyond_tolerance: int
    found: int
    seeded_dollars: Money
    found_dollars: Money
    classified_as: dict[str, int]


class VarianceEvalReport(BaseModel):
    seed: int
    patients: int
    remittances: int
    lines: int
    positives: int = Field(description="Seeded underpayments beyond tolerance")
    flagged: int = Field(description="Lines the copilot classified as an underpayment")
    true_positives: int
    recall: float
    precision: float
    seeded_underpaid_dollars: Money = Field(description="Seeded paid shortfall on the positives")
    found_underpaid_dollars: Money = Field(description="The copilot's shortfall on the lines it flagged")
    found_on_positives_dollars: Money
    overpaid_seeded: int
    overpaid_found: int
    denied_but_covered: int
    by_cause: list[CauseScore]
    out_of_term_seeded: int = Field(
        description="Seeded variances on claims dated outside their contract's term: not priceable, not scored"
    )
    out_of_term_seeded_dollars: Money
    false_positive_kinds: dict[str, int]
    seconds: float


def sandbox_medicare_table() -> MedicareFeeTable:
    """The simulated world's Medicare prices (the sandbox's stand-in for the PFS), 2024 and the year before."""
    from sandbox.generator.fee_tables import MEDICARE_ALLOWED_2024, MPPR_TECHNICAL, PRIOR_YEAR_FACTOR

    current = {**MEDICARE_ALLOWED_2024, **{f"{code}-TC": tc for code, tc in MPPR_TECHNICAL.items()}}
    prior = {code: round_cents(amount * PRIOR_YEAR_FACTOR) for code, amount in current.items()}
    surgical = frozenset(code for code in MEDICARE_ALLOWED_2024 if code.startswith("6"))
    return MedicareFeeTable({2023: prior, 2024: current}, multiple_surgery_codes=surgical)


def approved_contracts(dataset: SyntheticDataset) -> dict[tuple[str, str], Contract]:
    """Each contract with the terms the offline extractor reads from its prose, as if a biller approved them."""
    extractor = OfflineTermExtractor()
    return {
        (contract.practice_id, contract.payer_id): apply_terms(
            contract, extractor.extract(contract.terms_text).terms
        )
        for contract in dataset.contracts
    }


def _beyond_tolerance(seeded: SeededVariance, options: VarianceOptions) -> bool:
    def over(expected: Decimal, actual: Decimal) -> bool:
        limit = max(options.tolerance, round_cents(expected * options.tolerance_pct / HUNDRED))
        return expected - actual > limit

    paid = seeded.expected_paid is not None and seeded.actual_paid is not None
    return over(seeded.expected_allowed, seeded.actual_allowed) or (
        paid and over(seeded.expected_paid or ZERO, seeded.actual_paid or ZERO)
    )


def classify_dataset(dataset: SyntheticDataset, options: VarianceOptions | None = None) -> list[LineVariance]:
    options = options or VarianceOptions()
    medicare = sandbox_medicare_table()
    contracts = approved_contracts(dataset)
    claims = {claim.id: claim for claim in dataset.claims}
    coverages = {coverage.id: coverage for coverage in dataset.coverages}

    def cost_share_for(claim_id: str) -> CostShareFacts | None:
        claim = claims.get(claim_id)
        coverage = coverages.get(claim.coverage_id) if claim else None
        if coverage is None:
            return None
        return CostShareFacts(coinsurance_pct=Decimal(coverage.coinsurance_pct), copay=coverage.copay)

    lines: list[LineVariance] = []
    for remittance_file in dataset.remittances:
        contract = contracts.get((remittance_file.practice_id, remittance_file.payer_id))
        if contract is None:
            continue
        remittance = parse_835(remittance_file.x12, validate=False).remittance
        remittance.practice_id = remittance_file.practice_id
        lines += classify_remittance(
            remittance,
            contract,
            remittance_id=remittance_file.id,
            medicare=medicare,
            cost_share_for=cost_share_for,
            options=options,
        )
    return lines


def evaluate_variance(
    dataset: SyntheticDataset, *, patients: int, options: VarianceOptions | None = None
) -> VarianceEvalReport:
    options = options or VarianceOptions()
    started = time.perf_counter()
    lines = classify_dataset(dataset, options)
    by_id = {line.id: line for line in lines}
    all_seeded = {f"{v.remittance_id}:{v.claim_id}:{v.line_number}": v for v in dataset.seeded_variances}
    contracts = approved_contracts(dataset)
    remittance_payers = {r.id: (r.practice_id, r.payer_id) for r in dataset.remittances}
    out_of_term = {
        line.id
        for line in lines
        if line.date_of_service is None
        or not contracts[remittance_payers[line.remittance_id]].in_force(line.date_of_service)
    }
    seeded = {key: v for key, v in all_seeded.items() if key not in out_of_term}
    positives = {key for key, v in seeded.items() if v.kind == "underpaid" and _beyond_tolerance(v, options)}
    flagged = {line.id for line in lines if line.kind in UNDERPAID_KINDS}
    hits = positives & flagged
    causes: dict[str, list[str]] = defaultdict(list)
    for key, variance in seeded.items():
        causes[variance.cause].append(key)
    by_cause = []
    for cause, keys in sorted(causes.items()):
        beyond = [k for k in keys if k in positives or (cause == "overpaid")]
        found_kind = "overpaid" if cause == "overpaid" else None
        found = [
            k
            for k in beyond
            if k in by_id
            and (by_id[k].kind == found_kind if found_kind else by_id[k].kind in UNDERPAID_KINDS)
        ]
        by_cause.append(
            CauseScore(
                cause=cause,
                seeded=len(keys),
                beyond_tolerance=len(beyond),
                found=len(found),
                seeded_dollars=sum((_seeded_dollars(seeded[k]) for k in beyond), ZERO),
                found_dollars=sum((by_id[k].amount for k in found), ZERO),
                classified_as=dict(Counter(by_id[k].kind if k in by_id else "missing" for k in keys)),
            )
        )
    overpaid_seeded = {k for k, v in seeded.items() if v.kind == "overpaid"}
    return VarianceEvalReport(
        seed=dataset.seed,
        patients=patients,
        remittances=len(dataset.remittances),
        lines=len(lines),
        positives=len(positives),
        flagged=len(flagged),
        true_positives=len(hits),
        recall=len(hits) / len(positives) if positives else 1.0,
        precision=len(hits) / len(flagged) if flagged else 1.0,
        seeded_underpaid_dollars=sum((_seeded_dollars(seeded[k]) for k in positives), ZERO),
        found_underpaid_dollars=sum((by_id[k].amount for k in flagged), ZERO),
        found_on_positives_dollars=sum((by_id[k].amount for k in hits), ZERO),
        overpaid_seeded=len(overpaid_seeded),
        overpaid_found=sum(1 for k in overpaid_seeded if k in by_id and by_id[k].kind == "overpaid"),
        denied_but_covered=sum(1 for line in lines if line.kind == "denied_but_covered"),
        by_cause=by_cause,
        out_of_term_seeded=len(all_seeded.keys() & out_of_term),
        out_of_term_seeded_dollars=sum(
            (_seeded_dollars(all_seeded[k]) for k in all_seeded.keys() & out_of_term), ZERO
        ),
        false_positive_kinds=dict(Counter(by_id[k].kind for k in flagged - positives)),
        seconds=round(time.perf_counter() - started, 2),
    )


def _seeded_dollars(variance: SeededVariance) -> Decimal:
    """The seeded shortfall (or overpayment) on what was paid, else on the allowed amount."""
    if variance.expected_paid is not None and variance.actual_paid is not None:
        paid_gap = abs(variance.expected_paid - variance.actual_paid)
        if paid_gap > ZERO:
            return paid_gap
    return abs(variance.expected_allowed - variance.actual_allowed)
