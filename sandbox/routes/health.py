"""Liveness and readiness: /health while the process runs, /ready once the database holds a practice."""

from typing import Any

from fastapi import APIRouter
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from sandbox.db import resources
from sandbox.deps import ConnDep
from sandbox.problems import ProblemError

router = APIRouter()


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready")
def ready(conn: ConnDep) -> dict[str, Any]:
    try:
        practices = conn.scalar(
            select(func.count()).select_from(resources).where(resources.c.kind == "practice")
        )
    except SQLAlchemyError as exc:
        raise ProblemError(503, "The sandbox database cannot be read.", headers={"Retry-After": "5"}) from exc
    if not practices:
        raise ProblemError(
            503,
            "The sandbox holds no data yet: run `fovea sandbox seed`.",
            kind="not-seeded",
            headers={"Retry-After": "5"},
        )
    return {"status": "ready", "practices": practices}
