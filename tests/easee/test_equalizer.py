"""The account's Equalizers against the simulated cloud: discovery, subscription, snapshots."""

from __future__ import annotations

import aiohttp
import pytest

from exporter.easee.account import AccountConfig, EaseeAccount, EqualizerSelection
from exporter.easee.client import Credentials
from exporter.easee.equalizer_observations import EQUALIZER_OBSERVATIONS, is_equalizer_id
from exporter.easee.models import DataType, Equalizer, Observation
from exporter.easee.observations import OBSERVATIONS
from exporter.simulator.config import AccountConfig as SimAccount
from exporter.simulator.config import ChargerSpec
from exporter.simulator.faults import NegotiateOverride
from exporter.simulator.server import run_simulator
from exporter.simulator.simulator import Simulator
from tests.easee.support import RecordingEvents, fast_options, sim_config, wait_until

EQUALIZER = "QP001001"
CHARGER = "EH000001"
EVERY_EQUALIZER = EqualizerSelection()


def _cloud(*, equalizer: bool = True) -> tuple[SimAccount, ...]:
    charger = ChargerSpec(serial=CHARGER, scenario="charging")
    return (SimAccount(username="demo", password="demo", chargers=(charger,), equalizer=equalizer),)


class Sinks:
    def __init__(self) -> None:
        self.chargers: list[Observation] = []
        self.equalizers: list[Observation] = []


def account_for(
    cloud: Simulator,
    session: aiohttp.ClientSession,
    sinks: Sinks,
    selection: EqualizerSelection = EVERY_EQUALIZER,
    **overrides: object,
) -> EaseeAccount:
    return EaseeAccount(
        AccountConfig(name="home", credentials=Credentials("demo", "demo"), equalizers=selection),
        session=session,
        options=fast_options(cloud, **overrides),
        events=RecordingEvents(),
        sink=sinks.chargers.append,
        equalizer_sink=sinks.equalizers.append,
        on_chargers=lambda _account, _chargers: None,
        on_sites=lambda _account, _sites: None,
    )


def _subscribed(cloud: Simulator, product_id: str) -> bool:
    return any(
        event.data.get("target") == "SubscribeWithCurrentState"
        and event.data.get("arguments") == [product_id, True]
        for event in cloud.hub_events.of("invocation")
    )


@pytest.mark.parametrize("answer", ["null", "empty"])
async def test_a_site_without_equalizers_subscribes_only_the_chargers(
    session: aiohttp.ClientSession, answer: str
) -> None:
    sinks = Sinks()
    async with run_simulator(sim_config(_cloud(equalizer=answer == "null"))) as cloud:
        cloud.set_faults(null_equalizers=answer == "null")
        account = account_for(cloud, session, sinks)
        async with account:
            await wait_until(lambda: bool(account.sites), what="the site look-up")
            await wait_until(lambda: account.ready and bool(sinks.chargers))
            assert account.sites[0].equalizers == ()
            assert account.equalizers == ()
        assert _subscribed(cloud, CHARGER)
        assert not any(is_equalizer_id(s) for s in _subscribed_ids(cloud))
        assert sinks.equalizers == []


def _subscribed_ids(cloud: Simulator) -> list[str]:
    return [
        str(event.data["arguments"][0])
        for event in cloud.hub_events.of("invocation")
        if event.data.get("target") == "SubscribeWithCurrentState"
    ]


async def test_the_equalizer_is_subscribed_on_the_open_stream_and_decoded_with_its_table(
    session: aiohttp.ClientSession,
) -> None:
    sinks = Sinks()
    async with run_simulator(sim_config(_cloud())) as cloud:
        account = account_for(cloud, session, sinks)
        async with account:
            await wait_until(lambda: bool(account.equalizers), what="the Equalizer discovered")
            site = cloud.account("demo").site_id
            assert account.equalizers == (Equalizer(EQUALIZER, "Grid meter", site, None),)
            # Its replay: every stored reading, with the Equalizer's own types.
            stored = cloud.equalizer(EQUALIZER).observations
            await wait_until(lambda: {o.obs_id for o in sinks.equalizers} >= set(stored))
        assert all(o.charger_id == EQUALIZER for o in sinks.equalizers)
        assert all(o.charger_id == CHARGER for o in sinks.chargers)
        by_id = {o.obs_id: o for o in sinks.equalizers}
        # 40 is a double in kW here, an integer percent on a charger.
        assert by_id[40].data_type is DataType.DOUBLE is EQUALIZER_OBSERVATIONS[40].data_type
        assert OBSERVATIONS[40].data_type is DataType.INTEGER
        assert by_id[40].value == stored[40].value
        assert by_id[31].value == stored[31].value  # a current, not IsEnabled
        assert by_id[250].value is True


async def test_an_excluded_equalizer_is_neither_subscribed_nor_read(
    session: aiohttp.ClientSession,
) -> None:
    sinks = Sinks()
    async with run_simulator(sim_config(_cloud())) as cloud:
        selection = EqualizerSelection(excluded=(EQUALIZER,))
        account = account_for(cloud, session, sinks, selection)
        async with account:
            await wait_until(lambda: bool(account.sites) and account.ready)
            await wait_until(lambda: bool(sinks.chargers))
            assert account.sites[0].equalizers != ()
            assert account.equalizers == ()
        assert not _subscribed(cloud, EQUALIZER)
        assert sinks.equalizers == []


async def test_snapshots_read_the_equalizer_while_the_stream_is_down(
    session: aiohttp.ClientSession,
) -> None:
    sinks = Sinks()
    async with run_simulator(sim_config(_cloud())) as cloud:
        account = account_for(
            cloud, session, sinks, snapshot_interval_stream_down=0.5, backoff_base=5.0
        )
        async with account:
            await wait_until(lambda: account.ready and _subscribed(cloud, EQUALIZER))
            cloud.set_faults(negotiate=NegotiateOverride(status=503))
            await cloud.drop_streams()
            await wait_until(lambda: not account.ready)
            streamed = len(sinks.equalizers)
            cloud.set_observation(EQUALIZER, 41, 3.25)  # exporting 3.25 kW: not streamed now
            path = f"/state/{EQUALIZER}/observations"
            await wait_until(
                lambda: (
                    cloud.requests.count(path=path) >= 1
                    and any(o.obs_id == 41 and o.value == 3.25 for o in sinks.equalizers)
                ),
                within=6,
                what="a snapshot of the Equalizer",
            )
            assert not account.ready
        snapped = sinks.equalizers[streamed:]
        assert {o.charger_id for o in snapped} == {EQUALIZER}
        # It asked for the Equalizer's ids: 87-89 are not in the charger's table.
        assert {o.obs_id for o in snapped} >= {31, 40, 41, 45, 87, 88, 89, 250}
        assert 87 not in OBSERVATIONS
