"""The Crystal PM client: the port, its adapters and errors; the only code that knows Crystal PM's API."""

from billing.settings import Settings
from tools.crystalpm.errors import CrystalPMError, NotFound, RateLimited, Rejected, Unauthorized, Unavailable
from tools.crystalpm.files import FilesCrystalPM, NotSupported
from tools.crystalpm.port import CrystalPM
from tools.crystalpm.rest import AsyncRestCrystalPM, RestCrystalPM

__all__ = [
    "AsyncRestCrystalPM",
    "CrystalPM",
    "CrystalPMError",
    "FilesCrystalPM",
    "NotFound",
    "NotSupported",
    "RateLimited",
    "Rejected",
    "RestCrystalPM",
    "Unauthorized",
    "Unavailable",
    "make_async_crystalpm",
    "make_crystalpm",
]


def _require_rest(settings: Settings) -> None:
    if settings.crystalpm_adapter == "files":
        raise NotSupported(
            "the async Crystal PM client is REST only; with FOVEA_CRYSTALPM_ADAPTER=files use make_crystalpm"
        )


def make_crystalpm(settings: Settings) -> CrystalPM:
    """The Crystal PM client the settings ask for (FOVEA_CRYSTALPM_ADAPTER)."""
    if settings.crystalpm_adapter == "files":
        return FilesCrystalPM.from_settings(settings)
    return RestCrystalPM.from_settings(settings)


def make_async_crystalpm(settings: Settings) -> AsyncRestCrystalPM:
    """The async Crystal PM client for async graph nodes; REST only."""
    _require_rest(settings)
    return AsyncRestCrystalPM.from_settings(settings)
