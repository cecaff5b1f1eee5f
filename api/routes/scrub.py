"""Claim scrub endpoints: denial rates by payer and code family over months, and scrubbing one claim now."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.deps import SettingsDep
from api.problems import ProblemError
from api.security.deps import Principal, ensure_practice_access, require
from api.security.permissions import Permission

router = APIRouter(prefix="/scrub", tags=["scrub"])


class DenialRate(BaseModel):
    month: str
    payer: str
    code_family: str
    claims: int
    denied: int
    denial_rate: float


class DenialRates(BaseModel):
    practice_id: str
    model_version: str
    trained_at: str
    rates: list[DenialRate]


@router.get("/denial-rates")
def denial_rates(
    practice_id: str,
    principal: Annotated[Principal, Depends(require(Permission.METRICS_VIEW))],
    settings: SettingsDep,
) -> DenialRates:
    """Adjudicated claims and denials by month, payer and code family, as of the latest model training."""
    from agents.risk.store import latest_metadata

    ensure_practice_access(principal, practice_id)
    metadata = latest_metadata(settings)
    if metadata is None:
        raise ProblemError(404, "No denial model is trained yet: run `fovea train denials`, then ask again.")
    rows: list[dict[str, Any]] = metadata.get("denial_rates", [])
    return DenialRates(
        practice_id=practice_id,
        model_version=metadata["version"],
        trained_at=metadata["trained_at"],
        rates=[DenialRate.model_validate(row) for row in rows if row.get("practice_id") == practice_id],
    )


@router.post("/claims/{claim_id}/run")
async def run_claim_scrub(
    claim_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.CLAIMS_REVIEW))],
) -> dict[str, Any]:
    """Scrub one claim now: it passes (audited) or waits in the review queue with its fixes."""
    from tools.crystalpm import NotFound

    runtime = getattr(request.app.state, "claim_scrub", None)
    if runtime is None:
        # A service started without its workflows (tests, a read-only replica): a state, not an outage.
        raise ProblemError(
            409, "The claim scrub workflow is not running in this service.", title="Workflow not running"
        )
    try:
        practice_id = await run_in_threadpool(runtime.practice_of, claim_id)
    except NotFound:
        raise ProblemError(404, "Nothing with this id among the practices you belong to.") from None
    ensure_practice_access(principal, practice_id)
    status = await run_in_threadpool(runtime.scrub, claim_id)
    return status.model_dump(mode="json")
