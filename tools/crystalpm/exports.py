"""Crystal PM's CSV report exports (claims, charges, A/R aging, patients) read into billing models."""

import csv
import io
import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from billing.charges import Charge, ChargeLine, ChargeStatus
from billing.claims import Claim, ClaimLine, ClaimStatus
from billing.money import Money, to_money
from billing.practice import Patient, Sex

ExportKind = Literal["claims", "charges", "ar_aging", "patients"]
# The columns that identify each export; the first kind whose columns are all present wins.
REQUIRED_COLUMNS: dict[ExportKind, tuple[str, ...]] = {
    "claims": ("claim_id", "patient_id", "date_of_service", "line_number", "code", "charge"),
    "charges": ("charge_id", "encounter_id", "patient_id", "code", "fee"),
    "ar_aging": ("claim_id", "patient_id", "payer_id", "date_of_service", "billed", "balance"),
    "patients": ("patient_id", "last_name", "first_name", "birth_date"),
}
_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%Y%m%d")
_LIST_SPLIT = re.compile(r"[;,|\s]+")


class ExportError(ValueError):
    """A CSV export that cannot be read: unknown columns, or a row with a bad value (named by row)."""


class ArAgingRow(BaseModel):
    """One open claim balance from an A/R aging report."""

    claim_id: str
    patient_id: str
    payer_id: str
    date_of_service: date
    billed: Money
    balance: Money
    days_outstanding: int | None = None
    bucket: str = Field("", description="0-30, 31-60, 61-90, 91-120, 120+ (computed when absent)")
    practice_id: str = ""


class PatientRow(BaseModel):
    """A patient as an export names them: enough to match a remittance's patient, and no more."""

    patient_id: str
    last_name: str
    first_name: str
    birth_date: date | None = None
    sex: Sex = Sex.U
    practice_id: str = ""

    def as_patient(self, practice_id: str) -> Patient:
        return Patient(
            id=self.patient_id,
            practice_id=self.practice_id or practice_id,
            first_name=self.first_name,
            last_name=self.last_name,
            birth_date=self.birth_date or date(1900, 1, 1),
            sex=self.sex,
        )


class ExportContents(BaseModel):
    kind: ExportKind
    rows: int
    claims: list[Claim] = Field(default_factory=list)
    charges: list[Charge] = Field(default_factory=list)
    ar_aging: list[ArAgingRow] = Field(default_factory=list)
    patients: list[PatientRow] = Field(default_factory=list)


def _column(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def _date(value: str) -> date:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            continue
    raise ValueError(f"not a date: {value!r} (use YYYY-MM-DD or MM/DD/YYYY)")


def _list(value: str) -> list[str]:
    return [part for part in _LIST_SPLIT.split(value.strip().upper()) if part]


def _int(value: str, default: int) -> int:
    return int(value) if value.strip() else default


def aging_bucket(days: int) -> str:
    for limit, label in ((30, "0-30"), (60, "31-60"), (90, "61-90"), (120, "91-120")):
        if days <= limit:
            return label
    return "120+"


def detect_kind(columns: Iterable[str]) -> ExportKind | None:
    present = {_column(c) for c in columns}
    return next((kind for kind, needed in REQUIRED_COLUMNS.items() if set(needed) <= present), None)


def read_export(text: str, *, practice_id: str, today: date | None = None) -> ExportContents:
    """Read a CSV export; its kind comes from its header. ExportError names the row and column at fault."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames:
        raise ExportError("the CSV file is empty (no header row)")
    kind = detect_kind(reader.fieldnames)
    if kind is None:
        raise ExportError(
            "unrecognized CSV export: the header must hold the columns of one of "
            + "; ".join(f"{kind} ({', '.join(cols)})" for kind, cols in REQUIRED_COLUMNS.items())
        )
    rows: list[dict[str, str]] = []
    for row in reader:
        rows.append({_column(k): (v or "").strip() for k, v in row.items() if k is not None})
    readers: dict[ExportKind, Callable[[list[dict[str, str]], str, date], ExportContents]] = {
        "claims": _claims,
        "charges": _charges,
        "ar_aging": _aging,
        "patients": _patients,
    }
    return readers[kind](rows, practice_id, today or date.today())


def _row_error(number: int, exc: Exception) -> ExportError:
    # Row 1 is the header, so the first data row is row 2, as a spreadsheet shows it.
    return ExportError(f"row {number + 2}: {exc}")


def _claims(rows: list[dict[str, str]], practice_id: str, _today: date) -> ExportContents:
    claims: dict[str, Claim] = {}
    patients: dict[str, PatientRow] = {}
    for number, row in enumerate(rows):
        try:
            claim_id = row["claim_id"]
            if not claim_id:
                raise ValueError("claim_id is empty")
            dos = _date(row["date_of_service"])
            claim = claims.get(claim_id)
            if claim is None:
                claim = Claim(
                    id=claim_id,
                    practice_id=row.get("practice_id") or practice_id,
                    patient_id=row["patient_id"],
                    encounter_id=row.get("encounter_id", ""),
                    provider_id=row.get("provider_id", ""),
                    payer_id=row.get("payer_id", ""),
                    coverage_id=row.get("coverage_id", ""),
                    date_of_service=dos,
                    diagnosis_codes=_list(row.get("diagnosis_codes", "")),
                    status=ClaimStatus(row.get("status") or ClaimStatus.SUBMITTED.value),
                    submitted_on=_date(row["submitted_on"]) if row.get("submitted_on") else None,
                    payer_claim_control_number=row.get("payer_claim_control_number", ""),
                )
                claims[claim_id] = claim
            claim.lines.append(
                ClaimLine(
                    line_number=_int(row["line_number"], len(claim.lines) + 1),
                    code=row["code"].upper(),
                    modifiers=_list(row.get("modifiers", "")),
                    units=_int(row.get("units", ""), 1),
                    charge=to_money(row["charge"] or "0"),
                    date_of_service=dos,
                )
            )
            if row.get("patient_last_name") and row.get("patient_first_name"):
                patients.setdefault(
                    claim.patient_id,
                    PatientRow(
                        patient_id=claim.patient_id,
                        last_name=row["patient_last_name"],
                        first_name=row["patient_first_name"],
                        birth_date=_date(row["patient_birth_date"])
                        if row.get("patient_birth_date")
                        else None,
                        practice_id=claim.practice_id,
                    ),
                )
        except (ValueError, KeyError) as exc:
            raise _row_error(number, exc) from exc
    return ExportContents(
        kind="claims", rows=len(rows), claims=list(claims.values()), patients=list(patients.values())
    )


def _charges(rows: list[dict[str, str]], practice_id: str, _today: date) -> ExportContents:
    charges: dict[str, Charge] = {}
    for number, row in enumerate(rows):
        try:
            charge = charges.get(row["charge_id"])
            if charge is None:
                charge = Charge(
                    id=row["charge_id"],
                    practice_id=row.get("practice_id") or practice_id,
                    encounter_id=row["encounter_id"],
                    patient_id=row["patient_id"],
                    provider_id=row.get("provider_id", ""),
                    diagnosis_codes=_list(row.get("diagnosis_codes", "")),
                    status=ChargeStatus(row.get("status") or ChargeStatus.POSTED.value),
                    source="historical",
                )
                charges[charge.id] = charge
            charge.lines.append(
                ChargeLine(
                    code=row["code"].upper(),
                    modifiers=_list(row.get("modifiers", "")),
                    units=_int(row.get("units", ""), 1),
                    diagnosis_pointers=[int(p) for p in _list(row.get("diagnosis_pointers", ""))],
                    fee=to_money(row["fee"] or "0"),
                )
            )
        except (ValueError, KeyError) as exc:
            raise _row_error(number, exc) from exc
    return ExportContents(kind="charges", rows=len(rows), charges=list(charges.values()))


def _aging(rows: list[dict[str, str]], practice_id: str, today: date) -> ExportContents:
    aging: list[ArAgingRow] = []
    for number, row in enumerate(rows):
        try:
            dos = _date(row["date_of_service"])
            days = _int(row.get("days_outstanding", ""), (today - dos).days)
            aging.append(
                ArAgingRow(
                    claim_id=row["claim_id"],
                    patient_id=row["patient_id"],
                    payer_id=row["payer_id"],
                    date_of_service=dos,
                    billed=to_money(row["billed"] or "0"),
                    balance=to_money(row["balance"] or "0"),
                    days_outstanding=days,
                    bucket=row.get("bucket") or aging_bucket(days),
                    practice_id=row.get("practice_id") or practice_id,
                )
            )
        except (ValueError, KeyError) as exc:
            raise _row_error(number, exc) from exc
    return ExportContents(kind="ar_aging", rows=len(rows), ar_aging=aging)


def _patients(rows: list[dict[str, str]], practice_id: str, _today: date) -> ExportContents:
    patients: list[PatientRow] = []
    for number, row in enumerate(rows):
        try:
            patients.append(
                PatientRow(
                    patient_id=row["patient_id"],
                    last_name=row["last_name"],
                    first_name=row["first_name"],
                    birth_date=_date(row["birth_date"]) if row["birth_date"] else None,
                    sex=Sex(row.get("sex", "").upper() or "U"),
                    practice_id=row.get("practice_id") or practice_id,
                )
            )
        except (ValueError, KeyError) as exc:
            raise _row_error(number, exc) from exc
    return ExportContents(kind="patients", rows=len(rows), patients=patients)
