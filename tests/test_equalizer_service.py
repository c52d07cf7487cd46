"""The wired service shows a site's chargers and its Equalizer side by side, over real sockets.

The Equalizer reuses the charger's observation ids with other meanings (31 is the L1 current
on an Equalizer, IsEnabled on a charger; 40 the import power, the LED brightness): each
product must be decoded with its own table, and no Equalizer reading may ever appear under
an ``easee_charger_*`` name.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp.test_utils import TestClient

from exporter.app import SERVICE, create_app
from exporter.simulator import SimulatorConfig, run_simulator
from exporter.simulator.config import AccountConfig, ChargerSpec
from exporter.simulator.simulator import Simulator
from tests.metrics.support import families_of, sample_value
from tests.test_app import eventually, settings_for

EQUALIZER = "QP001001"
CHARGER = "EH000001"


def _config(**settings: object) -> SimulatorConfig:
    account = AccountConfig(
        username="demo",
        password="demo-password",
        chargers=(ChargerSpec(serial=CHARGER, scenario="charging"),),
        equalizer=True,
    )
    return SimulatorConfig(accounts=(account,), keepalive_interval=0.5, **settings)  # type: ignore[arg-type]


async def _scrape(client: TestClient) -> str:
    return await (await client.get("/metrics")).text()


def _eq(metric: str, text: str, **labels: str) -> float | None:
    return sample_value(text, metric, {"equalizer_id": EQUALIZER, **labels})


async def test_overlapping_ids_are_decoded_by_product_in_base_units(
    aiohttp_client: Callable[..., object],
) -> None:
    async with run_simulator(_config()) as sim:
        client: TestClient = await aiohttp_client(create_app(settings_for(sim)))  # type: ignore[operator]
        store = client.app[SERVICE].store
        # The replay on subscription: the Equalizer's stored readings with old timestamps.
        await eventually(
            lambda: (
                EQUALIZER in store.view().equalizers
                and 40 in store.view().equalizers[EQUALIZER].observations
            )
        )
        meter = sim.equalizer(EQUALIZER)
        text = await _scrape(client)
        for phase in range(3):
            current = _eq("easee_equalizer_current_amperes", text, phase=f"L{phase + 1}")
            assert current == meter.value(31 + phase)
        assert _eq("easee_equalizer_import_energy_joules_total", text) == (
            float(meter.value(45) or 0) * 3.6e6
        )

        # The same ids on both products, on one connection.
        sim.set_observation(EQUALIZER, 31, -4.25)  # L1 current while exporting: negative
        sim.set_observation(EQUALIZER, 40, 2.5)  # kW
        sim.set_observation(EQUALIZER, 45, 1234.5)  # kWh
        sim.set_observation(CHARGER, 31, True)  # IsEnabled
        sim.set_observation(CHARGER, 40, 50)  # LED strip brightness, percent

        def arrived() -> bool:
            view = store.view()
            eq = view.equalizers[EQUALIZER].observations
            charger = view.chargers[CHARGER].observations
            return eq[45].value == 1234.5 and charger[40].value == 50

        await eventually(arrived)
        text = await _scrape(client)
        assert _eq("easee_equalizer_current_amperes", text, phase="L1") == -4.25
        assert _eq("easee_equalizer_import_power_watts", text) == 2500.0
        assert _eq("easee_equalizer_import_energy_joules_total", text) == 1234.5 * 3.6e6
        charger = {"charger_id": CHARGER}
        assert sample_value(text, "easee_charger_enabled", charger) == 1.0
        assert sample_value(text, "easee_charger_led_strip_brightness_ratio", charger) == 0.5
        site = str(sim.account("demo").site_id)
        info = {"name": "Grid meter", "site": site, "circuit": "", "firmware": "108"}
        assert _eq("easee_equalizer_info", text, **info) == 1.0
        assert _eq("easee_equalizer_online", text) == 1.0
        assert _eq("easee_equalizer_main_fuse_amperes", text) == 40.0  # the site's ratedCurrent
        for line in text.splitlines():
            if line.startswith("easee_charger_"):
                assert EQUALIZER not in line, line
            if EQUALIZER in line:
                assert line.startswith("easee_equalizer_"), line


async def test_an_equalizer_offline_by_its_own_clock_stays_offline_through_a_replay(
    aiohttp_client: Callable[..., object],
) -> None:
    # The meter reports every 0.3 s; offline after 2 s of silence. Model time stays real
    # time: the Equalizer's timestamps are what the store judges.
    async with run_simulator(_config(equalizer_interval=0.3, tick_interval=0.1)) as sim:
        settings = settings_for(sim, EASEE_CHARGER_OFFLINE_AFTER="2")
        client: TestClient = await aiohttp_client(create_app(settings))  # type: ignore[operator]
        store = client.app[SERVICE].store

        async def online() -> float | None:
            return _eq("easee_equalizer_online", await _scrape(client))

        await eventually(lambda: EQUALIZER in store.view().equalizers)
        await _until(online, 1.0)
        sim.set_silent(EQUALIZER)
        await _until(online, 0.0)
        text = await _scrape(client)
        # Live readings leave with it; the meter's registers and its last time stay.
        assert _eq("easee_equalizer_import_power_watts", text) is None
        assert _eq("easee_equalizer_current_amperes", text, phase="L1") is None
        assert _eq("easee_equalizer_import_energy_joules_total", text) is not None
        last_seen = _eq("easee_equalizer_last_seen_timestamp_seconds", text)
        assert last_seen is not None
        # A reconnect replays the stored readings with their old timestamps: still offline.
        subscriptions = len(_subscriptions(sim, EQUALIZER))
        received = store.view().equalizers[EQUALIZER].last_received_at
        await sim.drop_streams()
        await eventually(lambda: len(_subscriptions(sim, EQUALIZER)) > subscriptions)
        await eventually(lambda: store.view().equalizers[EQUALIZER].last_received_at != received)
        text = await _scrape(client)
        assert _eq("easee_equalizer_online", text) == 0.0
        assert _eq("easee_equalizer_last_seen_timestamp_seconds", text) == last_seen
        sim.set_silent(EQUALIZER, on=False)
        await _until(online, 1.0)


async def test_an_account_lists_or_excludes_equalizers(
    aiohttp_client: Callable[..., object], tmp_path: Path
) -> None:
    async with run_simulator(_config()) as sim:
        config = tmp_path / "config.yml"
        config.write_text(
            "accounts:\n  - name: default\n    exclude_equalizers: [qp001001]\n",
            encoding="utf-8",
        )
        client: TestClient = await aiohttp_client(  # type: ignore[operator]
            create_app(
                settings_for(
                    sim,
                    config_file=config,
                    EASEE_USERNAME="demo",
                    EASEE_PASSWORD="demo-password",
                )
            )
        )
        store = client.app[SERVICE].store
        await eventually(lambda: len(store.view().sites) == 1)
        await eventually(lambda: CHARGER in store.view().chargers)
        text = await _scrape(client)
        assert "easee_equalizer_" not in "".join(
            line for line in text.splitlines() if not line.startswith("#")
        )
        assert store.view().equalizers == {}
        assert not _subscribed(sim, EQUALIZER)
        await client.close()

        config.write_text(
            "accounts:\n  - name: default\n    equalizers: [QP001001]\n", encoding="utf-8"
        )
        settings = settings_for(
            sim, config_file=config, EASEE_USERNAME="demo", EASEE_PASSWORD="demo-password"
        )
        assert settings.accounts[0].equalizers == (EQUALIZER,)
        client = await aiohttp_client(create_app(settings))  # type: ignore[operator]
        store = client.app[SERVICE].store
        await eventually(lambda: EQUALIZER in store.view().equalizers)
        await eventually(lambda: _subscribed(sim, EQUALIZER))
        families = families_of(await _scrape(client))
        assert EQUALIZER in families["easee_equalizer_info"]


def _subscriptions(sim: Simulator, product_id: str) -> list[object]:
    return [
        event
        for event in sim.hub_events.of("invocation")
        if event.data.get("target") == "SubscribeWithCurrentState"
        and event.data.get("arguments") == [product_id, True]
    ]


def _subscribed(sim: Simulator, product_id: str) -> bool:
    return bool(_subscriptions(sim, product_id))


async def _until(
    read: Callable[[], Awaitable[float | None]], expected: float, within: float = 10.0
) -> None:
    """Poll an async reading until it equals ``expected``."""
    deadline = time.monotonic() + within
    while True:
        value = await read()
        if value == expected:
            return
        assert time.monotonic() < deadline, f"still {value!r}, not {expected!r}"
        await asyncio.sleep(0.05)
