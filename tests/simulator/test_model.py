"""Charger physics and scenario controls: determinism, the car's life, energy, grids."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime

import aiohttp
import pytest

from exporter.simulator import ChargerSpec, Simulator, run_simulator
from exporter.simulator.charger import Update
from tests.simulator.conftest import fast_config
from tests.simulator.helpers import RawHub, bearer, is_completion, is_update, login

START = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _offline_sim(**settings: object) -> Simulator:
    """A simulator that is not served: the model alone, its clock moved by advance()."""
    base: dict[str, object] = {"tick_interval": 0.0, "start_time": START, "chargers": 4}
    return Simulator(fast_config(**{**base, **settings}))


def _trace(updates: list[Update]) -> list[tuple[str, int, object, float]]:
    return [(u.serial, u.obs_id, u.value, u.timestamp) for u in updates]


class TestDeterminism:
    def test_same_seed_same_world(self) -> None:
        first, second = _offline_sim(seed=7), _offline_sim(seed=7)
        assert [first.truth(s) for s in first.serials()] == [
            second.truth(s) for s in second.serials()
        ]
        for _ in range(200):
            assert _trace(first.advance(60)) == _trace(second.advance(60))

    def test_another_seed_another_world(self) -> None:
        first, second = _offline_sim(seed=7), _offline_sim(seed=8)
        assert first.truth("EH000001") != second.truth("EH000001")


class TestPhysics:
    def test_cars_charge_complete_leave_and_come_back(self) -> None:
        sim = _offline_sim()
        modes: dict[str, list[object]] = {s: [sim.value(s, 109)] for s in sim.serials()}
        for _ in range(24 * 60):
            for update in sim.advance(60):
                if update.obs_id == 109 and modes[update.serial][-1] != update.value:
                    modes[update.serial].append(update.value)
        assert modes["EH000001"][:4] == [3, 4, 1, 3]  # charging -> full -> gone -> next car
        assert modes["EH000003"][:3] == [1, 3, 4]  # idle until a car arrives

    def test_energy_follows_power(self) -> None:
        sim = _offline_sim(autonomous_cars=False)
        model = sim.charger("EH000001")
        sim.unplug_car("EH000001")
        sim.plug_car("EH000001", energy_kwh=200.0)
        session, lifetime = model.session_kwh, model.lifetime_kwh
        expected = 0.0
        published_session = []
        for _ in range(30):
            expected += model.power_kw * 60 / 3600
            published_session += [
                u.value for u in sim.advance(60) if u.obs_id == 121 and u.serial == "EH000001"
            ]
        assert model.session_kwh - session == pytest.approx(expected)
        assert model.lifetime_kwh - lifetime == pytest.approx(expected)
        assert published_session == sorted(published_session)  # never goes back in a session
        assert published_session[-1] == pytest.approx(model.session_kwh, abs=1e-3)

    def test_lifetime_energy_is_pushed_about_hourly_when_it_grows(self) -> None:
        sim = _offline_sim(autonomous_cars=False)
        sim.plug_car("EH000003", energy_kwh=200.0)
        pushes = []
        for _ in range(3 * 60):
            pushes += [u for u in sim.advance(60) if u.serial == "EH000003" and u.obs_id == 124]
        assert len(pushes) == 3
        assert [p.value for p in pushes] == sorted(p.value for p in pushes)

    def test_idle_charger_sends_only_a_heartbeat_every_15_minutes(self) -> None:
        sim = _offline_sim(autonomous_cars=False)
        idle = [u for _ in range(120) for u in sim.advance(60) if u.serial == "EH000003"]
        assert {u.obs_id for u in idle} == {150, 132}
        beats = [u.timestamp for u in idle if u.obs_id == 150]
        assert 6 <= len(beats) <= 10
        gaps = [b - a for a, b in itertools.pairwise(beats)]
        assert all(780 <= gap <= 1080 for gap in gaps)

    def test_tn_three_phase_terminals(self) -> None:
        """TN: T2 = N, T3..T5 = L1..L3; 194-196 phase voltages, 197-199 line voltages."""
        model = _offline_sim().charger("EH000001")
        assert (model.spec.grid, model.spec.phases) == ("TN", 3)
        value = model.value
        amps = [float(value(i)) for i in (183, 184, 185)]  # type: ignore[arg-type]
        offered = float(value(114))  # type: ignore[arg-type]
        assert offered == 25.0  # the circuit's 25 A, below the charger's 32 A
        assert all(offered * 0.95 < a <= offered + 0.2 for a in amps)
        assert float(value(182)) < 1.0  # type: ignore[arg-type]
        assert all(225 < float(value(i)) < 235 for i in (194, 195, 196))  # type: ignore[arg-type]
        assert all(390 < float(value(i)) < 410 for i in (197, 198, 199))  # type: ignore[arg-type]
        volts = [float(value(i)) for i in (194, 195, 196)]  # type: ignore[arg-type]
        power = sum(v * a for v, a in zip(volts, amps, strict=True)) / 1000
        assert value(120) == pytest.approx(power, abs=0.01)
        assert (value(21), value(110)) == (1, 30)

    def test_it_single_phase_terminals(self) -> None:
        """IT: T2..T4 = L1..L3, T5 unused; a 1-phase car sits between L1 and L2."""
        model = _offline_sim().charger("EH000004")
        assert (model.spec.grid, model.spec.phases, model.op_mode) == ("IT", 1, 3)
        value = model.value
        assert value(182) == value(183)
        assert float(value(182)) > 10  # type: ignore[arg-type]
        assert value(184) == value(185) == 0.0
        assert all(value(i) == 0.0 for i in (193, 196, 198, 199))  # T5 is unused
        assert all(225 < float(value(i)) < 235 for i in (194, 195, 197))  # type: ignore[arg-type]
        power = float(value(194)) * float(value(182)) / 1000  # type: ignore[arg-type]
        assert value(120) == pytest.approx(power, abs=0.01)
        assert (value(21), value(110)) == (4, 11)

    def test_wifi_or_cellular_rssi_with_the_other_one_zero(self) -> None:
        sim = _offline_sim()
        wifi, cellular = sim.charger("EH000001"), sim.charger("EH000002")
        assert (wifi.value(141), wifi.value(130)) == (1, 0)
        assert -90 < int(wifi.value(132)) < -40  # type: ignore[arg-type]
        assert (cellular.value(141), cellular.value(132)) == (0, 0)
        assert -100 < int(cellular.value(130)) < -60  # type: ignore[arg-type]

    def test_realistic_observation_set_with_official_types(self) -> None:
        model = _offline_sim().charger("EH000001")
        assert len(model.observations) >= 60
        for obs_id, expected in ((109, int), (120, float), (30, bool), (100, str), (47, float)):
            assert type(model.value(obs_id)) is expected


class TestScenarioControls:
    async def test_plug_unplug_error_offline_and_set(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        admin = sim.admin_url + "/chargers/EH000003"
        async with http.post(admin + "/plug", json={"energy_kwh": 5}) as response:
            truth = await response.json()
        assert truth["op_mode"] == 3
        assert truth["observations"]["100"]["value"] == "C"
        assert truth["observations"]["121"]["value"] == 0.0
        async with http.post(admin + "/unplug") as response:
            truth = await response.json()
        assert (truth["op_mode"], truth["observations"]["100"]["value"]) == (1, "A")
        assert "129" in truth["observations"]  # the finished session
        async with http.post(admin + "/error", json={"on": True}) as response:
            assert (await response.json())["op_mode"] == 5
        async with http.post(admin + "/error", json={"on": False}) as response:
            assert (await response.json())["op_mode"] == 1
        async with http.post(admin + "/online", json={"on": False}) as response:
            truth = await response.json()
        assert truth["op_mode"] == 0
        assert truth["observations"]["250"]["value"] is False
        async with http.post(admin + "/online", json={"on": True}) as response:
            truth = await response.json()
        assert truth["op_mode"] == 1
        assert truth["observations"]["250"]["value"] is True
        async with http.post(admin + "/observations", json={"id": 40, "value": "80"}) as response:
            assert (await response.json())["observations"]["40"]["value"] == 80
        async with http.get(sim.admin_url + "/chargers/EH999999") as response:
            assert response.status == 404

    async def test_changes_reach_subscribers(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        token = (await login(http, sim))["accessToken"]
        hub = await RawHub.connect(http, sim, token)
        await hub.subscribe("EH000003")
        await hub.collect_until(is_completion)
        sim.plug_car("EH000003")
        await hub.next_matching(lambda r: is_update(r, 109) and r["arguments"][0]["value"] == "3")
        sim.set_online("EH000003", False)
        await hub.next_matching(
            lambda r: is_update(r, 250) and r["arguments"][0]["value"] == "False"
        )
        await hub.next_matching(lambda r: is_update(r, 109) and r["arguments"][0]["value"] == "0")

    async def test_add_and_remove_chargers(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        token = (await login(http, sim))["accessToken"]
        started = time.monotonic()
        async with http.post(sim.admin_url + "/chargers", json={"count": 1000}) as response:
            serials = (await response.json())["serials"]
        assert time.monotonic() - started < 5
        assert serials[0] == "EH000004"
        assert serials[-1] == "EH001003"
        async with http.delete(sim.admin_url + "/chargers/EH000002") as response:
            assert response.status == 200
        spec = ChargerSpec(serial="EC123456", scenario="paused", grid="IT")
        assert sim.add_charger("demo", spec) == "EC123456"
        async with http.get(sim.base_url + "/api/chargers", headers=bearer(token)) as response:
            listed = [c["id"] for c in await response.json()]
        assert len(listed) == 1003
        assert "EH000002" not in listed
        assert sim.value("EC123456", 48) == 0.0
        assert sim.value("EC123456", 109) == 2


async def test_time_scale_runs_hours_in_seconds() -> None:
    """At 7200x the charging car is full within about a second; the update carries the
    model time, well after the start."""
    config = fast_config(time_scale=7200.0, tick_interval=0.05, start_time=START, chargers=1)
    async with aiohttp.ClientSession() as http, run_simulator(config) as sim:
        token = (await login(http, sim))["accessToken"]
        hub = await RawHub.connect(http, sim, token)
        await hub.subscribe("EH000001")
        await hub.collect_until(is_completion)
        full = await hub.next_matching(
            lambda r: is_update(r, 109) and r["arguments"][0]["value"] == "4", within=5
        )
        stamp = datetime.fromisoformat(full["arguments"][0]["timestamp"].replace("Z", "+00:00"))
        assert (stamp - START).total_seconds() > 600


async def test_admin_api_rejects_a_body_without_its_keys(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    async with http.post(sim.admin_url + "/advance", json={}) as response:
        assert response.status == 400
    async with http.post(sim.admin_url + "/advance", json={"seconds": 60}) as response:
        assert response.status == 200
