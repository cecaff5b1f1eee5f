"""Expected payment, line by line, against the hand-computed table in pricing_cases.yaml (to the cent)."""

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from billing.claim_input import ClaimInput
from billing.contract_yaml import ContractYamlError, dump_contract_yaml, load_contract_yaml
from billing.contracts import Contract
from billing.pricing import ExpectedPayment, MedicareFeeSource, PricingError, expected_payment
from knowledge.rules.fees import PfsTables, import_pfs

TABLE = yaml.safe_load((Path(__file__).parent / "pricing_cases.yaml").read_text())
CASES: list[dict[str, Any]] = TABLE["cases"]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "contracts"


@pytest.fixture(scope="module")
def pfs(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> PfsTables:
    return import_pfs(shared_data / "pfs", tmp_path_factory.mktemp("pfs"))


def contract(name: str) -> Contract:
    return load_contract_yaml(yaml.safe_dump(TABLE["contracts"][name]))


def claim(data: dict[str, Any]) -> ClaimInput:
    return ClaimInput.model_validate(
        {"patient": {"age": 66, "sex": "F"}, "payer": {"kind": "commercial"}, "established": True, **data}
    )


def needs_pfs(terms: Contract) -> bool:
    return terms.basis == "percent_of_medicare"


def price(case: dict[str, Any], medicare: MedicareFeeSource | None) -> ExpectedPayment:
    remaining = case.get("deductible_remaining")
    return expected_payment(
        claim(case["claim"]),
        contract(case["contract"]),
        medicare=medicare,
        locality=case.get("locality"),
        place_of_service=case.get("place_of_service"),
        deductible_remaining=None if remaining is None else Decimal(remaining),
    )


def test_the_table_holds_at_least_40_lines() -> None:
    assert sum(len(case["expect"]) for case in CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_hand_computed_line(case: dict[str, Any], request: pytest.FixtureRequest) -> None:
    medicare = request.getfixturevalue("pfs") if needs_pfs(contract(case["contract"])) else None
    payment = price(case, medicare)
    assert len(payment.lines) == len(case["expect"])
    for line, expected in zip(payment.lines, case["expect"], strict=True):
        where = f"line {line.line} {line.code}: {line.steps}"
        assert line.expected_allowed == Decimal(expected["allowed"]), where
        assert line.expected_paid == Decimal(expected["paid"]), where
        assert line.patient_responsibility == Decimal(expected["patient"]), where
        assert line.denied is expected.get("denied", False), where
        assert line.priced is expected.get("priced", True), where
        if "step" in expected:
            assert any(expected["step"] in step for step in line.steps), where
        # every priced line ends with a sentence that states its three amounts
        if line.priced:
            assert line.steps[-1].startswith("expected allowed"), where
        assert line.expected_paid + line.patient_responsibility <= max(
            line.expected_allowed, line.charge or 0
        )
    if "claim_step" in case:
        assert any(case["claim_step"] in step for step in payment.steps)
    assert payment.total_expected_paid == sum(line.expected_paid for line in payment.lines)
    assert payment.total_expected_allowed == sum(line.expected_allowed for line in payment.lines)


def test_json_money_is_decimal_strings(pfs: PfsTables) -> None:
    payment = price(CASES[0], pfs).model_dump(mode="json")
    line = payment["lines"][0]
    assert (line["expected_allowed"], line["expected_paid"], payment["total_expected_paid"]) == (
        "126.34",
        "126.34",
        "126.34",
    )


def test_contract_not_in_force_is_refused() -> None:
    terms = contract("fs").model_copy(update={"termination": date(2023, 12, 31)})
    with pytest.raises(PricingError, match="not in force on 2024-09-03"):
        expected_payment(claim({"date_of_service": "2024-09-03", "lines": [{"code": "92014"}]}), terms)


def test_percent_of_medicare_without_a_pfs_or_locality_is_refused(pfs: PfsTables) -> None:
    visit = claim({"date_of_service": "2024-09-03", "lines": [{"code": "92014", "charge": "200"}]})
    with pytest.raises(PricingError, match="PFS import"):
        expected_payment(visit, contract("m110"))
    no_locality = contract("m110_dos").model_copy(update={"medicare": contract("fs").medicare})
    with pytest.raises(PricingError, match="locality"):
        expected_payment(visit, no_locality, medicare=pfs)


def test_contract_yaml_round_trips_and_names_the_bad_field() -> None:
    for path in sorted(EXAMPLES.glob("*.yaml")):
        terms = load_contract_yaml(path.read_text())
        assert load_contract_yaml(dump_contract_yaml(terms)) == terms
    good = TABLE["contracts"]["vision"]
    bad_amount = {**good, "vision": {**good["vision"], "frame": {"amount": "a lot"}}}
    with pytest.raises(ContractYamlError, match=r"field vision\.frame\.amount"):
        load_contract_yaml(yaml.safe_dump(bad_amount))
    with pytest.raises(ContractYamlError, match="field copay_amount: unknown"):
        load_contract_yaml(yaml.safe_dump({**good, "copay_amount": 10}))
    unknown_kind = {**good, "cost_share": {"copays": [{"kind": "lasik", "amount": "5"}]}}
    with pytest.raises(ContractYamlError, match=r"cost_share\.copays\[1\].*needs a codes list"):
        load_contract_yaml(yaml.safe_dump(unknown_kind))
    with pytest.raises(ContractYamlError, match="field effective: required"):
        load_contract_yaml("id: x\npractice_id: p\npayer_id: y\n")
    assert load_contract_yaml(
        "id: x\npractice_id: p\npayer_id: y\neffective: 2024-01-01\nexclusions: [92015]\n"
    ).exclusions == ["92015"]


def test_example_contracts_price_a_claim(pfs: PfsTables) -> None:
    medical = load_contract_yaml((EXAMPLES / "medicare_110.yaml").read_text())
    visit = claim(
        {
            "date_of_service": "2024-09-03",
            "lines": [{"code": "92014", "charge": "200"}, {"code": "92015", "charge": "45"}],
        }
    )
    payment = expected_payment(visit, medical, medicare=pfs, deductible_remaining=Decimal(0))
    # 126.34 at 110% of Alabama, specialist copay 30.00 and no coinsurance; refraction excluded
    assert [line.expected_paid for line in payment.lines] == [Decimal("96.34"), Decimal("0.00")]
    assert [line.patient_responsibility for line in payment.lines] == [Decimal("30.00"), Decimal("45.00")]
