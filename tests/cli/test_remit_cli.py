"""`fovea remit parse`: the JSON contract, the summary, and exit 2 for input that is not X12."""

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from api.commands import remit

CLAIM_KEYS = {
    "patient_control_number",
    "status",
    "charge",
    "paid",
    "patient_responsibility",
    "payer_claim_control_number",
    "adjustments",
    "lines",
}
LINE_KEYS = {"code", "modifiers", "charge", "paid", "allowed", "units", "adjustments", "remarks"}


def fovea() -> typer.Typer:
    """The root as api/cli.py mounts it: `fovea remit ...`."""
    root = typer.Typer()
    root.add_typer(remit.app, name="remit")
    return root


def run(*args: str):
    return CliRunner().invoke(fovea(), list(args))


def test_json_follows_the_contract_and_holds_no_names(shared_data: Path) -> None:
    sample = shared_data / "x12" / "835" / "lfh_managed-care.835"
    done = run("remit", "parse", str(sample), "--json")
    assert done.exit_code == 0, done.output
    document = json.loads(done.stdout)
    assert set(document) == {"transactions", "findings"}
    (transaction,) = document["transactions"]
    assert set(transaction) == {"payer", "payee", "payment", "claims", "provider_adjustments"}
    assert transaction["payment"] == {
        "method": "ACH",
        "amount": "945.00",
        "date": None,
        "trace": "7170066655",
    }
    for claim in transaction["claims"]:
        assert set(claim) == CLAIM_KEYS
        assert all(set(a) == {"group", "reason", "amount"} for a in claim["adjustments"])
        for line in claim["lines"]:
            assert set(line) == LINE_KEYS
    first = transaction["claims"][0]
    assert (first["charge"], first["paid"], first["adjustments"]) == (
        "800.00",
        "450.00",
        [{"group": "CO", "reason": "A2", "amount": "50.00"}],
    )
    assert first["lines"][0]["allowed"] is None and first["lines"][0]["units"] == 1
    for finding in document["findings"]:
        assert {"code", "severity", "lines", "message", "fix"} <= set(finding)
    for name in ("BUDD", "WILLIAM", "SETTLE", "SUSAN"):
        assert name not in done.stdout


def test_known_bad_file_exits_zero_with_findings(shared_data: Path) -> None:
    sample = shared_data / "x12" / "835" / "oopfactory_example1_reversal_plb.835"
    done = run("remit", "parse", str(sample), "--json")
    assert done.exit_code == 0
    document = json.loads(done.stdout)
    assert {"X12_TRUNCATED", "X12_BPR_UNBALANCED"} <= {f["code"] for f in document["findings"]}
    (transaction,) = document["transactions"]
    assert len(transaction["claims"]) == 10
    assert transaction["provider_adjustments"][0]["amount"] == "-1.27"


def test_summary_lists_claims_and_findings_without_names(shared_data: Path) -> None:
    sample = shared_data / "x12" / "835" / "lfh_secondary-payment.835"
    done = run("remit", "parse", str(sample))
    assert done.exit_code == 0
    assert "YOUR TAX DOLLARS AT WORK" in done.stdout and "0001000053" in done.stdout
    assert "X12_COMPONENT_SEPARATOR" in done.stdout
    assert "TOWNSEND" not in done.stdout and "BAKI" not in done.stdout


def test_non_x12_input_exits_2_with_one_line(tmp_path: Path) -> None:
    not_x12 = tmp_path / "claim.json"
    not_x12.write_text(json.dumps({"not": "x12"}))
    for path in (not_x12, tmp_path / "missing.835"):
        done = run("remit", "parse", str(path), "--json")
        assert done.exit_code == 2
        assert done.stdout == ""
        assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1
