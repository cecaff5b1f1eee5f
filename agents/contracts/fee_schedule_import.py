"""A fee schedule from a CSV file: a code column, an optional modifier column and an amount column."""

import csv
import io
import re

from pydantic import BaseModel, Field

from billing.contracts import FeeScheduleEntry
from billing.money import to_money

CODE_HEADERS = ("code", "cpt", "hcpcs", "cpt/hcpcs", "procedure", "procedure code", "cpt code")
MODIFIER_HEADERS = ("modifier", "mod", "modifiers")
AMOUNT_HEADERS = ("amount", "fee", "allowed", "allowance", "rate", "price", "contracted rate", "fee amount")
_CODE = re.compile(r"^[0-9A-Z]\d{3}[0-9A-Z]$")


class FeeScheduleImportError(ValueError):
    """The file is not a fee schedule we can read; the message names the row or header."""


class FeeScheduleImport(BaseModel):
    entries: list[FeeScheduleEntry]
    skipped: list[str] = Field(default_factory=list, description="Rows left out, with the reason")


def _column(headers: list[str], names: tuple[str, ...]) -> int | None:
    for index, header in enumerate(headers):
        if header.strip().lower() in names:
            return index
    return None


def read_fee_schedule_csv(text: str) -> FeeScheduleImport:
    """Entries from CSV text with a header row; rows without a valid code or amount are listed as skipped."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    if not rows:
        raise FeeScheduleImportError("the fee schedule file is empty")
    headers = rows[0]
    code_at, amount_at = _column(headers, CODE_HEADERS), _column(headers, AMOUNT_HEADERS)
    modifier_at = _column(headers, MODIFIER_HEADERS)
    if code_at is None or amount_at is None:
        raise FeeScheduleImportError(
            "the header row needs a code column (code, cpt, hcpcs) and an amount column (amount, fee, allowed)"
        )
    entries: list[FeeScheduleEntry] = []
    skipped: list[str] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        code = row[code_at].strip().upper() if code_at < len(row) else ""
        code, _, inline_modifier = code.partition("-")
        modifier = (
            row[modifier_at].strip().upper() if modifier_at is not None and modifier_at < len(row) else ""
        )
        if not _CODE.match(code):
            skipped.append(f"row {number}: {code or '(blank)'} is not a CPT/HCPCS code")
            continue
        try:
            amount = to_money(row[amount_at] if amount_at < len(row) else "")
        except ValueError:
            skipped.append(f"row {number}: {code} has no amount")
            continue
        entries.append(FeeScheduleEntry(code=code, modifier=modifier or inline_modifier, amount=amount))
    return FeeScheduleImport(entries=entries, skipped=skipped)


def read_fee_schedule(content: bytes, filename: str) -> FeeScheduleImport:
    """A fee schedule upload: CSV is read; XLSX needs openpyxl, which is not installed."""
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise FeeScheduleImportError(
            "reading XLSX fee schedules needs the `openpyxl` package (not installed); save the sheet as CSV"
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("latin-1")
    return read_fee_schedule_csv(text)
