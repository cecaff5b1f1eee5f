"""The contract YAML format (docs/contracts.md): load it into a Contract and write one back."""

from typing import Any

import yaml
from pydantic import ValidationError

from billing.contracts import Contract
from billing.money import money_str


class ContractYamlError(ValueError):
    """A contract YAML that cannot be read; the message is one line naming the field (1-based indexes)."""


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part + 1}]" if isinstance(part, int) else f"{'.' if path else ''}{part}"
    return path or "(top level)"


def _fee_schedule_rows(value: Any) -> Any:
    """The short form {"92014": 95.00, "92083-TC": 30.10} becomes rows of code, modifier, amount."""
    if not isinstance(value, dict):
        return value
    rows = []
    for key, amount in value.items():
        code, _, modifier = str(key).strip().partition("-")
        rows.append({"code": code, "modifier": modifier, "amount": amount})
    return rows


def load_contract_yaml(text: str | bytes) -> Contract:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ContractYamlError(f"not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(data, dict):
        raise ContractYamlError(
            "the top level must be a mapping with id, practice_id, payer_id, effective ..."
        )
    unknown = sorted(str(key) for key in data if key not in Contract.model_fields)
    if unknown:
        raise ContractYamlError(f"field {unknown[0]}: unknown contract term (see docs/contracts.md)")
    if "fee_schedule" in data:
        data = {**data, "fee_schedule": _fee_schedule_rows(data["fee_schedule"])}
    try:
        return Contract.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        message = "required" if first["type"] == "missing" else first["msg"]
        raise ContractYamlError(f"field {_field_path(tuple(first['loc']))}: {message}{more}") from None


def dump_contract_yaml(contract: Contract) -> str:
    """The contract in the documented format, leaving out terms that keep their defaults."""
    data = contract.model_dump(mode="json", exclude_defaults=True)
    data.setdefault("effective", contract.effective.isoformat())
    if contract.fee_schedule:
        data["fee_schedule"] = {
            (f"{entry.code}-{entry.modifier}" if entry.modifier else entry.code): money_str(entry.amount)
            for entry in contract.fee_schedule
        }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
