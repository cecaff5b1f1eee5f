"""The Crystal PM client: the port, its adapters and errors; the only code that knows Crystal PM's API."""

from billing.settings import Settings
from tools.crystalpm.errors import CrystalPMError, NotFound, RateLimited, Rejected, Unauthorized, Unavailable
from tools.crystalpm.port import CrystalPM
from tools.crystalpm.rest import AsyncRestCrystalPM, RestCrystalPM

__all__ = [
    "AsyncRestCrystalPM",
    "CrystalPM",
    "CrystalPMError",
    "NotFound",
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
        raise NotImplementedError(
            "the 'files' Crystal PM adapter (835 files, CSV exports, note files in a watched folder) "
            "comes with the remittance work; set FOVEA_CRYSTALPM_ADAPTER=rest for now"
        )


def make_crystalpm(settings: Settings) -> CrystalPM:
    """The Crystal PM client the settings ask for (FOVEA_CRYSTALPM_ADAPTER)."""
    _require_rest(settings)
    return RestCrystalPM.from_settings(settings)


def make_async_crystalpm(settings: Settings) -> AsyncRestCrystalPM:
    """The async Crystal PM client for async graph nodes; REST only."""
    _require_rest(settings)
    return AsyncRestCrystalPM.from_settings(settings)
