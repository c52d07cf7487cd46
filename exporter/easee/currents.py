"""The charging currents an Easee charger accepts and reports."""

from __future__ import annotations

from collections.abc import Mapping

from exporter.easee.models import Observation, number_of
from exporter.easee.observations import ObservationId

#: The smallest current a charger offers a car (IEC 61851's 6 A); 0 pauses charging.
MIN_CHARGING_CURRENT = 6
#: A charger's maximum current when it did not report one (observation 47): its rating.
DEFAULT_MAX_CURRENT = 32.0


def dynamic_current(observations: Mapping[int, Observation]) -> float | None:
    """The charger's dynamic current limit now (observation 48), None when not reported."""
    return number_of(observations.get(ObservationId.DYNAMIC_CHARGER_CURRENT))


def max_current(observations: Mapping[int, Observation] | None) -> float:
    """The charger's maximum current (observation 47), 32 A when it did not report one."""
    if observations is None:
        return DEFAULT_MAX_CURRENT
    value = number_of(observations.get(ObservationId.MAX_CHARGER_CURRENT))
    return DEFAULT_MAX_CURRENT if value is None or value <= 0 else value
