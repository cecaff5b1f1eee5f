"""The Crystal PM client's errors: one small hierarchy for everything the boundary can answer."""

from pydantic import BaseModel, ConfigDict


class ProblemDetail(BaseModel):
    """An RFC 9457 problem answer, as Crystal PM sends it; extension members (e.g. `errors`) are kept."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str = ""
    status: int
    detail: str = ""


class CrystalPMError(Exception):
    """Crystal PM answered with an error, or could not be reached."""

    def __init__(
        self, message: str, *, status: int | None = None, problem: ProblemDetail | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.problem = problem


class NotFound(CrystalPMError):
    """The resource does not exist (404)."""


class Unauthorized(CrystalPMError):
    """The token is missing, wrong or lacks the right (401/403)."""


class RateLimited(CrystalPMError):
    """Crystal PM asked us to slow down (429) longer than retrying may wait."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None,
        status: int | None = 429,
        problem: ProblemDetail | None = None,
    ) -> None:
        super().__init__(message, status=status, problem=problem)
        self.retry_after = retry_after


class Rejected(CrystalPMError):
    """Crystal PM refused the request as sent (4xx: bad input, conflict, unprocessable); see `problem`."""


class Unavailable(CrystalPMError):
    """Crystal PM failed or could not be reached (5xx, connection error, timeout), retries exhausted."""
