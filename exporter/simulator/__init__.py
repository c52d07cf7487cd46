"""A simulated Easee cloud: api.easee.com REST + the streams.easee.com SignalR hub.

It follows ``easee-cloud-api.md`` and ``signalr-client.md`` section 6, not convenience: a
client that works against it should work against the real cloud. Used in-process (tests,
``easee-exporter --demo``) and standalone (``easee-exporter simulate``). The full reference
(routes, admin API, faults, timings) is ``docs/simulator.md``.

In-process use::

    from exporter.simulator import SimulatorConfig, run_simulator

    config = SimulatorConfig.single_account(chargers=3, keepalive_interval=0.2,
                                            client_timeout=1.0)
    async with run_simulator(config) as sim:          # 127.0.0.1, free port
        sim.base_url      # http://127.0.0.1:PORT   (REST: /api/..., /state/..., /health)
        sim.hub_url       # http://127.0.0.1:PORT/hubs/chargers
        sim.admin_url     # http://127.0.0.1:PORT/_sim
        sim.serials("demo")                           # ["EH000001", "EH000002", "EH000003"]
        sim.value("EH000001", 109)                    # 3 (typed truth)
        sim.truth("EH000001")                         # everything, JSON-ready
        sim.set_faults(stall="app", bool_spelling="mix")   # any field of Faults
        sim.clear_faults()
        await sim.drop_streams("abort")               # "close" | "abort" | "close_msg"
        await sim.refuse_connections(True)
        sim.expire_tokens(); sim.revoke_tokens("demo")
        sim.plug_car("EH000003", energy_kwh=10); sim.unplug_car("EH000003")
        sim.set_error("EH000001", True); sim.set_online("EH000001", False)
        sim.set_observation("EH000001", 150, 41.5)
        sim.add_chargers("demo", 1000); sim.remove_charger("EH000002")
        sim.advance(3600)                             # model seconds, one physics step
        sim.push_burst(10_000)                        # load: many updates, batched frames
        sim.requests.count(route="/api/chargers", account="demo")
        sim.hub_events.of("negotiate")

Several accounts: ``SimulatorConfig(accounts=(AccountConfig(username="a", password="pa",
chargers=make_chargers(2)), AccountConfig(username="b", password="pb",
chargers=make_chargers(2, start=3))))``.

Model time (charger physics, observation timestamps) runs ``time_scale`` times faster than
real time; protocol timings (``token_lifetime``, ``keepalive_interval``, ``client_timeout``,
``command_response_delay``, ``op_mode_delay``) are real seconds and never scaled. With
``tick_interval=0`` the model clock only moves through ``advance``, which makes tests exact.
"""

from exporter.simulator.catalog import DataType
from exporter.simulator.config import (
    AccountConfig,
    ChargerSpec,
    SimulatorConfig,
    make_chargers,
)
from exporter.simulator.faults import Faults, NegotiateOverride, RequestBurst
from exporter.simulator.server import create_app, run_simulator
from exporter.simulator.simulator import Simulator

__all__ = [
    "AccountConfig",
    "ChargerSpec",
    "DataType",
    "Faults",
    "NegotiateOverride",
    "RequestBurst",
    "Simulator",
    "SimulatorConfig",
    "create_app",
    "make_chargers",
    "run_simulator",
]
