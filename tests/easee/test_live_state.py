"""Accounts feeding the real state store: the store must end equal to the cloud's truth.

The issue's "done when" test lives here: two accounts with three chargers between them, a
time-scaled day of charging with faults switched on and off, and the store compared with
the simulator's truth for every charger at the end.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from typing import Any

import aiohttp

from exporter.easee.account import AccountConfig, EaseeAccount
from exporter.easee.client import Credentials
from exporter.easee.commands import Command
from exporter.easee.models import ChargerSummary
from exporter.simulator.config import AccountConfig as SimAccount
from exporter.simulator.config import ChargerSpec
from exporter.simulator.faults import NegotiateOverride, RequestBurst
from exporter.simulator.server import run_simulator
from exporter.simulator.simulator import Simulator
from exporter.state import Applied, ChargerMeta, StateStore
from tests.easee.support import RecordingEvents, fast_options, sim_config, wait_until


class Service:
    """The accounts of a service and its store, wired as the service wires them."""

    def __init__(self, cloud: Simulator, session: aiohttp.ClientSession, **overrides: Any):
        self.cloud = cloud
        self.store = StateStore()
        self.events = RecordingEvents()
        self.accounts = [
            EaseeAccount(
                AccountConfig(
                    name=sim.username, credentials=Credentials(sim.username, sim.password)
                ),
                session=session,
                options=fast_options(cloud, **overrides),
                events=self.events,
                sink=self.store.apply,
                on_chargers=self.on_chargers,
            )
            for sim in cloud.config.accounts
        ]

    def on_chargers(self, account: str, chargers: Sequence[ChargerSummary]) -> None:
        for charger in chargers:
            self.store.upsert_charger(
                ChargerMeta(charger_id=charger.charger_id, name=charger.name, account=account)
            )

    @property
    def ready(self) -> bool:
        return all(account.ready for account in self.accounts)

    def differences(self) -> list[str]:
        """Every reading where the store and the simulator's truth disagree."""
        found = []
        view = self.store.view()
        for serial, model in self.cloud.chargers.items():
            charger = view.chargers.get(serial)
            if charger is None:
                found.append(f"{serial}: not in the store")
                continue
            for obs_id, truth in model.observations.items():
                held = charger.observations.get(obs_id)
                if held is None:
                    found.append(f"{serial}/{obs_id}: missing (truth {truth.value!r})")
                elif (
                    not _same(held.value, truth.value) or abs(held.timestamp - truth.timestamp) > 1
                ):
                    found.append(
                        f"{serial}/{obs_id}: {held.value!r}@{held.timestamp} "
                        f"!= {truth.value!r}@{truth.timestamp}"
                    )
        return found


def _same(held: object, truth: object) -> bool:
    if isinstance(held, float) and isinstance(truth, int | float) and not isinstance(truth, bool):
        return math.isclose(held, float(truth), rel_tol=1e-9, abs_tol=1e-9)
    return held == truth


async def run_service(service: Service, stack: AsyncExitStack) -> None:
    for account in service.accounts:
        await stack.enter_async_context(account)
    await wait_until(lambda: service.ready, what="every account to be ready")


async def test_drops_with_stale_and_repeated_frames_leave_the_store_right(
    session: aiohttp.ClientSession,
) -> None:
    async with run_simulator(sim_config(tick_interval=0)) as cloud, AsyncExitStack() as stack:
        service = Service(cloud, session)
        await run_service(service, stack)
        cloud.set_faults(out_of_order=True, duplicates=True, bool_spelling="mix")
        for drop in range(12):
            cloud.advance(120.0)
            await cloud.drop_streams(("close", "abort", "close_msg")[drop % 3])
            await wait_until(lambda: service.ready, what=f"the stream after drop {drop + 1}")
            await wait_until(lambda: not service.differences(), what="the store to catch up")
        assert cloud.hub_events.of("ws_404") == []
        counts = service.store.counts
        # Replays after each reconnect are dropped as duplicates, stale frames as outdated.
        assert counts[Applied.DUPLICATE] > 0
        assert counts[Applied.OUTDATED] > 0
        assert service.differences() == []


async def test_pause_and_lock_show_in_the_derived_values(session: aiohttp.ClientSession) -> None:
    async with run_simulator(sim_config()) as cloud, AsyncExitStack() as stack:
        service = Service(cloud, session)
        await run_service(service, stack)
        account = service.accounts[0]
        charging = "EH000001"
        await wait_until(lambda: service.store.charger(charging).derived.op_mode == 3)
        response = await account.execute(charging, Command.PAUSE)
        assert response is not None
        assert response.was_accepted
        await wait_until(lambda: service.store.charger(charging).derived.paused is True)
        await account.execute(charging, Command.LOCK)
        await wait_until(lambda: service.store.charger(charging).derived.cable_lock_state in (2, 3))
        await account.execute(charging, Command.RESUME)
        await wait_until(lambda: service.store.charger(charging).derived.paused is False)
        await account.execute(charging, Command.UNLOCK)
        await wait_until(lambda: service.store.charger(charging).derived.cable_lock_state in (0, 1))


Step = Callable[[Simulator], Awaitable[None] | None]


async def test_a_day_with_faults_ends_with_the_store_equal_to_the_truth(
    session: aiohttp.ClientSession,
) -> None:
    """The issue's "done when": 3 chargers, 2 accounts, a time-scaled day, faults on and off."""
    accounts = (
        SimAccount(
            username="alice",
            password="a",
            chargers=(
                ChargerSpec(serial="EH000001", scenario="charging"),
                ChargerSpec(serial="EH000002", scenario="connected", network="cellular"),
            ),
        ),
        SimAccount(
            username="bob",
            password="b",
            chargers=(ChargerSpec(serial="EH000003", scenario="idle", grid="IT", phases=1),),
        ),
    )
    # The physics is stepped by the test, 5 model minutes at a time: 288 steps make a day.
    config = sim_config(accounts, tick_interval=0, token_lifetime=4.0)

    async def drop(mode: str) -> None:
        await cloud.drop_streams(mode)  # type: ignore[arg-type]

    async def expire_and_drop() -> None:
        cloud.expire_tokens()
        await cloud.drop_streams()

    # step -> (action, real seconds per step from here on)
    plan: dict[int, tuple[Callable[[], Any], float]] = {
        20: (lambda: drop("close"), 0.02),
        30: (lambda: cloud.set_faults(out_of_order=True, duplicates=True), 0.02),
        40: (lambda: cloud.set_faults(bool_spelling="mix", charger_update=True), 0.02),
        50: (lambda: cloud.set_faults(unknown_ids=True, subscribe_to_my_product=True), 0.02),
        60: (lambda: drop("abort"), 0.02),
        70: (lambda: cloud.set_faults(stall="app"), 0.3),  # pings only: the data watchdog
        80: (lambda: cloud.set_faults(stall=None), 0.02),
        100: (expire_and_drop, 0.02),
        110: (
            lambda: cloud.set_faults(
                server_errors=RequestBurst(count=5, status=503, path_prefix="/state"),
                rate_limit=RequestBurst(count=2, path_prefix="/state", retry_after=1),
            ),
            0.02,
        ),
        120: (lambda: cloud.set_faults(negotiate=NegotiateOverride(status=503)), 0.02),
        121: (lambda: drop("close_msg"), 0.2),  # the stream is down: snapshots every second
        130: (lambda: cloud.set_faults(negotiate=None), 0.02),
        150: (lambda: cloud.set_faults(stall="silent"), 0.25),  # not even pings
        158: (lambda: cloud.set_faults(stall=None), 0.02),
        170: (lambda: cloud.set_faults(malformed_frames="payload"), 0.02),
        190: (lambda: cloud.set_faults(malformed_frames=None, latency=0.3), 0.02),
        200: (lambda: cloud.set_faults(latency=0.0, ip_block="json"), 0.1),
        205: (lambda: drop("close"), 0.1),
        215: (lambda: cloud.set_faults(ip_block=None), 0.02),
        240: (lambda: drop("close"), 0.02),
        260: (lambda: cloud.set_faults(out_of_order=False, duplicates=False), 0.02),
    }
    async with run_simulator(config) as cloud, AsyncExitStack() as stack:
        service = Service(
            cloud,
            session,
            snapshot_interval=1.0,
            snapshot_interval_stream_down=1.0,
            watchdog_silence=1.5,
            silence_timeout=1.0,
            ip_block_backoff=1.0,
        )
        await run_service(service, stack)
        energy_at_start = {s: m.lifetime_kwh for s, m in cloud.chargers.items()}
        pace = 0.02
        for step in range(288):
            if step in plan:
                action, pace = plan[step]
                result = action()
                if asyncio.iscoroutine(result):
                    await result
            cloud.advance(300.0)
            await asyncio.sleep(pace)
        cloud.clear_faults()
        await wait_until(lambda: service.ready, within=10, what="every account to be ready")
        await wait_until(
            lambda: not service.differences(), within=10, what="the store to equal the truth"
        )
        assert service.differences() == []
        # The faults were seen and survived, not skipped.
        assert service.events.of("watchdog_reconnect")
        assert len(service.events.of("stream_reconnect")) >= 8
        assert service.events.of("decode_error")
        assert cloud.hub_events.of("ws_404") == []
        # It was a day of charging: energy flowed and the store counted it.
        charged = [s for s, m in cloud.chargers.items() if m.lifetime_kwh > energy_at_start[s]]
        assert charged
        for serial in charged:
            held = service.store.charger(serial).value(124)
            assert isinstance(held, float)
            assert held > energy_at_start[serial]
