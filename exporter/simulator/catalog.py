"""Official dataType of every observation id, as the simulated cloud announces them.

The source is Easee's own ``GET /api/resources/observation_properties`` answer, shipped as
``data/observation_properties.json`` (copied from valiquette/homebridge-easee, MIT). The
simulator deliberately does not import the service's observation table: it is an
independent truth that the service is tested against.

Ids the cloud streams although they are missing from that list get the type their values
look like on the wire (``EXTRA_DATA_TYPES``); clients are expected to ignore them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import IntEnum
from functools import cache
from importlib import resources


class DataType(IntEnum):
    """Masterloop ``DataType`` of an observation."""

    BINARY = 1
    BOOLEAN = 2
    DOUBLE = 3
    INTEGER = 4
    POSITION = 5
    STRING = 6
    STATISTICS = 7


@dataclass(frozen=True, slots=True)
class ObservationProperty:
    """One row of Easee's observation_properties list."""

    obs_id: int
    name: str
    data_type: DataType


# Streamed by real chargers but absent from observation_properties (easee-cloud-api.md 6):
# circuit car counters (master only), the fatal error code, the session-start JSON, and the
# undocumented ids seen in 2025-2026 traces.
EXTRA_DATA_TYPES: dict[int, tuple[str, DataType]] = {
    76: ("NumberOfCarsConnected", DataType.INTEGER),
    77: ("NumberOfCarsCharging", DataType.INTEGER),
    79: ("NumberOfCarsFullyCharged", DataType.INTEGER),
    156: ("Unknown156", DataType.DOUBLE),
    157: ("Unknown157", DataType.DOUBLE),
    219: ("FatalErrorCode", DataType.INTEGER),
    223: ("ChargingSessionStart", DataType.STRING),
    233: ("Unknown233", DataType.INTEGER),
    234: ("Unknown234", DataType.INTEGER),
}

# Ids a client must ignore: not in the official list (easee-cloud-api.md 6, EV#20791, EV#32721).
UNKNOWN_IDS: tuple[int, ...] = (156, 157, 233, 234, 219)


@cache
def official_properties() -> dict[int, ObservationProperty]:
    """The official list, by observation id."""
    raw = resources.files(__package__).joinpath("data/observation_properties.json").read_text()
    items = json.loads(raw)["items"]
    return {
        int(item["observationId"]): ObservationProperty(
            int(item["observationId"]), str(item["name"]), DataType(int(item["dataType"]))
        )
        for item in items
    }


def data_type(obs_id: int) -> DataType:
    """The dataType the cloud sends for ``obs_id`` (STRING for ids nobody documented)."""
    prop = official_properties().get(obs_id)
    if prop is not None:
        return prop.data_type
    extra = EXTRA_DATA_TYPES.get(obs_id)
    return extra[1] if extra is not None else DataType.STRING
