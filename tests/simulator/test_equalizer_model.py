"""The simulated Equalizer: it meters the household, the site's chargers and the solar export."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from exporter.simulator import ChargerSpec, Simulator
from exporter.simulator.config import AccountConfig, SimulatorConfig

EQUALIZER = "QP001001"
NIGHT = datetime(2026, 5, 1, 2, 0, 10, tzinfo=UTC)
NOON = datetime(2026, 5, 1, 12, 0, 10, tzinfo=UTC)


def _sim(start: datetime, *chargers: ChargerSpec) -> Simulator:
    account = AccountConfig(username="demo", password="demo", chargers=chargers, equalizer=True)
    # Not served: the model alone, its clock moved by advance().
    return Simulator(
        SimulatorConfig(accounts=(account,), tick_interval=0.0, start_time=start, seed=3)
    )


def _meter(sim: Simulator) -> dict[int, float]:
    model = sim.equalizer(EQUALIZER)
    ids = (*range(31, 47), 87, 105, 106, 107)
    return {obs_id: float(model.value(obs_id) or 0.0) for obs_id in ids}


def test_at_night_it_imports_the_house_plus_the_charging_power() -> None:
    sim = _sim(NIGHT, ChargerSpec(serial="EH000001", scenario="charging", phases=3))
    updates = sim.advance(20.0)
    # Only what changed: the export stays 0 and is not sent again.
    sent = {u.obs_id for u in updates if u.serial == EQUALIZER}
    assert sent >= {31, 32, 33, 40}
    assert 41 not in sent
    charger = sim.charger("EH000001")
    assert charger.power_kw > 3.0
    meter = _meter(sim)
    # Each phase carries the charger's current plus a share of the house, nothing exported.
    for phase in range(3):
        assert meter[31 + phase] > charger.amps
        assert meter[105 + phase] == pytest.approx(charger.amps, abs=0.05)
    assert meter[41] == 0.0
    assert charger.power_kw < meter[40] < charger.power_kw + 5.0
    volts_amps = sum(meter[31 + i] * meter[34 + i] for i in range(3)) / 1000
    assert meter[40] == pytest.approx(volts_amps, rel=0.01)
    # What is left for the chargers under the 40 A main fuse.
    assert meter[87] == pytest.approx(40.0 - (meter[31] - meter[105]), abs=0.1)


def test_at_noon_without_charging_it_exports_with_negative_currents() -> None:
    sim = _sim(NOON, ChargerSpec(serial="EH000001", scenario="idle"))
    sim.advance(20.0)
    meter = _meter(sim)
    assert meter[40] == 0.0
    assert meter[41] > 1.0
    assert all(meter[31 + phase] < 0 for phase in range(3))


def test_the_energy_registers_move_only_at_the_hour_mark() -> None:
    sim = _sim(NIGHT, ChargerSpec(serial="EH000001", scenario="charging"))
    before = _meter(sim)[45]
    seconds = 3600.0 - NIGHT.minute * 60 - NIGHT.second
    registers = []
    for _ in range(int(seconds // 20) - 1):
        registers += [u for u in sim.advance(20.0) if u.obs_id in (45, 46)]
    assert registers == []
    assert _meter(sim)[45] == before
    registers = [u for u in sim.advance(40.0) if u.obs_id in (45, 46)]
    assert [u.obs_id for u in registers] == [45]  # nothing exported at night
    # About an hour of charging (~11 kW) and the house, in kWh.
    assert 8.0 < _meter(sim)[45] - before < 20.0


def test_a_silent_equalizer_sends_nothing_and_an_offline_one_says_so() -> None:
    sim = _sim(NIGHT, ChargerSpec(serial="EH000001", scenario="charging"))
    sim.set_silent(EQUALIZER)
    assert not [u for u in sim.advance(60.0) if u.serial == EQUALIZER]
    assert sim.equalizer(EQUALIZER).value(250) is True
    sim.set_silent(EQUALIZER, on=False)
    assert [u for u in sim.advance(20.0) if u.serial == EQUALIZER]
    sim.set_online(EQUALIZER, on=False)
    assert sim.equalizer(EQUALIZER).value(250) is False
    assert sim.equalizer(EQUALIZER).value(251) == "MQTT_KEEP_ALIVE_TIMEOUT"
    assert not [u for u in sim.advance(60.0) if u.serial == EQUALIZER]
