"""The last hour of each charger's power, in memory, for the status page's sparklines.

A sampler reads the store's view at a fixed interval (the view is cheap to take and the same
object while nothing changes) and appends each charger's total power to a ring of at most
``points`` samples. So memory is bounded by ``points`` per charger, and a charger that left
the store leaves the history at the next sample. Nothing is written to disk: after a restart
the sparklines start empty.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from exporter.easee.observations import ObservationId
from exporter.state import ChargerView, StoreView

#: One hour at one sample a minute.
DEFAULT_INTERVAL = 60.0
DEFAULT_POINTS = 60


@dataclass(frozen=True, slots=True)
class Sample:
    at: float  # epoch seconds
    kilowatts: float


def kilowatts(charger: ChargerView) -> float | None:
    """The charger's total power now (kW), None without a usable reading or while offline
    (its last reading is not its power now)."""
    if charger.derived.online is False:
        return None
    power = charger.value(ObservationId.TOTAL_POWER)
    if isinstance(power, bool) or not isinstance(power, int | float) or not math.isfinite(power):
        return None
    return float(power)


class PowerHistory:
    """Per charger, the newest ``points`` power samples, oldest first."""

    def __init__(self, *, points: int = DEFAULT_POINTS, interval: float = DEFAULT_INTERVAL) -> None:
        if points < 2 or interval <= 0:
            raise ValueError("a history needs at least 2 points and a positive interval")
        self.points = points
        self.interval = interval
        self._samples: dict[str, deque[Sample]] = {}

    @property
    def window(self) -> float:
        """The span the history covers when full, seconds."""
        return self.points * self.interval

    def record(self, view: StoreView, now: float) -> None:
        """One sample of every charger in ``view``; chargers no longer in it are forgotten."""
        for charger_id in self._samples.keys() - view.chargers.keys():
            del self._samples[charger_id]
        for charger_id, charger in view.chargers.items():
            power = kilowatts(charger)
            if power is None:
                continue  # no reading yet: a gap, not a zero
            ring = self._samples.get(charger_id)
            if ring is None:
                ring = self._samples[charger_id] = deque(maxlen=self.points)
            ring.append(Sample(now, power))

    def of(self, charger_id: str) -> tuple[Sample, ...]:
        """The samples of one charger, oldest first (empty when none)."""
        return tuple(self._samples.get(charger_id, ()))

    @property
    def charger_ids(self) -> frozenset[str]:
        return frozenset(self._samples)


async def sample_forever(
    history: PowerHistory, view: Callable[[], StoreView], clock: Callable[[], float]
) -> None:
    """Record a sample now and then every ``history.interval`` seconds, until cancelled."""
    while True:
        history.record(view(), clock())
        await asyncio.sleep(history.interval)
