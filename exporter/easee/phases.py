"""Input terminals -> phases L1-L3, by the detected grid type (observation 21).

An Easee charger measures its input terminals T1 (PE) and T2..T5; which phase sits on which
terminal depends on the earthing system (API doc 6.1, conventions.md 1.3):

* **TN** (neutral on T2): L1/L2/L3 = T3/T4/T5. Currents 183/184/185; voltages line to neutral
  194 (T2-T3), 195 (T2-T4), 196 (T2-T5). The neutral current (182, T2) is not a phase and stays
  in the raw terminal metric only.
* **IT** (no neutral; L1/L2/L3 on T2/T3/T4, T5 unused): currents 182/183/184. IT has no neutral
  and line-to-earth voltages float with the insulation state, so the phase voltage is the
  line-to-line voltage starting at that phase, the voltage the charger applies:
  L1 = L1-L2 (194, T2-T3), L2 = L2-L3 (197, T3-T4), L3 = L3-L1 (195, T2-T4). L1 is the same
  reading the Jeedom plugin showed as "voltage 1" on every grid.

Unknown grid types, "not yet detected" (0) and "no valid grid" (50) use the TN mapping: TN is
by far the common case, and a charger that has not reported its grid yet is most likely on it.

The number of phases comes from the grid type too. On TN grids all three phases are returned
even for 1- and 2-phase installations (an unused terminal simply reads 0). On 1-phase IT grids
only L1 is returned: there the second wire (T3) carries the same current back, and reporting
it as L2 would double the load in any sum over phases.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from operator import attrgetter
from types import MappingProxyType
from typing import NamedTuple, TypeAlias

from exporter.easee.enums import GRID_TYPES, GridFamily
from exporter.easee.models import Observation, number_of
from exporter.easee.observations import ObservationId as Id


class PhaseTerminals(NamedTuple):
    """Which observation carries the current and the voltage of one phase."""

    phase: str
    current_id: int
    voltage_id: int


PHASE_MAPS: Mapping[GridFamily, tuple[PhaseTerminals, ...]] = MappingProxyType(
    {
        GridFamily.TN: (
            PhaseTerminals(phase="L1", current_id=Id.IN_CURRENT_T3, voltage_id=Id.IN_VOLT_T2_T3),
            PhaseTerminals(phase="L2", current_id=Id.IN_CURRENT_T4, voltage_id=Id.IN_VOLT_T2_T4),
            PhaseTerminals(phase="L3", current_id=Id.IN_CURRENT_T5, voltage_id=Id.IN_VOLT_T2_T5),
        ),
        GridFamily.IT: (
            PhaseTerminals(phase="L1", current_id=Id.IN_CURRENT_T2, voltage_id=Id.IN_VOLT_T2_T3),
            PhaseTerminals(phase="L2", current_id=Id.IN_CURRENT_T3, voltage_id=Id.IN_VOLT_T3_T4),
            PhaseTerminals(phase="L3", current_id=Id.IN_CURRENT_T4, voltage_id=Id.IN_VOLT_T2_T4),
        ),
    }
)

#: The phases, in the order of every map.
PHASES = tuple(terminals.phase for terminals in PHASE_MAPS[GridFamily.TN])

#: The mapping for unknown, undetected and invalid grid types.
DEFAULT_FAMILY = GridFamily.TN


class PhaseReading(NamedTuple):
    """One phase's current or voltage, with the observation it was read from.

    A named tuple rather than a frozen dataclass: up to six are made per change of a
    charger's terminal readings, at a sixth of the cost."""

    phase: str
    value: float
    obs_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PhaseReadings:
    """Per-phase currents (A) and voltages (V) of one charger, and the mapping used."""

    family: GridFamily
    currents: tuple[PhaseReading, ...]
    voltages: tuple[PhaseReading, ...]


def phase_terminals(grid_type: object) -> tuple[GridFamily, tuple[PhaseTerminals, ...]]:
    """The family and the phases to report for a detected grid type code (any value)."""
    entry = GRID_TYPES.get(grid_type)
    family = entry.family if entry is not None and entry.family is not None else DEFAULT_FAMILY
    phases = PHASE_MAPS[family]
    if family is GridFamily.IT and entry is not None and entry.phases == 1:
        return family, phases[:1]
    return family, phases


def phase_readings(observations: Mapping[int, Observation]) -> PhaseReadings:
    """Map a charger's terminal readings to phases; phases with no reading are left out."""
    grid = observations.get(Id.DETECTED_POWER_GRID_TYPE)
    family, phases = phase_terminals(None if grid is None else grid.value)
    get = observations.get
    currents: list[PhaseReading] = []
    voltages: list[PhaseReading] = []
    for phase, current_id, voltage_id in phases:
        current = number_of(get(current_id))
        if current is not None:
            currents.append(PhaseReading(phase, current, current_id))
        voltage = number_of(get(voltage_id))
        if voltage is not None:
            voltages.append(PhaseReading(phase, voltage, voltage_id))
    return PhaseReadings(family=family, currents=tuple(currents), voltages=tuple(voltages))


#: What :func:`phase_value` reads of a phase's terminals: its current or its voltage.
CURRENT: Callable[[PhaseTerminals], int] = attrgetter("current_id")
VOLTAGE: Callable[[PhaseTerminals], int] = attrgetter("voltage_id")


#: The terminals of each phase the grid has, L1 first (:func:`phase_terminals`).
PhaseMap: TypeAlias = tuple[PhaseTerminals, ...]


def phase_map(observations: Mapping[int, Observation]) -> PhaseMap:
    """The terminals of each phase of the charger's grid, by its grid type reading."""
    grid = observations.get(Id.DETECTED_POWER_GRID_TYPE)
    return _phases_of(None if grid is None else grid.value)[1]


def phase_value(
    observations: Mapping[int, Observation], phase: int, pick: Callable[[PhaseTerminals], int]
) -> float | None:
    """The current or voltage (``pick``) of phase ``phase`` (0: L1) as in
    :func:`phase_readings`: None when the grid has no such phase or it has no reading."""
    phases = phase_map(observations)
    if phase >= len(phases):
        return None
    return number_of(observations.get(pick(phases[phase])))


def phase_inputs(phase: int, pick: Callable[[PhaseTerminals], int]) -> tuple[int, ...]:
    """The observations :func:`phase_value` can read for ``phase`` and ``pick``."""
    ids = {pick(phases[phase]) for phases in PHASE_MAPS.values() if phase < len(phases)}
    return (Id.DETECTED_POWER_GRID_TYPE, *sorted(ids))


#: A few grid codes exist; the bound holds whatever a faulty stream sends.
_phases_of = lru_cache(maxsize=64)(phase_terminals)
