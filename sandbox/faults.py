"""Fault injection: the next N /api/v1 calls answer a chosen error status with Retry-After."""

import threading
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from pydantic import BaseModel, Field

from sandbox.problems import problem_response

API_PREFIX = "/api/v1"


class FaultPlan(BaseModel):
    status: int = Field(503, ge=400, le=599, description="The status the failing calls answer")
    count: int = Field(1, ge=0, description="How many of the next API calls fail; 0 clears the plan")
    retry_after: int = Field(1, ge=0, description="Seconds sent in Retry-After")


class FaultState:
    """The pending fault plan, shared by request threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._plan = FaultPlan(count=0)

    def set(self, plan: FaultPlan) -> FaultPlan:
        with self._lock:
            self._plan = plan
            return plan

    def current(self) -> FaultPlan:
        with self._lock:
            return self._plan.model_copy()

    def take(self) -> FaultPlan | None:
        """Consume one failing call, if any is left."""
        with self._lock:
            if self._plan.count <= 0:
                return None
            self._plan = self._plan.model_copy(update={"count": self._plan.count - 1})
            return self._plan


def install_fault_middleware(app: FastAPI, faults: FaultState) -> None:
    @app.middleware("http")
    async def _inject(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if request.url.path.startswith(API_PREFIX + "/"):
            plan = faults.take()
            if plan is not None:
                return problem_response(
                    plan.status,
                    f"Injected fault: the sandbox answers {plan.status}; retry after {plan.retry_after} s.",
                    kind="injected-fault",
                    headers={"Retry-After": str(plan.retry_after)},
                )
        return await call_next(request)
