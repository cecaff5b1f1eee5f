"""Kill switches and autopilot policies per feature: read by staff with admin rights, changed by Admin, audited."""

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from api.deps import SessionDep
from api.security.audit import audit_security
from api.security.deps import Principal, forbidden, require
from api.security.permissions import Permission
from api.storage.features import Feature, FeatureChange, FeatureFlags, all_flags, change_flags, get_flags
from api.storage.models import utc_now

router = APIRouter(prefix="/admin/features", tags=["admin"])

FeatureAdmin = Annotated[Principal, Depends(require(Permission.ADMIN_FEATURES))]
POLICY_FIELDS = frozenset(
    {"autopilot_enabled", "autopilot_threshold", "shadow_share", "manual_baseline_minutes"}
)


@router.get("")
def list_features(_principal: FeatureAdmin, db: SessionDep) -> list[FeatureFlags]:
    """Every feature's switches (defaults for those nobody changed)."""
    return all_flags(db)


@router.get("/{feature}")
def get_feature(feature: Feature, _principal: FeatureAdmin, db: SessionDep) -> FeatureFlags:
    return get_flags(db, feature)


@router.put("/{feature}")
async def change_feature(
    feature: Feature, change: FeatureChange, principal: FeatureAdmin, db: SessionDep
) -> FeatureFlags:
    """Switch a feature on or off, or change its autopilot policy or shadow share; the change is audited."""
    if POLICY_FIELDS & change.model_fields_set and not principal.can(Permission.ADMIN_POLICIES):
        raise forbidden("Changing autopilot, shadow or baseline settings needs `admin.policies`.")

    def apply() -> FeatureFlags:
        before = get_flags(db, feature)
        after = change_flags(db, feature, change, principal.actor)
        audit_security(
            db,
            actor=principal.actor,
            action="admin.feature.change",
            now=utc_now(),
            detail={
                "feature": feature.value,
                "before": before.model_dump(mode="json", exclude={"updated_by", "updated_at"}),
                "after": after.model_dump(mode="json", exclude={"updated_by", "updated_at"}),
            },
        )
        return after

    return await run_in_threadpool(apply)
