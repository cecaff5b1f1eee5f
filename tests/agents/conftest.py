"""Shared fixtures of the agent tests."""

import pytest

from agents.coding.offline import OfflineCoder


@pytest.fixture(scope="session")
def coder() -> OfflineCoder:
    """The offline coder on the bundled knowledge, loaded once for every coding test."""
    return OfflineCoder()
