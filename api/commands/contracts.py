"""`fovea contract ...`: price, compare a remittance, extract terms from prose, and the contract evals."""

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from billing.contracts import Contract
    from billing.pricing import ExpectedPayment, MedicareFeeSource

app = typer.Typer(help="Managed-care contracts: expected payment and variance.", no_args_is_help=True)

ContractOption = Annotated[
    Path, typer.Option("--contract", "-c", help="CONTRACT.yaml (docs/contracts.md)", show_default=False)
]


def _refuse(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        _refuse(f"cannot read {path}: {exc.strerror or exc}")


def _load_contract(path: Path) -> "Contract":
    from billing.contract_yaml import ContractYamlError, load_contract_yaml

    try:
        return load_contract_yaml(_read(path))
    except ContractYamlError as exc:
        _refuse(f"{path}: {exc}")


def _needs_medicare(contract: "Contract") -> bool:
    return contract.basis == "percent_of_medicare" or any(
        carve.basis == "percent_of_medicare" for carve in contract.carve_outs
    )


def _medicare(contract: "Contract") -> "tuple[MedicareFeeSource | None, str]":
    """The imported PFS when there is one (its indicators serve every contract) and the default locality."""
    from billing.settings import get_settings
    from knowledge.rules.fees import load_pfs

    settings = get_settings()
    pfs = load_pfs(settings)
    if pfs is None and _needs_medicare(contract):
        _refuse("this contract pays a percent of Medicare: import the PFS first (set FOVEA_PFS_DIR)")
    return pfs, settings.medicare_locality


@app.command("price")
def price(
    contract_path: ContractOption,
    claim_path: Annotated[
        Path,
        typer.Option(
            "--claim", help='CLAIM.json as for `check claim`, with a "charge" per line', show_default=False
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the expected payment as JSON")] = False,
) -> None:
    """Expected allowed, paid and patient share of every line of a claim, each step explained."""
    from pydantic import BaseModel, ConfigDict, ValidationError

    from billing.claim_input import ClaimInputError, parse_claim_json
    from billing.money import Money
    from billing.pricing import PricingError, expected_payment

    class PricingOptions(BaseModel):
        model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)
        locality: str = ""
        place_of_service: str = ""
        deductible_remaining: Money | None = None

    contract = _load_contract(contract_path)
    raw = _read(claim_path)
    try:
        claim = parse_claim_json(raw)
        options = PricingOptions.model_validate(json.loads(raw))
    except ClaimInputError as exc:
        _refuse(f"{claim_path}: {exc}")
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        _refuse(f"{claim_path}: field {'.'.join(str(p) for p in first['loc'])}: {first['msg']}")
    medicare, default_locality = _medicare(contract)
    try:
        payment = expected_payment(
            claim,
            contract,
            medicare=medicare,
            locality=options.locality or contract.medicare.locality or default_locality or None,
            place_of_service=options.place_of_service or None,
            deductible_remaining=options.deductible_remaining,
        )
    except PricingError as exc:
        _refuse(str(exc))
    if as_json:
        typer.echo(json.dumps(payment.model_dump(mode="json"), indent=2))
        return
    _print_payment(payment)


def _print_payment(payment: "ExpectedPayment") -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"Expected payment under {payment.contract_id} ({payment.date_of_service})", show_lines=True
    )
    for column in ("line", "code", "charge", "allowed", "paid", "patient"):
        table.add_column(column, no_wrap=True, justify="right" if column != "code" else "left")
    table.add_column("how", overflow="fold", ratio=3)
    for line in payment.lines:
        table.add_row(
            str(line.line),
            "-".join([line.code, *line.modifiers]),
            "" if line.charge is None else f"{line.charge:.2f}",
            f"{line.expected_allowed:.2f}",
            f"{line.expected_paid:.2f}",
            f"{line.patient_responsibility:.2f}",
            "\n".join(line.steps),
        )
    console = Console()
    console.print(table)
    for note in payment.steps:
        console.print(f"note: {note}")
    console.print(
        f"total allowed {payment.total_expected_allowed:.2f}, paid {payment.total_expected_paid:.2f},"
        f" patient {payment.total_patient_responsibility:.2f}"
    )


@app.command("variance")
def variance(
    contract_path: ContractOption,
    remit_path: Annotated[
        Path, typer.Option("--remit", help="An X12 835 remittance file", show_default=False)
    ],
    claim_path: Annotated[
        Path | None,
        typer.Option("--claim", help="The CLAIM.json billed (default: the claim read back from the 835)"),
    ] = None,
    tolerance: Annotated[str, typer.Option(help="Dollars of difference still counted as ok")] = "0.50",
    tolerance_pct: Annotated[
        str, typer.Option(help="Percent of the expected payment still counted as ok")
    ] = "1",
    as_json: Annotated[bool, typer.Option("--json", help="Print the variance report as JSON")] = False,
) -> None:
    """Compare what a remittance paid with what the contract promises, line by line."""
    from billing.claim_input import ClaimInputError, parse_claim_json
    from billing.money import to_money
    from billing.payment_variance import remittance_variance
    from billing.pricing import PricingError
    from billing.x12_835 import X12Error, parse_835

    contract = _load_contract(contract_path)
    try:
        limits = to_money(tolerance), to_money(tolerance_pct)
    except ValueError as exc:
        _refuse(f"--tolerance / --tolerance-pct: {exc}")
    try:
        remittance = parse_835(_read(remit_path).decode("utf-8", errors="replace")).remittance
    except X12Error as exc:
        _refuse(f"{remit_path}: {exc}")
    claim = None
    if claim_path is not None:
        try:
            claim = parse_claim_json(_read(claim_path))
        except ClaimInputError as exc:
            _refuse(f"{claim_path}: {exc}")
    medicare, default_locality = _medicare(contract)
    try:
        report = remittance_variance(
            remittance,
            contract,
            claim=claim,
            medicare=medicare,
            locality=contract.medicare.locality or default_locality or None,
            tolerance=limits[0],
            tolerance_pct=limits[1],
        )
    except PricingError as exc:
        _refuse(str(exc))
    if as_json:
        typer.echo(json.dumps(report.model_dump(mode="json"), indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Contract variance under {report.contract_id}")
    for column in (
        "claim",
        "code",
        "expected allowed",
        "allowed",
        "expected paid",
        "paid",
        "variance",
        "class",
    ):
        table.add_column(column, no_wrap=True)
    for line in report.lines:
        table.add_row(
            line.patient_control_number,
            "-".join([line.code, *line.modifiers]),
            f"{line.expected_allowed:.2f}",
            f"{line.actual_allowed:.2f}",
            f"{line.expected_paid:.2f}",
            f"{line.actual_paid:.2f}",
            f"{line.variance:.2f}",
            line.classification,
        )
    console = Console()
    console.print(table)
    for note in report.notes:
        console.print(f"note: {note}")
    console.print(
        f"expected {report.total_expected_paid:.2f}, paid {report.total_actual_paid:.2f},"
        f" short {report.total_underpaid:.2f}"
    )


@app.command("extract")
def extract(
    contract_file: Annotated[
        Path, typer.Argument(help="Contract prose: a .txt or .pdf file", show_default=False)
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the extracted terms as JSON")] = False,
) -> None:
    """Read a contract's terms from its prose; each term cites the sentence it was read from."""
    from agents.contracts.engines import make_term_extractor
    from agents.contracts.loaders import ContractSourceError, load_contract_text
    from billing.settings import get_settings

    try:
        text = load_contract_text(contract_file)
    except (ContractSourceError, OSError) as exc:
        _refuse(f"{contract_file}: {exc}")
    extraction = make_term_extractor(get_settings()).extract(text)
    if as_json:
        typer.echo(json.dumps(extraction.model_dump(mode="json"), indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Terms read from {contract_file.name} ({extraction.engine})", show_lines=True)
    table.add_column("term", no_wrap=True)
    table.add_column("value")
    table.add_column("sentence", overflow="fold", ratio=3)
    for term in extraction.terms:
        table.add_row(term.term, json.dumps(term.value), term.sentence)
    console = Console()
    console.print(table)
    for note in extraction.notes:
        console.print(f"note: {note}")


@app.command("eval-extraction")
def eval_extraction(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Score the offline extractor on the sample contracts (pricing basis, percent, timely filing)."""
    from evals.contracts import score_extraction

    report = score_extraction()
    if as_json:
        typer.echo(json.dumps(report.model_dump(mode="json"), indent=2))
        return
    for sample in report.samples:
        mark = "ok " if sample.correct else "MISS"
        typer.echo(
            f"{mark} {sample.name}: {sample.extracted}" + ("" if sample.correct else f" != {sample.expected}")
        )
    typer.echo(
        f"{sum(s.correct for s in report.samples)}/{len(report.samples)} correct ({report.accuracy:.0%}); "
        f"every term cites its sentence: {report.all_terms_cite_their_sentence}"
    )


@app.command("eval-variance")
def eval_variance(
    patients: Annotated[int, typer.Option(help="Patients in the generated practice")] = 1000,
    seed: Annotated[int, typer.Option(help="Generator seed")] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Variance detection on a generated practice's remittances against the generator's seeded variances."""
    from evals.contracts import evaluate_variance
    from sandbox.generator import generate_dataset

    report = evaluate_variance(generate_dataset(seed, patients), patients=patients)
    if as_json:
        typer.echo(json.dumps(report.model_dump(mode="json"), indent=2))
        return
    typer.echo(
        f"{report.remittances} remittances, {report.lines} lines (seed {report.seed}, {report.patients} patients)\n"
        f"underpaid beyond tolerance: {report.positives} seeded, {report.flagged} flagged,"
        f" recall {report.recall:.1%}, precision {report.precision:.1%}\n"
        f"dollars: seeded {report.seeded_underpaid_dollars}, found {report.found_underpaid_dollars}\n"
        f"overpaid: {report.overpaid_found}/{report.overpaid_seeded} found;"
        f" denied but covered: {report.denied_but_covered}\n"
        f"not scored (claims outside their contract's term): {report.out_of_term_seeded} seeded variances,"
        f" {report.out_of_term_seeded_dollars}"
    )
    for cause in report.by_cause:
        typer.echo(
            f"  {cause.cause}: {cause.found}/{cause.beyond_tolerance} found, seeded {cause.seeded_dollars},"
            f" found {cause.found_dollars}; classified as {cause.classified_as}"
        )
