"""One simulated Easee Equalizer: the meter on the site's grid connection.

It measures the household's base load plus the charging power of the site's chargers, less a
solar production by day (so it exports at times, with negative phase currents), and reports
as the real one does (easee-equalizer.md 3 and 6): meter readings every
``equalizer_interval`` (20 s of model time) when they changed, the energy registers (kWh)
only at the hour mark, kW and kWh units, doubles with float32 noise, and ids that mean
other things on a charger (31 is the L1 current, 40 the import power). Faults: ``silent``
(it lost power, the cloud keeps calling it connected and sends nothing) and offline (250
false, then nothing).

Like :class:`~exporter.simulator.charger.ChargerModel`, the model is synchronous and free of
I/O: :meth:`EqualizerModel.step` returns the updates it caused and the simulator publishes
them. Its data types come from its own table below: the charger's official list gives other
types for these ids.
"""

from __future__ import annotations

import json
import math
import random
import struct
from collections.abc import Iterable

from exporter.simulator.catalog import DataType
from exporter.simulator.charger import ChargerModel, StoredObservation, Update
from exporter.simulator.electrical import NOMINAL_VOLTS
from exporter.simulator.wire import ObservationValue

_HOUR = 3600.0
#: Peak of the solar production at noon, kW.
SOLAR_PEAK_KW = 6.0
#: How the household's base load is spread over the phases: with a 32 A charger on every
#: phase, no phase reaches 90 % of the 40 A main fuse (the demo fires no alert).
_BASE_SHARE = (0.25, 0.35, 0.40)

_D, _I, _S, _B = DataType.DOUBLE, DataType.INTEGER, DataType.STRING, DataType.BOOLEAN
#: pyeasee ``EqualizerStreamData``: the type of every id the simulated Equalizer sends.
DATA_TYPES: dict[int, DataType] = {
    **dict.fromkeys((21, 23, 29, 30, 70, 86, 90), _I),
    **dict.fromkeys((*range(31, 47), 50, 68, 87, 88, 89, 105, 106, 107), _D),
    **dict.fromkeys((20, 57, 58, 82, 115, 120, 251), _S),
    250: _B,
}

#: Ids the meter reports every 20 s, when they changed.
METER_IDS = (*range(31, 45), 87, 88, 89, 105, 106, 107)


def is_equalizer(product_id: str) -> bool:
    """Equalizer ids start with Q, charger serials never do (pyeasee ``__main__.py``)."""
    return product_id.startswith("Q")


def _float32(value: float) -> float:
    """The value as the Equalizer sends it: a float32 widened to a double (DV's samples)."""
    return float(struct.unpack("f", struct.pack("f", value))[0])


class EqualizerModel:
    """An Equalizer on one site, metering that site's chargers and a household."""

    def __init__(
        self,
        equalizer_id: str,
        *,
        name: str,
        account_id: int,
        site_id: int,
        rated_current: float,
        seed: int,
        now: float,
        interval: float,
    ) -> None:
        self.serial = equalizer_id
        self.name = name
        self.account_id = account_id
        self.site_id = site_id
        self.rated_current = rated_current
        self.observations: dict[int, StoredObservation] = {}
        self.online = True
        #: the Equalizer lost power without the cloud noticing: nothing more is sent
        self.silent = False
        self._rng = random.Random(f"{seed}:{equalizer_id}")
        self.import_kwh = round(self._rng.uniform(8000.0, 30000.0), 2)
        self.export_kwh = round(self._rng.uniform(500.0, 4000.0), 2)
        self.clock = now
        self._import_kw = 0.0
        self._export_kw = 0.0
        self._interval = interval
        self._next_meter = now + interval
        self._hour_index = int(now // _HOUR)
        self._build_initial(now)

    # ----------------------------------------------------------------- reading

    def value(self, obs_id: int) -> ObservationValue | None:
        stored = self.observations.get(obs_id)
        return None if stored is None else stored.value

    # ----------------------------------------------------------------- writing

    def set(
        self, obs_id: int, value: ObservationValue, ts: float, *, force: bool = False
    ) -> Update | None:
        """Store a value; an update when it changed (Easee filters unchanged readings), or
        always with ``force``. An id outside the table is sent as text."""
        kind = DATA_TYPES.get(obs_id, DataType.STRING)
        previous = self.observations.get(obs_id)
        if previous is not None and previous.value == value and not force:
            return None
        self.observations[obs_id] = StoredObservation(obs_id, kind, value, ts)
        return Update(self.serial, obs_id, kind, value, ts, previous)

    def _set_all(self, values: dict[int, ObservationValue], ts: float) -> list[Update]:
        return [u for obs_id, value in values.items() if (u := self.set(obs_id, value, ts))]

    def set_online(self, on: bool, ts: float) -> list[Update]:
        """Offline: 250 false with a reason, then nothing until it is back."""
        self.online = on
        return self._set_all({250: on, 251: "" if on else "MQTT_KEEP_ALIVE_TIMEOUT"}, ts)

    # --------------------------------------------------------------- physics

    def step(self, t: float, chargers: Iterable[ChargerModel]) -> list[Update]:
        """Advance to ``t``: integrate the energy, report the meter every 20 s and the
        registers at the hour mark."""
        if t <= self.clock:
            return []
        dt = t - self.clock
        self.import_kwh += self._import_kw * dt / _HOUR
        self.export_kwh += self._export_kw * dt / _HOUR
        self.clock = t
        if self.silent or not self.online:
            return []
        updates: list[Update] = []
        if t >= self._next_meter:
            self._next_meter = t + self._interval
            updates += self._set_all(self._meter(t, chargers), t)
        hour = int(t // _HOUR)
        if hour != self._hour_index:
            self._hour_index = hour
            updates += self._set_all(self._registers(), t)
        return updates

    def _meter(self, t: float, chargers: Iterable[ChargerModel]) -> dict[int, ObservationValue]:
        charging = [0.0, 0.0, 0.0]
        for charger in chargers:
            if charger.power_kw <= 0 or not charger.online:
                continue
            # A one-phase charger draws on L1; a three-phase one on every phase.
            for phase in range(charger.spec.phases):
                charging[phase] += charger.amps
        base_kw = self._base_kw(t)
        solar_per_phase = self._solar_kw(t) * 1000.0 / NOMINAL_VOLTS / 3
        volts = [NOMINAL_VOLTS + self._rng.gauss(0.0, 1.2) for _ in range(3)]
        amps = [
            base_kw * share * 1000.0 / NOMINAL_VOLTS + charging[i] - solar_per_phase
            for i, share in enumerate(_BASE_SHARE)
        ]
        net_kw = sum(a * v for a, v in zip(amps, volts, strict=True)) / 1000.0
        self._import_kw = max(net_kw, 0.0)
        self._export_kw = max(-net_kw, 0.0)
        line = [v * math.sqrt(3.0) for v in volts]
        values: dict[int, ObservationValue] = {}
        for i in range(3):
            values[31 + i] = _float32(round(amps[i], 2))
            values[34 + i] = _float32(round(volts[i], 1))
            values[37 + i] = _float32(round(line[i], 1))
            non_charging = amps[i] - charging[i]
            values[87 + i] = _float32(round(max(0.0, self.rated_current - non_charging), 1))
            values[105 + i] = _float32(round(charging[i], 1))
        values[40] = _float32(round(self._import_kw, 3))
        values[41] = _float32(round(self._export_kw, 3))
        values[42] = _float32(round(0.08 * self._import_kw, 3))
        values[43] = _float32(round(0.02 * self._export_kw, 3))
        values[44] = max(float(self.value(44) or 0.0), values[40])
        return values

    def _registers(self) -> dict[int, ObservationValue]:
        return {45: _float32(round(self.import_kwh, 2)), 46: _float32(round(self.export_kwh, 2))}

    def _base_kw(self, t: float) -> float:
        """The household: a base, more in the morning and the evening."""
        hour = (t % 86400.0) / _HOUR
        evening = math.exp(-(((hour - 19.0) / 2.5) ** 2))
        morning = math.exp(-(((hour - 7.5) / 1.5) ** 2))
        return 0.35 + 1.2 * evening + 0.8 * morning + self._rng.uniform(0.0, 0.15)

    def _solar_kw(self, t: float) -> float:
        hour = (t % 86400.0) / _HOUR
        if not 6.0 < hour < 20.0:
            return 0.0
        return SOLAR_PEAK_KW * math.sin(math.pi * (hour - 6.0) / 14.0) * self._rng.uniform(0.8, 1)

    def _build_initial(self, now: float) -> None:
        """The stored state at start, each value with the (old) time it was produced: the
        registers at the last hour mark, settings days ago, the meter a few seconds ago."""
        hour_mark = now - now % _HOUR
        days_ago = now - 3 * 86400.0
        site = {"ratedCurrent": self.rated_current, "maxContinuousCurrent": self.rated_current}
        static: dict[int, ObservationValue] = {
            20: json.dumps(json.dumps(site)),  # double-encoded, as some payloads are
            21: 108,
            23: 1,
            29: 1,
            30: 3,
            57: json.dumps({"modified": False, "children": []}),
            115: json.dumps({"mode": 0, "standbycurrent": 0}),
            250: True,
        }
        for obs_id, value in static.items():
            self.set(obs_id, value, days_ago)
        for obs_id, value in self._registers().items():
            self.set(obs_id, value, hour_mark)
        self._set_all({50: -69.5, 68: 31.5, 70: -61}, now - 600.0)
        self._set_all(self._meter(now, ()), now - self._rng.uniform(0.05, 1.0) * self._interval)
