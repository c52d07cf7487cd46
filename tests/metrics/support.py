"""Shared helpers of the metrics tests: stores filled from the simulated cloud, exposition
text handling, and the live scenario (simulator + Easee client + store + /metrics)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client import CollectorRegistry

from exporter.easee.account import AccountConfig, EaseeAccount
from exporter.easee.client import Credentials
from exporter.easee.decode import Decoder
from exporter.easee.models import ChargerSummary, Observation
from exporter.easee.options import AccountOptions
from exporter.metrics import ChargerCollector, ExportFilter, make_metrics_handler
from exporter.metrics.registry import service_registry
from exporter.selfmetrics import ServiceMetrics
from exporter.simulator import SimulatorConfig, run_simulator
from exporter.simulator.simulator import Simulator
from exporter.state import ChargerMeta, StateStore

#: Model time of every simulated cloud in these tests, so timestamps repeat run after run.
START = datetime(2026, 6, 1, 8, 0, 0, tzinfo=UTC)
#: Receive time of the observations the tests decode themselves.
RECEIVED = START.timestamp() + 60.0


def truth_observations(sim: Simulator, serial: str, *, received_at: float) -> list[Observation]:
    """Every stored observation of a simulated charger, through the REST decoder."""
    decoder = Decoder()
    observations = []
    for obs_id, item in sim.truth(serial)["observations"].items():
        observation = decoder.rest_observation(
            {"id": int(obs_id), **item},
            charger_id=serial,
            received_at=received_at,
            fallback_timestamp=received_at,
        )
        assert observation is not None, (serial, obs_id, item)
        observations.append(observation)
    assert not decoder.errors
    return observations


def meta_of(sim: Simulator, serial: str, account: str = "demo") -> ChargerMeta:
    spec = sim.charger(serial).spec
    return ChargerMeta(
        charger_id=serial,
        name=spec.display_name,
        account=account,
        color=spec.color,
        product_code=spec.product_code,
    )


def store_from(sim: Simulator, *, received_at: float = RECEIVED) -> StateStore:
    """A store holding every charger of ``sim`` with all its current observations."""
    store = StateStore()
    for serial in sim.serials():
        store.upsert_charger(meta_of(sim, serial))
        store.apply_many(truth_observations(sim, serial, received_at=received_at))
    return store


def families_of(text: str) -> dict[str, str]:
    """Text-format exposition -> {family name (as in # HELP): its block of lines}."""
    blocks: dict[str, list[str]] = {}
    name = ""
    for line in text.splitlines(keepends=True):
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            blocks[name] = []
        blocks.setdefault(name, []).append(line)
    return {family: "".join(lines) for family, lines in blocks.items()}


def sample_value(text: str, name: str, labels: dict[str, str]) -> float | None:
    """The value of one series of a text exposition (labels must match exactly)."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return None


async def wait_until(
    predicate: Callable[[], bool], *, within: float = 10.0, what: str = "the condition"
) -> None:
    """Poll ``predicate`` until it holds; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.01)


def store_matches_truth(store: StateStore, sim: Simulator) -> bool:
    """Every charger of ``sim`` is in the store with every observation at its true value."""
    view = store.view()
    for serial in sim.serials():
        charger = view.chargers.get(serial)
        if charger is None:
            return False
        truth = sim.charger(serial).observations
        if set(charger.observations) != set(truth):
            return False
        for obs_id, stored in truth.items():
            if charger.observations[obs_id].value != stored.value:
                return False
    return True


@dataclass
class Live:
    """A running scenario: the simulated cloud, the store the client fills, and /metrics."""

    sim: Simulator
    store: StateStore
    collector: ChargerCollector
    service: ServiceMetrics
    url: str
    session: aiohttp.ClientSession

    async def scrape(self, **headers: str) -> aiohttp.ClientResponse:
        response = await self.session.get(self.url, headers=headers)
        await response.read()
        return response

    async def text(self, query: str = "") -> str:
        async with self.session.get(self.url + query) as response:
            assert response.status == 200
            return await response.text()

    async def synced(self) -> None:
        """Wait until the store holds exactly what the simulated cloud holds."""
        await wait_until(
            lambda: store_matches_truth(self.store, self.sim), what="the store to match the cloud"
        )


def _options(sim: Simulator, overrides: dict[str, Any]) -> AccountOptions:
    settings: dict[str, Any] = dict(
        api_url=sim.base_url,
        stream_url=sim.hub_url,
        request_timeout=2.0,
        background_max_wait=2.0,
        silence_timeout=3.0,
        connect_timeout=3.0,
        hub_ping_interval=0.5,
        ws_ping_interval=1.0,
        backoff_base=0.05,
        backoff_cap=0.3,
        quick_retry=(0.01, 0.05),
    )
    settings.update(overrides)
    return AccountOptions(**settings)


@asynccontextmanager
async def live(
    chargers: int = 3,
    *,
    export_filter: ExportFilter | None = None,
    offline_after: float = 1200.0,
    account_options: dict[str, Any] | None = None,
    **sim_settings: Any,
) -> AsyncIterator[Live]:
    """The simulated cloud (model clock moved by hand), one Easee account streaming into a
    store, and ``/metrics`` served on 127.0.0.1, as the service wires them."""
    config = SimulatorConfig.single_account(
        chargers=chargers,
        seed=7,
        start_time=START,
        tick_interval=0,
        keepalive_interval=0.5,
        client_timeout=5.0,
        **sim_settings,
    )
    async with (
        run_simulator(config) as sim,
        aiohttp.ClientSession() as client_session,
        aiohttp.ClientSession() as scraper,
    ):
        store = StateStore()
        registry: CollectorRegistry = service_registry()
        service = ServiceMetrics(registry, max_data_age=900)
        service.set_accounts(["demo"])

        def on_chargers(account: str, summaries: Sequence[ChargerSummary]) -> None:
            for summary in summaries:
                store.upsert_charger(
                    ChargerMeta(
                        charger_id=summary.charger_id,
                        name=summary.name,
                        account=account,
                        color=summary.color,
                        product_code=summary.product_code,
                    )
                )

        account = EaseeAccount(
            AccountConfig(name="demo", credentials=Credentials("demo", "demo")),
            session=client_session,
            options=_options(sim, account_options or {}),
            events=service,
            sink=store.apply,
            on_chargers=on_chargers,
        )
        # The charger's own clock is the model's: age is measured on it, so a charger is
        # offline by the simulated time it kept silent, not by the model's start date.
        collector = ChargerCollector(
            store.view,
            export_filter=export_filter,
            offline_after=offline_after,
            clock=sim.clock.now,
        )
        app = web.Application()
        app.router.add_get("/metrics", make_metrics_handler(registry, collector))
        async with TestServer(app, host="127.0.0.1") as server, account:
            url = str(server.make_url("/metrics"))
            scenario = Live(sim, store, collector, service, url, scraper)
            await scenario.synced()
            yield scenario
