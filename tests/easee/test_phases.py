"""Terminal readings mapped to phases L1-L3 by the detected grid type."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from exporter.easee.decode import Decoder
from exporter.easee.enums import GRID_TYPES, GridFamily
from exporter.easee.models import Observation
from exporter.easee.phases import (
    CURRENT,
    PHASE_MAPS,
    PHASES,
    VOLTAGE,
    PhaseTerminals,
    phase_inputs,
    phase_map,
    phase_readings,
    phase_terminals,
    phase_value,
)

#: Terminal currents T2..T5 and voltages T2-T3, T2-T4, T2-T5, T3-T4, with distinct values so
#: every mapping is visible in the result.
TERMINALS = {
    182: "0.5",
    183: "16.1",
    184: "16.2",
    185: "16.3",
    194: "231.0",
    195: "232.0",
    196: "233.0",
    197: "400.0",
}


def charger(grid_type: str | None) -> dict[int, Observation]:
    decoder = Decoder()
    readings = dict(TERMINALS)
    if grid_type is not None:
        readings[21] = grid_type
    observations: dict[int, Observation] = {}
    for obs_id, value in readings.items():
        frame = {
            "mid": "EH000001",
            "dataType": 3,
            "id": obs_id,
            "timestamp": "2026-01-01T12:00:00Z",
            "value": value,
        }
        observation = decoder.product_update(frame, received_at=0.0)
        assert observation is not None
        observations[obs_id] = observation
    return observations


def currents(grid_type: str | None) -> list[tuple[str, float]]:
    return [(r.phase, r.value) for r in phase_readings(charger(grid_type)).currents]


def voltages(grid_type: str | None) -> list[tuple[str, float]]:
    return [(r.phase, r.value) for r in phase_readings(charger(grid_type)).voltages]


class TestTN:
    def test_tn_three_phase(self) -> None:
        """TN: N on T2, L1-L3 on T3-T5; voltages line to neutral."""
        assert currents("1") == [("L1", 16.1), ("L2", 16.2), ("L3", 16.3)]
        assert voltages("1") == [("L1", 231.0), ("L2", 232.0), ("L3", 233.0)]
        assert phase_readings(charger("1")).family is GridFamily.TN

    @pytest.mark.parametrize("grid_type", ["2", "3", "30", "31", "37", "51"])
    def test_every_tn_variant_reports_three_phases(self, grid_type: str) -> None:
        """Unused TN terminals simply read 0, so all three phases are kept."""
        assert [phase for phase, _ in currents(grid_type)] == ["L1", "L2", "L3"]

    @pytest.mark.parametrize("grid_type", [None, "0", "50", "99"])
    def test_unknown_undetected_or_invalid_grid_uses_tn(self, grid_type: str | None) -> None:
        assert currents(grid_type) == currents("1")
        assert voltages(grid_type) == voltages("1")


class TestIT:
    def test_it_three_phase(self) -> None:
        """IT: L1-L3 on T2-T4; voltages line to line from each phase."""
        assert currents("4") == [("L1", 0.5), ("L2", 16.1), ("L3", 16.2)]
        assert voltages("4") == [("L1", 231.0), ("L2", 400.0), ("L3", 232.0)]
        assert phase_readings(charger("4")).family is GridFamily.IT

    @pytest.mark.parametrize("grid_type", ["5", "33", "35"])
    def test_it_single_phase_reports_l1_only(self, grid_type: str) -> None:
        """The return wire of a 1-phase IT supply is not a second phase."""
        assert currents(grid_type) == [("L1", 0.5)]
        assert voltages(grid_type) == [("L1", 231.0)]


def test_missing_readings_are_left_out() -> None:
    observations = charger("1")
    del observations[184], observations[196]
    readings = phase_readings(observations)
    assert [r.phase for r in readings.currents] == ["L1", "L3"]
    assert [r.phase for r in readings.voltages] == ["L1", "L2"]
    assert phase_readings({}).currents == ()


def test_every_grid_type_maps_to_a_family() -> None:
    for entry in GRID_TYPES:
        family, phases = phase_terminals(entry.code)
        assert phases
        assert set(phases) <= set(PHASE_MAPS[family])
    assert phase_terminals(True)[0] is GridFamily.TN


@pytest.mark.parametrize(
    "grid_type", [None, "0", "50", "999", *(str(entry.code) for entry in GRID_TYPES)]
)
@pytest.mark.parametrize(("pick", "field"), [(CURRENT, "currents"), (VOLTAGE, "voltages")])
def test_one_phase_at_a_time_reads_as_all_phases_at_once(
    grid_type: str | None, pick: Callable[[PhaseTerminals], int], field: str
) -> None:
    """What the metrics read row by row (a phase, its inputs, the terminal it reads by the
    phase map) agrees with the mapping of all phases at once, on every grid type."""
    observations = charger(grid_type)
    at_once = {r.phase: r for r in getattr(phase_readings(observations), field)}
    for index, phase in enumerate(PHASES):
        reading = at_once.get(phase)
        assert phase_value(observations, index, pick) == (reading and reading.value)
        phases = phase_map(observations)
        read = pick(phases[index]) if index < len(phases) else None
        assert read == (reading and reading.obs_id)
        if read is not None:
            assert read in phase_inputs(index, pick)
        assert 21 in phase_inputs(index, pick)
