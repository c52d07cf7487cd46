"""Freshness by a product's own clock, shared by the chargers and the Equalizers.

The cloud keeps calling a product "connected" (observation 250) long after it lost power,
and after every (re)subscription it replays old readings with their old timestamps. So a
product's liveness is read from the newest timestamp it produced itself, never from when a
reading arrived: a replay or a REST snapshot cannot make a silent product look alive.
"""

from __future__ import annotations

#: ``easee.charger_offline_after``'s default (seconds): an idle charger heartbeats about every
#: 15 minutes, and evcc counts a reading fresh for 20.
DEFAULT_OFFLINE_AFTER = 1200.0


def seen_at(timestamp: float, received_at: float) -> float:
    """The product-side time a reading proves it was alive: its own timestamp, but never later
    than its arrival (a clock running ahead must not keep it alive)."""
    return min(timestamp, received_at)


def online_by_own_clock(
    last_seen_at: float | None, flag: bool | None, now: float, offline_after: float
) -> bool | None:
    """False once the product's newest own timestamp is more than ``offline_after`` seconds
    old, whatever ``flag`` (the cloud's word) says; else ``flag``. None while nothing is
    known."""
    if last_seen_at is not None and now - last_seen_at > offline_after:
        return False
    return flag
