"""``/metrics`` holds the garbage collector's automatic collections off while it renders and
answers (``exporter.heap.CollectionHold``): the collection a render's allocations set off
runs after the answer, not while the scraper waits for it."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from exporter.metrics import ChargerCollector, make_metrics_handler
from exporter.simulator import Simulator, SimulatorConfig
from tests.metrics.support import START, store_from, wait_until


class Probe:
    """A collector of the service registry: notes, in the render thread, whether automatic
    collections were on; can make the render wait."""

    def __init__(self) -> None:
        self.seen: list[bool] = []
        self.entered = threading.Event()
        self.go_on = threading.Event()
        self.go_on.set()

    def collect(self) -> Iterator[Metric]:
        self.seen.append(gc.isenabled())
        self.entered.set()
        self.go_on.wait(10.0)
        yield GaugeMetricFamily("probe", "Whether collections were on.", value=1.0)


@pytest.fixture
def collecting() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


@pytest.fixture
def probe() -> Probe:
    return Probe()


@pytest.fixture
async def url(probe: Probe) -> AsyncIterator[str]:
    sim = Simulator(
        SimulatorConfig.single_account(chargers=3, seed=3, start_time=START, tick_interval=0)
    )
    store = store_from(sim)
    registry = CollectorRegistry()
    registry.register(probe)
    app = web.Application()
    app.router.add_get("/metrics", make_metrics_handler(registry, ChargerCollector(store.view)))
    async with TestServer(app, host="127.0.0.1") as server:
        yield str(server.make_url("/metrics"))


@pytest.mark.usefixtures("collecting")
@pytest.mark.parametrize("encoding", ["gzip", "identity"])
async def test_collections_are_off_while_rendering_and_on_after_the_answer(
    probe: Probe, url: str, encoding: str
) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(3):
            async with session.get(url, headers={"Accept-Encoding": encoding}) as response:
                assert response.status == 200
                assert b"probe 1.0" in await response.read()
            assert gc.isenabled()
    assert probe.seen == [False, False, False]


@pytest.mark.usefixtures("collecting")
async def test_collections_resume_when_the_scraper_leaves_mid_render(
    probe: Probe, url: str
) -> None:
    probe.go_on.clear()
    async with aiohttp.ClientSession() as session:
        request = session.get(url)
        task = asyncio.ensure_future(request.__aenter__())
        await asyncio.to_thread(probe.entered.wait, 10.0)
        assert not gc.isenabled()
        task.cancel()
    probe.go_on.set()
    await wait_until(gc.isenabled, what="collections to resume")
