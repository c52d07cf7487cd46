"""Sites and circuits: the document parser, and the account's discovery against the simulator."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import aiohttp
import pytest

from exporter.easee.account import AccountConfig, EaseeAccount
from exporter.easee.client import Credentials
from exporter.easee.errors import ProtocolError
from exporter.easee.models import Circuit, Equalizer, Site
from exporter.easee.sites import parse_sites
from exporter.simulator.config import AccountConfig as SimAccount
from exporter.simulator.config import ChargerSpec
from exporter.simulator.faults import RequestBurst
from exporter.simulator.server import run_simulator
from exporter.simulator.simulator import Simulator
from tests.easee.support import RecordingEvents, fast_options, sim_config, wait_until

PRODUCTS = "/api/accounts/products"

#: Two circuits: EH000001 and EH000002 on panel 1, EH000003 on panel 2.
TWO_CIRCUITS = (
    SimAccount(
        username="demo",
        password="demo",
        chargers=(
            ChargerSpec(serial="EH000001", scenario="charging"),
            ChargerSpec(serial="EH000002", scenario="connected"),
            ChargerSpec(serial="EH000003", circuit=2),
        ),
    ),
)


def test_products_document_with_nulls_and_odd_elements() -> None:
    body = [
        {
            "id": 7,
            "name": "Home",
            "siteKey": "WAFE-0007",
            "ratedCurrent": 63,
            "circuits": [
                {
                    "id": 70,
                    "siteId": 7,
                    "panelName": "1",
                    "ratedCurrent": 25.0,
                    "chargers": [{"id": "EH1"}, {"id": "EH2"}, {"name": "no id"}],
                },
                {"panelName": "no id"},
            ],
            "equalizers": [{"id": "QP1", "name": "Grid", "siteId": 7, "circuitId": None}],
        },
        {"id": 8, "name": "Cabin", "circuits": None, "equalizers": None},
        {"id": "not an int"},
        "junk",
    ]
    assert parse_sites(body, endpoint="products") == (
        Site(
            site_id=7,
            name="Home",
            site_key="WAFE-0007",
            rated_current=63.0,
            circuits=(Circuit(70, 7, "1", 25.0, ("EH1", "EH2")),),
            equalizers=(Equalizer("QP1", "Grid", 7, None),),
        ),
        Site(site_id=8, name="Cabin"),
    )
    with pytest.raises(ProtocolError):
        parse_sites({"sites": []}, endpoint="products")


class SitesProbe:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Site, ...]]] = []

    def on_sites(self, account: str, sites: Sequence[Site]) -> None:
        self.calls.append((account, tuple(sites)))


def account_for(
    cloud: Simulator, session: aiohttp.ClientSession, probe: SitesProbe, **overrides: object
) -> EaseeAccount:
    return EaseeAccount(
        AccountConfig(name="home", credentials=Credentials("demo", "demo")),
        session=session,
        options=fast_options(cloud, **overrides),
        events=RecordingEvents(),
        sink=lambda _observation: None,
        on_chargers=lambda _account, _chargers: None,
        on_sites=probe.on_sites,
    )


async def test_discovery_hands_the_circuits_over_and_costs_one_call_per_refresh(
    session: aiohttp.ClientSession,
) -> None:
    """The production figure follows from the count: one call at start and one per
    ``site_refresh_interval`` (6 h), i.e. 1/6 call per account per hour once running."""
    probe = SitesProbe()
    refresh = 0.4
    async with run_simulator(sim_config(TWO_CIRCUITS)) as cloud:
        account = account_for(cloud, session, probe, site_refresh_interval=refresh)
        async with account:
            await wait_until(lambda: bool(probe.calls), what="the first site look-up")
            started = time.monotonic()
            name, sites = probe.calls[0]
            assert name == "home"
            (site,) = sites
            assert site.site_id == cloud.account("demo").site_id
            assert [(c.panel, c.charger_ids) for c in site.circuits] == [
                ("1", ("EH000001", "EH000002")),
                ("2", ("EH000003",)),
            ]
            assert site.circuits[0].rated_current == 25.0
            assert site.equalizers == ()
            assert account.sites == sites
            await asyncio.sleep(5 * refresh)
            window = time.monotonic() - started
        calls = cloud.requests.count(route=PRODUCTS)
        # One at start plus one per refresh interval: never more, whatever the stream did.
        assert 1 + int(window / refresh) - 1 <= calls <= 1 + int(window / refresh) + 1
        assert cloud.requests.count(route="/api/sites/{site_id}") == 0
        assert cloud.requests.count(route="/state/{id}/observations") == 0


async def test_a_failing_site_look_up_never_holds_the_stream_and_is_retried(
    session: aiohttp.ClientSession,
) -> None:
    probe = SitesProbe()
    async with run_simulator(sim_config(TWO_CIRCUITS)) as cloud:
        cloud.set_faults(server_errors=RequestBurst(status=503, count=3, path_prefix=PRODUCTS))
        account = account_for(cloud, session, probe)
        async with account:
            await wait_until(lambda: account.ready, what="readiness despite the failures")
            await wait_until(lambda: bool(probe.calls), what="the retried look-up")
        assert cloud.requests.count(route=PRODUCTS, status=503) == 3
        assert cloud.requests.count(route=PRODUCTS, status=200) == 1
