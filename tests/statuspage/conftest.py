"""One simulated cloud, one service on a real socket and one Chromium for the whole module.

The cloud's clock only moves when told (``tick_interval=0``) and no car comes or goes by
itself, so the states the tests give the chargers stay put while the browser looks.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web

from exporter.app import SERVICE, Service, create_app
from exporter.config import CommandLine, load_settings
from exporter.power_history import PowerHistory
from exporter.simulator import AccountConfig, ChargerSpec, Simulator, SimulatorConfig
from exporter.simulator import run_simulator as start_simulator
from tests.statuspage.browser import Browser, run_browser

TOKEN = "status-page-token-0123456789abcdef"
PASSWORD = "status-page-password"
#: A charger whose name tries to break out of the HTML; the page must show it as text.
HOSTILE_NAME = "<img src=x id=injected>\"&'</h2>"
#: The charger the buttons act on: really charging in the simulated cloud.
BUTTON_CHARGER = ChargerSpec(serial="EH000100", name="Garage", scenario="charging")
#: Chargers the tests put into each picture's state (serials EH000001.. in this order).
PICTURE_COUNT = 8
#: The page's script refreshes this often in the tests (a person needs 10 s, a test less).
PAGE_REFRESH = 0.3


@dataclass(frozen=True, slots=True)
class Running:
    sim: Simulator
    service: Service
    url: str


async def eventually(check: Callable[[], object], within: float = 15.0) -> None:
    """Poll ``check`` until it is truthy, failing after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {within} s")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """The service on a free port of 127.0.0.1, for as long as the block runs; its base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


def fleet() -> tuple[ChargerSpec, ...]:
    pictures = tuple(
        ChargerSpec(serial=f"EH{n:06d}", name=f"Bay {n}", scenario="idle")
        for n in range(1, PICTURE_COUNT + 1)
    )
    hostile = ChargerSpec(serial="EH000099", name=HOSTILE_NAME, scenario="idle")
    return (*pictures, hostile, BUTTON_CHARGER)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def running() -> AsyncIterator[Running]:
    config = SimulatorConfig(
        accounts=(AccountConfig(username="demo", password=PASSWORD, chargers=fleet()),),
        tick_interval=0,
        autonomous_cars=False,
        command_response_delay=0.1,
        op_mode_delay=0.1,
    )
    async with start_simulator(config, access_log=False) as sim:
        env = {
            "EASEE_API_URL": sim.base_url,
            "EASEE_STREAM_URL": sim.hub_url,
            "EASEE_USERNAME": "demo",
            "EASEE_PASSWORD": PASSWORD,
            "EASEE_WEBHOOK_TOKEN": TOKEN,
        }
        app = create_app(
            load_settings(CommandLine(), env),
            power_history=PowerHistory(points=20, interval=0.1),
            page_refresh=PAGE_REFRESH,
        )
        async with serve(app) as url:
            service = app[SERVICE]
            await eventually(lambda: len(service.store.view().chargers) == len(fleet()))
            yield Running(sim=sim, service=service, url=url)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Browser]:
    profile: Path = tmp_path_factory.mktemp("chromium") / "profile"
    async with run_browser(profile) as started:
        yield started
