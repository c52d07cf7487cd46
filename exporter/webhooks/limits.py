"""Sliding-window limits per key: lock switches per charger, failed logins per address.

A key may have at most ``calls`` events within any ``period`` seconds. Memory is bounded:
windows are pruned as they are touched, and beyond ``max_keys`` keys the least recently
touched one is forgotten (for failed logins that favours the attacker only by letting an
address that stopped long ago start afresh).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rate:
    """At most ``calls`` events in any window of ``period`` seconds."""

    calls: int
    period: float


class SlidingWindow:
    """Counts events per key over a sliding window; single event loop, no lock."""

    def __init__(self, rate: Rate, *, clock: Callable[[], float], max_keys: int = 10_000) -> None:
        self._rate = rate
        self._clock = clock
        self._max_keys = max_keys
        self._events: OrderedDict[str, deque[float]] = OrderedDict()

    @property
    def rate(self) -> Rate:
        return self._rate

    def set_rate(self, rate: Rate) -> None:
        """Change the limit (on reload); the events already counted stay."""
        self._rate = rate

    def _window(self, key: str, now: float) -> deque[float] | None:
        events = self._events.get(key)
        if events is None:
            return None
        horizon = now - self._rate.period
        while events and events[0] <= horizon:
            events.popleft()
        if not events:
            del self._events[key]
            return None
        self._events.move_to_end(key)
        return events

    def retry_after(self, key: str) -> float | None:
        """Seconds until ``key`` may have another event; None when it may now."""
        now = self._clock()
        events = self._window(key, now)
        if events is None or len(events) < self._rate.calls:
            return None
        # The event that has to leave the window for one more to fit.
        oldest = events[len(events) - self._rate.calls]
        return max(oldest + self._rate.period - now, 0.0)

    def hit(self, key: str) -> None:
        """Count one event for ``key``."""
        now = self._clock()
        events = self._window(key, now)
        if events is None:
            events = deque()
            self._events[key] = events
            while len(self._events) > self._max_keys:
                self._events.popitem(last=False)
        events.append(now)

    def acquire(self, key: str) -> float | None:
        """Count an event if the limit allows it (None), else the seconds to wait."""
        wait = self.retry_after(key)
        if wait is None:
            self.hit(key)
        return wait

    def refund(self, key: str) -> None:
        """Forget the newest event of ``key`` (it did not happen after all)."""
        events = self._events.get(key)
        if events:
            events.pop()
            if not events:
                del self._events[key]
