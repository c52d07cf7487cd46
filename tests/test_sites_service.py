"""The wired service learns the accounts' sites: circuit labels and circuit metrics."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp.test_utils import TestClient

from exporter.app import SERVICE, create_app
from exporter.simulator import SimulatorConfig, run_simulator
from exporter.simulator.config import AccountConfig, ChargerSpec
from tests.metrics.support import families_of, sample_value
from tests.test_app import eventually, settings_for

CONFIG = SimulatorConfig(
    accounts=(
        AccountConfig(
            username="demo",
            password="demo-password",
            chargers=(
                ChargerSpec(serial="EH000001", scenario="charging"),
                ChargerSpec(serial="EH000002", circuit=2),
            ),
        ),
    ),
    keepalive_interval=0.5,
)


async def test_metrics_carry_sites_and_circuits(aiohttp_client: Callable[..., object]) -> None:
    async with run_simulator(CONFIG) as sim:
        client: TestClient = await aiohttp_client(create_app(settings_for(sim)))  # type: ignore[operator]
        store = client.app[SERVICE].store
        await eventually(lambda: len(store.view().sites) == 1)
        account = sim.account("demo")
        first, second = account.circuit(1), account.circuit(2)
        text = await (await client.get("/metrics")).text()
        families = families_of(text)
        info = families["easee_charger_info"]
        site = str(account.site_id)
        assert f'charger_id="EH000001",circuit="{first.circuit_id}"' in info
        assert f'charger_id="EH000002",circuit="{second.circuit_id}"' in info
        assert f'site="{site}"' in info
        circuits = families["easee_circuit_info"]
        for circuit in (first, second):
            labels = {
                "circuit_id": str(circuit.circuit_id),
                "site_id": site,
                "site_name": "Home of demo",
                "panel": str(circuit.panel),
            }
            assert sample_value(circuits, "easee_circuit_info", labels) == 1.0
            rated = sample_value(
                families["easee_circuit_rated_current_amperes"],
                "easee_circuit_rated_current_amperes",
                {"circuit_id": str(circuit.circuit_id)},
            )
            assert rated == 25.0
        assert sim.requests.count(route="/api/accounts/products") == 1
