"""The split names of the hand-written coding gold sets (a light module: the CLI builds its --split choices here)."""

SPLITS: tuple[str, ...] = (
    "holdout",
    "tune",
    "tune2",
    *(f"{kind}{number}" for number in range(3, 26) for kind in ("tune", "check")),
    "all",
)
# Rows nobody tuning the coder may read: the dev holdout and the later sets' check splits (aggregates only).
BLIND_SPLITS = frozenset(name for name in SPLITS if name == "holdout" or name.startswith("check"))
