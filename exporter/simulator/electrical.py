"""Terminal currents, voltages and power of a charger, for TN and IT grids.

Easee reports per *input terminal*, not per phase. T1 is PE and T2..T5 the others. On a TN
grid T2 = N, T3 = L1, T4 = L2, T5 = L3, so the phase currents are 183/184/185 and the
phase-to-neutral voltages 194/195/196. On an IT grid (no neutral) T2 = L1, T3 = L2, T4 = L3
and T5 is unused, so 194/195/197 are line-to-line voltages and every reading involving T5
is zero (easee-cloud-api.md 6.1).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

NOMINAL_VOLTS = 230.0
_SQRT3 = math.sqrt(3.0)


@dataclass(frozen=True, slots=True)
class Electrical:
    """One reading of the input side: observation id -> value, and the total power in kW."""

    readings: dict[int, float]
    power_kw: float


def _volts(rng: random.Random, nominal: float = NOMINAL_VOLTS) -> float:
    return nominal + rng.gauss(0.0, 1.2)


def _amps(rng: random.Random, amps: float) -> float:
    if amps <= 0:
        return 0.0
    return max(0.0, amps * rng.uniform(0.97, 1.0) + rng.gauss(0.0, 0.04))


def measure(grid: str, phases: int, amps: float, rng: random.Random) -> Electrical:
    """What the charger measures while the car draws ``amps`` on ``phases`` phases."""
    if grid == "IT":
        return _measure_it(phases, amps, rng)
    return _measure_tn(phases, amps, rng)


def _measure_tn(phases: int, amps: float, rng: random.Random) -> Electrical:
    v1, v2, v3 = _volts(rng), _volts(rng), _volts(rng)
    i1 = _amps(rng, amps)
    i2 = _amps(rng, amps) if phases == 3 else 0.0
    i3 = _amps(rng, amps) if phases == 3 else 0.0
    # Return current on N: the whole phase current on one phase, only the imbalance on three.
    neutral = i1 if phases == 1 else abs(rng.gauss(0.0, 0.15)) * (amps > 0)
    readings = {
        182: neutral,
        183: i1,
        184: i2,
        185: i3,
        190: abs(rng.gauss(1.5, 0.5)),
        191: v1 + rng.gauss(0.0, 0.3),
        192: v2 + rng.gauss(0.0, 0.3),
        193: v3 + rng.gauss(0.0, 0.3),
        194: v1,
        195: v2,
        196: v3,
        197: _SQRT3 * (v1 + v2) / 2,
        198: _SQRT3 * (v1 + v3) / 2,
        199: _SQRT3 * (v2 + v3) / 2,
    }
    power = (v1 * i1 + v2 * i2 + v3 * i3) / 1000.0
    return Electrical(_rounded(readings), round(power, 3))


def _measure_it(phases: int, amps: float, rng: random.Random) -> Electrical:
    u12, u13, u23 = _volts(rng), _volts(rng), _volts(rng)
    to_earth = NOMINAL_VOLTS / _SQRT3
    i = _amps(rng, amps)
    # A 1-phase car sits between L1 and L2; a 3-phase car draws on all three lines.
    i_l3 = _amps(rng, amps) if phases == 3 else 0.0
    readings = {
        182: i,
        183: i,
        184: i_l3,
        185: 0.0,
        190: to_earth + rng.gauss(0.0, 1.0),
        191: to_earth + rng.gauss(0.0, 1.0),
        192: to_earth + rng.gauss(0.0, 1.0),
        193: 0.0,
        194: u12,
        195: u13,
        196: 0.0,
        197: u23,
        198: 0.0,
        199: 0.0,
    }
    power = (_SQRT3 * (u12 + u13 + u23) / 3 * i if phases == 3 else u12 * i) / 1000.0
    return Electrical(_rounded(readings), round(power, 3))


def _rounded(readings: dict[int, float]) -> dict[int, float]:
    return {obs_id: round(value, 3 if obs_id < 190 else 2) for obs_id, value in readings.items()}


def output_phase(grid: str, phases: int) -> int:
    """Observation 110 while charging: 30 3-phase TN, 10 1-phase N+L1, 22 IT 3 lines, 11 L1+L2."""
    if grid == "IT":
        return 22 if phases == 3 else 11
    return 30 if phases == 3 else 10


def grid_type(grid: str) -> int:
    """Observation 21 (DetectedPowerGridType): 1 TN 3-phase, 4 IT 3-phase."""
    return 4 if grid == "IT" else 1
