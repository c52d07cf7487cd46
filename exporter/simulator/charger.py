"""One simulated charger: its stored observations and the physics that change them.

The model is synchronous and free of I/O. Every method that changes something returns the
observation updates it caused, in the order the charger would send them; the simulator
decides when to publish them. Time is the *model* clock (epoch seconds), passed in by the
caller, so a run is deterministic for a seed and a sequence of calls.

State rules (easee-cloud-api.md 5.4, 7.1, 8):

- op mode 109: 0 offline, 5 error, 1 no car, 7 not authorised (after stop_charging),
  2 car connected but the dynamic charger current 48 is 0 (paused) or the charger is disabled,
  4 the car is full, 3 charging.
- reason for no current 96: 52 while paused, 53 disabled, 55 awaiting authorisation,
  56 error, 50 no car, 79 car full, 0 charging.
- A command's observation changes come first (``apply_dynamic_current``), the op mode and
  electrical readings follow when the caller ``settle``\\ s the charger, about a second after
  the CommandResponse, as the real cloud does.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from exporter.simulator import electrical
from exporter.simulator.catalog import DataType, data_type
from exporter.simulator.config import ChargerSpec
from exporter.simulator.wire import ObservationValue, format_timestamp

_HOUR = 3600.0
_DAY = 86400.0

# Observations the physics derives from the charger's flags; a settle() recomputes them.
_DERIVED_IDS = (109, 96, 100, 101, 103, 104, 105, 106, 110, 114, 46)
_ELECTRICAL_IDS = (182, 183, 184, 185, 190, 191, 192, 193, 194, 195, 196, 197, 198, 199, 120)


@dataclass(slots=True)
class StoredObservation:
    """The last value of one observation, with the model time the charger produced it."""

    obs_id: int
    data_type: DataType
    value: ObservationValue
    timestamp: float


@dataclass(frozen=True, slots=True)
class Update:
    """One change to publish. ``previous`` is what it replaced (for stale-update faults)."""

    serial: str
    obs_id: int
    data_type: DataType
    value: ObservationValue
    timestamp: float
    previous: StoredObservation | None = None


@dataclass(slots=True)
class Car:
    """The car at the plug: what it still wants and what it can draw."""

    energy_needed_kwh: float
    max_current: float
    session_id: int
    plugged_at: float


def coerce(obs_id: int, value: object) -> ObservationValue:
    """``value`` converted to the Python type of the observation's official dataType."""
    kind = data_type(obs_id)
    if kind is DataType.BOOLEAN:
        if isinstance(value, str):
            text = value.strip().lower()
            if text not in ("1", "0", "true", "false"):
                raise ValueError(f"not a boolean: {value!r}")
            return text in ("1", "true")
        return bool(value)
    if kind is DataType.DOUBLE:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError(f"not a number: {value!r}")
        return float(value)
    if kind is DataType.INTEGER:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError(f"not an integer: {value!r}")
        return int(float(value))
    if not isinstance(value, str | int | float):
        raise ValueError(f"not a string: {value!r}")
    return str(value)


class ChargerModel:
    """A charger and its car. See the module docstring for the state rules."""

    def __init__(
        self,
        spec: ChargerSpec,
        *,
        account_id: int,
        site_id: int,
        sequence: int,
        seed: int,
        now: float,
        telemetry_interval: float,
        heartbeat_interval: float,
        autonomous: bool,
    ) -> None:
        self.spec = spec
        self.serial = spec.serial
        self.account_id = account_id
        self.site_id = site_id
        self._rng = random.Random(f"{seed}:{spec.serial}")
        self._telemetry_interval = telemetry_interval
        self._heartbeat_interval = heartbeat_interval
        self.autonomous = autonomous
        self.observations: dict[int, StoredObservation] = {}
        self.online = spec.scenario != "offline"
        #: the charger lost power without the cloud noticing: 250 stays true, nothing is sent
        self.silent = False
        #: model time at which a dynamic current set with a time to live lapses, and that TTL
        self.dcc_until: float | None = None
        self.dcc_ttl_minutes: int | None = None
        self.error = spec.scenario == "error"
        self.authorized = True
        self.car: Car | None = None
        self.power_kw = 0.0
        self.amps = 0.0
        self.lifetime_kwh = round(self._rng.uniform(300.0, 4000.0), 3)
        self.session_kwh = 0.0
        self.hour_kwh = 0.0
        self._sessions = 0
        self._settle_pending = False
        self.clock = now
        self._next_telemetry = now + telemetry_interval
        self._next_heartbeat = now + self._rng.uniform(0.2, 1.0) * heartbeat_interval
        self._hour_index = int(now // _HOUR)
        self._next_car_event = 0.0
        self._build_initial(sequence, now)

    # ----------------------------------------------------------------- reading

    def value(self, obs_id: int) -> ObservationValue | None:
        stored = self.observations.get(obs_id)
        return None if stored is None else stored.value

    @property
    def op_mode(self) -> int:
        return int(self.value(109) or 0)

    @property
    def dynamic_current(self) -> float:
        return float(self.value(48) or 0.0)

    @property
    def max_current(self) -> float:
        return float(self.value(47) or 0.0)

    @property
    def car_connected(self) -> bool:
        return self.car is not None

    # ----------------------------------------------------------------- writing

    def set(self, obs_id: int, value: object, ts: float, *, force: bool = False) -> Update | None:
        """Store a value; an update when it changed (or always with ``force``)."""
        typed = coerce(obs_id, value)
        previous = self.observations.get(obs_id)
        if previous is not None and previous.value == typed and not force:
            return None
        kind = data_type(obs_id)
        self.observations[obs_id] = StoredObservation(obs_id, kind, typed, ts)
        return Update(self.serial, obs_id, kind, typed, ts, previous)

    def _set_all(self, values: dict[int, object], ts: float) -> list[Update]:
        updates = []
        for obs_id, value in values.items():
            update = self.set(obs_id, value, ts)
            if update is not None:
                updates.append(update)
        return updates

    # ------------------------------------------------------------ commands

    def apply_dynamic_current(self, amps: float, ts: float) -> list[Update]:
        """A new dynamic charger current (48): the first half of pause/resume.

        Pausing a car reports 96 = 52 before 48 = 0, as in the EV#9181 trace; the op mode and
        the readings follow in ``settle``.
        """
        amps = max(0.0, min(float(amps), self.max_current))
        updates: list[Update] = []
        if amps <= 0 and self.car is not None:
            update = self.set(96, 52, ts)
            if update is not None:
                updates.append(update)
        update = self.set(48, amps, ts, force=True)
        assert update is not None
        updates.append(update)
        self._settle_pending = True
        return updates

    def apply_setting(self, obs_id: int, value: object, ts: float) -> list[Update]:
        """A setting read back by the charger (lock, enabled, max current, ...)."""
        update = self.set(obs_id, value, ts, force=True)
        updates = [update] if update is not None else []
        if obs_id == 47 and self.dynamic_current > self.max_current:
            extra = self.set(48, self.max_current, ts)
            updates += [extra] if extra is not None else []
        if obs_id in (30, 31, 47, 48) and not self._settle_pending:
            # A pending pause/resume settles later, after its CommandResponse.
            updates += self.settle(ts)
        return updates

    def authorize(self, on: bool, ts: float) -> list[Update]:
        """start_charging (authorise) or stop_charging (deauthorise)."""
        self.authorized = on
        self._settle_pending = True
        return []

    def settle(self, ts: float) -> list[Update]:
        """Recompute op mode, reason, pilot, offered current and readings from the flags."""
        self._settle_pending = False
        updates = self._set_all(self._derived(), ts)
        if any(u.obs_id == 109 for u in updates) or self._amps_target() != self.amps:
            updates += self._measure(ts)
        return updates

    # -------------------------------------------------------------- scenario

    def plug_car(self, ts: float, *, energy_kwh: float | None = None) -> list[Update]:
        """A car arrives and a new session starts."""
        if self.car is not None:
            return []
        self._sessions += 1
        needed = energy_kwh if energy_kwh is not None else self._rng.uniform(8.0, 40.0)
        car_max = 32.0 if self._rng.random() < 0.5 else 16.0
        self.car = Car(needed, car_max, self._session_id(), ts)
        self.session_kwh = 0.0
        self.authorized = True
        updates = self._set_all({121: 0.0}, ts)
        start = {
            "Id": self.car.session_id,
            "MeterValue": round(self.lifetime_kwh, 3),
            "Start": format_timestamp(ts),
            "Auth": "",
            "AuthReason": 0,
        }
        updates += self._set_all({223: json.dumps(start, separators=(",", ":"))}, ts)
        self._next_car_event = 0.0
        return updates + self.settle(ts)

    def unplug_car(self, ts: float) -> list[Update]:
        """The car leaves; the session is reported as finished (129)."""
        car = self.car
        if car is None:
            return []
        self.car = None
        session = {
            "Id": car.session_id,
            "Start": format_timestamp(car.plugged_at),
            "Stop": format_timestamp(ts),
            "EnergyKwh": round(self.session_kwh, 3),
            "MeterValueStart": round(self.lifetime_kwh - self.session_kwh, 3),
            "MeterValueStop": round(self.lifetime_kwh, 3),
            "Auth": "",
            "AuthReason": 0,
        }
        updates = self.settle(ts)
        updates += self._set_all({129: json.dumps(session, separators=(",", ":"))}, ts)
        self._next_car_event = 0.0
        return updates

    def set_error(self, on: bool, ts: float) -> list[Update]:
        """Put the charger into op mode 5 (error code 5) or take it out again."""
        self.error = on
        updates = self._set_all({119: 5 if on else 0}, ts)
        return updates + self.settle(ts)

    def set_online(self, on: bool, ts: float) -> list[Update]:
        """Take the charger off the cloud (250 false, op mode 0) or bring it back."""
        self.online = on
        reason = "" if on else "MQTT_KEEP_ALIVE_TIMEOUT"
        updates = self._set_all({250: on, 251: reason}, ts)
        return updates + self.settle(ts)

    # --------------------------------------------------------------- physics

    def step(self, t: float) -> list[Update]:
        """Advance the model to time ``t``: energy, the car's life, telemetry, heartbeats."""
        if t <= self.clock:
            return []
        if self.silent:
            # No power, no data: the cloud keeps what it last heard, timestamps and all.
            self.clock = t
            return []
        updates: list[Update] = []
        dt = t - self.clock
        energy = self.power_kw * dt / _HOUR
        if energy > 0:
            self.session_kwh += energy
            self.lifetime_kwh += energy
            self.hour_kwh += energy
            if self.car is not None:
                self.car.energy_needed_kwh -= energy
        self.clock = t
        if not self.online:
            return updates
        if self.car is not None and self.car.energy_needed_kwh <= 0 and self.op_mode == 3:
            self.car.energy_needed_kwh = 0.0
            updates += self._set_all({121: round(self.session_kwh, 4)}, t)
            updates += self.settle(t)
        if self.autonomous:
            updates += self._car_life(t)
        if self.op_mode == 3 and t >= self._next_telemetry and not self._settle_pending:
            self._next_telemetry = t + self._telemetry_interval
            updates += self._measure(t)
            updates += self._set_all({121: round(self.session_kwh, 4)}, t)
            updates += self._set_all({150: self._temperature(), 114: self._offered()}, t)
        hour = int(t // _HOUR)
        if hour != self._hour_index:
            # Lifetime energy comes about once an hour (EV TotalEnergy comment, EV#20594).
            self._hour_index = hour
            updates += self._set_all({124: round(self.lifetime_kwh, 3)}, t)
            updates += self._set_all({122: round(self.hour_kwh, 3)}, t)
            self.hour_kwh = 0.0
        if t >= self._next_heartbeat:
            # An idle charger says little: a temperature and its signal every ~15 minutes.
            self._next_heartbeat = t + self._heartbeat_interval * self._rng.uniform(0.9, 1.1)
            beat: dict[int, object] = {150: self._temperature()}
            if self.spec.network == "wifi":
                beat[132] = self._rng.randint(-72, -55)
            else:
                beat[130] = self._rng.randint(-89, -70)
            updates += [u for k, v in beat.items() if (u := self.set(k, v, t, force=True))]
        return updates

    def _car_life(self, t: float) -> list[Update]:
        """Cars arrive after a few hours, charge, stay a while when full, then leave."""
        if self.error:
            return []
        if self._next_car_event == 0.0:
            if self.car is None:
                self._next_car_event = t + self._rng.uniform(1.0, 6.0) * _HOUR
            elif self.op_mode == 4:
                self._next_car_event = t + self._rng.uniform(0.5, 3.0) * _HOUR
            return []
        if t < self._next_car_event:
            return []
        if self.car is None:
            return self.plug_car(t)
        if self.op_mode == 4:
            return self.unplug_car(t)
        self._next_car_event = 0.0
        return []

    # --------------------------------------------------------------- helpers

    def _session_id(self) -> int:
        return (self.account_id * 1000 + self.site_id % 1000) * 10000 + self._sessions

    def _offered(self) -> float:
        """Current signalled to the car (114)."""
        if not self.online or self.error or self.car is None or not self.authorized:
            return 0.0
        if not self.value(31) or self.dynamic_current <= 0:
            return 0.0
        circuit = float(self.value(22) or 32.0)
        # The circuit's dynamic limit on the phases the car draws from (111-113).
        phases = (111,) if self.spec.phases == 1 else (111, 112, 113)
        dynamic = min(float(self.value(obs_id) or 40.0) for obs_id in phases)
        return min(self.dynamic_current, self.max_current, circuit, dynamic)

    def _amps_target(self) -> float:
        if self.car is None or self._charging_mode() != 3:
            return 0.0
        return min(self._offered(), self.car.max_current)

    def _charging_mode(self) -> int:
        if not self.online:
            return 0
        if self.error:
            return 5
        if self.car is None:
            return 1
        if not self.authorized:
            return 7
        if self.dynamic_current <= 0 or not self.value(31):
            return 2
        if self.car.energy_needed_kwh <= 0:
            return 4
        return 3

    def _derived(self) -> dict[int, object]:
        mode = self._charging_mode()
        if mode == 0:
            # An offline charger reports nothing but its op mode (the cloud sets it).
            return {109: 0}
        reason = {1: 50, 2: 52 if self.value(31) else 53, 3: 0, 4: 79, 5: 56, 7: 55}[mode]
        pilot = {1: "A", 3: "C", 5: "F"}.get(mode, "B")
        pilot_high = {"A": 12.0, "B": 9.0, "C": 6.0, "F": -12.0}[pilot]
        smart = bool(self.value(102))
        led = {1: 18, 2: 23, 3: 22 if smart else 24, 4: 23, 5: 16, 7: 25}[mode]
        cable = self.car is not None or bool(self.value(30))
        return {
            96: reason,
            100: pilot,
            101: self.car is not None,
            103: cable,
            104: 32.0 if cable else -1.0,
            105: pilot_high,
            106: -12.0,
            110: electrical.output_phase(self.spec.grid, self.spec.phases) if mode == 3 else 0,
            114: self._offered(),
            46: led,
            109: mode,
        }

    def _measure(self, ts: float) -> list[Update]:
        self.amps = self._amps_target()
        reading = electrical.measure(self.spec.grid, self.spec.phases, self.amps, self._rng)
        self.power_kw = reading.power_kw if self.amps > 0 else 0.0
        values: dict[int, object] = dict(reading.readings)
        values[120] = self.power_kw
        # Every reading is re-sent, even when unchanged: telemetry is periodic.
        return [
            u for obs_id, value in values.items() if (u := self.set(obs_id, value, ts, force=True))
        ]

    def _temperature(self) -> float:
        ambient = float(self.value(170) or 18.0)
        return round(ambient + 8.0 + 0.35 * self.amps + self._rng.gauss(0.0, 0.4), 1)

    def _build_initial(self, sequence: int, now: float) -> None:
        """The stored state at start: each value with the (often old) time it was produced."""
        rng = self._rng
        spec = self.spec
        installed = now - rng.uniform(60, 400) * _DAY
        booted = now - rng.uniform(2, 20) * _DAY
        wifi = spec.network == "wifi"
        values_by_time: list[tuple[float, dict[int, object]]] = [
            (
                installed,
                {
                    15: False,
                    16: False,
                    17: False,
                    21: electrical.grid_type(spec.grid),
                    22: 25.0,
                    23: 25.0,
                    24: 25.0,
                    26: f"WAFE-{self.site_id % 10000:04d}",
                    27: self.site_id,
                    31: True,
                    33: sequence,
                    34: 1,
                    36: "HomeNet" if wifi else "",
                    37: False,
                    38: 2,
                    40: 50,
                    41: False,
                    42: False,
                    43: False,
                    44: False,
                    45: 0,
                    47: spec.max_current,
                    50: 16,
                    51: 16,
                    52: 16,
                    68: False,
                    102: False,
                    107: f"BP{spec.serial[-6:]}",
                    146: 1,
                    173: True,
                    30: spec.cable_permanently_locked,
                },
            ),
            (
                booted,
                {
                    80: spec.firmware,
                    89: 4,
                    90: 4,
                    91: 2,
                    111: 40.0,
                    112: 40.0,
                    113: 40.0,
                    115: spec.max_current,
                    116: False,
                    119: 0,
                    125: rng.randint(800, 9000),
                    126: rng.randint(2000, 20000),
                    130: 0 if wifi else rng.randint(-89, -70),
                    131: 0 if wifi else 7,
                    132: rng.randint(-72, -55) if wifi else 0,
                    134: f"192.168.1.{10 + sequence % 200}" if wifi else "",
                    135: "N" if wifi else "",
                    141: 1 if wifi else 0,
                    170: round(rng.uniform(8.0, 22.0), 1),
                    172: rng.randint(30, 60),
                    210: 3.3,
                    211: 5.0,
                    212: 12.0,
                    250: True,
                    251: "",
                },
            ),
        ]
        if not wifi:
            values_by_time[1][1][81] = f"8947{rng.randint(10**14, 10**15 - 1)}"
            values_by_time[1][1][82] = "BG95M3LAR02A04"
        for ts, values in values_by_time:
            for obs_id, value in values.items():
                self.set(obs_id, value, ts)
        temps = {
            obs_id: round(float(self.value(170) or 18.0) + rng.uniform(5, 9), 1)
            for obs_id in (151, 152, 153, 154, 155, 160, 161, 162, 163)
        }
        for obs_id, value in temps.items():
            self.set(obs_id, value, booted + rng.uniform(0, _DAY))
        self._start_scenario(now)

    def _start_scenario(self, now: float) -> None:
        rng = self._rng
        scenario = self.spec.scenario
        last_change = now - rng.uniform(0.3, 5.0) * _HOUR
        self.set(48, self.max_current, last_change)
        self.set(124, round(self.lifetime_kwh, 3), now - rng.uniform(0, _HOUR))
        self.set(122, 0.0, now - rng.uniform(0, _HOUR))
        self.set(121, round(rng.uniform(2.0, 25.0), 3), last_change)
        if scenario in ("charging", "connected", "paused"):
            plugged = now - rng.uniform(0.3, 2.0) * _HOUR
            self._sessions += 1
            needed = rng.uniform(10.0, 35.0) if scenario != "connected" else 0.0
            self.car = Car(needed, 32.0 if self.spec.phases == 3 else 16.0, 0, plugged)
            self.car.session_id = self._session_id()
            done = rng.uniform(4.0, 15.0)
            self.session_kwh = done
            self.set(121, round(done, 3), now - rng.uniform(5, 60))
            start = {
                "Id": self.car.session_id,
                "MeterValue": round(self.lifetime_kwh - done, 3),
                "Start": format_timestamp(plugged),
                "Auth": "",
                "AuthReason": 0,
            }
            self.set(223, json.dumps(start, separators=(",", ":")), plugged)
            last_change = plugged
        if scenario == "paused":
            self.set(48, 0.0, last_change + 60)
        if scenario == "error":
            self.set(119, 5, last_change)
        # An offline charger keeps the values it sent before it went away.
        self.online = True
        self._set_all(self._derived(), last_change)
        if scenario == "offline":
            self.online = False
            self.set(250, False, last_change)
            self.set(251, "MQTT_KEEP_ALIVE_TIMEOUT", last_change)
            self.set(109, 0, last_change)
        for obs_id in _DERIVED_IDS:
            stored = self.observations.get(obs_id)
            if stored is not None:
                stored.timestamp = last_change
        # Idle chargers keep the readings of their last session; charging ones are fresh.
        fresh = self._charging_mode() == 3
        self._measure(now - rng.uniform(1, 20) if fresh else last_change)
        self.set(150, self._temperature(), now - rng.uniform(10, 600))
        # Chargers stamp their readings in whole seconds.
        for stored in self.observations.values():
            stored.timestamp = float(int(stored.timestamp))
