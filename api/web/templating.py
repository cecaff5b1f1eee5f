"""The web UI's Jinja2 environment (autoescape on for every template) and its display filters."""

from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader
from starlette.templating import Jinja2Templates

from api.storage.models import utc_now

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"


def confidence_band(value: float | None) -> str:
    """high / mid / low, the colour of a confidence bar (0.9 and 0.7 match the auto-draft and review bands)."""
    if value is None:
        return "low"
    return "high" if value >= 0.9 else "mid" if value >= 0.7 else "low"


def percent(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value * 100:.{digits}f}%"


def age(since: datetime | None, now: datetime | None = None) -> str:
    """How long ago, in the largest whole unit: '12 min', '3 h', '2 d'."""
    if since is None:
        return "–"
    seconds = max(0.0, ((now or utc_now()) - since).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min"


def humanize(name: str) -> str:
    """charge_coding -> Charge coding."""
    return name.replace("_", " ").capitalize()


def build_templates() -> Jinja2Templates:
    # Autoescape everywhere, whatever the file's extension: note text and edits are user data.
    environment = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True)
    environment.filters.update(
        confidence_band=confidence_band, percent=percent, age=age, duration=duration, humanize=humanize
    )
    return Jinja2Templates(env=environment)
