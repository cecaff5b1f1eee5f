"""LangGraph checkpointers: a SQLite file by default, PostgreSQL when checkpoint_url says so."""

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver

from billing.settings import Settings


def libpq_url(url: str) -> str:
    """psycopg wants `postgresql://`; SQLAlchemy-style URLs name a driver (`postgresql+psycopg://`)."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+', 1)[0]}{sep}{rest}"


@contextmanager
def make_checkpointer(settings: Settings) -> Iterator[BaseCheckpointSaver]:
    """A ready checkpointer (tables created) for settings.resolved_checkpoint_url, closed on exit."""
    url = settings.resolved_checkpoint_url
    if url.startswith("postgresql"):
        from langgraph.checkpoint.postgres import PostgresSaver

        with PostgresSaver.from_conn_string(libpq_url(url)) as saver:
            saver.setup()
            yield saver
        return

    from langgraph.checkpoint.sqlite import SqliteSaver

    path = Path(url.removeprefix("sqlite:///"))
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path, check_same_thread=False, timeout=30)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL still never corrupts the file; a power cut may lose the last checkpoints, which
        # the runs re-create (a scrub re-runs, a review waits on its interrupt's checkpoint written before).
        connection.execute("PRAGMA synchronous=NORMAL")
        saver = SqliteSaver(connection)
        saver.setup()
        yield saver
