"""`/metrics` (Prometheus text, one registry per app) and `/dashboard/metrics` (JSON for the dashboard).

Counts come from the tables at scrape time, so they survive restarts and agree across worker processes;
Crystal PM errors are counted in-process as the worker meets them. The dashboard's time saved is an
estimate from measured review times against each feature's configured manual baseline: an assumption,
and labelled so.
"""

import statistics
from collections import Counter as Tally
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from api.deps import SessionDep
from api.features import WORKFLOW_FEATURES
from api.security.deps import Principal, require, visible_practice_ids
from api.security.permissions import Permission
from api.storage.features import all_flags
from api.storage.models import Event, ReviewItemRecord, ReviewStatus, utc_now
from api.storage.reviews import decided_items
from api.storage.shadow import shadow_results

router = APIRouter(tags=["metrics"])

LATENCY_BUCKETS = (5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0, 86400.0)
POLICY_PREFIX = "policy:"


def _by_person(decided_by: str | None) -> bool:
    return not (decided_by or "").startswith(POLICY_PREFIX)


class StoredCounts(Collector):
    """Events, runs and review decisions, counted from the tables at each scrape."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def collect(self) -> Iterator[Metric]:
        with self.sessions() as session:
            yield from self._events(session)
            yield from self._reviews(session)

    def _events(self, session: Session) -> Iterator[Metric]:
        received = CounterMetricFamily(
            "fovea_events_received", "Crystal PM webhook events stored (once per event id)", labels=["type"]
        )
        for event_type, count in session.execute(select(Event.type, func.count()).group_by(Event.type)):
            received.add_metric([event_type], count)
        yield received
        runs = GaugeMetricFamily("fovea_events", "Stored events by processing state", labels=["status"])
        for status, count in session.execute(select(Event.status, func.count()).group_by(Event.status)):
            runs.add_metric([str(status)], count)
        yield runs

    def _reviews(self, session: Session) -> Iterator[Metric]:
        item = ReviewItemRecord
        items = GaugeMetricFamily(
            "fovea_review_items", "Review items by workflow and state", labels=["workflow", "status"]
        )
        for workflow, status, count in session.execute(
            select(item.workflow, item.status, func.count()).group_by(item.workflow, item.status)
        ):
            items.add_metric([workflow, status], count)
        yield items
        rows = session.execute(
            select(item.workflow, item.decision, item.decided_by, item.time_to_decision_seconds).where(
                item.status == ReviewStatus.DECIDED.value
            )
        ).all()
        decisions = CounterMetricFamily(
            "fovea_review_decisions", "Review decisions", labels=["workflow", "decision", "decided_by"]
        )
        tally = Tally(
            (workflow, decision, "person" if _by_person(by) else "policy")
            for workflow, decision, by, _ in rows
        )
        for (workflow, decision, by), count in sorted(tally.items()):
            decisions.add_metric([workflow, decision, by], count)
        yield decisions
        acceptance = GaugeMetricFamily(
            "fovea_first_pass_acceptance_ratio",
            "Share of decided items approved as suggested",
            labels=["workflow"],
        )
        per_workflow: dict[str, list[str]] = defaultdict(list)
        for workflow, decision, _by, _seconds in rows:
            per_workflow[workflow].append(decision)
        for workflow, outcomes in sorted(per_workflow.items()):
            acceptance.add_metric([workflow], outcomes.count("approve") / len(outcomes))
        yield acceptance
        yield _latency_histogram(
            [seconds for _w, _d, by, seconds in rows if _by_person(by) and seconds is not None]
        )


def _latency_histogram(seconds: list[float]) -> Metric:
    buckets = [(str(bound), sum(1 for value in seconds if value <= bound)) for bound in LATENCY_BUCKETS]
    buckets.append(("+Inf", len(seconds)))
    histogram = HistogramMetricFamily(
        "fovea_review_time_to_decision_seconds", "Time from a review item opening to a person's decision"
    )
    histogram.add_metric([], buckets, sum_value=sum(seconds))
    return histogram


class ServiceMetrics:
    """The app's own Prometheus registry: stored counts plus the in-process Crystal PM error counter."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(StoredCounts(sessions))
        self.crystalpm_errors = Counter(
            "fovea_crystalpm_errors",
            "Crystal PM errors met by the worker, by error class",
            labelnames=["error"],
            registry=self.registry,
        )

    def observe_error(self, exc: Exception) -> None:
        """The worker's error observer: count the errors that came from Crystal PM."""
        # Imported here so the metrics module stays light; the client's errors share one base class.
        from tools.crystalpm.errors import CrystalPMError

        if isinstance(exc, CrystalPMError):
            self.crystalpm_errors.labels(error=type(exc).__name__).inc()


@router.get("/metrics", response_class=Response)
def prometheus_metrics(
    request: Request, _principal: Annotated[Principal, Depends(require(Permission.METRICS_VIEW))]
) -> Response:
    """Prometheus text format: events received, runs by state, review latency, acceptance, Crystal PM errors."""
    metrics: ServiceMetrics = request.app.state.metrics
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


# The dashboard's JSON


class CodeFamilyAcceptance(BaseModel):
    kind: str
    family: str
    suggested: int
    accepted: int
    rate: float


class FeatureAcceptance(BaseModel):
    feature: str
    decided: int
    approved: int
    edited: int
    rejected: int
    by_policy: int
    first_pass_acceptance: float | None
    by_code_family: list[CodeFamilyAcceptance] = []


class CodeEdits(BaseModel):
    code: str
    added: int
    removed: int


class TimeSaved(BaseModel):
    label: str = "assumption"
    basis: str = (
        "items decided x (manual baseline minutes - measured median review time); items approved by "
        "autopilot count the whole baseline. The baseline is each feature's configured "
        "manual_baseline_minutes, not a measurement."
    )
    hours_saved: float
    by_feature: list[dict[str, Any]]


class DashboardMetrics(BaseModel):
    practice_ids: list[str]
    since_days: int
    acceptance: list[FeatureAcceptance]
    median_time_to_decision_seconds: float | None
    median_time_to_decision_by_feature: dict[str, float]
    edits_by_code: list[CodeEdits]
    shadow: dict[str, Any]
    time_saved: TimeSaved
    denial_categories: list[dict[str, Any]]


def _feature(workflow: str) -> str:
    feature = WORKFLOW_FEATURES.get(workflow)
    return feature.value if feature is not None else workflow


def _suggested_codes(payload: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(kind, family, code) of each code a charge suggestion proposed."""
    suggestion = payload.get("suggestion") or {}
    for line in suggestion.get("lines", []):
        yield "procedure", line["code"][:3], line["code"]
    for diagnosis in suggestion.get("diagnoses", []):
        yield "diagnosis", diagnosis["code"][:3], diagnosis["code"]


def _kept(item: ReviewItemRecord, kind: str, code: str) -> bool:
    if item.decision == "approve":
        return True
    if item.decision == "reject" or not item.edited:
        return False
    if kind == "procedure":
        return any(line.get("code") == code for line in item.edited.get("lines", []))
    return code in item.edited.get("diagnosis_codes", []) or any(
        code in line.get("diagnosis_codes", []) for line in item.edited.get("lines", [])
    )


def _acceptance(items: list[ReviewItemRecord]) -> list[FeatureAcceptance]:
    by_feature: dict[str, list[ReviewItemRecord]] = defaultdict(list)
    for item in items:
        by_feature[_feature(item.workflow)].append(item)
    report = []
    for feature, decided in sorted(by_feature.items()):
        outcomes = Tally(item.decision for item in decided)
        families: dict[tuple[str, str], list[bool]] = defaultdict(list)
        for item in decided:
            for kind, family, code in _suggested_codes(item.payload):
                families[(kind, family)].append(_kept(item, kind, code))
        report.append(
            FeatureAcceptance(
                feature=feature,
                decided=len(decided),
                approved=outcomes["approve"],
                edited=outcomes["edit"],
                rejected=outcomes["reject"],
                by_policy=sum(1 for item in decided if not _by_person(item.decided_by)),
                first_pass_acceptance=round(outcomes["approve"] / len(decided), 4),
                by_code_family=[
                    CodeFamilyAcceptance(
                        kind=kind,
                        family=family,
                        suggested=len(kept),
                        accepted=sum(kept),
                        rate=round(sum(kept) / len(kept), 4),
                    )
                    for (kind, family), kept in sorted(families.items())
                ],
            )
        )
    return report


def _edits_by_code(items: Iterable[ReviewItemRecord]) -> list[CodeEdits]:
    added: Tally[str] = Tally()
    removed: Tally[str] = Tally()
    for item in items:
        if item.decision != "edit" or not item.diff:
            continue
        added.update(item.diff.get("diagnoses_added", []) + item.diff.get("lines_added", []))
        removed.update(item.diff.get("diagnoses_removed", []) + item.diff.get("lines_removed", []))
    codes = sorted(set(added) | set(removed), key=lambda code: (-(added[code] + removed[code]), code))
    return [CodeEdits(code=code, added=added[code], removed=removed[code]) for code in codes]


def _shadow_summary(
    session: Session, practice_ids: list[str], review_medians: dict[str, float]
) -> dict[str, Any]:
    results = shadow_results(session, practice_ids)
    compared = [result.comparison for result in results if result.comparison is not None]
    precisions = [c["line_precision"] for c in compared if c.get("line_precision") is not None]
    recalls = [c["line_recall"] for c in compared if c.get("line_recall") is not None]
    return {
        "runs": len(results),
        "compared_with_manual_coding": len(compared),
        "exact_match_rate": round(sum(1 for c in compared if c["exact"]) / len(compared), 4)
        if compared
        else None,
        "mean_line_precision": round(statistics.fmean(precisions), 4) if precisions else None,
        "mean_line_recall": round(statistics.fmean(recalls), 4) if recalls else None,
        "ai_assisted_median_review_seconds": review_medians.get("charge_coding"),
    }


def _time_saved(items: list[ReviewItemRecord], baselines: dict[str, float]) -> TimeSaved:
    rows = []
    total_minutes = 0.0
    by_feature: dict[str, list[ReviewItemRecord]] = defaultdict(list)
    for item in items:
        by_feature[_feature(item.workflow)].append(item)
    for feature, decided in sorted(by_feature.items()):
        baseline = baselines.get(feature, 4.0)
        reviewed = [item.time_to_decision_seconds or 0.0 for item in decided if _by_person(item.decided_by)]
        by_policy = len(decided) - len(reviewed)
        median_review = statistics.median(reviewed) if reviewed else 0.0
        minutes = len(reviewed) * max(0.0, baseline - median_review / 60.0) + by_policy * baseline
        total_minutes += minutes
        rows.append(
            {
                "feature": feature,
                "items_reviewed": len(reviewed),
                "items_by_autopilot": by_policy,
                "manual_baseline_minutes": baseline,
                "median_review_seconds": round(median_review, 1),
                "hours_saved": round(minutes / 60.0, 2),
            }
        )
    return TimeSaved(hours_saved=round(total_minutes / 60.0, 2), by_feature=rows)


def dashboard(session: Session, practice_ids: list[str], since_days: int) -> DashboardMetrics:
    items = decided_items(session, practice_ids, utc_now() - timedelta(days=since_days))
    reviewed = [
        item for item in items if _by_person(item.decided_by) and item.time_to_decision_seconds is not None
    ]
    per_feature: dict[str, list[float]] = defaultdict(list)
    for item in reviewed:
        per_feature[_feature(item.workflow)].append(item.time_to_decision_seconds or 0.0)
    medians = {
        feature: round(statistics.median(values), 1) for feature, values in sorted(per_feature.items())
    }
    baselines = {flags.feature.value: flags.manual_baseline_minutes for flags in all_flags(session)}
    return DashboardMetrics(
        practice_ids=practice_ids,
        since_days=since_days,
        acceptance=_acceptance(items),
        median_time_to_decision_seconds=(
            round(statistics.median([item.time_to_decision_seconds or 0.0 for item in reviewed]), 1)
            if reviewed
            else None
        ),
        median_time_to_decision_by_feature=medians,
        edits_by_code=_edits_by_code(items),
        shadow=_shadow_summary(session, practice_ids, medians),
        time_saved=_time_saved(items, baselines),
        # Denials arrive with the remittance workflow; until then there is nothing to categorise.
        denial_categories=[],
    )


@router.get("/dashboard/metrics")
async def dashboard_metrics(
    principal: Annotated[Principal, Depends(require(Permission.METRICS_VIEW))],
    db: SessionDep,
    practice_id: str | None = None,
    since_days: Annotated[int, Query(ge=1, le=3650)] = 90,
) -> DashboardMetrics:
    """Acceptance by feature and code family, time to decision, edits by code, shadow runs, time saved."""
    practice_ids = visible_practice_ids(principal, practice_id)
    return await run_in_threadpool(dashboard, db, practice_ids, since_days)
