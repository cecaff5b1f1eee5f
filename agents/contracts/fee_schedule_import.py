"""A fee schedule from a CSV or XLSX file: a code column, an optional modifier column and an amount column."""

import csv
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from zipfile import BadZipFile

from pydantic import BaseModel, Field

from billing.contracts import FeeScheduleEntry
from billing.money import to_money

CODE_HEADERS = ("code", "cpt", "hcpcs", "cpt/hcpcs", "procedure", "procedure code", "cpt code")
MODIFIER_HEADERS = ("modifier", "mod", "modifiers")
AMOUNT_HEADERS = ("amount", "fee", "allowed", "allowance", "rate", "price", "contracted rate", "fee amount")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
_CODE = re.compile(r"^[0-9A-Z]\d{3}[0-9A-Z]$")


class FeeScheduleImportError(ValueError):
    """The file is not a fee schedule we can read; the message names the row or header."""


class FeeScheduleImport(BaseModel):
    entries: list[FeeScheduleEntry]
    skipped: list[str] = Field(default_factory=list, description="Rows left out, with the reason")


def _column(headers: Sequence[str], names: tuple[str, ...]) -> int | None:
    for index, header in enumerate(headers):
        if header.strip().lower() in names:
            return index
    return None


def _is_header(row: Sequence[str]) -> bool:
    return _column(row, CODE_HEADERS) is not None and _column(row, AMOUNT_HEADERS) is not None


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


def _cell_text(value: object) -> str:
    """A spreadsheet cell as the CSV would hold it: 92014 typed as a number is the code '92014'."""
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(Decimal(str(value)))
    return str(value).strip()


def _csv_text(rows: Iterable[Sequence[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def xlsx_fee_schedule_csv(content: bytes) -> str:
    """The fee-schedule sheet of a workbook as CSV text: the first sheet with a code and an amount header.

    Title rows above the header (a payer's letterhead, an "effective" line) are dropped; formulas are read
    as the values Excel last saved.
    """
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError) as exc:
        raise FeeScheduleImportError(f"not a readable XLSX workbook ({exc})") from None
    try:
        for sheet in workbook.worksheets:
            rows = [[_cell_text(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]
            start = next((i for i, row in enumerate(rows) if _is_header(row)), None)
            if start is not None:
                return _csv_text(rows[start:])
    finally:
        workbook.close()
    raise FeeScheduleImportError(
        "no sheet has a header row with a code column (code, cpt, hcpcs) and an amount column (amount, fee,"
        " allowed)"
    )


def fee_schedule_text(content: bytes, filename: str) -> str:
    """The CSV text of a fee-schedule upload: a CSV file as it is, a workbook's fee-schedule sheet converted."""
    if filename.lower().endswith(XLSX_SUFFIXES):
        return xlsx_fee_schedule_csv(content)
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("latin-1")


def read_fee_schedule(content: bytes, filename: str) -> FeeScheduleImport:
    """A fee schedule upload (CSV, or XLSX through openpyxl), read into entries."""
    return read_fee_schedule_csv(fee_schedule_text(content, filename))
