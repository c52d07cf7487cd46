"""The garbage collector's settings once the start-up state is in (run once, process-wide).

At a thousand chargers the store holds a few hundred thousand tracked objects (readings,
snapshots, metric caches). Two things kept the collector's pauses long (``bench/scrape.py``):

* full collections walk every tracked object: up to 200 ms on a 2-core machine. What is
  alive once the state is in mostly lives as long as the process, so it is frozen
  (``gc.freeze``) and never walked again;
* the readings that keep coming are copied on write (one dict of some 180 readings per
  charger and scrape, see :mod:`exporter.state`), and with the default young threshold
  (700 allocations) every tenth young collection promotes enough of them that CPython runs
  a full collection over all that is not frozen every few seconds, 30-60 ms each. A higher
  young threshold makes young collections rarer and a little longer, and full ones rare.

What is left is a young collection now and then, 13-15 ms at 1,000 chargers: it walks the
readings copied since the last one. A scrape's snapshots are allocations too, so it mostly
starts in the middle of a render, and the scraper waits for it. :class:`CollectionHold`
holds the automatic collections off while a scrape renders and answers: the collection its
allocations set off runs right after the answer, and the loop waits for it no longer than it
did (a collection holds the interpreter lock wherever it runs).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable

#: Allocations between two young collections (CPython's default: 700).
YOUNG_THRESHOLD = 5_000


def settle() -> int:
    """Collect, freeze what is alive, raise the young threshold; the number frozen."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
    return gc.get_freeze_count()


class CollectionHold:
    """Automatic garbage collections held off while anybody holds them (process-wide).

    Each hold ends when released, or at the latest ``longest`` seconds after it was taken: a
    client that reads its answer slowly cannot keep the collector off. Collections resume
    when the last hold ends, unless they were off before the first one. Used on the event
    loop only.
    """

    def __init__(self, *, longest: float) -> None:
        self._longest = longest
        self._holds: set[object] = set()
        self._resume = False

    @property
    def held(self) -> bool:
        return bool(self._holds)

    def hold(self) -> Callable[[], None]:
        """Hold collections off; returns the release (idempotent)."""
        if not self._holds:
            self._resume = gc.isenabled()
            gc.disable()
        token = object()
        self._holds.add(token)
        timer = asyncio.get_running_loop().call_later(self._longest, self._end, token)

        def release() -> None:
            timer.cancel()
            self._end(token)

        return release

    def _end(self, token: object) -> None:
        if token not in self._holds:
            return
        self._holds.discard(token)
        if not self._holds and self._resume:
            gc.enable()
