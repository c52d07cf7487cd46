"""The request budget of one account: a sliding window shared by every caller.

Easee allows about 500 REST calls per 300 s before it answers 429, and blocks an IP address
for 24 hours after abuse (``easee-cloud-api.md`` section 4). The budget keeps each account far
below that (100 per 300 s by default), whatever its callers do.

Two classes of calls share it. *Priority* calls (commands, login, refresh) may use the whole
window; *background* calls (discovery, snapshots, metadata) may use it only up to
``limit - reserve``, so a burst of snapshots can never starve a user's pause or resume.
How a caller reacts to a spent budget is its own choice (see :meth:`RequestBudget.acquire`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from exporter.easee.errors import BudgetExceeded


class RequestBudget:
    """At most ``limit`` calls in any ``window`` seconds, ``reserve`` of them for priority calls.

    Single event loop, no lock: every method runs to completion between awaits.
    """

    def __init__(
        self, *, limit: int, window: float, reserve: int, clock: Callable[[], float]
    ) -> None:
        if limit < 1 or not 0 <= reserve < limit or window <= 0:
            raise ValueError("budget needs limit >= 1, 0 <= reserve < limit and window > 0")
        self._limit = limit
        self._window = window
        self._reserve = reserve
        self._clock = clock
        self._calls: deque[float] = deque()

    @property
    def used(self) -> int:
        """Calls counted in the current window."""
        self._prune(self._clock())
        return len(self._calls)

    def try_acquire(self, *, priority: bool) -> float:
        """Take a slot and return 0.0, or take nothing and return the seconds until one frees."""
        now = self._clock()
        self._prune(now)
        cap = self._limit if priority else self._limit - self._reserve
        if len(self._calls) < cap:
            self._calls.append(now)
            return 0.0
        # The slot frees when enough of the oldest calls have left the window for the count
        # to drop below the cap.
        return max(self._calls[len(self._calls) - cap] + self._window - now, 1e-3)

    async def acquire(self, endpoint: str, *, priority: bool, max_wait: float) -> None:
        """Take a slot, waiting at most ``max_wait`` seconds for one (0 = fail fast).

        Raises :class:`BudgetExceeded` with the time until a slot frees when waiting longer
        would be needed.
        """
        waited = 0.0
        while True:
            delay = self.try_acquire(priority=priority)
            if delay == 0.0:
                return
            if waited + delay > max_wait:
                raise BudgetExceeded(endpoint, delay)
            await asyncio.sleep(delay)
            waited += delay

    def _prune(self, now: float) -> None:
        horizon = now - self._window
        while self._calls and self._calls[0] <= horizon:
            self._calls.popleft()
