"""The charging currents an Easee charger accepts and reports."""

from __future__ import annotations

from collections.abc import Mapping

from exporter.easee.models import Observation
from exporter.easee.observations import ObservationId

#: The smallest current a charger offers a car (IEC 61851's 6 A); 0 pauses charging.
MIN_CHARGING_CURRENT = 6
#: A charger's maximum current when it did not report one (observation 47): its rating.
DEFAULT_MAX_CURRENT = 32.0


def dynamic_current(observations: Mapping[int, Observation]) -> float | None:
    """The charger's dynamic current limit now (observation 48), None when not reported."""
    return _amperes(observations.get(ObservationId.DYNAMIC_CHARGER_CURRENT))


def max_current(observations: Mapping[int, Observation] | None) -> float:
    """The charger's maximum current (observation 47), 32 A when it did not report one."""
    value = (
        None
        if observations is None
        else _amperes(observations.get(ObservationId.MAX_CHARGER_CURRENT))
    )
    return DEFAULT_MAX_CURRENT if value is None or value <= 0 else value


def _amperes(observation: Observation | None) -> float | None:
    value = None if observation is None else observation.value
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
