"""Fixtures of the simulator tests: a simulated cloud on 127.0.0.1 with shortened timings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from exporter.simulator import Simulator, SimulatorConfig, run_simulator

# Real-second protocol timings, shortened so every test stays fast. The ticker is off
# (tick_interval 0): the model clock only moves when a test calls advance().
FAST: dict[str, Any] = {
    "keepalive_interval": 0.2,
    "client_timeout": 1.0,
    "command_response_delay": 0.05,
    "op_mode_delay": 0.05,
    "tick_interval": 0.0,
}


def fast_config(**overrides: Any) -> SimulatorConfig:
    """The default demo account (3 chargers) with FAST timings, plus ``overrides``."""
    settings = {**FAST, **overrides}
    chargers = settings.pop("chargers", 3)
    return SimulatorConfig.single_account(chargers=chargers, **settings)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with run_simulator(fast_config()) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
