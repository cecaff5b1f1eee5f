"""Liveness (`/health`) and readiness (`/ready`: database reachable, migrations at head)."""

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from api.deps import EngineDep, WorkerDep
from api.problems import ProblemError
from api.storage.migrate import current_revisions, head_revisions

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str = "ok"


class Readiness(BaseModel):
    status: str = "ready"
    database: str
    revision: list[str]
    worker: bool


@router.get("/health")
async def health() -> Health:
    """The process is up and answering."""
    return Health()


@router.get("/ready", responses={503: {"description": "not ready; the problem detail says why"}})
def ready(engine: EngineDep, worker: WorkerDep) -> Readiness:
    """Ready to take webhooks: the database answers and its schema is at the newest revision."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current = current_revisions(engine)
    except Exception as exc:
        raise ProblemError(
            503, f"The database does not answer ({type(exc).__name__}); check FOVEA_DATABASE_URL."
        ) from exc
    heads = head_revisions()
    if current != heads:
        raise ProblemError(
            503,
            f"The database schema is at {sorted(current) or 'no revision'}, not {sorted(heads)}; "
            "restart the service to migrate it.",
        )
    return Readiness(database=engine.dialect.name, revision=sorted(current), worker=worker.running)
