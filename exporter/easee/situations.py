"""The original plugin's picture groups: Easee op modes shown as a handful of situations.

The plugin's state widget had six pictures for op modes 1-6 (seed-behaviour.md section 3) and
kept the previous picture for 0, 7 and 8. Here every op mode has a situation: offline and
awaiting authorisation get their own, and de-authenticating (the end of a session, cable
still in) shows as completed. The raw op mode stays in the metrics; this grouping is only
for pictures (the status page; the dashboards' value mappings use the same grouping).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class Situation:
    """One picture: ``key`` names the icon files (``state-<key>-<theme>.svg``)."""

    key: str
    label: str


OFFLINE = Situation("offline", "Offline")
DISCONNECTED = Situation("disconnected", "Disconnected")
WAITING = Situation("waiting", "Waiting")
CHARGING = Situation("charging", "Charging")
COMPLETED = Situation("completed", "Completed")
ERROR = Situation("error", "Error")
READY = Situation("ready", "Ready")
AWAITING_AUTHORIZATION = Situation("awaiting-authorization", "Awaiting authorisation")

SITUATIONS = MappingProxyType(
    {
        0: OFFLINE,
        1: DISCONNECTED,
        2: WAITING,
        3: CHARGING,
        4: COMPLETED,
        5: ERROR,
        6: READY,
        7: AWAITING_AUTHORIZATION,
        8: COMPLETED,
    }
)


def situation(op_mode: int | None, *, online: bool | None = None) -> Situation:
    """The picture for an op mode; an unknown mode or a charger known offline shows offline."""
    if online is False or op_mode is None:
        return OFFLINE
    return SITUATIONS.get(op_mode, OFFLINE)


#: Cable-lock pictures by ``cable_locked + 2 x permanently_locked`` (the plugin's formula).
LOCK_PICTURES = MappingProxyType(
    {
        0: ("unlocked", "Unlocked"),
        1: ("locked", "Locked"),
        2: ("permanent-unlocked", "Permanent lock on, cable not locked"),
        3: ("permanent-locked", "Permanently locked"),
    }
)
