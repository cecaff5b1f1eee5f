"""The imported_files table: the inbox watcher's memory of every file it read, keyed by content SHA-256."""

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from api.storage.models import ImportedFileRecord
from tools.remittance.inbox import FileImport, PriorImport


class SqlImportLedger:
    """tools.remittance.inbox.ImportLedger on the copilot's database."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def find(self, sha256: str) -> PriorImport | None:
        with self.sessions() as session:
            record = session.get(ImportedFileRecord, sha256)
            if record is None:
                return None
            return PriorImport.model_validate(
                {"filename": record.filename, "status": record.status, "reason": record.reason}
            )

    def record(self, result: FileImport, *, practice_id: str) -> None:
        """Remember a file once; a failed import is replaced when the same content later imports."""
        with self.sessions() as session:
            existing = session.get(ImportedFileRecord, result.sha256)
            if existing is not None and existing.status == "imported":
                return
            if existing is not None:
                session.delete(existing)
                session.flush()
            session.add(
                ImportedFileRecord(
                    sha256=result.sha256,
                    filename=result.filename,
                    kind=result.kind,
                    status=result.status,
                    reason=result.reason,
                    findings=result.findings,
                    summary=result.summary,
                    practice_id=practice_id,
                    size=result.size,
                )
            )
            try:
                session.commit()
            except IntegrityError:  # another watcher recorded the same content first
                session.rollback()
