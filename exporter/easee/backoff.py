"""When to try again: the reconnect policy of the stream and of an account's start-up.

Easee asked client authors not to reconnect in tight loops (pyeasee PR #88) and blocks IP
addresses after abuse, so the policy is (``signalr-client.md`` 5.1):

- exponential back-off with full jitter from ``base`` up to ``cap``, never giving up;
- after a session that stayed healthy for ``stable_after`` seconds, the streak is forgotten
  and the next attempt comes after a short random ``quick`` delay;
- while failing, at most ``max_attempts`` attempts in any ``attempt_window`` (10 per hour by
  default), whatever the jitter draws;
- an explicit minimum (``Retry-After``, an IP block) always wins.

Pure apart from the injected clock and random generator, so the pacing is testable.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable


class Backoff:
    """Tracks a failure streak and says how long to wait before the next attempt."""

    def __init__(
        self,
        *,
        base: float,
        cap: float,
        quick: tuple[float, float],
        stable_after: float,
        max_attempts: int,
        attempt_window: float,
        clock: Callable[[], float],
        rng: random.Random | None = None,
    ) -> None:
        self._base = base
        self._cap = cap
        self._quick = quick
        self._stable_after = stable_after
        self._max_attempts = max_attempts
        self._window = attempt_window
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        self._failures = 0
        self._after_healthy = False
        self._attempts: deque[float] = deque()
        self._not_before = 0.0

    @property
    def failures(self) -> int:
        """Consecutive failed attempts (0 after a healthy session)."""
        return self._failures

    def attempt(self) -> None:
        """Record that an attempt starts now."""
        self._attempts.append(self._clock())

    def succeeded(self, healthy_for: float) -> None:
        """An attempt gave a session that lasted ``healthy_for`` seconds before it ended."""
        if healthy_for >= self._stable_after:
            self._failures = 0
            self._after_healthy = True
            self._attempts.clear()
        else:
            self.failed()

    def failed(self, *, at_least: float = 0.0) -> None:
        """An attempt failed; ``at_least`` is a minimum wait (``Retry-After``, a block)."""
        self._failures += 1
        self._after_healthy = False
        if at_least > 0:
            self._not_before = max(self._not_before, self._clock() + at_least)

    def delay(self) -> float:
        """Seconds to wait before the next attempt."""
        now = self._clock()
        if self._failures == 0:
            delay = self._rng.uniform(*self._quick) if self._after_healthy else 0.0
        else:
            ceiling = min(self._cap, self._base * 2 ** min(self._failures - 1, 32))
            delay = self._rng.uniform(0.0, ceiling)
            # While failing, the attempts in the window are limited whatever the jitter drew.
            horizon = now - self._window
            while self._attempts and self._attempts[0] <= horizon:
                self._attempts.popleft()
            if len(self._attempts) >= self._max_attempts:
                index = len(self._attempts) - self._max_attempts
                delay = max(delay, self._attempts[index] + self._window - now)
        return max(delay, self._not_before - now, 0.0)
