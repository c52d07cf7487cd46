"""The charging currents a charger reports: its dynamic limit (48) and its maximum (47)."""

from __future__ import annotations

import pytest

from exporter.easee.currents import DEFAULT_MAX_CURRENT, dynamic_current, max_current
from exporter.easee.models import DataType, Observation, ObservationValue
from exporter.easee.observations import ObservationId


def readings(obs_id: int, value: ObservationValue) -> dict[int, Observation]:
    return {obs_id: Observation("EH000001", obs_id, DataType.DOUBLE, value, 0.0, 0.0)}


@pytest.mark.parametrize(
    ("value", "expected"), [(16, 16.0), (10.5, 10.5), (0, 0.0), (True, None), ("16", None)]
)
def test_the_dynamic_current_is_a_number_reading_or_none(
    value: ObservationValue, expected: float | None
) -> None:
    assert dynamic_current(readings(ObservationId.DYNAMIC_CHARGER_CURRENT, value)) == expected
    assert dynamic_current({}) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (16, 16.0),
        (20.0, 20.0),
        (0, DEFAULT_MAX_CURRENT),
        (-1, DEFAULT_MAX_CURRENT),
        (True, DEFAULT_MAX_CURRENT),
        ("16", DEFAULT_MAX_CURRENT),
    ],
)
def test_the_maximum_is_the_rating_when_not_reported_as_a_positive_number(
    value: ObservationValue, expected: float
) -> None:
    assert max_current(readings(ObservationId.MAX_CHARGER_CURRENT, value)) == expected
    assert max_current({}) == max_current(None) == DEFAULT_MAX_CURRENT == 32.0
