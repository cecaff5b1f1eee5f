"""Work lists for staff to key into Crystal PM by hand: approved items exported as CSV and PDF.

For a practice without API access, every approved posting, claim correction, appeal and task becomes a
row in a work list, one file per kind. `on_exported` is called for each item written, so the caller can
mark it exported in the audit log (and skip it next time).
"""

import csv
import io
from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from fpdf import FPDF
from fpdf.fonts import FontFace
from pydantic import BaseModel

from billing.charges import Charge
from billing.money import Money, money_str
from billing.posting import PostingDraft
from billing.tasks import Task
from tools.crystalpm.files import WorkItem
from tools.crystalpm.models import ClaimEdit

WorkListKind = Literal["posting", "correction", "appeal", "charge", "task"]
ExportFormat = Literal["csv", "pdf"]
KINDS: tuple[WorkListKind, ...] = ("posting", "correction", "appeal", "charge", "task")
TITLES: dict[WorkListKind, str] = {
    "posting": "Payments to post",
    "correction": "Claim corrections",
    "appeal": "Appeals to file",
    "charge": "Charges to enter",
    "task": "Tasks",
}
COLUMNS = ("item_id", "claim_id", "patient_id", "title", "detail", "amount", "approved_by", "approved_at")
PDF_WIDTHS = (26, 24, 22, 50, 92, 18, 22, 22)  # millimetres on landscape Letter, same order as COLUMNS


class WorkListItem(BaseModel):
    """One approved item as staff will read it; `item_id` is stable, so an export is never repeated."""

    kind: WorkListKind
    item_id: str
    practice_id: str = ""
    claim_id: str = ""
    patient_id: str = ""
    title: str
    detail: str = ""
    amount: Money | None = None
    approved_by: str = ""
    approved_at: datetime | None = None

    def cells(self) -> list[str]:
        return [
            self.item_id,
            self.claim_id,
            self.patient_id,
            self.title,
            self.detail,
            money_str(self.amount) if self.amount is not None else "",
            self.approved_by,
            self.approved_at.strftime("%Y-%m-%d %H:%M") if self.approved_at else "",
        ]


OnExported = Callable[[WorkListItem, Path], None]


def items_from_posting(
    draft: PostingDraft,
    *,
    item_id: str,
    practice_id: str = "",
    approved_by: str = "",
    approved_at: datetime | None = None,
) -> list[WorkListItem]:
    """A posting draft as work-list rows: one per service line (what to post, write off, leave open)."""
    rows = []
    for line in draft.lines or []:
        parts = [f"paid {money_str(line.paid)}", f"patient {money_str(line.patient_responsibility)}"]
        parts.append(f"write off {money_str(line.write_off)}")
        if line.held:
            parts.append(f"leave open {money_str(line.held)} (below contract)")
        parts += [f"{a.group}-{a.reason} {money_str(a.amount)}" for a in line.adjustments]
        modifiers = "".join(f"-{m}" for m in line.modifiers)
        rows.append(
            WorkListItem(
                kind="posting",
                item_id=f"{item_id}:{line.remit_line_index + 1}",
                practice_id=practice_id,
                claim_id=draft.claim_id,
                title=f"{'Reverse' if draft.reversal else 'Post'} line {line.claim_line_number or '?'} "
                f"{line.code}{modifiers}",
                detail="; ".join(parts) + (f"; trace {draft.trace}" if draft.trace else ""),
                amount=line.paid,
                approved_by=approved_by,
                approved_at=approved_at,
            )
        )
    if not rows:
        rows.append(
            WorkListItem(
                kind="posting",
                item_id=item_id,
                practice_id=practice_id,
                claim_id=draft.claim_id,
                title=f"{'Reverse' if draft.reversal else 'Post'} claim payment",
                detail=f"paid {money_str(draft.paid)}; patient {money_str(draft.patient_responsibility)}",
                amount=draft.paid,
                approved_by=approved_by,
                approved_at=approved_at,
            )
        )
    return rows


def items_from_outbox(work: Iterable[WorkItem]) -> list[WorkListItem]:
    """The files adapter's outbox (writes Crystal PM could not take by API) as work-list rows."""
    rows = []
    for item in work:
        common = {
            "item_id": f"{item.kind}:{item.idempotency_key}",
            "practice_id": item.practice_id,
            "claim_id": item.claim_id or "",
            "patient_id": item.patient_id or "",
            "approved_at": item.created_at,
        }
        if item.kind == "task":
            task = Task.model_validate(item.item)
            kind: WorkListKind = (
                "appeal" if task.kind == "appeal" else "posting" if task.kind == "posting" else "task"
            )
            rows.append(
                WorkListItem(kind=kind, title=task.title, detail=task.body, amount=task.amount, **common)
            )
        elif item.kind == "claim_edit":
            edit = ClaimEdit.model_validate(item.item)
            changed = [
                key for key in ("lines", "diagnosis_codes", "coverage_id") if getattr(edit, key) is not None
            ]
            rows.append(
                WorkListItem(
                    kind="correction",
                    title=f"Correct claim {item.claim_id}: {', '.join(changed) or 'note'}",
                    detail=_claim_edit_detail(edit),
                    **common,
                )
            )
        else:
            charge = Charge.model_validate(item.item)
            codes = ", ".join(
                f"{line.code}{''.join(f'-{m}' for m in line.modifiers)} x{line.units}"
                for line in charge.lines
            )
            rows.append(
                WorkListItem(
                    kind="charge",
                    title=f"Enter charge for encounter {charge.encounter_id}",
                    detail=f"{codes}; diagnoses {', '.join(charge.diagnosis_codes)}",
                    **common,
                )
            )
    return rows


def _claim_edit_detail(edit: ClaimEdit) -> str:
    parts = []
    if edit.lines is not None:
        parts.append(
            "lines "
            + ", ".join(
                f"{line.line_number}: {line.code}{''.join(f'-{m}' for m in line.modifiers)}"
                for line in edit.lines
            )
        )
    if edit.diagnosis_codes:
        parts.append(f"diagnoses {', '.join(edit.diagnosis_codes)}")
    if edit.coverage_id:
        parts.append(f"coverage {edit.coverage_id}")
    parts.append(edit.note)
    return "; ".join(p for p in parts if p)


def render_csv(items: Iterable[WorkListItem]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(item.cells() for item in items)
    return buffer.getvalue()


def _latin1(text: str) -> str:
    """The PDF core fonts hold Latin-1 only: anything else prints as '?' rather than failing the export."""
    return text.encode("latin-1", errors="replace").decode("latin-1")


def render_pdf(
    kind: WorkListKind, items: list[WorkListItem], *, generated_on: date, compress: bool = True
) -> bytes:
    """A landscape work list with a checkbox column for staff; `compress=False` keeps the text greppable."""
    pdf = FPDF(orientation="L", unit="mm", format="Letter")
    pdf.set_compression(compress)
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 8, _latin1(f"{TITLES[kind]}: {len(items)} item(s), exported {generated_on.isoformat()}"))
    pdf.ln(10)
    pdf.set_font("Helvetica", size=7)
    with pdf.table(
        col_widths=(6, *PDF_WIDTHS),
        headings_style=FontFace(emphasis="BOLD"),
        line_height=4,
        text_align="LEFT",
    ) as table:
        heading = table.row()
        for name in ("done", *COLUMNS):
            heading.cell(name.replace("_", " "))
        for item in items:
            row = table.row()
            row.cell("[ ]")
            for value in item.cells():
                row.cell(_latin1(value))
    return bytes(pdf.output())


def export_worklists(
    items: Iterable[WorkListItem],
    output_dir: Path,
    *,
    fmt: ExportFormat,
    generated_on: date,
    on_exported: OnExported | None = None,
    compress: bool = True,
) -> list[Path]:
    """Write one work list per kind that has items (`<kind>s-<date>.csv|pdf`); the files written."""
    by_kind: dict[WorkListKind, list[WorkListItem]] = {}
    for item in items:
        by_kind.setdefault(item.kind, []).append(item)
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in KINDS:
        listed = by_kind.get(kind)
        if not listed:
            continue
        path = output_dir / f"{kind}s-{generated_on.isoformat()}.{fmt}"
        if fmt == "csv":
            path.write_text(render_csv(listed), encoding="utf-8")
        else:
            path.write_bytes(render_pdf(kind, listed, generated_on=generated_on, compress=compress))
        written.append(path)
        if on_exported is not None:
            for item in listed:
                on_exported(item, path)
    return written
