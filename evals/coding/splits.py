"""The split names of the hand-written coding gold sets (a light module: the CLI builds its --split choices here)."""

SPLITS: tuple[str, ...] = (
    "holdout",
    "tune",
    "tune2",
    *(f"{kind}{number}" for number in range(3, 47) for kind in ("tune", "check")),
    "all",
)
# Check splits whose aggregates were reported through session 7 and then opened for tuning in session 8: their
# errors are the most varied the coder has, and the later checks (check13 on) stay blind to measure what it did.
RETIRED_CHECKS = frozenset(f"check{number}" for number in range(3, 13))
# Rows nobody tuning the coder may read: the dev holdout and the check splits still blind (aggregates only).
BLIND_SPLITS = frozenset(
    name for name in SPLITS if name == "holdout" or (name.startswith("check") and name not in RETIRED_CHECKS)
)
