"""Versioned denial-model files: <models_dir>/denials/v<N>.joblib beside v<N>.json (metrics, thresholds, rates)."""

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import sklearn

from agents.risk.baseline import RulesBaseline
from agents.risk.model import DenialModel
from agents.risk.schemas import RiskScorer
from billing.settings import Settings

MODEL_FILE = re.compile(r"^v(\d+)\.joblib$")


def model_dir(settings: Settings) -> Path:
    return settings.models_dir / "denials"


def versions(settings: Settings) -> list[int]:
    folder = model_dir(settings)
    if not folder.is_dir():
        return []
    return sorted(int(m.group(1)) for path in folder.iterdir() if (m := MODEL_FILE.match(path.name)))


def save_model(settings: Settings, model: DenialModel, metadata: dict[str, Any]) -> str:
    """Write the next version; returns it ('v3'). The model object carries its version for every score."""
    folder = model_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    version = f"v{(versions(settings) or [0])[-1] + 1}"
    model.version = version
    meta = {
        **metadata,
        "version": version,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sklearn": sklearn.__version__,
        "thresholds": {"medium": model.medium, "high": model.high},
    }
    # Metadata first: a reader that finds v<N>.joblib always finds its JSON too.
    (folder / f"{version}.json").write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
    joblib.dump(model, folder / f"{version}.joblib")
    return version


def load_latest(settings: Settings) -> DenialModel | None:
    found = versions(settings)
    if not found:
        return None
    model: DenialModel = joblib.load(model_dir(settings) / f"v{found[-1]}.joblib")
    model.version = f"v{found[-1]}"
    return model


def latest_metadata(settings: Settings) -> dict[str, Any] | None:
    found = versions(settings)
    if not found:
        return None
    return json.loads((model_dir(settings) / f"v{found[-1]}.json").read_text(encoding="utf-8"))


def load_risk_scorer(settings: Settings) -> RiskScorer:
    """The latest trained model, or the rules baseline (which says so in its factors) until one is trained."""
    return load_latest(settings) or RulesBaseline()
