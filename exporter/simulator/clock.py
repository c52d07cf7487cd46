"""The model clock: the time the simulated chargers live in.

Physics steps move it by fixed amounts (``advance``), so the sequence of values is the same
for a seed whatever the event loop's timing. Between two steps it runs on with the real
clock times ``time_scale``, but never past where the next step will put it, so observation
timestamps of one charger never go backwards. Without a ticker (``tick_interval`` 0) it
stands still between ``advance`` calls, which makes tests exact.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class ModelClock:
    """Epoch seconds of the model world."""

    def __init__(
        self,
        start: float,
        *,
        time_scale: float,
        tick_interval: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._model = start
        self._monotonic = monotonic
        self._real = monotonic()
        self._scale = time_scale
        self._horizon = tick_interval

    @property
    def time_scale(self) -> float:
        return self._scale

    def now(self) -> float:
        """The current model time."""
        if self._horizon <= 0:
            return self._model
        elapsed = min(max(self._monotonic() - self._real, 0.0), self._horizon)
        return self._model + elapsed * self._scale

    def advance(self, model_seconds: float) -> float:
        """Move the model time forward by a fixed step; returns the new time."""
        self._model += max(model_seconds, 0.0)
        self._real = self._monotonic()
        return self._model
