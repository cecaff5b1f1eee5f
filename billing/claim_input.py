"""ClaimInput: the claim the validator checks (the CLAIM.json of `fovea check claim`)."""

import json
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, ValidationError

from billing.money import Money
from billing.practice import PlanKind, Sex


def _code_text(value: Any) -> Any:
    """Codes are kept as written, trimmed; a bare number (92014) is read as its digits."""
    if isinstance(value, bool):
        return value  # let the str type refuse it
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value.strip()
    return value


def _modifier_text(value: Any) -> Any:
    """Modifiers are upper-cased and lose a leading dash ("-rt" -> "RT"); "25" may come as 25."""
    value = _code_text(value)
    if isinstance(value, str):
        return value.lstrip("-").strip().upper()
    return value


def _lower_text(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _upper_text(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


Code = Annotated[str, BeforeValidator(_code_text)]
Modifier = Annotated[str, BeforeValidator(_modifier_text)]


class _Lenient(BaseModel):
    """Unknown keys are ignored, so a richer export (with names, ids ...) still parses."""

    model_config = ConfigDict(extra="ignore")


class ClaimPatient(_Lenient):
    age: StrictInt = Field(ge=0, le=130)
    sex: Annotated[Sex, BeforeValidator(_upper_text)]


class ClaimPayer(_Lenient):
    name: str = ""
    kind: Annotated[PlanKind, BeforeValidator(_lower_text)]


class HistoryVisit(_Lenient):
    """A past date of service of this patient with this group and the codes billed that day."""

    date: date
    codes: list[Code] = Field(default_factory=list)


class ClaimInputLine(_Lenient):
    code: Code
    modifiers: list[Modifier] = Field(default_factory=list, max_length=4)
    units: StrictInt = Field(1, ge=1, le=999)
    diagnosis_codes: list[Code] = Field(default_factory=list, description="The diagnoses this line points to")
    charge: Money | None = None


class PriorAuth(_Lenient):
    number: str = ""
    status: Annotated[str, BeforeValidator(_lower_text)] = Field(
        "approved", description="approved | pending | denied | expired ..."
    )


class ClaimCoverage(_Lenient):
    plan: str = ""
    effective: date | None = None
    termination: date | None = None


class ClaimInput(_Lenient):
    """One claim to check.

    `date_of_service` may be None only on a partly-filled model built in code (the validator then
    reports MISSING_DATE); the CLI refuses a CLAIM.json without it. `prior_auth` absent means "not
    known" (the prior-auth check is skipped); an explicit null means "no authorization on file".
    """

    date_of_service: date | None = None
    patient: ClaimPatient
    payer: ClaimPayer
    established: StrictBool
    history: list[HistoryVisit] = Field(default_factory=list)
    lines: list[ClaimInputLine] = Field(default_factory=list)
    submitted_on: date | None = None
    prior_auth: PriorAuth | None = None
    coverage: ClaimCoverage | None = None

    @property
    def prior_auth_known(self) -> bool:
        return "prior_auth" in self.model_fields_set


class ClaimInputError(ValueError):
    """A CLAIM.json that cannot be checked; the message is one line naming the field (1-based indexes)."""


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part + 1}]" if isinstance(part, int) else f"{'.' if path else ''}{part}"
    return path or "(top level)"


def parse_claim_json(text: str | bytes) -> ClaimInput:
    """Parse and check a CLAIM.json document; a date of service is required here."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ClaimInputError(f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ClaimInputError(
            "the top level must be a JSON object with date_of_service, patient, payer, lines ..."
        )
    try:
        claim = ClaimInput.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0]
        more = (
            f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
            if len(errors) > 1
            else ""
        )
        message = "required" if first["type"] == "missing" else first["msg"]
        raise ClaimInputError(f"field {_field_path(tuple(first['loc']))}: {message}{more}") from None
    if claim.date_of_service is None:
        raise ClaimInputError("field date_of_service: required (the date of service, YYYY-MM-DD)")
    return claim
