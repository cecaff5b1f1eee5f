"""The feature_flags table: each feature's kill switch, autopilot policy, shadow share and manual baseline."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.storage.models import FeatureFlagRecord, utc_now


class Feature(StrEnum):
    CHARGE_CODING = "charge_coding"
    CLAIM_SCRUB = "claim_scrub"
    REMITTANCE = "remittance"
    CONTRACTS = "contracts"
    PRIOR_AUTH = "prior_auth"
    AR_FOLLOWUP = "ar_followup"
    STATEMENTS = "statements"
    CHAT = "chat"


class FeatureFlags(BaseModel):
    """A feature's switches; a feature nobody has changed has these defaults (on, no autopilot, no shadow)."""

    model_config = ConfigDict(from_attributes=True)

    feature: Feature
    enabled: bool = True
    autopilot_enabled: bool = False
    autopilot_threshold: float = Field(0.95, ge=0.0, le=1.0)
    shadow_share: float = Field(0.0, ge=0.0, le=1.0, description="share of events run in shadow mode")
    manual_baseline_minutes: float = Field(
        4.0, gt=0.0, description="assumed minutes to code an item by hand, for the time-saved estimate"
    )
    updated_by: str = ""
    updated_at: datetime | None = None


class FeatureChange(BaseModel):
    """The fields an admin changes; those left out keep their value."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    autopilot_enabled: bool | None = None
    autopilot_threshold: float | None = Field(None, ge=0.0, le=1.0)
    shadow_share: float | None = Field(None, ge=0.0, le=1.0)
    manual_baseline_minutes: float | None = Field(None, gt=0.0)


def get_flags(session: Session, feature: Feature) -> FeatureFlags:
    record = session.get(FeatureFlagRecord, feature.value)
    return FeatureFlags(feature=feature) if record is None else FeatureFlags.model_validate(record)


def all_flags(session: Session) -> list[FeatureFlags]:
    stored = {record.feature: record for record in session.scalars(select(FeatureFlagRecord))}
    return [
        FeatureFlags.model_validate(stored[feature]) if feature in stored else FeatureFlags(feature=feature)
        for feature in Feature
    ]


def change_flags(session: Session, feature: Feature, change: FeatureChange, actor: str) -> FeatureFlags:
    """Apply the change and commit; returns the flags as stored."""
    record = session.get(FeatureFlagRecord, feature.value)
    if record is None:
        defaults = FeatureFlags(feature=feature).model_dump(exclude={"feature", "updated_by", "updated_at"})
        record = FeatureFlagRecord(feature=feature.value, **defaults)
        session.add(record)
    for name, value in change.model_dump(exclude_none=True).items():
        setattr(record, name, value)
    record.updated_by = actor
    record.updated_at = utc_now()
    session.commit()
    return FeatureFlags.model_validate(record)
