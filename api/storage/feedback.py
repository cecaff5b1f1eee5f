"""Reviewer feedback on charge suggestions: one row per run (suggestion, final coding, diff, decision)."""

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from api.storage.models import CodingFeedbackRecord
from graphs.ports import CodingFeedback


def save_feedback(session: Session, feedback: CodingFeedback) -> bool:
    """Store the decision once by run id (INSERT ... ON CONFLICT DO NOTHING); True when stored now."""
    dialect = session.get_bind().dialect.name
    insert = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}.get(dialect)
    if insert is None:
        raise NotImplementedError(f"feedback needs SQLite or PostgreSQL, not {dialect}")
    statement = (
        insert(CodingFeedbackRecord)
        .values(**feedback.model_dump(mode="python"))
        .on_conflict_do_nothing(index_elements=[CodingFeedbackRecord.id])
        .returning(CodingFeedbackRecord.id)
    )
    stored = session.execute(statement).first() is not None
    session.commit()
    return stored


def feedback_for_thread(session: Session, thread_id: str) -> list[CodingFeedback]:
    rows = session.scalars(
        select(CodingFeedbackRecord)
        .where(CodingFeedbackRecord.thread_id == thread_id)
        .order_by(CodingFeedbackRecord.decided_at)
    )
    return [CodingFeedback.model_validate(row, from_attributes=True) for row in rows]


class FeedbackLog:
    """The graphs' feedback store (graphs.ports.FeedbackStore) on the feedback table."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def save(self, feedback: CodingFeedback) -> None:
        with self.sessions() as session:
            save_feedback(session, feedback)

    def for_thread(self, thread_id: str) -> list[CodingFeedback]:
        with self.sessions() as session:
            return feedback_for_thread(session, thread_id)
