"""The watched inbox: import each 835 file and CSV export a practice drops there once, with a per-file result."""

import logging
import shutil
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from billing.money import ZERO, money_str
from billing.x12_835 import ParseResult, X12Error
from tools.crystalpm.exports import ExportError, read_export
from tools.crystalpm.files import (
    FAILED_DIR,
    IMPORTED_DIR,
    REMITTANCE_SUFFIXES,
    content_sha256,
    is_export_file,
    is_remittance_file,
    remittance_file_id,
)
from tools.crystalpm.models import RemittanceFileInfo
from tools.remittance.files import decode_x12, parse_835_bytes

DUPLICATES_DIR = "duplicates"
# Editors and downloads write these while a file is still arriving.
PARTIAL_SUFFIXES = frozenset({".tmp", ".part", ".crdownload", ".partial"})
log = logging.getLogger(__name__)

FileKind = Literal["remittance", "claims", "charges", "ar_aging", "patients", "unknown"]
ImportStatus = Literal["imported", "duplicate", "failed"]
AfterImport = Literal["move", "leave"]


class FileImport(BaseModel):
    """What happened to one file: imported, a duplicate of one imported before, or failed and why."""

    filename: str
    sha256: str
    kind: FileKind
    status: ImportStatus
    reason: str = ""
    findings: int = Field(0, description="Parser findings on an 835 (balancing, validation)")
    summary: dict[str, Any] = Field(default_factory=dict)
    duplicate_of: str | None = Field(None, description="The file name the same content was imported under")
    moved_to: str | None = None
    size: int = 0
    retry: bool = Field(False, description="Not recorded: the file stays in the inbox for the next scan")


class PriorImport(BaseModel):
    filename: str
    status: ImportStatus
    reason: str = ""


class ImportLedger(Protocol):
    """Where imports are remembered by content hash (api.storage.imports is the SQL one)."""

    def find(self, sha256: str) -> PriorImport | None: ...
    def record(self, result: FileImport, *, practice_id: str) -> None: ...


RemittanceReceived = Callable[[RemittanceFileInfo, ParseResult], None]


def import_file(
    path: Path,
    ledger: ImportLedger,
    *,
    practice_id: str,
    on_remittance: RemittanceReceived | None = None,
    retry_failed: bool = False,
) -> FileImport:
    """Import one file unless its content was seen before; never raises for a bad file."""
    raw = path.read_bytes()
    sha = content_sha256(raw)
    kind: FileKind = "remittance" if is_remittance_file(path) else "unknown"
    prior = ledger.find(sha)
    base = {"filename": path.name, "sha256": sha, "size": len(raw)}
    if prior is not None and (prior.status == "imported" or not retry_failed):
        reason = (
            f"the same content was imported before as {prior.filename}"
            if prior.status == "imported"
            else f"the same content failed before ({prior.reason})"
        )
        return FileImport(**base, kind=kind, status="duplicate", reason=reason, duplicate_of=prior.filename)
    if is_remittance_file(path):
        result = _import_remittance(path, raw, base, practice_id, on_remittance)
    elif is_export_file(path):
        result = _import_export(raw, base, practice_id)
    else:
        result = FileImport(
            **base,
            kind="unknown",
            status="failed",
            reason=f"not an 835 ({', '.join(sorted(REMITTANCE_SUFFIXES))}) or a CSV export (.csv)",
        )
    if not result.retry:
        ledger.record(result, practice_id=practice_id)
    return result


def _import_remittance(
    path: Path, raw: bytes, base: dict[str, Any], practice_id: str, on_remittance: RemittanceReceived | None
) -> FileImport:
    try:
        parsed = parse_835_bytes(raw)
    except X12Error as exc:
        return FileImport(**base, kind="remittance", status="failed", reason=str(exc))
    transactions = parsed.remittance.transactions
    claims = [c for t in transactions for c in t.claims]
    first = transactions[0]
    info = RemittanceFileInfo(
        id=remittance_file_id(base["sha256"]),
        practice_id=practice_id,
        payer_id=first.payer_id or first.payer,
        received_on=first.payment.date or datetime.now(UTC).date(),
        filename=path.name,
        claim_ids=[c.patient_control_number for c in claims],
        x12=decode_x12(raw),
    )
    summary: dict[str, Any] = {
        "remittance_id": info.id,
        "payer": first.payer,
        "transactions": len(transactions),
        "claims": len(claims),
        "paid": money_str(sum((t.payment.amount for t in transactions), ZERO)),
        "payment_date": info.received_on.isoformat(),
        "errors": sum(1 for f in parsed.findings if f.severity == "error"),
    }
    if on_remittance is not None:
        try:
            on_remittance(info, parsed)
        except Exception as exc:  # the file stays in the inbox and is tried again on the next scan
            log.warning(
                "remittance import: the workflow did not take file %s (%s)", info.id, type(exc).__name__
            )
            return FileImport(
                **base,
                kind="remittance",
                status="failed",
                reason=f"read, but the remittance workflow did not take it ({type(exc).__name__}); will retry",
                findings=len(parsed.findings),
                summary=summary,
                retry=True,
            )
    return FileImport(
        **base, kind="remittance", status="imported", findings=len(parsed.findings), summary=summary
    )


def _import_export(raw: bytes, base: dict[str, Any], practice_id: str) -> FileImport:
    try:
        contents = read_export(raw.decode("utf-8-sig", errors="replace"), practice_id=practice_id)
    except ExportError as exc:
        return FileImport(**base, kind="unknown", status="failed", reason=str(exc))
    summary = {
        "rows": contents.rows,
        "claims": len(contents.claims),
        "charges": len(contents.charges),
        "ar_aging": len(contents.ar_aging),
        "patients": len(contents.patients),
    }
    return FileImport(
        **base, kind=contents.kind, status="imported", summary={k: v for k, v in summary.items() if v}
    )


def _arriving(path: Path, settle_seconds: float) -> bool:
    if path.name.startswith(".") or path.suffix.lower() in PARTIAL_SUFFIXES:
        return True
    return settle_seconds > 0 and time.time() - path.stat().st_mtime < settle_seconds


def _move(path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    counter = 1
    while target.exists():
        target = folder / f"{path.stem}.{counter}{path.suffix}"
        counter += 1
    shutil.move(str(path), target)
    return target


def import_inbox(
    inbox_dir: Path,
    ledger: ImportLedger,
    *,
    practice_id: str,
    after_import: AfterImport = "move",
    on_remittance: RemittanceReceived | None = None,
    settle_seconds: float = 0.0,
    retry_failed: bool = False,
) -> list[FileImport]:
    """Import every file at the top of the inbox, oldest first; with "move", sort them into sub-folders.

    Imported files go to `imported/` (where the files adapter still reads them), duplicates to
    `duplicates/`, failures to `failed/`. A file the remittance workflow did not take stays to be retried.
    """
    inbox_dir = Path(inbox_dir)
    if not inbox_dir.is_dir():
        raise FileNotFoundError(f"the inbox folder {inbox_dir} does not exist")
    files = sorted(
        (p for p in inbox_dir.iterdir() if p.is_file() and not _arriving(p, settle_seconds)),
        key=lambda p: (p.stat().st_mtime, p.name),
    )
    results = []
    for path in files:
        try:
            result = import_file(
                path, ledger, practice_id=practice_id, on_remittance=on_remittance, retry_failed=retry_failed
            )
        except OSError as exc:
            results.append(
                FileImport(
                    filename=path.name,
                    sha256="",
                    kind="unknown",
                    status="failed",
                    reason=f"unreadable: {exc}",
                )
            )
            continue
        if after_import == "move" and not result.retry:
            folder = {"imported": IMPORTED_DIR, "duplicate": DUPLICATES_DIR, "failed": FAILED_DIR}[
                result.status
            ]
            result.moved_to = str(_move(path, inbox_dir / folder).relative_to(inbox_dir))
        results.append(result)
    return results


def watch_inbox(
    run_once: Callable[[], list[FileImport]],
    *,
    poll_seconds: float,
    stop: threading.Event,
    report: Callable[[list[FileImport]], None],
) -> None:
    """Scan, report what was found, wait; until `stop` is set (Ctrl-C in the command sets it)."""
    while not stop.is_set():
        results = run_once()
        if results:
            report(results)
        stop.wait(poll_seconds)
