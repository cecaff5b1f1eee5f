"""The feature gate the worker consults (kill switch, shadow share) and the shadow runs' comparison with staff coding.

A disabled feature's new events are recorded and skipped with a reason; its open review items stay
decidable. A feature with a shadow share runs that share of its events (chosen by a hash of the event id,
so a redelivery lands on the same side) without review items: the suggestion waits in shadow_results
until staff's own charge for the encounter appears, and is then compared with it.
"""

import hashlib
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from api.storage.features import Feature, FeatureFlags, get_flags
from api.storage.shadow import record_shadow, save_comparison, waiting_comparisons
from billing.charges import Charge, ChargeStatus
from billing.events import EventType
from tools.crystalpm import CrystalPM

EVENT_FEATURES: dict[str, Feature] = {
    EventType.NOTE_FINALIZED.value: Feature.CHARGE_CODING,
    EventType.CLAIM_READY.value: Feature.CLAIM_SCRUB,
    EventType.REMITTANCE_RECEIVED.value: Feature.REMITTANCE,
    EventType.APPOINTMENT_SCHEDULED.value: Feature.PRIOR_AUTH,
}
WORKFLOW_FEATURES: dict[str, Feature] = {
    "charge_coding": Feature.CHARGE_CODING,
    "claim_scrub": Feature.CLAIM_SCRUB,
    "remittance": Feature.REMITTANCE,
    "contract_variance": Feature.CONTRACTS,
    "contract_intake": Feature.CONTRACTS,
    "prior_auth": Feature.PRIOR_AUTH,
    "ar_followup": Feature.AR_FOLLOWUP,
    "patient_statement": Feature.STATEMENTS,
    "copilot_chat": Feature.CHAT,
}
# Charges staff keyed themselves; the copilot's own drafts are not a manual baseline.
MANUAL_SOURCES = frozenset({"manual", "historical"})


class Admission(BaseModel):
    """What the worker does with an event: run it, run it in shadow mode, or skip it (with the reason)."""

    mode: Literal["run", "shadow", "skip"]
    feature: Feature | None = None
    reason: str = ""


def in_shadow_share(event_id: str, share: float) -> bool:
    """Deterministic: the same event id always falls on the same side of the share."""
    if share <= 0.0:
        return False
    bucket = int.from_bytes(hashlib.sha256(event_id.encode("utf-8")).digest()[:8], "big") / 2**64
    return bucket < share


class FeatureGate:
    """Reads the feature flags for the worker and the review queue."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def flags(self, feature: Feature) -> FeatureFlags:
        with self.sessions() as session:
            return get_flags(session, feature)

    def for_workflow(self, workflow: str) -> FeatureFlags | None:
        feature = WORKFLOW_FEATURES.get(workflow)
        return None if feature is None else self.flags(feature)

    def admit(self, event_type: str, event_id: str) -> Admission:
        feature = EVENT_FEATURES.get(event_type)
        if feature is None:
            return Admission(mode="run")
        flags = self.flags(feature)
        if not flags.enabled:
            return Admission(
                mode="skip", feature=feature, reason=f"feature {feature.value} is disabled (kill switch)"
            )
        if in_shadow_share(event_id, flags.shadow_share):
            return Admission(mode="shadow", feature=feature)
        return Admission(mode="run", feature=feature)


def line_key(code: str, modifiers: list[str], units: int) -> str:
    """A charge line as one string, e.g. '92133', '92015-RT', '92134x2' (as graphs.charge_coding keys it)."""
    return "-".join([code, *modifiers]) + (f"x{units}" if units != 1 else "")


def charge_summary(charge: Charge) -> dict[str, Any]:
    return {
        "charge_id": charge.id,
        "diagnoses": list(charge.diagnosis_codes),
        "lines": [line_key(line.code, line.modifiers, line.units) for line in charge.lines],
    }


def compare_coding(suggested: dict[str, Any], manual: dict[str, Any]) -> dict[str, Any]:
    """How a shadow suggestion ({'diagnoses', 'lines'}) compares with the charge staff keyed by hand."""
    suggested_lines, manual_lines = set(suggested.get("lines", [])), set(manual.get("lines", []))
    suggested_dx, manual_dx = set(suggested.get("diagnoses", [])), set(manual.get("diagnoses", []))
    matched = suggested_lines & manual_lines
    return {
        "exact": suggested_lines == manual_lines and suggested_dx == manual_dx,
        "lines_matched": sorted(matched),
        "lines_missed": sorted(manual_lines - suggested_lines),
        "lines_extra": sorted(suggested_lines - manual_lines),
        "diagnoses_matched": sorted(suggested_dx & manual_dx),
        "diagnoses_missed": sorted(manual_dx - suggested_dx),
        "diagnoses_extra": sorted(suggested_dx - manual_dx),
        "line_precision": round(len(matched) / len(suggested_lines), 4) if suggested_lines else None,
        "line_recall": round(len(matched) / len(manual_lines), 4) if manual_lines else None,
    }


class ShadowComparer:
    """Stores shadow suggestions and compares each with staff's own charge once Crystal PM has it."""

    def __init__(self, sessions: sessionmaker[Session], feature: Feature = Feature.CHARGE_CODING) -> None:
        self.sessions = sessions
        self.feature = feature

    def record(
        self,
        *,
        practice_id: str,
        encounter_id: str,
        event_id: str,
        thread_id: str,
        suggestion: dict[str, Any],
        confidence: float | None,
    ) -> bool:
        with self.sessions() as session:
            return record_shadow(
                session,
                feature=self.feature.value,
                practice_id=practice_id,
                encounter_id=encounter_id,
                event_id=event_id,
                thread_id=thread_id,
                suggestion=suggestion,
                confidence=confidence,
            )

    def compare_waiting(self, crystalpm: CrystalPM, limit: int = 50) -> int:
        """Compare waiting suggestions whose encounter now has a manual charge; the count compared."""
        with self.sessions() as session:
            waiting = waiting_comparisons(session, self.feature.value, limit)
        compared = 0
        for result in waiting:
            manual = [
                charge
                for charge in crystalpm.iter_charges(encounter_id=result.encounter_id)
                if charge.status is not ChargeStatus.VOID and charge.source in MANUAL_SOURCES
            ]
            if not manual:
                continue
            summary = charge_summary(manual[0])
            with self.sessions() as session:
                save_comparison(session, result.id, summary, compare_coding(result.suggestion, summary))
            compared += 1
        return compared
