"""A charger that falls silent while the cloud still calls it connected turns offline by its
own clock, over real sockets: the simulated cloud, the Easee client, the store, ``/metrics``.

The collector's clock is the simulator's model clock (see ``support.live``), so "20 minutes of
silence" is 20 model minutes moved by hand.
"""

from __future__ import annotations

from exporter.simulator.faults import NegotiateOverride
from tests.metrics.support import Live, live, wait_until

SILENT = "EH000001"  # charging when the scenario starts
OTHER = "EH000002"


async def caught_up(scenario: Live, *serials: str) -> None:
    """Wait until the store has seen each charger's newest data of the simulated cloud."""

    def done() -> bool:
        view = scenario.store.view()
        for serial in serials:
            newest = max(o.timestamp for o in scenario.sim.charger(serial).observations.values())
            if view.chargers[serial].last_seen_at != newest:
                return False
        return True

    await wait_until(done, what=f"the store to catch up with {', '.join(serials)}")


def line(name: str, serial: str, value: str) -> str:
    return f'{name}{{charger_id="{serial}"}} {value}'


async def assert_online(scenario: Live, serial: str, online: bool) -> str:
    text = await scenario.text()
    assert line("easee_charger_online", serial, "1.0" if online else "0.0") in text
    power = f'easee_charger_power_watts{{charger_id="{serial}"}}'
    assert (power in text) is online
    # state, counters and info stay either way
    assert f'easee_charger_op_mode_code{{charger_id="{serial}"}}' in text
    assert f'easee_charger_energy_joules_total{{charger_id="{serial}"}}' in text
    assert f'easee_charger_info{{account="demo",charger_id="{serial}"' in text
    return text


async def test_a_silent_charger_goes_offline_and_a_replay_does_not_revive_it() -> None:
    async with live(3, offline_after=1200) as scenario:
        sim, store = scenario.sim, scenario.store
        await assert_online(scenario, SILENT, True)
        sim.set_silent(SILENT)
        sim.advance(600)
        await caught_up(scenario, OTHER)
        await assert_online(scenario, SILENT, True)  # 10 minutes: still within the window
        sim.advance(700)
        await caught_up(scenario, OTHER)
        await assert_online(scenario, SILENT, False)
        await assert_online(scenario, OTHER, True)
        assert sim.truth(SILENT)["observations"]["250"]["value"] is True  # the cloud's view

        # A reconnect replays the silent charger's last values with their old timestamps:
        # they arrive, but they do not make it fresh.
        received = store.view().chargers[SILENT].last_received_at
        await sim.drop_streams()
        await wait_until(
            lambda: (store.view().chargers[SILENT].last_received_at or 0) > (received or 0),
            what="the replay after the reconnect",
        )
        await assert_online(scenario, SILENT, False)

        sim.set_silent(SILENT, False)
        sim.advance(60)
        await caught_up(scenario, SILENT)
        await assert_online(scenario, SILENT, True)


async def test_a_rest_snapshot_does_not_revive_a_silent_charger() -> None:
    """While the stream is down, snapshots fill in; they, too, carry the silent charger's old
    timestamps, so it stays offline while the others stay online."""
    async with live(
        3, offline_after=1200, account_options={"snapshot_interval_stream_down": 0.3}
    ) as scenario:
        sim, store = scenario.sim, scenario.store
        sim.set_silent(SILENT)
        sim.advance(1300)
        await caught_up(scenario, OTHER)
        await assert_online(scenario, SILENT, False)
        seen = store.view().chargers[SILENT].last_seen_at
        sim.set_faults(negotiate=NegotiateOverride(status=503))
        await sim.drop_streams()
        path = f"/state/{SILENT}/observations"
        await wait_until(lambda: sim.requests.count(path=path, status=200) >= 2, what="snapshots")
        view = store.view().chargers[SILENT]
        assert view.last_seen_at == seen
        await assert_online(scenario, SILENT, False)
        await assert_online(scenario, OTHER, True)
