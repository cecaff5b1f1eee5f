"""When and how long the Crystal PM client waits before trying a request again."""

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from billing.settings import Settings

RETRY_STATUSES = frozenset({429, 502, 503, 504})


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or HTTP date); None if absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """Jittered exponential backoff on 429/502/503/504 and transport errors, honouring Retry-After.

    Every write carries an idempotency key, so retrying a POST or PATCH is as safe as retrying a GET.
    """

    max_retries: int = 4
    base_delay: float = 0.25
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    random: Callable[[], float] = random.random
    sleep: Callable[[float], None] = time.sleep
    async_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    @classmethod
    def from_settings(cls, settings: Settings) -> "RetryPolicy":
        return cls(max_retries=settings.crystalpm_max_retries)

    def backoff(self, attempt: int) -> float:
        """The wait before retry `attempt` (0-based): equal jitter in [cap/2, cap], cap = base·2^attempt."""
        cap = min(self.max_delay, self.base_delay * 2**attempt)
        return cap / 2 + self.random() * cap / 2

    def delay(self, attempt: int, status: int | None, retry_after: float | None = None) -> float | None:
        """How long to wait before trying again after `attempt` failed tries, or None to stop.

        `status` is the HTTP status, or None when the request never got an answer (connect error, timeout).
        """
        if attempt >= self.max_retries:
            return None
        if status is not None and status not in RETRY_STATUSES:
            return None
        if retry_after is not None:
            # Asked to wait longer than a worker may be held: give up and let the caller reschedule.
            return retry_after if retry_after <= self.max_retry_after else None
        return self.backoff(attempt)
