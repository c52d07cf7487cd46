"""When to try again: the reconnect policy of the stream, of an account's start-up and of its
token renewal.

Easee asked client authors not to reconnect in tight loops (pyeasee PR #88) and blocks IP
addresses after abuse, so the policy never storms; an exporter runs for months, so it never
gives up and never parks either:

- exponential back-off with full jitter from ``base`` up to ``cap`` (5 s to 5 min) while
  attempts fail;
- a success (for the stream: a session that delivered data, whatever its length) forgets the
  streak, and the next attempt comes after a short random ``quick`` delay;
- every attempt takes a token from a bucket of ``burst`` tokens that refills one token every
  ``refill`` seconds (6 and 300 s: at most 12 attempts an hour sustained, a few more in the
  first), whatever the jitter draws and whether sessions fail or flap;
- an explicit minimum (``Retry-After``, an IP block) always wins.

So once the cloud answers again, the next attempt is at most ``max(cap, refill)`` away (5
minutes with the defaults), however long the outage was; and while it keeps failing, the rate
stays at the bucket's. (The rule it replaces, 10 attempts per sliding hour, could push an
attempt 50 minutes ahead after a morning of short outages.)

Pure apart from the injected clock and random generator, so the pacing is testable.
"""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    """Tracks a failure streak and an attempt bucket; says how long to wait before the next
    attempt."""

    def __init__(
        self,
        *,
        base: float,
        cap: float,
        quick: tuple[float, float],
        burst: int,
        refill: float,
        clock: Callable[[], float],
        rng: random.Random | None = None,
    ) -> None:
        if burst < 1 or refill <= 0:
            raise ValueError("the attempt bucket needs at least one token and a refill time")
        self._base = base
        self._cap = cap
        self._quick = quick
        self._burst = float(burst)
        self._refill = refill
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        self._failures = 0
        self._after_success = False
        self._tokens = float(burst)
        self._counted_at = clock()
        self._not_before = 0.0

    @property
    def failures(self) -> int:
        """Consecutive failed attempts (0 after a success)."""
        return self._failures

    def attempt(self) -> None:
        """Record that an attempt starts now (it takes a token from the bucket).

        An attempt made without waiting for :meth:`delay` (an explicit reconnect request) takes
        what is left but runs up no debt, so it cannot park later attempts.
        """
        self._fill()
        self._tokens = max(0.0, self._tokens - 1.0)

    def succeeded(self) -> None:
        """The attempt worked: the streak is forgotten."""
        self._failures = 0
        self._after_success = True

    def failed(self, *, at_least: float = 0.0) -> None:
        """An attempt failed; ``at_least`` is a minimum wait (``Retry-After``, a block)."""
        self._failures += 1
        self._after_success = False
        if at_least > 0:
            self._not_before = max(self._not_before, self._clock() + at_least)

    def delay(self) -> float:
        """Seconds to wait before the next attempt."""
        now = self._clock()
        if self._failures == 0:
            delay = self._rng.uniform(*self._quick) if self._after_success else 0.0
        else:
            ceiling = min(self._cap, self._base * 2 ** min(self._failures - 1, 32))
            delay = self._rng.uniform(0.0, ceiling)
        self._fill()
        until_token = (1.0 - self._tokens) * self._refill if self._tokens < 1.0 else 0.0
        return max(delay, until_token, self._not_before - now, 0.0)

    def _fill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._counted_at)
        self._counted_at = now
        self._tokens = min(self._burst, self._tokens + elapsed / self._refill)
