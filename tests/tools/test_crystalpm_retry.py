"""The Crystal PM client without I/O: backoff schedule, Retry-After, subscription planning, factory."""

import inspect
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from billing.settings import Settings
from tools.crystalpm import AsyncRestCrystalPM, CrystalPM, CrystalPMError, RestCrystalPM, make_crystalpm
from tools.crystalpm.models import WebhookSubscription
from tools.crystalpm.retry import RetryPolicy, parse_retry_after
from tools.crystalpm.routes import plan_subscription


def test_backoff_doubles_from_base_and_stops_at_the_cap() -> None:
    low = RetryPolicy(base_delay=0.5, max_delay=4.0, random=lambda: 0.0)
    high = RetryPolicy(base_delay=0.5, max_delay=4.0, random=lambda: 1.0)
    assert [high.backoff(n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert [low.backoff(n) for n in range(6)] == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]


def test_jitter_stays_within_half_to_full_cap_and_varies() -> None:
    policy = RetryPolicy(base_delay=0.25, max_delay=8.0, random=random.Random(3).random)
    for attempt in range(8):
        cap = min(8.0, 0.25 * 2**attempt)
        delays = [policy.backoff(attempt) for _ in range(200)]
        assert all(cap / 2 <= d <= cap for d in delays)
        assert max(delays) - min(delays) > cap / 4  # jittered, not a fixed schedule


def test_retries_only_retryable_answers_and_only_max_retries_times() -> None:
    policy = RetryPolicy(max_retries=2, random=lambda: 1.0)
    assert policy.delay(0, 503) == policy.backoff(0)
    assert policy.delay(1, None) == policy.backoff(1)  # no answer at all: connect error or timeout
    assert policy.delay(2, 503) is None
    for status in (400, 401, 404, 409, 422, 500):
        assert policy.delay(0, status) is None
    for status in (429, 502, 503, 504):
        assert policy.delay(0, status) is not None


def test_retry_after_replaces_backoff_unless_longer_than_allowed() -> None:
    policy = RetryPolicy(max_retries=3, max_retry_after=30.0, random=lambda: 1.0)
    assert policy.delay(0, 429, retry_after=7.0) == 7.0
    assert policy.delay(0, 503, retry_after=0.0) == 0.0
    assert policy.delay(0, 429, retry_after=31.0) is None


def test_settings_choose_the_retry_count() -> None:
    assert RetryPolicy.from_settings(Settings(_env_file=None, crystalpm_max_retries=7)).max_retries == 7


def test_parse_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after(format_datetime(now + timedelta(seconds=40), usegmt=True), now=now) == 40.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=40), usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def _subscription(id: str, url: str, events: list[str], active: bool = True) -> WebhookSubscription:
    return WebhookSubscription(id=id, url=url, events=events, active=active)


def test_subscription_plan_reuses_a_covering_active_subscription() -> None:
    existing = [
        _subscription("s1", "http://copilot/webhooks", ["note.finalized"], active=False),
        _subscription("s2", "http://copilot/webhooks", ["claim.ready", "note.finalized"]),
    ]
    plan = plan_subscription(existing, "http://copilot/webhooks", ["note.finalized"])
    assert plan.reuse is not None and plan.reuse.id == "s2"
    assert plan.retire == []


def test_subscription_plan_replaces_a_narrower_one_with_the_union() -> None:
    existing = [
        _subscription("s1", "http://copilot/webhooks", ["claim.ready"]),
        _subscription("s2", "http://other/hook", ["note.finalized"]),
    ]
    plan = plan_subscription(existing, "http://copilot/webhooks", ["note.finalized"])
    assert plan.reuse is None
    assert plan.create_events == ["claim.ready", "note.finalized"]
    assert plan.retire == ["s1"]


def test_factory_builds_the_rest_adapter_and_files_needs_an_inbox(settings: Settings) -> None:
    client = make_crystalpm(settings)
    assert isinstance(client, RestCrystalPM)
    client.close()
    with pytest.raises(CrystalPMError, match="FOVEA_FILES_INBOX_DIR"):
        make_crystalpm(settings.model_copy(update={"crystalpm_adapter": "files", "files_inbox_dir": None}))


@pytest.mark.parametrize("adapter", [RestCrystalPM, AsyncRestCrystalPM])
def test_rest_clients_offer_every_port_operation_with_its_parameters(adapter: type) -> None:
    operations = [
        name for name, member in vars(CrystalPM).items() if callable(member) and not name.startswith("_")
    ]
    assert len(operations) > 30
    for name in operations:
        expected = list(inspect.signature(getattr(CrystalPM, name)).parameters.values())
        assert list(inspect.signature(getattr(adapter, name)).parameters.values()) == expected, name
